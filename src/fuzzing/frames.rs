//! The frame reader under arbitrary bytes: it must not panic, must not pass on a body over
//! [`MAX_FRAME_BYTES`], must make every stand-in a request the server can answer, and must
//! find a good frame again after any garbage that holds no `Content-Length:` header.

use std::io::{BufReader, Cursor};

use crate::lsp::frame::{find_header, Frames, MAX_FRAME_BYTES};
use crate::lsp::vet::{vet, Verdict, MALFORMED_METHOD};

/// The good frame sent after the garbage.
const GOOD: &[u8] = br#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#;

/// Checks the frame reader on `data`: its first byte sets how many bytes each read takes (so
/// headers and bodies are cut anywhere), the rest is the input. Panics when a promise breaks.
pub fn frames(data: &[u8]) {
    let (capacity, input) = match data.split_first() {
        Some((&first, rest)) => (usize::from(first % 32) + 1, rest),
        None => (1, data),
    };
    decode(input, capacity);

    // Garbage with every header in it spoiled, a blank line, then a good frame: the good
    // frame is the one message that comes through.
    let mut garbage = input.to_vec();
    let mut from = 0;
    while let Some(at) = find_header(&garbage[from..]) {
        let colon = from + at + "content-length".len();
        garbage[colon] = b'_';
        from = colon + 1;
    }
    garbage.extend_from_slice(b"\r\n\r\n");
    garbage.extend_from_slice(format!("Content-Length: {}\r\n\r\n", GOOD.len()).as_bytes());
    garbage.extend_from_slice(GOOD);
    let verdicts = decode(&garbage, capacity);
    let passed: Vec<&Verdict> = (verdicts.iter())
        .filter(|verdict| matches!(verdict, Verdict::Pass(_)))
        .collect();
    assert_eq!(passed, [&Verdict::Pass(GOOD.to_vec())], "{verdicts:?}");
    assert_eq!(verdicts.last(), Some(&Verdict::Pass(GOOD.to_vec())));
}

/// Every verdict on `input`, read `capacity` bytes at a time, each checked.
fn decode(input: &[u8], capacity: usize) -> Vec<Verdict> {
    let mut frames = Frames::new(BufReader::with_capacity(capacity, Cursor::new(input)));
    let mut verdicts = Vec::new();
    // Reading from memory cannot fail; the reader ends with its input.
    while let Some(frame) = frames.next_frame().expect("reading from memory") {
        let verdict = vet(&mut frames, frame);
        match &verdict {
            Verdict::Pass(body) => assert!(body.len() <= MAX_FRAME_BYTES),
            Verdict::Answer(stand_in) => {
                let request: serde_json::Value =
                    serde_json::from_slice(stand_in).expect("a stand-in is JSON");
                assert_eq!(request["method"], MALFORMED_METHOD);
                assert!(request["params"]["code"].is_i64(), "{request}");
            }
            Verdict::Dropped => {}
        }
        verdicts.push(verdict);
        // Each verdict consumes input, so there are never more than bytes.
        assert!(verdicts.len() <= input.len() + 1);
    }
    verdicts
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        // PROPTEST_CASES sets how many (scripts/fuzz raises it when nightly is missing).
        #![proptest_config(ProptestConfig::default())]

        #[test]
        fn arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            super::frames(&data);
        }

        /// Bytes drawn mostly from the pieces of frames, which random bytes rarely form.
        #[test]
        fn pieces_of_frames(
            pieces in proptest::collection::vec(0..PIECES.len(), 0..40),
            capacity in any::<u8>(),
        ) {
            let mut data = vec![capacity];
            for piece in pieces {
                data.extend_from_slice(PIECES[piece]);
            }
            super::frames(&data);
        }
    }

    const PIECES: &[&[u8]] = &[
        b"Content-Length: ",
        b"content-length:",
        b"Content-Len",
        b"gth: ",
        b"2",
        b"45",
        b"-5",
        b"600000000",
        b"\r\n",
        b"\n",
        b"\r\n\r\n",
        b"X-Bad-Header",
        b"Content-Type: x",
        b"{}",
        br#"{"jsonrpc":"2.0","id":7,"method":"shutdown"}"#,
        br#"{"jsonrpc":"2.0","method":"initialized"}"#,
        b"{\"jsonrpc\"",
        b"\xff",
        b" ",
        b"x",
    ];
}
