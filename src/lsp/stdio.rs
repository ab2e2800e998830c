//! The server's input: JSON-RPC frames read from stdin and checked before tower-lsp-server
//! decodes them.
//!
//! tower-lsp-server stops reading after the first frame it cannot decode: tokio-util's
//! `FramedRead` ends its stream after a decoder error, and the server's read loop ends with it.
//! One malformed message from a client would then be a dead server. So frames are read here,
//! on a thread of their own, and each body is checked with the very types tower-lsp-server
//! decodes. A good frame is passed on untouched; a bad one is replaced by a request to
//! [`MALFORMED_METHOD`], whose handler answers with the JSON-RPC error the client should get
//! (`-32700` for a body that is not JSON, `-32600` for JSON that is not a message). The answer
//! thus goes out through the server's one writer, in order with every other message.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::mpsc;
use tower_lsp_server::jsonrpc::{self, ErrorCode, Id};

use super::edit_lane::EditLane;

/// The method a malformed frame is replaced with. Not part of LSP; answered with an error.
pub const MALFORMED_METHOD: &str = "baton/malformedMessage";

/// Bodies larger than this are skipped unread: no editor sends one, and allocating whatever a
/// corrupt `Content-Length` claims could abort the process.
const MAX_BODY_BYTES: usize = 512 * 1024 * 1024;

/// Frames in flight between the reader thread and the server; bounds memory if the server
/// falls behind a client that floods it.
const QUEUE: usize = 64;

/// What the stand-in request for a malformed frame carries to its handler.
#[derive(Debug, Serialize, Deserialize)]
pub struct Malformed {
    pub code: i64,
    pub message: String,
}

impl Malformed {
    /// The error response a client gets for the malformed frame.
    pub fn into_error(self) -> jsonrpc::Error {
        jsonrpc::Error {
            code: ErrorCode::from(self.code),
            message: self.message.into(),
            data: None,
        }
    }
}

/// Starts reading `input` on a thread; the returned reader yields the checked frames and ends
/// when `input` does. A thread, not a tokio task: a blocking read of stdin cannot be
/// cancelled, and would keep the runtime from shutting down.
///
/// Edits the [`EditLane`] takes (once the server has made it) are applied on that thread and
/// never reach the server.
pub fn checked_frames(
    input: impl Read + Send + 'static,
    lane: Arc<OnceLock<Arc<EditLane>>>,
) -> FrameReader {
    let (sender, frames) = mpsc::channel(QUEUE);
    let spawned = std::thread::Builder::new()
        .name("baton-stdin".to_owned())
        .spawn(move || pump(BufReader::with_capacity(64 * 1024, input), &sender, &lane));
    if let Err(error) = spawned {
        tracing::error!("cannot start the stdin reader: {error}");
    }
    FrameReader {
        frames,
        current: Vec::new(),
        read: 0,
    }
}

/// Reads frames until the input ends or the server stops listening.
fn pump(mut input: impl BufRead, sender: &mpsc::Sender<Vec<u8>>, lane: &OnceLock<Arc<EditLane>>) {
    loop {
        let body = match read_frame(&mut input) {
            Ok(Some(Frame::Body(body))) if body.is_empty() => continue,
            Ok(Some(Frame::Body(body))) => match lane.get() {
                Some(lane) if lane.take(&body) => continue,
                lane => match check(&body) {
                    Ok(()) => {
                        if let Some(lane) = lane {
                            lane.passed_on(&body);
                        }
                        body
                    }
                    Err(stand_in) => stand_in,
                },
            },
            Ok(Some(Frame::BadHeader(reason))) => {
                stand_in(Id::Null, ErrorCode::ParseError, &reason)
            }
            Ok(None) => return,
            Err(error) => {
                tracing::error!("reading stdin failed: {error}");
                return;
            }
        };
        // One piece per frame: the server wakes up once for it, not once for the header and
        // again for the body.
        let mut frame = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        frame.extend_from_slice(&body);
        if sender.blocking_send(frame).is_err() {
            return;
        }
    }
}

enum Frame {
    Body(Vec<u8>),
    BadHeader(String),
}

