//! Incremental tree-sitter-md parsing straight from the rope.
//!
//! The block grammar is enough for baton: headings, code blocks, quotes, lists and front
//! matter are block structure. Parsing reads rope chunks, never a copy of the text, and a
//! tree may cover just a part of the rope (a segment, see `segments.rs`).

use std::borrow::Cow;
use std::cell::RefCell;
use std::ops::Range;

use ropey::Rope;
use tree_sitter::{Parser, Point, Tree};

thread_local! {
    // A parser is cheap to keep and costly to set up per keystroke; it is not `Send`, so each
    // thread keeps its own.
    static PARSER: RefCell<Parser> = RefCell::new(new_parser());
}

fn new_parser() -> Parser {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_md::LANGUAGE.into())
        .expect("tree-sitter-md is built against this tree-sitter version");
    parser
}

/// Parses the bytes `range` of `rope`, reusing `old` (already told of the edit, in offsets
/// and [`point_of`] positions relative to `range.start`) when given.
pub fn parse(rope: &Rope, range: Range<usize>, old: Option<&Tree>) -> Tree {
    PARSER.with(|parser| {
        let mut parser = parser.borrow_mut();
        let mut read = |byte: usize, _: Point| -> Cow<'_, [u8]> {
            let at = range.start + byte;
            if at >= range.end {
                return Cow::Borrowed(&[]);
            }
            let (chunk, chunk_start, _, _) = rope.chunk_at_byte(at);
            let chunk_end = (chunk_start + chunk.len()).min(range.end);
            let bytes = &chunk.as_bytes()[at - chunk_start..chunk_end - chunk_start];
            // CommonMark reads a NUL as U+FFFD, an ordinary character; tree-sitter-md reads
            // past it (`\0# x` is a heading to it), and a whole parse then disagrees with the
            // same text parsed in segments. A letter in its place keeps every offset.
            if bytes.contains(&0) {
                let replaced = bytes.iter().map(|&b| if b == 0 { b'x' } else { b });
                return Cow::Owned(replaced.collect());
            }
            Cow::Borrowed(bytes)
        };
        parser
            .parse_with_options(&mut read, old, None)
            .expect("parsing without a timeout or cancellation flag always yields a tree")
    })
}

/// The tree-sitter point of a byte offset within a tree that starts at `base`: its line
/// (counted from the tree's start) and byte column.
pub fn point_of(rope: &Rope, base: usize, offset: usize) -> Point {
    let base_line = rope.byte_to_line(base);
    let row = rope.byte_to_line(offset);
    let line_start = rope.line_to_byte(row).max(base);
    Point::new(row - base_line, offset - line_start)
}
