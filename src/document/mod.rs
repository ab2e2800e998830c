//! A document as the editor holds it: its text (a rope), its Markdown trees, kept in step by
//! incremental edits, and the outline baton reads from them.

pub mod answers;
mod closed;
mod cuts;
pub mod history;
pub mod outline;
pub mod parse;
pub mod position;
mod scan;
mod segments;
pub mod store;

use std::borrow::Cow;
use std::ops::Range;
use std::sync::Arc;

use ropey::Rope;

pub use outline::{FrontMatterBlock, Heading, Outline};
pub use position::{Encoding, Position};
use segments::{Segment, Update};

/// Documents larger than this are not parsed or linted: the cost would be felt on every
/// keystroke, and no brief is that long.
pub const MAX_LINTED_BYTES: usize = 8 * 1024 * 1024;

/// One change from the editor: a range in the editor's encoding (or the whole text).
#[derive(Clone, Debug)]
pub struct Change<'a> {
    pub range: Option<(Position, Position)>,
    pub text: &'a str,
}

/// How a change moved the text after it: the new length and line count less the old.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shift {
    pub bytes: isize,
    pub lines: isize,
}

/// The text of a document and its parse trees. Cloning is cheap (ropes and trees share
/// structure).
#[derive(Clone)]
pub struct Document {
    rope: Rope,
    /// Parsed segments covering the text (a parse always makes at least one); empty when the
    /// document is too large to lint, or not parsed yet (see [`Document::unparsed`]).
    segments: Vec<Segment>,
    outline: Arc<Outline>,
}

impl Document {
    /// The document parsed.
    pub fn new(text: &str) -> Self {
        let mut document = Document::unparsed(text);
        document.rebuild();
        document
    }

    /// The document's text only, with an empty outline: cheap, so that a server can store a
    /// document as it opens and parse it elsewhere ([`Document::parsed`]). An edit parses it
    /// in full.
    pub fn unparsed(text: &str) -> Self {
        let mut document = Document {
            rope: Rope::from_str(text),
            segments: Vec::new(),
            outline: Arc::default(),
        };
        document.collect_outline();
        document
    }

    /// Whether the outline and parts reflect the text: false only for a document made by
    /// [`Document::unparsed`] and neither parsed nor edited since. A document too large to
    /// lint counts as parsed: it has nothing to parse.
    pub fn is_parsed(&self) -> bool {
        !self.segments.is_empty() || self.is_too_large()
    }

    /// This document parsed (a copy of it, if it already is).
    pub fn parsed(&self) -> Document {
        let mut document = self.clone();
        if !document.is_parsed() {
            document.rebuild();
        }
        document
    }

    pub fn rope(&self) -> &Rope {
        &self.rope
    }

    pub fn outline(&self) -> &Outline {
        &self.outline
    }

