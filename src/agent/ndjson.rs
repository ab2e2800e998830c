//! An incremental decoder for newline-delimited JSON (Ollama's streaming format).
//!
//! Bytes go in as the network delivers them, split anywhere; whole lines come out, as bytes
//! for `serde_json::from_slice` (which checks the UTF-8). A trailing CR is dropped and blank
//! lines are skipped.

use std::mem;

/// The longest line the decoder holds, so a server that never ends a line cannot exhaust
/// memory.
pub const MAX_LINE_BYTES: usize = 5 * 1024 * 1024;

/// A line grew past [`MAX_LINE_BYTES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLong {
    pub limit: usize,
}

/// Holds the unfinished line between reads.
#[derive(Debug, Default)]
pub struct NdjsonDecoder {
    line: Vec<u8>,
}

impl NdjsonDecoder {
    pub fn new() -> NdjsonDecoder {
        NdjsonDecoder::default()
    }

    /// Decodes `bytes`, returning the lines they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<Vec<u8>>, TooLong> {
        let mut lines = Vec::new();
        let mut rest = bytes;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            self.line.extend_from_slice(&rest[..end]);
            rest = &rest[end + 1..];
            let line = mem::take(&mut self.line);
            lines.extend(non_blank(line));
        }
        self.line.extend_from_slice(rest);
        if self.line.len() > MAX_LINE_BYTES {
            return Err(TooLong {
                limit: MAX_LINE_BYTES,
            });
        }
        Ok(lines)
    }

    /// At the end of the stream: the last line if it had no newline. It may be whole or cut
    /// off; the caller tells by parsing it.
    pub fn finish(&mut self) -> Option<Vec<u8>> {
        non_blank(mem::take(&mut self.line))
    }
}

fn non_blank(mut line: Vec<u8>) -> Option<Vec<u8>> {
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    if line.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        Some(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `input` whole, then byte by byte, and checks both give `expected`.
    fn check(input: &str, expected: &[&str]) {
        let text = |lines: Vec<Vec<u8>>| -> Vec<String> {
            lines
                .into_iter()
                .map(|line| String::from_utf8(line).unwrap())
                .collect()
        };
        let mut whole = NdjsonDecoder::new();
        let mut lines = whole.feed(input.as_bytes()).unwrap();
        lines.extend(whole.finish());
        assert_eq!(text(lines), expected, "fed whole");

        let mut split = NdjsonDecoder::new();
        let mut lines = Vec::new();
        for byte in input.as_bytes() {
            lines.extend(split.feed(std::slice::from_ref(byte)).unwrap());
        }
        lines.extend(split.finish());
        assert_eq!(text(lines), expected, "fed byte by byte");
    }

    #[test]
    fn lines_come_out_whole() {
        check(
            "{\"a\":\"é🌍\"}\n{\"done\":true}\n",
            &["{\"a\":\"é🌍\"}", "{\"done\":true}"],
        );
    }

    #[test]
    fn crlf_and_blank_lines() {
        check("{}\r\n\r\n  \n[1]\r\n", &["{}", "[1]"]);
    }

    #[test]
    fn a_last_line_without_newline_is_handed_over() {
        check("{}\n{\"cut\"", &["{}", "{\"cut\""]);
    }

    #[test]
    fn an_endless_line_is_refused() {
        let mut decoder = NdjsonDecoder::new();
        let chunk = vec![b'x'; MAX_LINE_BYTES + 1];
        assert_eq!(
            decoder.feed(&chunk),
            Err(TooLong {
                limit: MAX_LINE_BYTES
            })
        );
    }
}
