//! Ollama's chat API, streamed.
//!
//! `POST {base_url}/api/chat` with `{model, messages, stream: true}`, no key. The answer is
//! NDJSON: `{"message": {"role", "content"}, "done": false}` per piece, then a last line with
//! `done: true`, `done_reason`, `prompt_eval_count` and `eval_count`. A line `{"error": "..."}`
//! is a provider error.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::error::malformed;
use super::http::{json_body, turns, ApiKey, Endpoint, Turn};
use super::ndjson::NdjsonDecoder;
use super::{AgentError, Finish, HttpWire, Request, Sink};
use crate::config::AgentSpec;

pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:11434";

/// An agent with `provider = "ollama"`.
#[derive(Clone, Debug)]
pub struct Ollama {
    endpoint: Endpoint,
}

impl Ollama {
    /// The wire for `spec`, waiting at most `idle` for each piece of the answer.
    pub fn new(agent: &str, spec: &AgentSpec, idle: Duration) -> Result<Ollama, AgentError> {
        let endpoint = Endpoint::new(agent, spec, DEFAULT_BASE_URL, "/api/chat", idle)?;
        Ok(Ollama { endpoint })
    }
}

impl HttpWire for Ollama {
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
        // Ollama itself takes no key, but one behind an authenticating proxy may need one.
        if let (Some(key), Some(env)) = (key, &self.endpoint.key_env) {
            headers.insert(reqwest::header::AUTHORIZATION, key.header("Bearer ", env)?);
        }
        let body = json_body(&ChatRequest {
            model: &request.model,
            messages: turns(request, true),
            stream: true,
        })?;
        let mut response = self.endpoint.post_json(headers, body, cancel).await?;
        let mut decoder = NdjsonDecoder::new();
        while let Some(bytes) = self.endpoint.chunk(&mut response, cancel).await? {
            for line in decoder.feed(&bytes)? {
                let chunk =
                    serde_json::from_slice(&line).map_err(|error| malformed(&line, &error))?;
                if let Some(finish) = on_chunk(chunk, sink)? {
                    return Ok(finish);
                }
            }
            sink.passed_on().await;
        }
        // A last line without its newline counts if it is whole; a line cut off mid-way is
        // the stream breaking, not the server sending garbage.
        if let Some(line) = decoder.finish() {
            if let Ok(chunk) = serde_json::from_slice(&line) {
                if let Some(finish) = on_chunk(chunk, sink)? {
                    return Ok(finish);
                }
            }
        }
        Err(AgentError::BrokenStream {
            reason: "the stream ended before a line with \"done\": true".into(),
        })
    }
}

#[derive(Serialize)]
struct ChatRequest<'a> {
    model: &'a str,
    messages: Vec<Turn<'a>>,
    stream: bool,
}

/// One line of the stream.
#[derive(Deserialize)]
struct ChatChunk {
    message: Option<ChunkMessage>,
    #[serde(default)]
    done: bool,
    done_reason: Option<String>,
    prompt_eval_count: Option<u64>,
    eval_count: Option<u64>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct ChunkMessage {
    #[serde(default)]
    content: String,
}

/// Takes one line; the finish when it was the last.
fn on_chunk(chunk: ChatChunk, sink: &mut Sink<'_>) -> Result<Option<Finish>, AgentError> {
    if let Some(message) = chunk.error {
        return Err(AgentError::ProviderError {
            kind: "error".into(),
            message,
        });
    }
    if let Some(message) = chunk.message {
        sink.text(&message.content)?;
    }
    Ok(chunk.done.then_some(Finish {
        stop_reason: chunk.done_reason,
        input_tokens: chunk.prompt_eval_count,
        output_tokens: chunk.eval_count,
    }))
}