    /// The parsed parts of the document: their byte ranges and a revision that changes
    /// whenever a part's text changes. Two parts with the same revision hold the same text.
    pub fn parts(&self) -> impl Iterator<Item = (Range<usize>, u64)> + '_ {
        self.segments
            .iter()
            .map(|segment| (segment.start..segment.end(), segment.revision))
    }

    /// The syntax trees still held (those of the parts being edited), with the byte range
    /// each covers.
    pub fn trees(&self) -> impl Iterator<Item = (Range<usize>, &tree_sitter::Tree)> {
        self.segments
            .iter()
            .filter_map(|segment| Some((segment.start..segment.end(), segment.tree.as_ref()?)))
    }

    pub fn len(&self) -> usize {
        self.rope.len_bytes()
    }

    pub fn is_empty(&self) -> bool {
        self.rope.len_bytes() == 0
    }

    /// Whether the document is too large to lint (see [`MAX_LINTED_BYTES`]).
    pub fn is_too_large(&self) -> bool {
        self.rope.len_bytes() > MAX_LINTED_BYTES
    }

    /// The text of a byte range, borrowed when it lies in one chunk of the rope.
    /// Ends inside a character are moved back to its start.
    pub fn slice(&self, range: Range<usize>) -> Cow<'_, str> {
        let end = range.end.min(self.rope.len_bytes());
        let start = range.start.min(end);
        // One walk down the rope finds the chunk; most slices lie within it.
        let (chunk, chunk_start, _, _) = self.rope.chunk_at_byte(start);
        // Offset 0 is always a boundary, so the search always finds one.
        let floor = |at: usize| (0..=at).rev().find(|&at| chunk.is_char_boundary(at));
        let in_chunk = |at: usize| at.checked_sub(chunk_start).filter(|&at| at <= chunk.len());
        if let Some((from, to)) = in_chunk(start).zip(in_chunk(end)) {
            let (from, to) = (floor(from).unwrap_or(0), floor(to).unwrap_or(0));
            return Cow::Borrowed(&chunk[from..to]);
        }
        let end = self.floor_char_boundary(end);
        let start = self.floor_char_boundary(start.min(end));
        self.rope.byte_slice(start..end).into()
    }

    /// The trimmed extent of a byte range: from its first to past its last non-blank byte.
    /// Reads only the blank bytes at either end, however long the range.
    pub fn trimmed(&self, range: Range<usize>) -> Range<usize> {
        let end = range.end.min(self.rope.len_bytes());
        let start = range.start.min(end);
        let leading = self
            .rope
            .bytes_at(start)
            .take(end - start)
            .take_while(u8::is_ascii_whitespace)
            .count();
        let mut backwards = self.rope.bytes_at(end).reversed();
        let trailing = backwards
            .by_ref()
            .take(end - start - leading)
            .take_while(u8::is_ascii_whitespace)
            .count();
        start + leading..end - trailing
    }

    /// The whole text. Allocates; the hot path uses [`Document::slice`].
    pub fn text(&self) -> String {
        self.rope.to_string()
    }

    pub fn position_of(&self, offset: usize, encoding: Encoding) -> Position {
        position::position_of(&self.rope, offset, encoding)
    }

    pub fn offset_of(&self, position: Position, encoding: Encoding) -> usize {
        position::offset_of(&self.rope, position, encoding)
    }

    /// Applies the editor's changes in order, each reparsing only the segment it touched (an
    /// unparsed document is parsed in full, once, after them). Returns how each moved the
    /// text after it (`None` for one that replaced the whole text).
    pub fn apply_changes(
        &mut self,
        changes: &[Change<'_>],
        encoding: Encoding,
    ) -> Vec<Option<Shift>> {
        let mut restructured = false;
        let mut shifts = Vec::with_capacity(changes.len());
        for change in changes {
            match change.range {
                None => {
                    self.rope = Rope::from_str(change.text);
                    self.segments.clear();
                    shifts.push(None);
                }
                Some((from, to)) => {
                    let start = self.offset_of(from, encoding);
                    // An insertion (the usual keystroke) is placed once.
                    let end = match to == from {
                        true => start,
                        false => self.offset_of(to, encoding).max(start),
                    };
                    let (bytes, lines) = (self.rope.len_bytes(), self.rope.len_lines());
                    restructured |= self.edit(start..end, change.text);
                    shifts.push(Some(Shift {
                        bytes: self.rope.len_bytes() as isize - bytes as isize,
                        lines: self.rope.len_lines() as isize - lines as isize,
                    }));
                }
            }
        }
        self.finish(restructured);
        shifts
    }

    /// Replaces a byte range with new text.
    pub fn replace(&mut self, range: Range<usize>, text: &str) {
        let restructured = self.edit(range, text);
        self.finish(restructured);
    }

    /// Edits the text and the segment the edit lands in. Returns whether the outline must be
    /// collected again; for prose typed into a paragraph, it is moved in place instead.
    fn edit(&mut self, range: Range<usize>, text: &str) -> bool {
        // The tree-sitter edit needs the old text's positions: read them before the rope
        // changes, which spares copying it. A segment without a tree needs none.
        let landing = (!self.segments.is_empty()).then(|| {
            let index = self.join_segments_touching(range.clone());
            let segment = &self.segments[index];
            let points = segment.tree.is_some().then(|| {
                let start = parse::point_of(&self.rope, segment.start, range.start);
                (start, parse::point_of(&self.rope, segment.start, range.end))
            });
            (index, points)
        });
        let (start_char, end_char) = (
            self.rope.byte_to_char(range.start),
            self.rope.byte_to_char(range.end),
        );
        self.rope.remove(start_char..end_char);
        self.rope.insert(start_char, text);
        let Some((index, points)) = landing else {
            return true;
        };
        if self.is_too_large() {
            self.segments.clear();
            return true;
        }
        let segment = &mut self.segments[index];
        let new_end = range.start + text.len();
        if let (Some(tree), Some((start_position, old_end_position))) = (&mut segment.tree, points)
        {
            tree.edit(&tree_sitter::InputEdit {
                start_byte: range.start - segment.start,
                old_end_byte: range.end - segment.start,
                new_end_byte: new_end - segment.start,
                start_position,
                old_end_position,
                new_end_position: parse::point_of(&self.rope, segment.start, new_end),
            });
        }
        segment.len = segment.len + text.len() - range.len();
        let update = segment.update(&self.rope, range.start, range.len(), text);
        for later in &mut self.segments[index + 1..] {
            later.start = later.start + text.len() - range.len();
        }
        let window = index..index + 1;
        let normalized =
            update != Update::Prose && cuts::normalize(&self.rope, &mut self.segments, window);
        // Keep the tree where the user types, for the next keystroke; let the others go.
        let typed = range.start..new_end;
        for segment in &mut self.segments {
            let touched = segment.start <= typed.end && typed.start <= segment.end();
            if !touched {
                segment.tree = None;
            }
        }
        let moved = update != Update::Restructured && !normalized;
        if moved {
            Arc::make_mut(&mut self.outline).insert_at(range.start, text.len());
        }
        !moved
    }

    /// The index of the one segment that holds `range` of the old text, joining segments
    /// when the range spans several. An insertion at a boundary belongs to the later segment:
    /// it lands in front of that segment's H1.
    fn join_segments_touching(&mut self, range: Range<usize>) -> usize {
        let containing = |offset: usize| {
            self.segments
                .partition_point(|segment| segment.end() <= offset)
        };
        let first = containing(range.start).min(self.segments.len() - 1);
        let last = if range.is_empty() {
            first
        } else {
            containing(range.end - 1).min(self.segments.len() - 1)
        };
        if first != last {
            let span = self.segments[first].start..self.segments[last].end();
            self.segments
                .splice(first..=last, [Segment::parse(&self.rope, span)]);
        }
        first
    }

    /// Rebuilds what derives from the segments, reparsing from scratch if there are none (the
    /// document was unparsed, too large, or replaced whole).
    fn finish(&mut self, restructured: bool) {
        if self.segments.is_empty() {
            self.rebuild();
        } else if restructured {
            self.collect_outline();
        }
    }

    fn rebuild(&mut self) {
        self.rebuild_segments();
        for segment in &mut self.segments {
            segment.tree = None;
        }
    }

    fn rebuild_segments(&mut self) {
        self.segments = if self.is_too_large() {
            Vec::new()
        } else {
            cuts::build(&self.rope, 0..self.rope.len_bytes())
        };
        self.collect_outline();
    }

    fn collect_outline(&mut self) {
        let count = |entries: fn(&Outline) -> usize| -> usize {
            self.segments
                .iter()
                .map(|segment| entries(&segment.outline))
                .sum()
        };
        let mut outline = Outline {
            len: self.rope.len_bytes(),
            headings: Vec::with_capacity(count(|outline| outline.headings.len())),
            verbatim: Vec::with_capacity(count(|outline| outline.verbatim.len())),
            markers: Vec::with_capacity(count(|outline| outline.markers.len())),
            answers: Vec::new(),
            front_matter: None,
        };
        for segment in &self.segments {
            outline.extend(&segment.outline, segment.start);
        }
        outline.pair_answers(&self.rope);
        self.outline = Arc::new(outline);
    }

    fn floor_char_boundary(&self, offset: usize) -> usize {
        self.rope.char_to_byte(self.rope.byte_to_char(offset))
    }
}

impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document")
            .field("len", &self.rope.len_bytes())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
