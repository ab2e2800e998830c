//! The Anthropic Messages API, streamed (`stream: true`).
//!
//! `POST {base_url}/v1/messages` with `x-api-key` and `anthropic-version: 2023-06-01`. The
//! answer is SSE, one JSON object per event with its `type`: `message_start` (input tokens),
//! `content_block_start`, `content_block_delta` (a `text_delta` carries text), `content_block_stop`,
//! `message_delta` (stop reason, output tokens), `message_stop` (the end), `ping`, and `error`.
//! Unknown event and delta types are skipped, as Anthropic asks of clients.
//!
//! The system prompt goes apart (`system`), and `messages` alternate `user` and `assistant`,
//! as the API requires: consecutive messages of one role (a thread's seeded turn, which has no
//! answer, before the new payload) are sent as one, separated by a blank line.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::error::malformed;
use super::http::{json_body, ApiKey, Endpoint};
use super::sse::SseDecoder;
use super::{AgentError, Finish, HttpWire, Request, Sink};
use crate::config::AgentSpec;

pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
/// The API version baton speaks.
pub const API_VERSION: &str = "2023-06-01";
/// The Messages API requires `max_tokens`; this leaves room for a long answer without letting
/// one run spend without bound.
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// An agent with `provider = "anthropic"`.
#[derive(Clone, Debug)]
pub struct Anthropic {
    endpoint: Endpoint,
}

impl Anthropic {
    /// The wire for `spec`, waiting at most `idle` for each piece of the answer.
    pub fn new(agent: &str, spec: &AgentSpec, idle: Duration) -> Result<Anthropic, AgentError> {
        let endpoint = Endpoint::new(agent, spec, DEFAULT_BASE_URL, "/v1/messages", idle)?;
        Ok(Anthropic { endpoint })
    }
}

impl HttpWire for Anthropic {
    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    async fn attempt(
        &self,
        request: &Request,
        key: Option<&ApiKey>,
        sink: &mut Sink<'_>,
        cancel: &CancellationToken,
    ) -> Result<Finish, AgentError> {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        headers.insert(
            HeaderName::from_static("anthropic-version"),
            HeaderValue::from_static(API_VERSION),
        );
        if let (Some(key), Some(env)) = (key, &self.endpoint.key_env) {
            headers.insert(HeaderName::from_static("x-api-key"), key.header("", env)?);
        }
        let body = json_body(&MessagesRequest {
            model: &request.model,
            max_tokens: DEFAULT_MAX_TOKENS,
            system: request.system.as_deref(),
            messages: alternating(request),
            stream: true,
        })?;
        let mut response = self.endpoint.post_json(headers, body, cancel).await?;
        let mut decoder = SseDecoder::new();
        let mut finish = Finish::default();
        while let Some(bytes) = self.endpoint.chunk(&mut response, cancel).await? {
            for event in decoder.feed(&bytes)? {
                if on_event(&event.data, &mut finish, sink)? {
                    return Ok(finish);
                }
            }
            sink.passed_on().await;
        }
        if let Some(event) = decoder.finish() {
            if on_event(&event.data, &mut finish, sink)? {
                return Ok(finish);
            }
        }
        Err(AgentError::BrokenStream {
            reason: "the stream ended before message_stop".into(),
        })
    }
}

#[derive(Serialize)]
struct MessagesRequest<'a> {
    model: &'a str,
    max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<&'a str>,
    messages: Vec<AlternatingTurn>,
    stream: bool,
}

/// One message as the Messages API takes it.
#[derive(Debug, PartialEq, Eq, Serialize)]
struct AlternatingTurn {
    role: &'static str,
    content: String,
}

/// The request's messages, those of one role in a row merged into one.
fn alternating(request: &Request) -> Vec<AlternatingTurn> {
    let mut turns: Vec<AlternatingTurn> = Vec::new();
    for message in &request.messages {
        let role = message.role.as_str();
        match turns.last_mut() {
            Some(last) if last.role == role => {
                last.content.push_str("\n\n");
                last.content.push_str(&message.content);
            }
            _ => turns.push(AlternatingTurn {
                role,
                content: message.content.clone(),
            }),
        }
    }
    turns
}

/// One event of the stream, by its `type`.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum StreamEvent {
    MessageStart {
        message: StartedMessage,
    },
    ContentBlockStart {
        content_block: Block,
    },
    ContentBlockDelta {
        delta: Block,
    },
    MessageDelta {
        delta: MessageDelta,
        usage: Option<Usage>,
    },
    MessageStop,
    Error {
        error: StreamError,
    },
    /// `ping`, `content_block_stop`, and whatever later API versions add.
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct StartedMessage {
    usage: Option<Usage>,
}

/// A content block or a delta of one; only text is read (not tool use, not thinking).
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block {
    Text {
        #[serde(default)]
        text: String,
    },
    TextDelta {
        text: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct MessageDelta {
    stop_reason: Option<String>,
}

#[derive(Deserialize)]
struct Usage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct StreamError {
    #[serde(rename = "type")]
    kind: String,
    message: String,
}

/// Takes one event's data; true at `message_stop`.
fn on_event(data: &str, finish: &mut Finish, sink: &mut Sink<'_>) -> Result<bool, AgentError> {
    let event: StreamEvent =
        serde_json::from_str(data).map_err(|error| malformed(data.as_bytes(), &error))?;
    match event {
        StreamEvent::MessageStart { message } => {
            if let Some(usage) = message.usage {
                finish.input_tokens = usage.input_tokens;
                finish.output_tokens = usage.output_tokens;
            }
        }
        StreamEvent::ContentBlockStart {
            content_block: block,
        }
        | StreamEvent::ContentBlockDelta { delta: block } => {
            if let Block::Text { text } | Block::TextDelta { text } = block {
                sink.text(&text)?;
            }
        }
        StreamEvent::MessageDelta { delta, usage } => {
            finish.stop_reason = delta.stop_reason.or(finish.stop_reason.take());
            if let Some(usage) = usage {
                finish.input_tokens = usage.input_tokens.or(finish.input_tokens);
                finish.output_tokens = usage.output_tokens.or(finish.output_tokens);
            }
        }
        StreamEvent::MessageStop => return Ok(true),
        StreamEvent::Error { error } => {
            return Err(AgentError::ProviderError {
                kind: error.kind,
                message: error.message,
            })
        }
        StreamEvent::Other => {}
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::Message;

    #[test]
    fn messages_of_one_role_in_a_row_are_sent_as_one() {
        let request = Request {
            model: "m".into(),
            system: Some("Be brief.".into()),
            messages: vec![
                Message::user("Handoff."),
                Message::user("Scan."),
                Message::assistant("Done."),
                Message::user("Again."),
            ],
        };
        let turn = |role, content: &str| AlternatingTurn {
            role,
            content: content.to_owned(),
        };
        assert_eq!(
            alternating(&request),
            [
                turn("user", "Handoff.\n\nScan."),
                turn("assistant", "Done."),
                turn("user", "Again."),
            ]
        );
    }
}
