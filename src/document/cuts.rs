//! Where a document is cut into segments (see `segments.rs`): at the ATX H1 lines a line scan
//! finds outside front matter and code fences, each cut kept only where a whole-document parse
//! would put the same H1 in the flow (`boundary_holds`), and the segments split or merged
//! until that holds again after an edit (`normalize`).

use std::ops::Range;

use ropey::Rope;

use super::closed::ends_with_blank_line;
use super::segments::Segment;

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
