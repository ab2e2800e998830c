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
use super::closed::{ends_with_blank_line, is_closed};
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

/// Segments covering `range` of the rope, cut at the ATX H1 lines a line scan finds outside
/// front matter and code fences, then checked and corrected against their parses.
pub fn build(rope: &Rope, range: Range<usize>) -> Vec<Segment> {
    let mut cuts = vec![range.start];
    cuts.extend(candidate_cuts(rope, range.clone()));
    cuts.push(range.end);
    let mut segments: Vec<Segment> = (cuts.windows(2))
        .map(|pair| Segment::read(rope, pair[0]..pair[1]))
        .collect();
    let count = segments.len();
    normalize(rope, &mut segments, 0..count);
    segments
}

/// Restores the invariants for the segments `window` (and their neighbours): every segment
/// but the first starts with an H1 the whole document would see, and no segment holds such
/// an H1 anywhere else. Returns whether it split or merged any.
pub fn normalize(rope: &Rope, segments: &mut Vec<Segment>, window: Range<usize>) -> bool {
    let mut changed = false;
    let (mut low, mut high) = (window.start, window.end.min(segments.len()));
    let mut index = low;
    while index < high {
        let cuts = inner_cuts(rope, &segments[index]);
        if cuts.is_empty() {
            index += 1;
            continue;
        }
        let pieces = split(rope, &segments[index], &cuts);
        if pieces.len() == 1 {
            index += 1;
            continue;
        }
        let added = pieces.len();
        segments.splice(index..=index, pieces);
        changed = true;
        index += added;
        high += added - 1;
    }
    let mut boundary = low.saturating_sub(1);
    while boundary + 1 < segments.len() && boundary <= high {
        if boundary_holds(rope, &segments[boundary], &segments[boundary + 1]) {
            boundary += 1;
            continue;
        }
        let merged = Segment::parse(rope, segments[boundary].start..segments[boundary + 1].end());
        segments[boundary] = merged;
        segments.remove(boundary + 1);
        changed = true;
        // The merged segment ends where the next one did: its new end is checked too.
        high = high.saturating_sub(1).max(boundary);
        // The merge may have made the previous boundary doubtful (a front matter that now
        // closes later); look at it again.
        low = boundary.saturating_sub(1);
        boundary = low;
    }
    changed
}

/// Cuts a segment at `cuts`, keeping only the cuts whose boundary holds once the pieces are
/// parsed on their own (so a later check never merges what this split, and nothing loops).
fn split(rope: &Rope, segment: &Segment, cuts: &[usize]) -> Vec<Segment> {
    let mut bounds = vec![segment.start];
    bounds.extend_from_slice(cuts);
    bounds.push(segment.end());
    let mut pieces: Vec<Segment> = Vec::new();
    for pair in bounds.windows(2) {
        let piece = Segment::parse(rope, pair[0]..pair[1]);
        match pieces.last_mut() {
            Some(last) if !boundary_holds(rope, last, &piece) => {
                *last = Segment::parse(rope, last.start..piece.end())
            }
            _ => pieces.push(piece),
        }
    }
    if pieces.len() == 1 {
        return vec![segment.clone()];
    }
    pieces
}

/// Starts of lines inside `range` that open an ATX H1 outside front matter and fences.
fn candidate_cuts(rope: &Rope, range: Range<usize>) -> Vec<usize> {
    let mut cuts = Vec::new();
    let mut offset = range.start;
    let mut fence: Option<(u8, usize)> = None;
    let mut in_front_matter = range.start == 0 && starts_metadata(rope, 0);
    let mut first = true;
    for line in rope.byte_slice(range.clone()).lines() {
        let line_start = offset;
        offset += line.len_bytes();
        let head: Vec<u8> = line.bytes().take(64).collect();
        let text = trim_indent(&head);
        if in_front_matter {
            if !first && (text.starts_with(b"---") || text.starts_with(b"...")) {
                in_front_matter = false;
            }
            first = false;
            continue;
        }
        let run = |byte: u8| text.iter().take_while(|&&b| b == byte).count();
        match fence {
            Some((byte, length)) if run(byte) >= length => fence = None,
            Some(_) => {}
            None if run(b'`') >= 3 => fence = Some((b'`', run(b'`'))),
            None if run(b'~') >= 3 => fence = Some((b'~', run(b'~'))),
            None if line_start > range.start && is_atx_h1(&head) => cuts.push(line_start),
            None => {}
        }
    }
    cuts
}

/// Offsets (absolute) inside a segment where an H1 in the flow starts a new segment.
fn inner_cuts(rope: &Rope, segment: &Segment) -> Vec<usize> {
    (segment.outline.headings.iter())
        .filter(|heading| heading.level == 1 && heading.range.start > 0)
        .map(|heading| segment.start + heading.range.start)
        // An indented heading may continue a list item above it; only cut at column 0.
        .filter(|&cut| {
            cut > segment.start && cut == line_start_of(rope, cut) && cut_stands(rope, segment, cut)
        })
        .collect()
}

/// A setext H1 may only start a segment after a blank line: otherwise the paragraph before
/// could have been part of its text.
fn cut_stands(rope: &Rope, segment: &Segment, cut: usize) -> bool {
    let heading = segment
        .outline
        .headings
        .iter()
        .find(|heading| segment.start + heading.range.start >= cut);
    heading.is_some_and(|heading| !heading.setext) || ends_with_blank_line(rope, cut)
}

/// Whether the document would parse `after`'s first H1 where it starts, in the flow, if
/// `before` and `after` were parsed as one.
fn boundary_holds(rope: &Rope, before: &Segment, after: &Segment) -> bool {
    let Some(first) = after.outline.headings.first() else {
        return false;
    };
    if first.level != 1 || first.range.start != 0 {
        return false;
    }
    let is_atx = !first.setext;
    let line_break = after.start > 0 && matches!(rope.byte(after.start - 1), b'\n' | b'\r');
    if !line_break || (!is_atx && !ends_with_blank_line(rope, after.start)) {
        return false;
    }
    if before.start == 0 && starts_metadata(rope, 0) && before.outline.front_matter.is_none() {
        // An unclosed front matter may close further down, swallowing the H1.
        return false;
    }
    before.closed
}

fn starts_metadata(rope: &Rope, at: usize) -> bool {
    let head: Vec<u8> = rope.byte_slice(at..).bytes().take(8).collect();
    let text = trim_indent(&head);
    text.starts_with(b"---") || text.starts_with(b"+++")
}

fn line_start_of(rope: &Rope, absolute: usize) -> usize {
    rope.line_to_byte(rope.byte_to_line(absolute))
}

fn trim_indent(line: &[u8]) -> &[u8] {
    let spaces = line
        .iter()
        .take(4)
        .take_while(|&&byte| byte == b' ')
        .count();
    if spaces > 3 {
        return &[];
    }
    &line[spaces..]
}

fn is_atx_h1(text: &[u8]) -> bool {
    text.first() == Some(&b'#') && matches!(text.get(1), None | Some(b' ' | b'\t' | b'\n' | b'\r'))
}
