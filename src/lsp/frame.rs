//! The frames of LSP's base protocol, read from a byte stream: header lines up to a blank
//! line, then `Content-Length` bytes of body.
//!
//! A client with a bug, or a stream cut in two, sends frames that do not add up: a header line
//! that is not one, a length that is not a number, two lengths, none, a length too short or
//! too long for its body. Each is reported once, as [`Frame::Broken`], and reading resumes at
//! the next `Content-Length` header wherever it lies: after the debris a too-short length left
//! behind, or (see [`Frames::resume_inside`]) inside a body whose too-long length swallowed
//! the next frame's header. Nothing a client claims is allocated beyond [`MAX_FRAME_BYTES`],
//! and no more than [`MAX_HEADER_BYTES`] of header is held.
//!
//! A well-formed frame costs what it did before recovery existed: its header lines are read
//! into a buffer kept from frame to frame, its body into one allocation, read in place.

use std::io::{self, BufRead, Read};

use super::replay::Replay;
use crate::document::MAX_LINTED_BYTES;

/// The largest body read. A document is linted up to [`MAX_LINTED_BYTES`]; its text in a
/// `didOpen` is at most about twice as long once JSON escapes it, and the message around it
/// takes little. A `Content-Length` over this is refused unread: allocating whatever a corrupt
/// or hostile header claims (600 MB, or more than the machine has) would stall or abort the
/// server.
pub const MAX_FRAME_BYTES: usize = 2 * MAX_LINTED_BYTES + 1024 * 1024;

/// The most header bytes held for one frame. Clients send one or two short lines; unbounded,
/// a stream without a line break would be read into memory whole.
pub const MAX_HEADER_BYTES: usize = 4 * 1024;

/// The header every frame has, lowercased: where reading resumes after a broken frame.
const LENGTH_HEADER: &[u8] = b"content-length:";

/// What the reader found next in the stream.
#[derive(Debug, PartialEq)]
pub enum Frame {
    /// A well-formed frame's body, not yet checked.
    Body(Vec<u8>),
    /// A frame that does not add up, and why; with its body when its length was still clear,
    /// so that a request in it can be answered.
    Broken {
        reason: String,
        body: Option<Vec<u8>>,
    },
}

/// Frames read one after the other from `input`, recovering from broken ones.
pub struct Frames<R> {
    source: Replay<R>,
    /// The current frame's header lines, as read; kept to spare an allocation per frame.
    header: Vec<u8>,
    /// Set after a frame whose end is unknown: the next frame starts at the next header.
    lost: bool,
    /// How much of [`LENGTH_HEADER`] ends what was read before the search for it began.
    partial: usize,
}

impl<R: BufRead> Frames<R> {
    pub fn new(input: R) -> Self {
        Frames {
            source: Replay::new(input),
            header: Vec::with_capacity(64),
            lost: false,
            partial: 0,
        }
    }

    /// The next frame, or `None` at the end of the input (also inside a frame: nothing after
    /// it can be read).
    pub fn next_frame(&mut self) -> io::Result<Option<Frame>> {
        if std::mem::take(&mut self.lost) && !self.skip_to_header()? {
            return Ok(None);
        }
        let mut block = Block::default();
        self.header.clear();
        loop {
            let start = self.header.len();
            if start == MAX_HEADER_BYTES {
                return Ok(Some(self.overlong_header(start)));
            }
            if !self.header_line()? {
                return Ok(None);
            }
            if !self.header.ends_with(b"\n") {
                return Ok(Some(self.overlong_header(start)));
            }
            let line = trim_line_end(&self.header[start..]);
            if line.is_empty() {
                if start == 0 {
                    // Blank lines between frames are tolerated.
                    self.header.clear();
                    continue;
                }
                break;
            }
            if let Some(at) = find_header(line).filter(|&at| at > 0) {
                // Debris of a body shorter than its length said, or of a broken frame: the
                // next frame begins here. The debris is only counted: it is the client's
                // text, not for the log.
                let reason = format!("{} bytes outside any frame", start + at);
                let next = self.header[start + at..].to_vec();
                self.source.unread(&next);
                return Ok(Some(Frame::Broken { reason, body: None }));
            }
            block.add(line);
        }
        let length = match (block.length, block.unknown) {
            (Some(length), false) => length,
            _ => {
                self.lost = true;
                let reason = block
                    .problem
                    .unwrap_or_else(|| "no Content-Length header".into());
                return Ok(Some(Frame::Broken { reason, body: None }));
            }
        };
        if length > MAX_FRAME_BYTES {
            self.lost = true;
            let reason = format!(
                "Content-Length {length} is over the limit of {MAX_FRAME_BYTES} bytes; \
                 its body is not read, reading resumes at the next header"
            );
            return Ok(Some(Frame::Broken { reason, body: None }));
        }
        let mut body = vec![0; length];
        match self.source.read_exact(&mut body) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(error) => return Err(error),
        }
        Ok(Some(match block.problem {
            None => Frame::Body(body),
            Some(reason) => Frame::Broken {
                reason,
                body: Some(body),
            },
        }))
    }

    /// For a body that turned out not to be one message: when a header begins inside it (its
    /// length was too long and took in the next frame's start), reading resumes there.
    /// Returns where in `body` the header begins. A body that ends in the first letters of a
    /// header gives them back too, unreported: the header may go on after it.
    pub fn resume_inside(&mut self, body: &[u8]) -> Option<usize> {
        let mut matched = 0;
        match scan(body, &mut matched) {
            Some(end) => {
                let at = end - LENGTH_HEADER.len();
                self.source.unread(&body[at..]);
                Some(at)
            }
            None => {
                self.source.unread(&body[body.len() - matched..]);
                None
            }
        }
    }

    /// Reads one header line onto `self.header`, its line break included. `false` at the end
    /// of the input. Stops early, without a line break, at [`MAX_HEADER_BYTES`].
    fn header_line(&mut self) -> io::Result<bool> {
        loop {
            let available = self.source.fill()?;
            if available.is_empty() {
                return Ok(false);
            }
            let room = MAX_HEADER_BYTES - self.header.len();
            let (taken, ended) = match available.iter().position(|&byte| byte == b'\n') {
                Some(at) if at < room => (at + 1, true),
                _ => (available.len().min(room), false),
            };
            self.header.extend_from_slice(&available[..taken]);
            self.source.consume(taken);
            if ended || self.header.len() == MAX_HEADER_BYTES {
                return Ok(true);
            }
        }
    }

    /// A header over [`MAX_HEADER_BYTES`]: resumes at a header inside its last line, or else
    /// searches on from where it stopped.
    fn overlong_header(&mut self, line_start: usize) -> Frame {
        let line = &self.header[line_start..];
        if let Some(at) = line.get(1..).and_then(find_header) {
            let next = line[1 + at..].to_vec();
            self.source.unread(&next);
        } else {
            // The line may stop in the middle of a header's name: the search goes on from
            // that much of it. (Not from the line's first byte, which would read it again.)
            let mut matched = 0;
            scan(line.get(1..).unwrap_or_default(), &mut matched);
            self.partial = matched;
            self.lost = true;
        }
        Frame::Broken {
            reason: format!("header over {MAX_HEADER_BYTES} bytes"),
            body: None,
        }
    }

    /// Skips to the next `Content-Length` header, which is then read again as the start of a
    /// frame. `false` when the input ends first.
    fn skip_to_header(&mut self) -> io::Result<bool> {
        let mut matched = std::mem::take(&mut self.partial);
        loop {
            let available = self.source.fill()?;
            if available.is_empty() {
                return Ok(false);
            }
            match scan(available, &mut matched) {
                Some(end) => {
                    self.source.consume(end);
                    self.source.unread(b"Content-Length:");
                    return Ok(true);
                }
                None => {
                    let all = available.len();
                    self.source.consume(all);
                }
            }
        }
    }
}

