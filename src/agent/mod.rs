//! Talking to agents: one client per wire format behind one trait, and [`send`], which picks
//! the client for an agent, applies its timeout and retries what is worth retrying.
//!
//! This is the only module that speaks HTTP or runs agent programs. It knows nothing of
//! documents, journals or LSP: text arrives through a callback as it is received, and the
//! caller (the dispatcher) journals and injects it.
//!
//! - [`openai`], [`anthropic`], [`ollama`], [`command`]: one [`Wire`] per provider.
//! - [`sse`], [`ndjson`]: incremental decoders for the two streaming framings.
//! - `client`: [`send`] and [`SendOptions`]; `retry`: [`RetryPolicy`].
//! - [`probe`]: whether an agent can be reached, for `baton agents`.
//!
//! Secrets: an API key is read from the environment when a request is sent, goes into a header
//! marked sensitive, and is scrubbed from every message a provider sends back, so it never
//! appears in an [`AgentError`], its `Debug`, or a log line.

pub mod anthropic;
mod client;
pub mod command;
mod error;
mod http;
pub mod models;
pub mod ndjson;
pub mod ollama;
pub mod openai;
pub mod probe;
mod retry;
pub mod sse;

use std::fmt;
use std::future::Future;
use std::time::Duration;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

pub use anthropic::Anthropic;
pub use client::{send, send_with, SendOptions};
pub use command::Program;
pub use error::AgentError;
pub use ollama::Ollama;
pub use openai::OpenAi;
pub use retry::RetryPolicy;

/// How much answer text one run may deliver before it is cut, so a runaway or hostile endpoint
/// cannot fill the document, the journal and memory.
pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 4 * 1024 * 1024;

/// What is sent to an agent: the model, the system prompt (the agent's role) and the turns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub model: String,
    pub system: Option<String>,
    pub messages: Vec<Message>,
}

/// One turn of a conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

impl Message {
    pub fn user(content: impl Into<String>) -> Message {
        Message {
            role: Role::User,
            content: content.into(),
        }
    }

    pub fn assistant(content: impl Into<String>) -> Message {
        Message {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// Who spoke a turn. The system prompt is not a turn: it is [`Request::system`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// How a completed stream ended, as far as the provider said.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Finish {
    /// `stop`, `end_turn`, `length`, `max_tokens`…: the provider's own words.
    pub stop_reason: Option<String>,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
}

/// What [`send`] reports while it runs.
#[derive(Debug)]
pub enum Event<'a> {
    /// A piece of the answer, in order, exactly as received (after UTF-8 decoding).
    Text(&'a str),
    /// An attempt failed before any text arrived and another one follows after a pause.
    Retrying(Retry<'a>),
}

/// A retry about to happen, for the user to see: `retrying in 2 s (429)`.
#[derive(Debug)]
pub struct Retry<'a> {
    /// 1 for the first retry.
    pub attempt: u32,
    /// How many retries the policy allows in all.
    pub retries: u32,
    pub delay: Duration,
    /// Why the previous attempt failed.
    pub error: &'a AgentError,
}

impl fmt::Display for Retry<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "retrying in {} ({}), attempt {} of {}",
            error::seconds(self.delay),
            self.error.label(),
            self.attempt,
            self.retries
        )
    }
}

/// Where a [`Wire`] delivers text: the caller's callback behind the response size bound.
///
/// Counting here, rather than in each wire, keeps the bound and the "was anything delivered"
/// fact (which decides whether a retry is safe) in one place.
///
/// Text is passed on in batches: a wire calls [`Sink::flush`] once it has decoded everything
/// one network read brought, so the pieces that arrived together reach the caller (and the
/// journal) in one call, while nothing waits for a later read.
pub struct Sink<'a> {
    on_text: &'a mut (dyn FnMut(&str) + Send),
    limit: usize,
    delivered: usize,
    pending: String,
}

