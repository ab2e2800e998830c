//! Output blocks as baton writes them (DESIGN §1): an `## Output @agent` heading, an opening
//! marker comment carrying the run's identity, the agent's answer, and a closing marker that
//! names the run again.
//!
//! ```markdown
//! ## Output @researcher
//! <!-- baton:output run=01JDXK3V7Q agent=researcher model=gpt-4o-mini input=9f2c41d0 status=done -->
//! ...the agent's answer...
//! <!-- /baton:output run=01JDXK3V7Q -->
//! ```
//!
//! An answer cannot end its own block: a block of run R ends at the first later closing
//! marker of R, which the answer cannot know, and only in a document without one (written
//! before closing markers named their run) at the first old-form `<!-- /baton:output -->`
//! outside fenced code in the answer. Marker lines inside an answer are its text. The reading
//! is `document::answers`', the one the outline uses to keep answers opaque.
//!
//! Blocks are found by their run id in the text as it is *now*, so the user may type anywhere
//! while a run streams in.

use std::fmt;
use std::ops::Range;

use crate::document::answers::{self, MarkerLine, OPEN};

/// Where a run stands, as its marker says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    Running,
    Done,
    Partial,
    Failed,
    Cancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Done => "done",
            Status::Partial => "partial",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn parse(word: &str) -> Option<Status> {
        [
            Status::Running,
            Status::Done,
            Status::Partial,
            Status::Failed,
            Status::Cancelled,
        ]
        .into_iter()
        .find(|status| status.as_str() == word)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The opening marker of an output block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Marker {
    pub run: String,
    pub agent: String,
    pub model: String,
    /// The payload hash of the brief the output answers, to tell when it went stale.
    pub input: String,
    pub status: Status,
}

impl Marker {
    /// Reads a marker line. Unknown keys are ignored, so later versions may add some; `run`
    /// and a known `status` are required.
    pub fn parse(line: &str) -> Option<Marker> {
        let inner = line.trim().strip_prefix(OPEN)?.strip_suffix("-->")?;
        let mut marker = Marker {
            run: String::new(),
            agent: String::new(),
            model: String::new(),
            input: String::new(),
            status: Status::Done,
        };
        let mut status = None;
        for pair in inner.split_whitespace() {
            let Some((key, value)) = pair.split_once('=') else {
                continue;
            };
            let value = unescape(value);
            match key {
                "run" => marker.run = value,
                "agent" => marker.agent = value,
                "model" => marker.model = value,
                "input" => marker.input = value,
                "status" => status = Status::parse(&value),
                _ => {}
            }
        }
        marker.status = status?;
        (!marker.run.is_empty()).then_some(marker)
    }

    /// The marker line, without a line break.
    pub fn format(&self) -> String {
        format!(
            "{OPEN}run={} agent={} model={} input={} status={} -->",
            escape(&self.run),
            escape(&self.agent),
            escape(&self.model),
            escape(&self.input),
            self.status
        )
    }
}

/// Percent-encodes what would end a value or the comment, so any model name round-trips.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c.is_whitespace() || c.is_control() || matches!(c, '%' | '<' | '>' | '=') {
            let mut buffer = [0; 4];
            for byte in c.encode_utf8(&mut buffer).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn unescape(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The line that closes the block of `run`, without a line break.
pub fn close_line(run: &str) -> String {
    format!("{} run={} -->", answers::CLOSE, escape(run))
}

/// A whole output block, as text: heading, marker, body, closing marker. The body is kept as
/// given (prepare it with [`super::answer::prepare`]); one line break separates it from each
/// marker.
pub fn block_text(agent: &str, marker: &Marker, body: &str) -> String {
    format!(
        "## Output @{agent}\n{}\n{body}\n{}\n",
        marker.format(),
        close_line(&marker.run)
    )
}

/// An output block found in a document's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// From the `## Output` heading (or the marker, when the heading is gone) to the end of the
    /// closing marker's line, its line break included.
    pub range: Range<usize>,
    pub marker: Marker,
    /// The answer: from after the opening marker's line break to before the line break that
    /// precedes the closing marker. Empty and at the closing marker when the two are adjacent.
    pub body: Range<usize>,
    /// Where the closing marker's line starts.
    pub close: usize,
}

impl Block {
    /// Where to insert a streamed chunk, and what: the chunk goes at the end of the body, plus
    /// a line break when the body had none before the closing marker, so the marker stays on
    /// its own line.
    pub fn append(&self, chunk: &str) -> (usize, String) {
        if self.body.end == self.close {
            (self.close, format!("{chunk}\n"))
        } else {
            (self.body.end, chunk.to_owned())
        }
    }
}

/// The blocks of a text: each opening marker line outside every answer, with its closing
/// marker line if it has one (see [`answers::pair`]).
fn blocks(text: &str) -> Vec<(MarkerLine, Option<MarkerLine>)> {
    let lines = answers::scan_text(text);
    let in_fence = |open: &MarkerLine, close: &MarkerLine| {
        answers::ends_in_fence(&text[open.range.end..close.range.start])
    };
    answers::pair(&lines, in_fence)
        .into_iter()
        .map(|(open, close)| (lines[open].clone(), close.map(|close| lines[close].clone())))
        .collect()
}

/// Every opening output marker in the text, in order, but those inside an answer (an answer
/// quoting a marker does not start a block).
pub fn markers(text: &str) -> Vec<Marker> {
    blocks(text)
        .into_iter()
        .filter_map(|(open, _)| Marker::parse(&text[open.range]))
        .collect()
}

/// The block of a run. `None` when its marker or its closing marker is gone: the user deleted
/// (part of) the block, and injection must stop rather than guess.
pub fn find(text: &str, run: &str) -> Option<Block> {
    let (open, marker, close) = blocks(text).into_iter().find_map(|(open, close)| {
        let marker = Marker::parse(&text[open.range.clone()]).filter(|marker| marker.run == run)?;
        Some((open, marker, close))
    })?;
    let close = close?;
    let open_end = line_end(text, open.range.end);
    let close_end = line_end(text, close.range.end);
    let close_start = close.range.start;
    let separator = if text[..close_start].ends_with("\r\n") {
        2
    } else {
        1
    };
    let body_end = close_start
        .checked_sub(separator)
        .filter(|&end| end >= open_end)
        .unwrap_or(close_start);
    Some(Block {
        range: heading_start(text, open.range.start)..close_end,
        marker,
        body: open_end.min(body_end)..body_end,
        close: close_start,
    })
}

/// Past the line break (if any) after a line's content ending at `end`.
fn line_end(text: &str, end: usize) -> usize {
    let rest = &text[end..];
    if rest.starts_with("\r\n") {
        end + 2
    } else if rest.starts_with('\n') {
        end + 1
    } else {
        end
    }
}

/// The byte range of a run's whole block, heading included.
pub fn find_block(text: &str, run: &str) -> Option<Range<usize>> {
    find(text, run).map(|block| block.range)
}

/// Where a new output block goes in the brief spanning `brief` of `text`, as an edit (the range
/// to replace and its new text): in place of `agent`'s existing block in that brief (a re-run
/// replaces its block), else at the brief's end, set off by blank lines.
pub fn placement(
    text: &str,
    brief: Range<usize>,
    agent: &str,
    block: &str,
) -> (Range<usize>, String) {
    let section = &text[brief.clone()];
    let existing = markers(section)
        .into_iter()
        .filter(|marker| marker.agent == agent)
        .find_map(|marker| find(section, &marker.run));
    if let Some(existing) = existing {
        let range = brief.start + existing.range.start..brief.start + existing.range.end;
        return (range, block.to_owned());
    }
    let before = &text[..brief.end];
    let after = &text[brief.end..];
    let mut insert = String::new();
    if !before.is_empty() && !before.ends_with('\n') {
        insert.push_str("\n\n");
    } else if !before.is_empty() && !before.ends_with("\n\n") {
        insert.push('\n');
    }
    insert.push_str(block);
    if !after.is_empty() && !after.starts_with('\n') {
        insert.push('\n');
    }
    (brief.end..brief.end, insert)
}

/// The status of a run's marker changed in place: the edit that rewrites the marker line.
pub fn restatus(text: &str, run: &str, status: Status) -> Option<(Range<usize>, String)> {
    let block = find(text, run)?;
    let line_start = text[..block.body.start].trim_end_matches(['\n', '\r']);
    let line_start = line_start.rfind('\n').map_or(0, |n| n + 1);
    let line_end = text[line_start..]
        .find(['\r', '\n'])
        .map_or(text.len(), |n| line_start + n);
    let marker = Marker {
        status,
        ..block.marker
    };
    Some((line_start..line_end, marker.format()))
}

/// The start of the `## Output` heading above a marker, over blank lines; else the marker's.
fn heading_start(text: &str, marker: usize) -> usize {
    let mut end = marker;
    while end > 0 {
        let start = text[..end - 1].rfind('\n').map_or(0, |n| n + 1);
        let line = text[start..end].trim();
        if line.is_empty() {
            end = start;
            continue;
        }
        let name = line.strip_prefix("## ").map(str::trim_start);
        // `## Output`, `## Output @agent`; not `## Outputs`.
        let is_output = name.is_some_and(|name| {
            let word = name.split_whitespace().next().unwrap_or("");
            word.eq_ignore_ascii_case("output")
        });
        return if is_output { start } else { marker };
    }
    marker
}

#[cfg(test)]
mod tests;