/// What the header lines of one frame said.
#[derive(Default)]
struct Block {
    length: Option<usize>,
    /// The length is in doubt: unreadable, or given twice with different values.
    unknown: bool,
    /// The first thing wrong with the header, if anything is.
    problem: Option<String>,
}

impl Block {
    fn add(&mut self, line: &[u8]) {
        let Some(colon) = line.iter().position(|&byte| byte == b':') else {
            return self.fail(format!("invalid header line `{}`", excerpt(line)), false);
        };
        let (name, value) = (&line[..colon], trim(&line[colon + 1..]));
        if name.is_empty() || !name.iter().all(|&byte| is_token(byte)) {
            return self.fail(format!("invalid header line `{}`", excerpt(line)), false);
        }
        if !name.eq_ignore_ascii_case(&LENGTH_HEADER[..LENGTH_HEADER.len() - 1]) {
            return;
        }
        let length = match parse_length(value) {
            Ok(length) => length,
            Err(reason) => return self.fail(reason, true),
        };
        match self.length {
            None => self.length = Some(length),
            Some(first) if first == length => self.fail("Content-Length given twice".into(), false),
            Some(first) => {
                let reason = format!("two Content-Length headers, {first} and {length}");
                self.fail(reason, true)
            }
        }
    }

    fn fail(&mut self, reason: String, length_unknown: bool) {
        self.problem.get_or_insert(reason);
        self.unknown |= length_unknown;
    }
}

/// A `Content-Length` value: decimal digits, nothing else.
fn parse_length(value: &[u8]) -> Result<usize, String> {
    let invalid = || format!("invalid Content-Length `{}`", excerpt(value));
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return Err(invalid());
    }
    let digits = std::str::from_utf8(value).map_err(|_| invalid())?;
    digits
        .parse()
        .map_err(|_| format!("Content-Length `{}` is too large", excerpt(value)))
}

/// The characters of a header's name (RFC 9110's `tchar`).
fn is_token(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// Where `Content-Length:` (in any case) first begins in `bytes`.
pub(crate) fn find_header(bytes: &[u8]) -> Option<usize> {
    let mut matched = 0;
    scan(bytes, &mut matched).map(|end| end - LENGTH_HEADER.len())
}

/// Feeds `bytes` to a search for [`LENGTH_HEADER`] that has already matched `matched` bytes
/// of it; returns where it ends when found. The header's first letter occurs in it only
/// there, so a failed match can restart at the byte that failed it.
fn scan(bytes: &[u8], matched: &mut usize) -> Option<usize> {
    for (at, byte) in bytes.iter().enumerate() {
        let byte = byte.to_ascii_lowercase();
        if byte == LENGTH_HEADER[*matched] {
            *matched += 1;
        } else {
            *matched = usize::from(byte == LENGTH_HEADER[0]);
        }
        if *matched == LENGTH_HEADER.len() {
            *matched = 0;
            return Some(at + 1);
        }
    }
    None
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let end = line.len()
        - line
            .iter()
            .rev()
            .take_while(|&&b| b == b'\n' || b == b'\r')
            .count();
    &line[..end]
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    let end = bytes.len()
        - bytes
            .iter()
            .rev()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
    &bytes[start.min(end)..end]
}

/// The start of some bytes, for a log line: at most 60 characters, line breaks escaped.
fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(60)]);
    let mut excerpt = text.escape_debug().to_string();
    if bytes.len() > 60 {
        excerpt.push('…');
    }
    excerpt
}

#[cfg(test)]
#[path = "frame_tests.rs"]
mod tests;
