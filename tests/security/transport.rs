//! Attack 5: one malformed frame must not wedge the server. Each broken frame is written raw
//! to `baton lsp`'s stdin with a valid request right behind it, in the same write. The valid
//! request must be answered as it was before; a request inside the broken frame, where one can
//! be read, gets an error with its own id (and is not carried out); the log says what was
//! wrong; and the session still ends cleanly.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{Server, Spawn, Workspace};

const BRIEF: &str = "# Market scan @researcher\n\n## Objective\nFind prices.\n";

/// The id of the valid request sent behind each broken frame.
const PROBE: i64 = 1000;

/// A request the server must not carry out: it arrives only inside broken frames.
fn shutdown(id: i64) -> String {
    json!({ "jsonrpc": "2.0", "id": id, "method": "shutdown" }).to_string()
}

fn framed(body: &str) -> Vec<u8> {
    format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

struct Session {
    server: Server,
    uri: String,
    symbols: Value,
    log: PathBuf,
    _workspace: Workspace,
}

/// A server with one brief open, and the symbols it answers for it.
fn session(name: &str) -> Session {
    let workspace = Workspace::new(name);
    workspace.write("scan.brief.md", BRIEF);
    let log = workspace.path("server.log");
    let spawn = Spawn {
        stderr: Some(log.clone()),
        ..Spawn::default()
    };
    let options = json!({ "trustedWorkspace": false, "logLevel": "warn" });
    let (mut server, _) =
        Server::spawn_with(&workspace.root, spawn).initialize(&workspace, &["utf-16"], options);
    let uri = workspace.uri("scan.brief.md");
    server.open(&uri, BRIEF);
    let params = json!({ "textDocument": { "uri": uri } });
    let symbols = server.request("textDocument/documentSymbol", params);
    assert!(
        symbols.as_array().is_some_and(|all| !all.is_empty()),
        "{symbols}"
    );
    Session {
        server,
        uri,
        symbols,
        log,
        _workspace: workspace,
    }
}

/// Writes `broken` with the probe request behind it; checks that each of `errors` (id, code)
/// is answered, that the probe gets the symbols it got before, that the session ends
/// cleanly, and that the log names the problem (`logged`).
fn survives(name: &str, broken: &[u8], errors: &[(Value, i64)], logged: &str) -> Duration {
    let mut session = session(name);
    let probe = json!({
        "jsonrpc": "2.0",
        "id": PROBE,
        "method": "textDocument/documentSymbol",
        "params": { "textDocument": { "uri": session.uri } },
    });
    let mut bytes = broken.to_vec();
    bytes.extend_from_slice(&framed(&probe.to_string()));
    let started = Instant::now();
    session.server.send_raw(&bytes);
    for (id, code) in errors {
        let what = format!("the error for request {id}");
        let error = session.server.wait_for(&what, |m| {
            m.get("method").is_none() && &m["id"] == id && m.get("error").is_some()
        });
        assert_eq!(error["error"]["code"], *code, "{error}");
    }
    let answer = session.server.wait_for("the probe's answer", |m| {
        m.get("method").is_none() && m["id"] == PROBE
    });
    let took = started.elapsed();
    assert_eq!(answer["result"], session.symbols, "{answer}");
    // Ends with `shutdown` and `exit`, which fails on any response nobody waited for: a
    // request inside a broken frame was not carried out.
    session.server.shutdown();
    let log = std::fs::read_to_string(&session.log).unwrap();
    assert!(log.contains(logged), "the log lacks {logged:?}:\n{log}");
    took
}

#[test]
fn a_bad_header_line_is_skipped() {
    let broken = b"X-Bad-Header\r\nContent-Length: 2\r\n\r\n{}";
    survives(
        "bad-header",
        broken,
        &[],
        "invalid header line `X-Bad-Header`",
    );
}

#[test]
fn a_request_behind_a_bad_header_line_gets_an_error_with_its_id() {
    let mut broken = b"X-Bad-Header\r\n".to_vec();
    broken.extend_from_slice(&framed(&shutdown(7)));
    let errors = [(json!(7), -32600)];
    survives("bad-header-id", &broken, &errors, "invalid header line");
}

#[test]
fn a_length_that_is_no_number_is_skipped() {
    for (name, length, logged) in [
        ("abc", "abc", "invalid Content-Length `abc`"),
        ("negative", "-5", "invalid Content-Length `-5`"),
        (
            "overflow",
            "99999999999999999999999",
            "Content-Length `99999999999999999999999` is too large",
        ),
    ] {
        let broken = format!("Content-Length: {length}\r\n\r\n{}", shutdown(8));
        survives(name, broken.as_bytes(), &[], logged);
    }
}

#[test]
fn two_lengths_are_refused() {
    let body = shutdown(8);
    let broken = format!(
        "Content-Length: {}\r\nContent-Length: 3\r\n\r\n{body}",
        body.len()
    );
    let logged = format!("two Content-Length headers, {} and 3", body.len());
    survives("two-lengths", broken.as_bytes(), &[], &logged);
}

#[test]
fn a_frame_without_a_length_is_skipped() {
    let broken = format!("Content-Type: application/json\r\n\r\n{}", shutdown(11));
    survives(
        "no-length",
        broken.as_bytes(),
        &[],
        "no Content-Length header",
    );
}

#[test]
fn a_length_too_short_leaves_debris_that_is_skipped() {
    let broken = format!("Content-Length: 10\r\n\r\n{}", shutdown(9));
    // The ten bytes are no JSON: JSON-RPC's parse error, with no id to give.
    let errors = [(Value::Null, -32700)];
    survives(
        "too-short",
        broken.as_bytes(),
        &errors,
        "bytes outside any frame",
    );
}

#[test]
fn a_length_too_long_gives_back_the_header_it_swallowed() {
    let body = shutdown(10);
    // Takes in the probe's whole header and the start of its body.
    let broken = format!("Content-Length: {}\r\n\r\n{body}", body.len() + 30);
    let errors = [(json!(10), -32600)];
    survives("too-long", broken.as_bytes(), &errors, "runs past the end");
}

#[test]
fn an_absurd_length_is_refused_without_reading_it() {
    let broken = format!("Content-Length: 600000000\r\n\r\n{}", shutdown(12));
    let took = survives("absurd", broken.as_bytes(), &[], "is over the limit");
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn garbage_between_frames_is_skipped() {
    let broken = b"\x00\xffnot a header at all\n\n\r\n";
    survives("garbage", broken, &[], "invalid header line");
}

/// Every case above, one after the other, in one session.
#[test]
fn the_server_outlives_every_broken_frame_in_a_row() {
    let mut session = session("in-a-row");
    let mut broken = Vec::new();
    for piece in [
        "X-Bad-Header\r\nContent-Length: 2\r\n\r\n{}".to_owned(),
        format!("Content-Length: abc\r\n\r\n{}", shutdown(20)),
        format!("Content-Length: -5\r\n\r\n{}", shutdown(21)),
        format!("Content-Length: 10\r\n\r\n{}", shutdown(22)),
        format!(
            "Content-Length: 5\r\nContent-Length: 6\r\n\r\n{}",
            shutdown(23)
        ),
        format!("Content-Length: 600000000\r\n\r\n{}", shutdown(24)),
    ] {
        broken.extend_from_slice(piece.as_bytes());
    }
    let probe = |id: i64, uri: &str| {
        json!({
            "jsonrpc": "2.0", "id": id, "method": "textDocument/documentSymbol",
            "params": { "textDocument": { "uri": uri } },
        })
        .to_string()
    };
    broken.extend_from_slice(&framed(&probe(PROBE, &session.uri)));
    session.server.send_raw(&broken);
    session.server.wait_for("the parse error", |m| {
        m.get("method").is_none() && m["id"].is_null() && m["error"]["code"] == -32700
    });
    for id in [PROBE, PROBE + 1] {
        if id > PROBE {
            session.server.send_raw(&framed(&probe(id, &session.uri)));
        }
        let answer = session.server.wait_for("a probe's answer", |m| {
            m.get("method").is_none() && m["id"] == id
        });
        assert_eq!(answer["result"], session.symbols, "{answer}");
    }
    session.server.shutdown();
}
