//! Where agents' answers lie (DESIGN §1): between a run's opening marker line
//! (`<!-- baton:output run=ID ... -->`) and its closing one (`<!-- /baton:output run=ID -->`,
//! or the old `<!-- /baton:output -->`). An answer is opaque: nothing in it is a heading of
//! the document's outline, so nothing in it is a brief, a field, a link or a mention.
//!
//! Markers are read from the text line by line, whatever Markdown block they sit in: the
//! same reading `brief::output` uses to place answers, so the outline and injection agree on
//! where every answer lies. Each segment keeps the marker lines it holds (found when it is
//! read, moved with the text by prose typed into it); the document pairs them up into
//! answers when it collects its outline ([`pair`]).

use std::borrow::Cow;
use std::ops::Range;

use ropey::Rope;

/// How an opening marker line starts.
pub const OPEN: &str = "<!-- baton:output ";
/// How a closing marker line starts.
pub const CLOSE: &str = "<!-- /baton:output";
/// The statuses an opening marker may carry (see `brief::output::Status`).
pub const STATUSES: [&str; 5] = ["running", "done", "partial", "failed", "cancelled"];

/// What a marker line is. Run ids are kept as written (escaped), which is how an opening
/// and a closing marker of one run compare equal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MarkerKind {
    Open {
        run: String,
    },
    /// `run` is `None` for the old form, which names no run.
    Close {
        run: Option<String>,
    },
}

/// A marker line of the text: where it lies (without its line break) and what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarkerLine {
    pub range: Range<usize>,
    pub kind: MarkerKind,
}

/// An agent's answer in the document: its opening and closing marker lines (each without
/// its line break). Everything from the start of one to the end of the other is opaque.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub open: Range<usize>,
    pub close: Range<usize>,
}

impl Answer {
    /// From the opening marker line's start to the closing marker line's end.
    pub fn range(&self) -> Range<usize> {
        self.open.start..self.close.end
    }
}

/// Reads a line (without its line break) as a marker. Leading and trailing whitespace is
/// allowed. An opening marker needs a `run` and a known `status`; a closing one is
/// `<!-- /baton:output -->` or `<!-- /baton:output run=ID -->`.
pub fn marker_kind(line: &str) -> Option<MarkerKind> {
    let line = line.trim();
    if !line.starts_with("<!--") {
        return None;
    }
    if let Some(inner) = line.strip_prefix(OPEN) {
        let inner = inner.strip_suffix("-->")?;
        let value = |key: &str| {
            // The last one counts, as `brief::output::Marker::parse` reads it.
            (inner.split_whitespace()).rev().find_map(|pair| {
                let (k, v) = pair.split_once('=')?;
                (k == key).then_some(v)
            })
        };
        let run = value("run").filter(|run| !run.is_empty())?;
        value("status").filter(|status| STATUSES.contains(status))?;
        return Some(MarkerKind::Open {
            run: run.to_owned(),
        });
    }
    let inner = line.strip_prefix(CLOSE)?.strip_suffix("-->")?;
    if !inner.is_empty() && !inner.starts_with(char::is_whitespace) {
        return None;
    }
    let mut words = inner.split_whitespace();
    match (words.next(), words.next()) {
        (None, _) => Some(MarkerKind::Close { run: None }),
        (Some(word), None) => {
            let run = word.strip_prefix("run=").filter(|run| !run.is_empty())?;
            Some(MarkerKind::Close {
                run: Some(run.to_owned()),
            })
        }
        _ => None,
    }
}

/// The marker lines of `range` of the rope, with ranges relative to its start. Only lines
/// whose first non-blank character is `<` are read whole, so the cost is a pass over the
/// line breaks.
pub fn scan(rope: &Rope, range: Range<usize>) -> Vec<MarkerLine> {
    let mut found = Vec::new();
    let slice = rope.byte_slice(range.clone());
    let mut offset = 0;
    // At a line start, or in its leading blanks; `None` inside a line.
    let mut line_start = Some(0);
    for chunk in slice.chunks() {
        let bytes = chunk.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            if let Some(start) = line_start {
                match bytes[at] {
                    b' ' | b'\t' => {
                        at += 1;
                        continue;
                    }
                    b'<' => candidate(&slice, start, &mut found),
                    _ => {}
                }
                line_start = None;
            }
            match chunk[at..].find('\n') {
                Some(n) => {
                    at += n + 1;
                    line_start = Some(offset + at);
                }
                None => at = bytes.len(),
            }
        }
        offset += bytes.len();
    }
    found
}

