//! A document parsed as a run of segments: one per top-level H1 section.
//!
//! tree-sitter-md reparses at a few megabytes a second, and even an incremental reparse of a
//! whole 1 MB document costs milliseconds. Each top-level H1 starts a fresh block context in
//! Markdown, so the document is cut there and every segment gets its own tree: a keystroke
//! reparses one brief, incrementally. The cuts must never change what the document means, so
//! a boundary stands only where a whole-document parse would put the same H1 in the flow
//! (`boundary_holds`); anything doubtful is merged, which is always correct, only slower.
//! The property test in `tests/incremental.rs` compares the result with a whole parse.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use ropey::Rope;
use tree_sitter::Tree;

use super::answers;
use super::closed::is_closed;
use super::outline::Outline;
use super::parse;
use super::scan;

/// A part of the document with its own tree; its outline's offsets are relative to `start`.
#[derive(Clone)]
pub struct Segment {
    pub start: usize,
    pub len: usize,
    /// Kept only while the segment is being edited: a tree-sitter-md tree takes many times
    /// the memory of its text, and a document that is only read needs just the outline.
    pub tree: Option<Tree>,
    /// Whether the segment's last block has ended (see `closed.rs`), read off its tree.
    pub closed: bool,
    /// Whether the line scanner read the segment's blocks (see `scan.rs`): they are then
    /// only of the kinds it models, which its outline tells apart without a tree.
    pub plain: bool,
    pub outline: Arc<Outline>,
    /// Changes whenever the segment's text does (not when it merely moves), so what was
    /// computed from the text can be kept across edits elsewhere.
    pub revision: u64,
}

/// What an edit did to a segment's outline (see [`Segment::update`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Update {
    /// Prose was typed into a paragraph: the outline moved past it, and nothing around the
    /// paragraph can have changed.
    Prose,
    /// The segment was read again and its outline only moved past the insert; whether its
    /// boundaries still hold is yet to be checked (a line that was blank may now continue a
    /// paragraph into the next segment).
    Moved,
    /// The outline changed.
    Restructured,
}

/// The largest segment the line scanner reads again after each edit (see [`Segment::update`]).
const RESCAN_BYTES: usize = 16 * 1024;

