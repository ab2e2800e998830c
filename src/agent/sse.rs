//! An incremental decoder for server-sent events (the WHATWG `text/event-stream` format).
//!
//! Bytes go in as the network delivers them, split anywhere; whole events come out. Lines end
//! with LF, CRLF or CR (a CR at the end of one read and an LF at the start of the next are one
//! line break); `event:` names the event, `data:` lines accumulate (joined by LF), lines
//! starting with `:` are comments, `id:` and `retry:` are ignored, and a blank line dispatches.
//! `[DONE]` is ordinary data here; the OpenAI wire gives it its meaning.

use std::mem;

/// The largest line or event the decoder holds, so a server that never ends a line cannot
/// exhaust memory. Larger than the answer bound, which is enforced separately on the text.
pub const MAX_EVENT_BYTES: usize = 5 * 1024 * 1024;

/// One dispatched event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, `message` when there was none.
    pub event: String,
    pub data: String,
}

/// A line or event grew past [`MAX_EVENT_BYTES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLong {
    pub limit: usize,
}

/// Holds the unfinished line and event between reads.
#[derive(Debug, Default)]
pub struct SseDecoder {
    line: Vec<u8>,
    /// The last read ended with CR: an LF first thing in the next read belongs to it.
    after_cr: bool,
    /// No line completed yet: the first may start with a byte order mark.
    started: bool,
    event: String,
    data: String,
}

impl SseDecoder {
    pub fn new() -> SseDecoder {
        SseDecoder::default()
    }

    /// Decodes `bytes`, returning the events they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<SseEvent>, TooLong> {
        let mut events = Vec::new();
        let mut rest = bytes;
        if self.after_cr && !rest.is_empty() {
            self.after_cr = false;
            if rest[0] == b'\n' {
                rest = &rest[1..];
            }
        }
        while let Some(end) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.line.extend_from_slice(&rest[..end]);
            let cr = rest[end] == b'\r';
            rest = &rest[end + 1..];
            if cr {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            let line = mem::take(&mut self.line);
            self.line_ended(&line, &mut events);
            if self.data.len() > MAX_EVENT_BYTES {
                return Err(TooLong {
                    limit: MAX_EVENT_BYTES,
                });
            }
        }
        self.line.extend_from_slice(rest);
        if self.line.len() > MAX_EVENT_BYTES {
            return Err(TooLong {
                limit: MAX_EVENT_BYTES,
            });
        }
        Ok(events)
    }

    /// At the end of the stream: the event still pending, if its lines all arrived whole.
    ///
    /// The format wants a blank line after each event, but servers often close right after
    /// the last `data:` line; that event is complete. A line cut off mid-way is not: it is
    /// dropped, and the wire sees a stream that ended without its end marker.
    pub fn finish(&mut self) -> Option<SseEvent> {
        if !self.line.is_empty() {
            self.line.clear();
            return None;
        }
        self.dispatch()
    }

    fn line_ended(&mut self, line: &[u8], events: &mut Vec<SseEvent>) {
        let line = if self.started {
            line
        } else {
            self.started = true;
            line.strip_prefix("\u{feff}".as_bytes()).unwrap_or(line)
        };
        if line.is_empty() {
            events.extend(self.dispatch());
            return;
        }
        if line[0] == b':' {
            return;
        }
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        match name {
            b"event" => self.event = String::from_utf8_lossy(value).into_owned(),
            b"data" => {
                self.data.push_str(&String::from_utf8_lossy(value));
                self.data.push('\n');
            }
            _ => {}
        }
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        let event = mem::take(&mut self.event);
        let mut data = mem::take(&mut self.data);
        if data.is_empty() {
            return None;
        }
        data.pop();
        Some(SseEvent {
            event: if event.is_empty() {
                "message".to_owned()
            } else {
                event
            },
            data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str, data: &str) -> SseEvent {
        SseEvent {
            event: name.into(),
            data: data.into(),
        }
    }

    /// Decodes `input` whole, then byte by byte, and checks both give `expected`.
    fn check(input: &str, expected: &[SseEvent]) {
        let mut whole = SseDecoder::new();
        let mut events = whole.feed(input.as_bytes()).unwrap();
        events.extend(whole.finish());
        assert_eq!(events, expected, "fed whole");

        let mut split = SseDecoder::new();
        let mut events = Vec::new();
        for byte in input.as_bytes() {
            events.extend(split.feed(std::slice::from_ref(byte)).unwrap());
        }
        events.extend(split.finish());
        assert_eq!(events, expected, "fed byte by byte");
    }

    #[test]
    fn data_lines_make_events() {
        check(
            "data: {\"a\":1}\n\ndata: [DONE]\n\n",
            &[event("message", "{\"a\":1}"), event("message", "[DONE]")],
        );
    }

    #[test]
    fn named_events_multi_line_data_and_comments() {
        check(
            ": keep-alive\nevent: content_block_delta\ndata: one\ndata:two\n\n:ping\n\n",
            &[event("content_block_delta", "one\ntwo")],
        );
    }

    #[test]
    fn crlf_and_lone_cr_end_lines() {
        check(
            "event: a\r\ndata: x\r\n\r\ndata: y\r\rdata: z\n\n",
            &[
                event("a", "x"),
                event("message", "y"),
                event("message", "z"),
            ],
        );
    }

    #[test]
    fn multibyte_text_split_anywhere_survives() {
        check("data: héllo 🌍\n\n", &[event("message", "héllo 🌍")]);
    }

    #[test]
    fn a_byte_order_mark_and_unknown_fields_are_ignored() {
        check(
            "\u{feff}id: 7\nretry: 100\nfoo\ndata\n\n",
            &[event("message", "")],
        );
    }

    #[test]
    fn an_event_without_data_is_not_dispatched() {
        check("event: ping\n\ndata: a\n\n", &[event("message", "a")]);
    }

    #[test]
    fn the_last_event_needs_whole_lines_but_no_blank_line() {
        check("data: [DONE]\n", &[event("message", "[DONE]")]);
        check("data: {\"cut", &[]);
    }

    #[test]
    fn an_endless_line_is_refused() {
        let mut decoder = SseDecoder::new();
        let chunk = vec![b'x'; MAX_EVENT_BYTES / 2 + 1];
        assert!(decoder.feed(&chunk).is_ok());
        assert_eq!(
            decoder.feed(&chunk),
            Err(TooLong {
                limit: MAX_EVENT_BYTES
            })
        );
    }
}