/// Reads the line starting at `start` of the slice as a marker.
fn candidate(slice: &ropey::RopeSlice<'_>, start: usize, found: &mut Vec<MarkerLine>) {
    let line = slice.byte_to_line(start);
    let end = slice
        .try_line_to_byte(line + 1)
        .unwrap_or(slice.len_bytes())
        .max(start);
    let text: Cow<'_, str> = slice.byte_slice(start..end).into();
    let content = text.trim_end_matches(['\n', '\r']);
    if let Some(kind) = marker_kind(content) {
        found.push(MarkerLine {
            range: start..start + content.len(),
            kind,
        });
    }
}

/// The marker lines of a text, with their ranges.
pub fn scan_text(text: &str) -> Vec<MarkerLine> {
    let mut start = 0;
    let mut found = Vec::new();
    for line in text.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        if let Some(kind) = marker_kind(content) {
            found.push(MarkerLine {
                range: start..start + content.len(),
                kind,
            });
        }
        start += line.len();
    }
    found
}

/// Pairs marker lines (in text order) into blocks: each opening marker that does not lie in
/// an earlier block's answer, with the index of its closing marker if it has one.
///
/// A block of run R ends at the first later closing marker of R. When the text has none, it
/// ends at the first later old-form closing marker that is not in fenced code in the answer
/// (`in_fence(open, close)` says, reading the text between), so documents written before
/// closing markers named their run keep working. Any other marker line in between is text of
/// the answer.
pub fn pair(
    lines: &[MarkerLine],
    mut in_fence: impl FnMut(&MarkerLine, &MarkerLine) -> bool,
) -> Vec<(usize, Option<usize>)> {
    let mut blocks = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let MarkerKind::Open { run } = &lines[index].kind else {
            index += 1;
            continue;
        };
        let later = index + 1..lines.len();
        let own = later
            .clone()
            .find(|&j| matches!(&lines[j].kind, MarkerKind::Close { run: Some(r) } if r == run));
        let close = own.or_else(|| {
            later.clone().find(|&j| {
                lines[j].kind == MarkerKind::Close { run: None }
                    && !in_fence(&lines[index], &lines[j])
            })
        });
        blocks.push((index, close));
        index = close.map_or(index + 1, |close| close + 1);
    }
    blocks
}

/// Whether a line of fenced code is still open after reading `text` (lines from an answer's
/// start) with a [`Fences`] reader.
pub fn ends_in_fence(text: &str) -> bool {
    let mut fences = Fences::default();
    for line in text.split_inclusive('\n') {
        fences.line(line.trim_end_matches(['\n', '\r']));
    }
    fences.is_open()
}

/// Follows fenced code blocks line by line, as CommonMark opens and closes them in the
/// document's flow: a run of at least three backticks or tildes indented at most three
/// spaces opens one (a backtick fence's info string holds no backtick); a run of the same
/// character at least as long, indented at most three spaces, with nothing but blanks after
/// it, closes it. Fences inside block quotes or list items are not followed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fences {
    open: Option<(u8, usize)>,
}

impl Fences {
    /// Reads one line (without its line break); says whether the line is fenced code: a
    /// fence line or a line between two.
    pub fn line(&mut self, line: &str) -> bool {
        let indent = line.bytes().take_while(|&b| b == b' ').count();
        let rest = &line.as_bytes()[indent.min(line.len())..];
        let run = |byte: u8| rest.iter().take_while(|&&b| b == byte).count();
        match self.open {
            Some((byte, length)) => {
                let n = run(byte);
                let closes = indent <= 3
                    && n >= length
                    && rest[n..].iter().all(|b| matches!(b, b' ' | b'\t'));
                if closes {
                    self.open = None;
                }
                true
            }
            None if indent > 3 => false,
            None => {
                for byte in [b'`', b'~'] {
                    let n = run(byte);
                    if n >= 3 && (byte == b'~' || !rest[n..].contains(&b'`')) {
                        self.open = Some((byte, n));
                        return true;
                    }
                }
                false
            }
        }
    }