/// Revisions are unique across documents and threads.
fn next_revision() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl Segment {
    pub fn end(&self) -> usize {
        self.start + self.len
    }

    pub fn parse(rope: &Rope, range: Range<usize>) -> Segment {
        let tree = parse::parse(rope, range.clone(), None);
        let outline = Arc::new(with_markers(
            rope,
            range.clone(),
            Outline::build(rope, &tree, range.start),
        ));
        let closed = is_closed(rope, range.clone(), &tree);
        Segment {
            start: range.start,
            len: range.len(),
            tree: Some(tree),
            closed,
            plain: false,
            outline,
            revision: next_revision(),
        }
    }

    /// A segment read for its outline only: scanned when its Markdown is plain enough (see
    /// `scan.rs`), parsed otherwise. Its tree is not kept (a tree-sitter-md tree takes many
    /// times the memory of its text): the first edit parses it.
    pub fn read(rope: &Rope, range: Range<usize>) -> Segment {
        let Some(scanned) = scan::scan(rope, range.clone()) else {
            return Segment {
                tree: None,
                ..Segment::parse(rope, range)
            };
        };
        Segment {
            start: range.start,
            len: range.len(),
            tree: None,
            closed: scanned.closed,
            plain: true,
            outline: Arc::new(with_markers(rope, range, scanned.outline)),
            revision: next_revision(),
        }
    }

    /// Takes an insertion of prose into a paragraph without reading the segment again, when
    /// it cannot change the block structure: the outline moves past the insert, and the tree,
    /// if there is one (already told of the edit), stays as it is until the next reparse,
    /// which reads it with every edit since. Without a tree, the outline of a plain segment
    /// says where the paragraphs are. `at` is the insertion's offset in the rope. Returns
    /// whether it did.
    ///
    /// Block structure is decided at line starts, by blank lines, and by a few whole-line
    /// forms (underlines, fences, table rows, link reference definitions). Text without line
    /// breaks or `|`, typed after the first character of a paragraph line that starts with a
    /// letter or a non-ASCII character and holds no `|`,
    /// changes none of these; `tests/incremental.rs` checks the outline against a whole
    /// parse next to each of them.
    fn insert_prose(&mut self, rope: &Rope, at: usize, text: &str) -> bool {
        let prose = |c: char| !c.is_control() && c != '|';
        if text.is_empty() || !text.chars().all(prose) || !self.in_paragraph(rope, at) {
            return false;
        }
        let relative = at - self.start;
        let outline = Arc::make_mut(&mut self.outline);
        outline.insert_at(relative, text.len());
        self.revision = next_revision();
        true
    }

    /// Whether `at` lies after the first character (a letter, or any non-ASCII character: an
    /// emoji, say) of a line of a plain paragraph (not a
    /// heading's, not starting a link reference definition) that holds no `|`.
    fn in_paragraph(&self, rope: &Rope, at: usize) -> bool {
        if self.tree.is_none() && !self.plain {
            return false;
        }
        let line = rope.byte_to_line(at);
        let line_start = rope.line_to_byte(line);
        let line_text = rope.line(line);
        let first = line_text.chars().find(|c| *c != ' ' && *c != '\t');
        let first_at = line_text
            .bytes()
            .take_while(|b| *b == b' ' || *b == b'\t')
            .count();
        // A letter, or any character outside ASCII: none starts a block.
        if !first.is_some_and(|first| first.is_alphabetic() || !first.is_ascii())
            || at <= line_start + first_at
            || line_text.bytes().any(|byte| byte == b'|')
        {
            return false;
        }
        let relative = at - self.start;
        let Some(tree) = &self.tree else {
            return self.outside_outline(relative);
        };
        let mut node = tree
            .root_node()
            .descendant_for_byte_range(relative, relative);
        while let Some(current) = node {
            match current.kind() {
                "paragraph" => {
                    let opens_with = rope.byte(self.start + current.start_byte());
                    let parent = current.parent().map(|parent| parent.kind());
                    return opens_with != b'[' && parent != Some("setext_heading");
                }
                "inline" => node = current.parent(),
                _ => return false,
            }
        }
        false
    }

    /// For a plain segment: whether `relative` lies outside every heading, code or HTML block
    /// and the front matter. A line there that starts with a letter is a paragraph's (or a
    /// table row's, which typing into cannot end either): the scanner gives up on link
    /// reference definitions and on everything else such a line could belong to.
    fn outside_outline(&self, relative: usize) -> bool {
        let holds = |range: &Range<usize>| range.start <= relative && relative <= range.end;
        let outline = &self.outline;
        !(outline.headings.iter().any(|heading| holds(&heading.range))
            || outline.verbatim.iter().any(holds)
            || outline
                .front_matter
                .as_ref()
                .is_some_and(|block| holds(&block.range)))
    }

    /// Reads the segment again after an edit that inserted `text` at `at` (an offset in the
    /// rope) in place of `removed` bytes; its tree, if it has one, was already told of the
    /// edit. Says whether the outline merely moved past an insert, so that the document's
    /// outline can be moved in place rather than collected again.
    ///
    /// Prose typed into a paragraph is taken as it is ([`Segment::insert_prose`]). Otherwise
    /// a segment without a tree is scanned again while the line scanner can read it: a brief
    /// of a few kilobytes scans in microseconds, where a parse takes a good part of a
    /// millisecond. The first edit the scanner cannot read parses it, and from then on the
    /// segment keeps its tree and reparses incrementally.
    pub fn update(&mut self, rope: &Rope, at: usize, removed: usize, text: &str) -> Update {
        if removed == 0 && self.insert_prose(rope, at, text) {
            return Update::Prose;
        }
        if self.tree.is_none() && self.len <= RESCAN_BYTES {
            if let Some(scanned) = scan::scan(rope, self.start..self.end()) {
                let outline = with_markers(rope, self.start..self.end(), scanned.outline);
                let moved = removed == 0 && {
                    let mut moved = (*self.outline).clone();
                    moved.insert_at(at - self.start, text.len());
                    moved == outline
                };
                self.outline = Arc::new(outline);
                self.closed = scanned.closed;
                self.plain = true;
                self.revision = next_revision();
                return match moved {
                    true => Update::Moved,
                    false => Update::Restructured,
                };
            }
        }
        self.reparse(rope);
        Update::Restructured
    }

    /// Reparses after the text of this segment was edited (and its tree, if it has one,
    /// told so).
    fn reparse(&mut self, rope: &Rope) {
        let range = self.start..self.end();
        let tree = parse::parse(rope, range.clone(), self.tree.as_ref());
        let outline = Outline::build(rope, &tree, self.start);
        self.outline = Arc::new(with_markers(rope, range.clone(), outline));
        self.closed = is_closed(rope, range, &tree);
        self.tree = Some(tree);
        self.plain = false;
        self.revision = next_revision();
    }
}

/// A segment's outline with the output marker lines of its text (see `answers.rs`).
fn with_markers(rope: &Rope, range: Range<usize>, mut outline: Outline) -> Outline {
    outline.markers = answers::scan(rope, range);
    outline
}
