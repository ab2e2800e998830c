//! The frame reader and the vetting of frames, on byte strings: every way a frame can be
//! broken, each followed by a good frame that must come through.

use std::io::{BufReader, Cursor};

use super::*;
use crate::lsp::vet::{vet, Verdict};

const GOOD: &str = r#"{"jsonrpc":"2.0","id":99,"method":"shutdown"}"#;

fn framed(body: &str) -> String {
    format!("Content-Length: {}\r\n\r\n{body}", body.len())
}

/// What the server gets for each frame of `input`, read through a buffer of `capacity`
/// bytes (small ones cut headers and bodies across reads): the passed body, `answer <id>
/// <code>` for a stand-in, or `dropped`.
fn verdicts_with(input: &[u8], capacity: usize) -> Vec<String> {
    let mut frames = Frames::new(BufReader::with_capacity(capacity, Cursor::new(input)));
    let mut out = Vec::new();
    while let Some(frame) = frames.next_frame().unwrap() {
        out.push(match vet(&mut frames, frame) {
            Verdict::Pass(body) => String::from_utf8(body).unwrap(),
            Verdict::Answer(stand_in) => {
                let request: serde_json::Value = serde_json::from_slice(&stand_in).unwrap();
                format!("answer {} {}", request["id"], request["params"]["code"])
            }
            Verdict::Dropped => "dropped".to_owned(),
        });
    }
    out
}

/// The verdicts, which must not depend on how the input arrives.
fn verdicts(input: &str) -> Vec<String> {
    let whole = verdicts_with(input.as_bytes(), 64 * 1024);
    for capacity in [1, 2, 3, 7, 16] {
        let cut = verdicts_with(input.as_bytes(), capacity);
        assert_eq!(cut, whole, "read {capacity} bytes at a time");
    }
    whole
}

#[track_caller]
fn check(broken: &str, expected: &[&str]) {
    let input = format!("{broken}{}", framed(GOOD));
    let mut expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    expected.push(GOOD.to_owned());
    assert_eq!(verdicts(&input), expected, "{input:?}");
}

#[test]
fn good_frames_pass_untouched() {
    let notification = r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#;
    let input = format!(
        "{}Content-Type: application/vscode-jsonrpc; charset=utf-8\r\ncontent-length:{}\r\n\r\n{GOOD}\r\n\r\n{}",
        framed(notification),
        GOOD.len(),
        framed("")
    );
    assert_eq!(verdicts(&input), [notification, GOOD, "dropped"]);
}

#[test]
fn a_bad_header_line_answers_the_request_in_its_frame() {
    let request = r#"{"jsonrpc":"2.0","id":5,"method":"shutdown"}"#;
    let bad = format!("X-Bad-Header\r\n{}", framed(request));
    check(&bad, &["answer 5 -32600"]);
    check("X-Bad-Header\r\nContent-Length: 2\r\n\r\n{}", &["dropped"]);
    check("Bad Name: 1\r\nContent-Length: 2\r\n\r\n{}", &["dropped"]);
}

#[test]
fn an_unreadable_length_skips_to_the_next_header() {
    let body = r#"{"jsonrpc":"2.0","id":5,"method":"shutdown"}"#;
    for length in ["abc", "-5", "+5", "", "5 5", "99999999999999999999999999"] {
        let broken = format!("Content-Length: {length}\r\n\r\n{body}");
        check(&broken, &["dropped"]);
    }
    check(&format!("X-Other: 1\r\n\r\n{body}"), &["dropped"]);
}

#[test]
fn two_lengths_are_refused() {
    let body = r#"{"jsonrpc":"2.0","id":5,"method":"shutdown"}"#;
    let n = body.len();
    let differing = format!("Content-Length: {n}\r\nContent-Length: 3\r\n\r\n{body}");
    check(&differing, &["dropped"]);
    // The same twice still says where the body ends: its request is answered.
    let same = format!("Content-Length: {n}\r\nContent-Length: {n}\r\n\r\n{body}");
    check(&same, &["answer 5 -32600"]);
}

