//! Incremental tree-sitter-md parsing straight from the rope.
//!
//! The block grammar is enough for baton: headings, code blocks, quotes, lists and front
//! matter are block structure. Reparsing reads rope chunks, never a copy of the whole text.

use std::cell::RefCell;

use ropey::Rope;
use tree_sitter::{InputEdit, Parser, Point, Tree};

thread_local! {
    // A parser is cheap to keep and costly to set up per keystroke; it is not `Send`, so each
    // thread of the runtime keeps its own.
    static PARSER: RefCell<Parser> = RefCell::new(new_parser());
}

fn new_parser() -> Parser {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_md::LANGUAGE.into())
        .expect("tree-sitter-md is built against this tree-sitter version");
    parser
}

/// Parses `rope`, reusing `old` (already edited with [`input_edit`]) when given.
pub fn parse(rope: &Rope, old: Option<&Tree>) -> Tree {
    PARSER.with(|parser| {
        let mut parser = parser.borrow_mut();
        let mut read = |byte: usize, _: Point| -> &[u8] {
            if byte >= rope.len_bytes() {
                return &[];
            }
            let (chunk, chunk_start, _, _) = rope.chunk_at_byte(byte);
            &chunk.as_bytes()[byte - chunk_start..]
        };
        parser
            .parse_with_options(&mut read, old, None)
            .expect("parsing without a timeout or cancellation flag always yields a tree")
    })
}

/// The tree-sitter point of a byte offset: the line, and the byte column within it.
pub fn point_of(rope: &Rope, offset: usize) -> Point {
    let row = rope.byte_to_line(offset);
    Point::new(row, offset - rope.line_to_byte(row))
}

/// Describes replacing `start..old_end` of `before` by `new_len` bytes, giving `after`.
pub fn input_edit(
    before: &Rope,
    after: &Rope,
    start: usize,
    old_end: usize,
    new_len: usize,
) -> InputEdit {
    InputEdit {
        start_byte: start,
        old_end_byte: old_end,
        new_end_byte: start + new_len,
        start_position: point_of(before, start),
        old_end_position: point_of(before, old_end),
        new_end_position: point_of(after, start + new_len),
    }
}