/// Reads one frame: headers up to a blank line, then `Content-Length` bytes. `None` at the end
/// of the input.
fn read_frame(input: &mut impl BufRead) -> io::Result<Option<Frame>> {
    let mut length: Option<usize> = None;
    let mut problem: Option<String> = None;
    let mut line = Vec::new();
    let mut saw_header = false;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if saw_header {
                break;
            }
            continue;
        }
        saw_header = true;
        match text.split_once(':') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("content-length") => {
                match value.trim().parse() {
                    Ok(n) => length = Some(n),
                    Err(_) => problem = Some(format!("invalid Content-Length `{}`", value.trim())),
                }
            }
            Some(_) => {}
            None => problem = Some(format!("invalid header line `{text}`")),
        }
    }
    let length = match (problem, length) {
        (None, Some(length)) => length,
        (Some(problem), _) => return Ok(Some(Frame::BadHeader(problem))),
        (None, None) => {
            return Ok(Some(Frame::BadHeader(
                "missing Content-Length header".to_owned(),
            )))
        }
    };
    if length > MAX_BODY_BYTES {
        io::copy(&mut input.take(length as u64), &mut io::sink())?;
        let reason = format!("message of {length} bytes is over the {MAX_BODY_BYTES} limit");
        return Ok(Some(Frame::BadHeader(reason)));
    }
    let mut body = vec![0; length];
    input.read_exact(&mut body)?;
    Ok(Some(Frame::Body(body)))
}

/// tower-lsp-server's own message type, rebuilt from its public parts: what it can decode.
#[derive(Deserialize)]
#[serde(untagged)]
#[allow(dead_code)] // Only decoded, to check; the server decodes it again.
enum Message {
    Response(jsonrpc::Response),
    Request(jsonrpc::Request),
}

/// Whether tower-lsp-server can decode `body`; if not, the stand-in frame to send instead.
fn check(body: &[u8]) -> Result<(), Vec<u8>> {
    let text = std::str::from_utf8(body).map_err(|error| {
        let reason = format!("message body is not UTF-8: {error}");
        stand_in(Id::Null, ErrorCode::ParseError, &reason)
    })?;
    let error = match serde_json::from_str::<Message>(text) {
        Ok(_) => return Ok(()),
        Err(error) => error,
    };
    Err(match serde_json::from_str::<serde_json::Value>(text) {
        Err(error) => stand_in(Id::Null, ErrorCode::ParseError, &error.to_string()),
        Ok(value) => {
            let id = value
                .get("id")
                .and_then(|id| serde_json::from_value(id.clone()).ok())
                .unwrap_or(Id::Null);
            let reason = format!("not a JSON-RPC message: {error}");
            stand_in(id, ErrorCode::InvalidRequest, &reason)
        }
    })
}

/// A request to [`MALFORMED_METHOD`] that makes the server answer `id` with `code`.
fn stand_in(id: Id, code: ErrorCode, reason: &str) -> Vec<u8> {
    tracing::warn!("malformed message from the client: {reason}");
    let params = Malformed {
        code: code.code(),
        message: format!("{}: {reason}", code.description()),
    };
    let request = serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "method": MALFORMED_METHOD,
        "params": params,
    });
    request.to_string().into_bytes()
}

/// The checked frames as an `AsyncRead`, for `tower_lsp_server::Server`.
pub struct FrameReader {
    frames: mpsc::Receiver<Vec<u8>>,
    current: Vec<u8>,
    read: usize,
}

impl AsyncRead for FrameReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        while this.read == this.current.len() {
            match this.frames.poll_recv(cx) {
                Poll::Ready(Some(frame)) => (this.current, this.read) = (frame, 0),
                // The thread ended with the input: report the end of the stream.
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
        let n = buf.remaining().min(this.current.len() - this.read);
        buf.put_slice(&this.current[this.read..this.read + n]);
        this.read += n;
        Poll::Ready(Ok(()))
    }
}