impl<'a> Sink<'a> {
    pub fn new(on_text: &'a mut (dyn FnMut(&str) + Send), limit: usize) -> Sink<'a> {
        Sink {
            on_text,
            limit,
            delivered: 0,
            pending: String::new(),
        }
    }

    /// Passes `text` on; past the bound, passes on what fits (whole characters) and fails with
    /// [`AgentError::TooLarge`], after which the wire must stop.
    pub fn text(&mut self, text: &str) -> Result<(), AgentError> {
        if text.is_empty() {
            return Ok(());
        }
        let room = self.limit.saturating_sub(self.delivered);
        let mut cut = text.len().min(room);
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        if cut > 0 {
            self.pending.push_str(&text[..cut]);
            self.delivered += cut;
        }
        if cut < text.len() {
            self.flush();
            return Err(AgentError::TooLarge { limit: self.limit });
        }
        Ok(())
    }

    /// The end of one network read: passes its text on, then lets other tasks run (a fast
    /// stream always has its next read ready, and would otherwise keep its thread from the
    /// other runs, and from the task that shows this one, for many reads in a row).
    pub async fn passed_on(&mut self) {
        self.flush();
        tokio::task::yield_now().await;
    }

    /// Passes on what was decoded since the last flush, in one piece.
    pub fn flush(&mut self) {
        if !self.pending.is_empty() {
            (self.on_text)(&self.pending);
            self.pending.clear();
        }
    }

    /// Bytes of text taken so far (passed on, or passed on at the next flush).
    pub fn delivered(&self) -> usize {
        self.delivered
    }
}

/// One provider's wire format: sends `request` and streams the answer into `sink`.
///
/// A wire makes exactly one attempt; retries belong to [`send`]. It returns when the stream
/// ends with the provider's end marker, on the first error, or as soon as `cancel` fires
/// ([`AgentError::Cancelled`]). Text delivered before an error stays delivered.
pub trait Wire {
    fn stream<'a>(
        &'a self,
        request: &'a Request,
        sink: &'a mut Sink<'_>,
        cancel: &'a CancellationToken,
    ) -> impl Future<Output = Result<Finish, AgentError>> + Send + 'a;
}

/// A provider reached over HTTP ([`openai`], [`anthropic`], [`ollama`]): one attempt with the
/// key its agent names, read from the environment now. Each is a [`Wire`] whose errors never
/// carry that key, even when the provider echoes it back.
pub(crate) trait HttpWire: Sync {
    fn endpoint(&self) -> &http::Endpoint;

    fn attempt(
        &self,
        request: &Request,
        key: Option<&http::ApiKey>,
        sink: &mut Sink<'_>,
        cancel: &CancellationToken,
    ) -> impl Future<Output = Result<Finish, AgentError>> + Send;
}

impl<W: HttpWire> Wire for W {
    async fn stream<'a>(
        &'a self,
        request: &'a Request,
        sink: &'a mut Sink<'_>,
        cancel: &'a CancellationToken,
    ) -> Result<Finish, AgentError> {
        let key = self.endpoint().key()?;
        let result = self.attempt(request, key.as_ref(), sink, cancel).await;
        http::ApiKey::scrub(key.as_ref(), result)
    }
}

/// Runs `work` unless `cancel` fires first or it takes longer than `idle`.
///
/// Every wait on the network or a program goes through here, so every wait is bounded and
/// cancellable; each wait gets the whole `idle` anew, which makes the timeout an idle timeout.
pub(crate) async fn within<T>(
    idle: Duration,
    cancel: &CancellationToken,
    work: impl Future<Output = T>,
) -> Result<T, AgentError> {
    tokio::select! {
        biased;
        () = cancel.cancelled() => Err(AgentError::Cancelled),
        done = tokio::time::timeout(idle, work) => {
            done.map_err(|_| AgentError::Timeout { after: idle })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sink_cuts_at_the_bound_on_a_character_boundary() {
        let mut seen = String::new();
        let mut on_text = |text: &str| seen.push_str(text);
        let mut sink = Sink::new(&mut on_text, 5);
        assert!(sink.text("abc").is_ok());
        let err = sink.text("dé!").unwrap_err();
        assert!(matches!(err, AgentError::TooLarge { limit: 5 }));
        assert_eq!(
            sink.delivered(),
            4,
            "é does not fit whole, so it is left out"
        );
        assert_eq!(seen, "abcd");
    }

    #[test]
    fn a_retry_reads_as_the_user_sees_it() {
        let error = AgentError::Http {
            status: 429,
            retry_after: None,
            message: "slow down".into(),
        };
        let retry = Retry {
            attempt: 1,
            retries: 3,
            delay: Duration::from_secs(2),
            error: &error,
        };
        assert_eq!(retry.to_string(), "retrying in 2 s (429), attempt 1 of 3");
    }
}
