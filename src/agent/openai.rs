//! OpenAI chat completions, streamed (`stream: true`): the wire of OpenAI and of every
//! OpenAI-compatible server (llama.cpp, vLLM, LM Studio, OpenRouter, LiteLLM…).
//!
//! `POST {base_url}/chat/completions` with `Authorization: Bearer <key>` when the agent names a
//! key variable. The answer is SSE: `data: {chunk}` events whose `choices[0].delta.content`
//! carries the text, a chunk with a `finish_reason`, a last chunk with `usage` (asked for with
//! `stream_options.include_usage`), then `data: [DONE]`. An `error` object in a chunk is a
//! provider error.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::error::malformed;
use super::http::{json_body, turns, ApiKey, Endpoint, Turn};
use super::sse::SseDecoder;
use super::{AgentError, Finish, HttpWire, Request, Sink};
use crate::config::AgentSpec;

pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// An agent with `provider = "openai"`.
#[derive(Clone, Debug)]
pub struct OpenAi {
    endpoint: Endpoint,
}

impl OpenAi {
    /// The wire for `spec`, waiting at most `idle` for each piece of the answer.
    pub fn new(agent: &str, spec: &AgentSpec, idle: Duration) -> Result<OpenAi, AgentError> {
        let endpoint = Endpoint::new(agent, spec, DEFAULT_BASE_URL, "/chat/completions", idle)?;
        Ok(OpenAi { endpoint })
    }
}

impl HttpWire for OpenAi {
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
        if let (Some(key), Some(env)) = (key, &self.endpoint.key_env) {
            headers.insert(AUTHORIZATION, key.header("Bearer ", env)?);
        }
        let body = json_body(&ChatRequest {
            model: &request.model,
            messages: turns(request, true),
            stream: true,
            stream_options: StreamOptions {
                include_usage: true,
            },
        })?;
        let mut response = self.endpoint.post_json(headers, body, cancel).await?;
        let mut decoder = SseDecoder::new();
        let mut answer = Answer::default();
        while let Some(bytes) = self.endpoint.chunk(&mut response, cancel).await? {
            for event in decoder.feed(&bytes)? {
                if answer.event(&event.data, sink)? {
                    return Ok(answer.finish);
                }
            }
            sink.passed_on().await;
        }
        if let Some(event) = decoder.finish() {
            if answer.event(&event.data, sink)? {
                return Ok(answer.finish);
            }
        }
        answer.ended()
    }
}

#[derive(Serialize)]
struct ChatRequest<'a> {
    model: &'a str,
    messages: Vec<Turn<'a>>,
    stream: bool,
    stream_options: StreamOptions,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

/// One `data:` chunk of the stream.
#[derive(Deserialize)]
struct ChatChunk {
    choices: Option<Vec<Choice>>,
    usage: Option<Usage>,
    error: Option<StreamError>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    index: u32,
    delta: Option<Delta>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Delta {
    content: Option<String>,
}

#[derive(Deserialize)]
struct Usage {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct StreamError {
    message: String,
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// What the stream has said so far.
#[derive(Default)]
struct Answer {
    finish: Finish,
}

impl Answer {
    /// Takes one event's data; true when it was `[DONE]`.
    fn event(&mut self, data: &str, sink: &mut Sink<'_>) -> Result<bool, AgentError> {
        if data.trim() == "[DONE]" {
            return Ok(true);
        }
        let chunk: ChatChunk =
            serde_json::from_str(data).map_err(|error| malformed(data.as_bytes(), &error))?;
        if let Some(error) = chunk.error {
            return Err(AgentError::ProviderError {
                kind: error.kind.unwrap_or_else(|| "error".into()),
                message: error.message,
            });
        }
        // Only one choice is asked for (no `n`), so only the first is read.
        for choice in chunk.choices.into_iter().flatten() {
            if choice.index != 0 {
                continue;
            }
            if let Some(text) = choice.delta.and_then(|delta| delta.content) {
                sink.text(&text)?;
            }
            if choice.finish_reason.is_some() {
                self.finish.stop_reason = choice.finish_reason;
            }
        }
        if let Some(usage) = chunk.usage {
            self.finish.input_tokens = usage.prompt_tokens;
            self.finish.output_tokens = usage.completion_tokens;
        }
        Ok(false)
    }

    /// The body ended without `[DONE]`: complete all the same if a `finish_reason` came (some
    /// compatible servers omit `[DONE]`), else broken.
    fn ended(self) -> Result<Finish, AgentError> {
        if self.finish.stop_reason.is_some() {
            Ok(self.finish)
        } else {
            Err(AgentError::BrokenStream {
                reason: "the stream ended before [DONE]".into(),
            })
        }
    }
}