/// Stdout written directly from the runtime's thread. `tokio::io::stdout` hands every write
/// to its blocking pool, a thread hop per message that costs more than linting a keystroke.
/// Writing in place cannot deadlock with the editor: stdin is read on a thread of its own,
/// so the editor is never blocked writing to us while we wait for it to read.
///
/// tower-lsp-server hands over whole frames, and so does [`write_frame`]; each is written
/// whole under one lock (see [`write_out`]), so frames from both never interleave.
pub struct DirectStdout;

/// Writes one message, framed, beside tower-lsp-server's (see [`DirectStdout`]); its body is
/// `parts` one after the other, copied once, into the frame.
pub fn write_frame(parts: &[&[u8]]) -> io::Result<()> {
    let len: usize = parts.iter().map(|part| part.len()).sum();
    let header = format!("Content-Length: {len}\r\n\r\n");
    let mut frame = Vec::with_capacity(header.len() + len);
    frame.extend_from_slice(header.as_bytes());
    for part in parts {
        frame.extend_from_slice(part);
    }
    write_out(&frame)
}

/// Writes bytes to stdout at once, in one system call when the pipe takes them. std's
/// `Stdout` is line-buffered: it would send a frame's header and body in two writes, and the
/// editor would wake up twice for every message.
fn write_out(bytes: &[u8]) -> io::Result<()> {
    static OUTPUT: OnceLock<Option<Mutex<File>>> = OnceLock::new();
    let output = OUTPUT.get_or_init(|| unbuffered_stdout().map(Mutex::new));
    match output {
        Some(file) => {
            let mut file = file.lock().unwrap_or_else(PoisonError::into_inner);
            file.write_all(bytes)
        }
        None => {
            let mut out = io::stdout().lock();
            out.write_all(bytes)?;
            out.flush()
        }
    }
}

/// A second handle on stdout, for writes that bypass std's buffer.
#[cfg(unix)]
fn unbuffered_stdout() -> Option<File> {
    use std::os::fd::AsFd;
    let duplicate = io::stdout().as_fd().try_clone_to_owned();
    duplicate.ok().map(File::from)
}

#[cfg(windows)]
fn unbuffered_stdout() -> Option<File> {
    use std::os::windows::io::AsHandle;
    let duplicate = io::stdout().as_handle().try_clone_to_owned();
    duplicate.ok().map(File::from)
}

#[cfg(not(any(unix, windows)))]
fn unbuffered_stdout() -> Option<File> {
    None
}

impl tokio::io::AsyncWrite for DirectStdout {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(write_out(buf).map(|()| buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Nothing is buffered.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(context)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &str) -> Vec<String> {
        let mut input = io::Cursor::new(input.as_bytes().to_vec());
        let mut out = Vec::new();
        while let Some(frame) = read_frame(&mut input).unwrap() {
            out.push(match frame {
                Frame::Body(body) => match check(&body) {
                    Ok(()) => String::from_utf8(body).unwrap(),
                    Err(stand_in) => String::from_utf8(stand_in).unwrap(),
                },
                Frame::BadHeader(reason) => format!("bad header: {reason}"),
            });
        }
        out
    }

    #[test]
    fn good_frames_pass_and_bad_ones_become_stand_ins() {
        let good = r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#;
        let bad_json = r#"{"jsonrpc":"2.0","method":"#;
        let not_message = r#"{"jsonrpc":"1.0","id":7}"#;
        let input = format!(
            "Content-Length: {}\r\n\r\n{good}Content-Length: {}\r\nContent-Type: x\r\n\r\n{bad_json}\
             Content-Length: {}\r\n\r\n{not_message}garbage\r\n\r\nContent-Length: {}\r\n\r\n{good}",
            good.len(),
            bad_json.len(),
            not_message.len(),
            good.len()
        );
        let out = frames(&input);
        assert_eq!(out.len(), 5, "{out:#?}");
        assert_eq!(out[0], good);
        assert!(
            out[1].contains(r#""id":null"#) && out[1].contains("-32700"),
            "{}",
            out[1]
        );
        assert!(
            out[2].contains(r#""id":7"#) && out[2].contains("-32600"),
            "{}",
            out[2]
        );
        assert_eq!(out[3], "bad header: invalid header line `garbage`");
        assert_eq!(out[4], good);
    }
}