    /// Whether a fence is open.
    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// The line that closes the open fence, if one is open.
    pub fn closing(&self) -> Option<String> {
        self.open
            .map(|(byte, length)| String::from_utf8(vec![byte; length]).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_lines_of_both_forms() {
        let open = |run: &str| Some(MarkerKind::Open { run: run.into() });
        assert_eq!(
            marker_kind("  <!-- baton:output run=R1 agent=a status=done -->\t"),
            open("R1")
        );
        assert_eq!(marker_kind("<!-- baton:output run=R1 status=odd -->"), None);
        assert_eq!(marker_kind("<!-- baton:output status=done -->"), None);
        assert_eq!(
            marker_kind("<!-- /baton:output -->"),
            Some(MarkerKind::Close { run: None })
        );
        assert_eq!(
            marker_kind("<!-- /baton:output run=R%201 -->"),
            Some(MarkerKind::Close {
                run: Some("R%201".into())
            })
        );
        for not in [
            "<!-- /baton:outputs -->",
            "<!-- /baton:output run= -->",
            "<!-- /baton:output x -->",
            "<!-- \\/baton:output -->",
            "<!-- baton\\:output run=R status=done -->",
            "text <!-- /baton:output -->",
        ] {
            assert_eq!(marker_kind(not), None, "{not}");
        }
    }

    #[test]
    fn a_rope_scan_finds_what_a_text_scan_finds() {
        let text = "# B\n<!-- baton:output run=R status=done -->\r\n  <!-- /baton:output run=R -->\n<b>\n<!-- /baton:output -->";
        let rope = Rope::from_str(&text.repeat(300));
        assert_eq!(
            scan(&rope, 0..rope.len_bytes()),
            scan_text(&text.repeat(300))
        );
        assert_eq!(scan_text(text).len(), 3);
        let from = text.find('<').unwrap();
        let relative = scan(&Rope::from_str(text), from..text.len());
        assert_eq!(relative[0].range.start, 0);
    }

    fn blocks(text: &str) -> Vec<(usize, Option<usize>)> {
        let lines = scan_text(text);
        pair(&lines, |open, close| {
            ends_in_fence(&text[open.range.end..close.range.start])
        })
    }

    #[test]
    fn a_run_ends_at_its_own_closing_marker() {
        let text = "<!-- baton:output run=A status=done -->\n<!-- /baton:output -->\n<!-- baton:output run=X status=done -->\n<!-- /baton:output run=X -->\n<!-- /baton:output run=A -->\n<!-- baton:output run=B status=done -->\n";
        assert_eq!(blocks(text), vec![(0, Some(4)), (5, None)]);
    }

    #[test]
    fn an_old_closing_marker_ends_a_block_outside_fences_only() {
        let text = "<!-- baton:output run=A status=done -->\n```\n<!-- /baton:output -->\n```\n<!-- /baton:output -->\n";
        assert_eq!(blocks(text), vec![(0, Some(2))]);
    }

    #[test]
    fn fences_open_and_close_as_commonmark_says() {
        let mut fences = Fences::default();
        let read: Vec<bool> = [
            "text", "````md", "```", "# in", "````", "# out", "~~~ x", "    ~~~", "~~~~  ",
        ]
        .iter()
        .map(|line| fences.line(line))
        .collect();
        assert_eq!(
            read,
            [false, true, true, true, true, false, true, true, true]
        );
        assert!(!fences.is_open());
        assert!(!Fences::default().line("``` a ` b"));
        assert!(!Fences::default().line("    ```"));
        let mut open = Fences::default();
        open.line("~~~~");
        assert_eq!(open.closing().as_deref(), Some("~~~~"));
    }
}
