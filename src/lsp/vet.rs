//! What becomes of each frame the client sent, before tower-lsp-server decodes it.
//!
//! tower-lsp-server stops reading after the first frame it cannot decode: tokio-util's
//! `FramedRead` ends its stream after a decoder error, and the server's read loop ends with it.
//! One malformed message from a client would then be a dead server. So each body is checked
//! here with the very types tower-lsp-server decodes. A good one is passed on untouched; a bad
//! one is replaced by a request to [`MALFORMED_METHOD`], whose handler answers with the
//! JSON-RPC error the client should get, through the server's one writer, in order with every
//! other message.
//!
//! Who gets an answer: a message whose frame was sound follows JSON-RPC 2.0 (§5): a body that
//! is not JSON gets `-32700` and JSON that is not a message `-32600`, with `id: null` when no
//! id can be read. A frame that is broken (its header, or a length that does not match its
//! body) is not a message JSON-RPC knows of: a request found in it is answered with `-32600`
//! and its own id, so the client's wait ends; anything else is logged and gets nothing, since
//! an answer without an id could only be matched to no request at all.

use std::io::BufRead;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tower_lsp_server::jsonrpc::{self, ErrorCode, Id};

use super::frame::{Frame, Frames};

/// The method a malformed frame is replaced with. Not part of LSP; answered with an error.
pub const MALFORMED_METHOD: &str = "baton/malformedMessage";

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

/// What the server gets for one frame.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// A message tower-lsp-server can decode, passed on as it came.
    Pass(Vec<u8>),
    /// A request to [`MALFORMED_METHOD`] in its place, which the server answers with an error.
    Answer(Vec<u8>),
    /// Nothing: the problem was logged.
    Dropped,
}

/// Judges one frame read from `frames`; a body that turns out to hold the start of the next
/// frame makes `frames` resume there.
pub fn vet<R: BufRead>(frames: &mut Frames<R>, frame: Frame) -> Verdict {
    match frame {
        // An empty body is no message, and harmless: skipped without a word, as before.
        Frame::Body(body) if body.is_empty() => Verdict::Dropped,
        Frame::Body(body) => match check(&body) {
            Ok(()) => Verdict::Pass(body),
            Err(fault) => judge(frames, &body, Err(fault)),
        },
        Frame::Broken {
            reason,
            body: Some(body),
        } => judge(frames, &body, Ok(reason)),
        Frame::Broken { reason, body: None } => dropped(&reason),
    }
}

/// Why a body with a sound frame is not a message.
enum Fault {
    NotJson(String),
    NotMessage(String),
}

/// Whether tower-lsp-server can decode `body`.
fn check(body: &[u8]) -> Result<(), Fault> {
    let text = std::str::from_utf8(body)
        .map_err(|error| Fault::NotJson(format!("message body is not UTF-8: {error}")))?;
    let error = match serde_json::from_str::<Message>(text) {
        Ok(_) => return Ok(()),
        Err(error) => error,
    };
    Err(match serde_json::from_str::<serde::de::IgnoredAny>(text) {
        Err(error) => Fault::NotJson(error.to_string()),
        Ok(_) => Fault::NotMessage(format!("not a JSON-RPC message: {error}")),
    })
}

/// tower-lsp-server's own message type, rebuilt from its public parts: what it can decode.
#[derive(Deserialize)]
#[serde(untagged)]
#[allow(dead_code)] // Only decoded, to check; the server decodes it again.
enum Message {
    Response(jsonrpc::Response),
    Request(jsonrpc::Request),
}

/// The verdict on a body that is not a message: `problem` is what was wrong with its frame's
/// header (`Ok`), or why its sound frame holds no message (`Err`).
fn judge<R: BufRead>(
    frames: &mut Frames<R>,
    body: &[u8],
    problem: Result<String, Fault>,
) -> Verdict {
    let leading = leading_value(body);
    let whole = leading
        .as_ref()
        .is_some_and(|(_, end)| is_blank(&body[*end..]));
    if !whole {
        if let Some(at) = frames.resume_inside(body) {
            let reason = problem.ok().unwrap_or_else(|| {
                format!(
                    "Content-Length {} runs past the end of the message: the next frame \
                     begins {at} bytes into it",
                    body.len()
                )
            });
            return answer_or_drop(leading_value(&body[..at]), &reason);
        }
    }
    match problem {
        Ok(header) => answer_or_drop(leading, &format!("malformed header: {header}")),
        Err(Fault::NotJson(reason)) if leading.is_none() => {
            stand_in(&Id::Null, ErrorCode::ParseError, &reason)
        }
        Err(Fault::NotJson(_)) => {
            let reason = format!(
                "Content-Length {} runs past the end of the message: bytes follow it",
                body.len()
            );
            answer_or_drop(leading, &reason)
        }
        Err(Fault::NotMessage(reason)) => {
            let id = leading.and_then(|(value, _)| id_of(&value));
            stand_in(&id.unwrap_or(Id::Null), ErrorCode::InvalidRequest, &reason)
        }
    }
}

/// The first JSON value in `bytes`, and where it ends.
fn leading_value(bytes: &[u8]) -> Option<(Value, usize)> {
    let mut values = serde_json::Deserializer::from_slice(bytes).into_iter::<Value>();
    match values.next() {
        Some(Ok(value)) => Some((value, values.byte_offset())),
        _ => None,
    }
}

fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

/// A request's id; `None` for a notification, or an id JSON-RPC does not allow.
fn id_of(message: &Value) -> Option<Id> {
    let id = serde_json::from_value(message.get("id")?.clone()).ok()?;
    (id != Id::Null).then_some(id)
}

/// An error for the request in a broken frame, if one is there; else only a log line.
fn answer_or_drop(leading: Option<(Value, usize)>, reason: &str) -> Verdict {
    match leading.and_then(|(value, _)| id_of(&value)) {
        Some(id) => stand_in(&id, ErrorCode::InvalidRequest, reason),
        None => dropped(reason),
    }
}

fn dropped(reason: &str) -> Verdict {
    tracing::warn!("malformed frame from the client, skipped: {reason}");
    Verdict::Dropped
}

/// A request to [`MALFORMED_METHOD`] that makes the server answer `id` with `code`.
fn stand_in(id: &Id, code: ErrorCode, reason: &str) -> Verdict {
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
    Verdict::Answer(request.to_string().into_bytes())
}