#[test]
fn an_absurd_length_is_refused_unread() {
    check(
        "Content-Length: 600000000\r\n\r\n{\"jsonrpc\":",
        &["dropped"],
    );
    let limit = format!("Content-Length: {}\r\n\r\n", MAX_FRAME_BYTES + 1);
    check(&limit, &["dropped"]);
}

#[test]
fn a_length_too_long_resumes_at_the_header_it_swallowed() {
    let request = r#"{"jsonrpc":"2.0","id":6,"method":"shutdown"}"#;
    // The whole header of the good frame and a few bytes of its body are taken in.
    let too_long = format!("Content-Length: {}\r\n\r\n{request}", request.len() + 25);
    check(&too_long, &["answer 6 -32600"]);
    let notification = r#"{"jsonrpc":"2.0","method":"initialized"}"#;
    let too_long = format!(
        "Content-Length: {}\r\n\r\n{notification}",
        notification.len() + 30
    );
    check(&too_long, &["dropped"]);
    // Bytes after a whole message, with no header in them: the request is answered.
    let trailing = format!("Content-Length: {}\r\n\r\n{request}xyz", request.len() + 3);
    check(&trailing, &["answer 6 -32600"]);
}

#[test]
fn a_length_too_short_resumes_after_the_debris() {
    let request = r#"{"jsonrpc":"2.0","id":6,"method":"shutdown"}"#;
    let too_short = format!("Content-Length: 10\r\n\r\n{request}");
    check(&too_short, &["answer null -32700", "dropped"]);
    // Debris that ends its line just before the next header spoils that header: the request
    // in its frame is answered with an error.
    let too_short = format!("Content-Length: 10\r\n\r\n{request}\r\n{}", framed(GOOD));
    let expected = ["answer null -32700", "answer 99 -32600"];
    assert_eq!(verdicts(&too_short), expected);
    // A body cut inside the next header's name gives that part back.
    let notification = r#"{"jsonrpc":"2.0","method":"initialized"}"#;
    let cut = format!(
        "Content-Length: {}\r\n\r\n{notification}",
        notification.len() + 3
    );
    check(&cut, &["dropped"]);
}

#[test]
fn bodies_that_are_no_message_follow_json_rpc() {
    check("Content-Length: 7\r\n\r\n{\"jsonr", &["answer null -32700"]);
    let not_message = r#"{"jsonrpc":"1.0","id":7}"#;
    check(&framed(not_message), &["answer 7 -32600"]);
    check(&framed("{}"), &["answer null -32600"]);
    let mut not_utf8 = b"Content-Length: 2\r\n\r\n\xff\xfe".to_vec();
    not_utf8.extend_from_slice(framed(GOOD).as_bytes());
    assert_eq!(verdicts_with(&not_utf8, 1), ["answer null -32700", GOOD]);
}

#[test]
fn garbage_and_overlong_lines_are_skipped() {
    check("garbage\r\n\r\n", &["dropped"]);
    let long = "x".repeat(MAX_HEADER_BYTES * 3);
    check(&format!("{long}\r\n\r\n"), &["dropped"]);
    // A header cut by the bound is still found.
    let cut = format!(
        "{}Content-Length: 2\r\n\r\n{{}}",
        "y".repeat(MAX_HEADER_BYTES - 4)
    );
    check(&cut, &["dropped", "answer null -32600"]);
    // Header lines that fill the bound exactly, with no blank line after them.
    let line = format!("X-Pad: {}\r\n", "p".repeat(90));
    let full = line.repeat(MAX_HEADER_BYTES / line.len())
        + &"q".repeat(MAX_HEADER_BYTES % line.len() - 2)
        + "\r\n";
    assert_eq!(full.len(), MAX_HEADER_BYTES);
    check(&full, &["dropped"]);
    // Debris with a header inside an overlong line.
    let inside = format!("{}Content-Length: 2\r\n\r\n{{}}", "z".repeat(100));
    check(&inside, &["dropped", "answer null -32600"]);
}

#[test]
fn the_input_may_end_anywhere() {
    let input = framed(GOOD);
    for end in 0..input.len() {
        assert_eq!(verdicts(&input[..end]), Vec::<String>::new(), "{end}");
    }
}
