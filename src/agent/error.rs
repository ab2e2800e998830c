//! Why a call to an agent failed, in terms a user can act on.

use std::process::ExitStatus;
use std::time::Duration;

use thiserror::Error;

use super::retry::{long_wait, RetryAfter};

/// A failed call to an agent. Every message is safe to show and to log: none carries an API
/// key or a request header (provider messages are scrubbed of the key before they get here).
#[derive(Clone, Debug, Error)]
pub enum AgentError {
    /// The endpoint answered with an error status other than 401/403.
    #[error("HTTP {status}{}{}", reason(*status), tail(message))]
    Http {
        status: u16,
        /// From the `Retry-After` header, in seconds or as an HTTP date.
        retry_after: Option<RetryAfter>,
        /// The provider's own message from its error JSON, else a short excerpt of the body.
        message: String,
    },
    /// The endpoint asked (`Retry-After`) to wait longer than baton waits: the attempt fails at
    /// once rather than hide a provider that is down behind a long pause, and the `fallback`
    /// agents are tried.
    #[error(
        "HTTP {status}{}: the provider asked to wait {} (Retry-After: {}), longer than baton waits ({}){}",
        reason(*status), long_wait(retry_after.wait), retry_after.header, seconds(*cap), detail(message)
    )]
    WaitTooLong {
        status: u16,
        retry_after: RetryAfter,
        /// The longest wait baton honours.
        cap: Duration,
        message: String,
    },
    /// 401 or 403: the key is missing, wrong, or lacks access.
    #[error("{status}{} from {agent}: {}{}", reason(*status), key_advice(key_env, agent), detail(message))]
    Unauthorized {
        agent: String,
        status: u16,
        key_env: Option<String>,
        message: String,
    },
    /// The agent names a key variable that is not set in the server's environment.
    #[error("{agent} needs an API key: set the environment variable {env}")]
    MissingKey { agent: String, env: String },
    /// Nothing arrived for `after` (an idle timeout: it restarts with every chunk received).
    #[error("no answer for {}: the agent timed out", seconds(*after))]
    Timeout { after: Duration },
    /// The endpoint could not be reached (no byte was exchanged).
    #[error("could not reach {url}: {reason}")]
    Connect { url: String, reason: String },
    /// The stream stopped before its end marker; the text received so far was delivered.
    #[error("the answer broke off: {reason}")]
    BrokenStream { reason: String },
    /// A chunk that is not the documented format.
    #[error("the agent sent something baton cannot read: {reason}")]
    Malformed { reason: String },
    /// The provider reported an error inside the stream (Anthropic `error` event, an OpenAI
    /// error object, an Ollama `error` line).
    #[error("the provider reported {kind}: {message}")]
    ProviderError { kind: String, message: String },
    /// The answer grew past the size bound; the text up to it was delivered.
    #[error("the answer was cut at {} (the size bound)", size(*limit))]
    TooLarge { limit: usize },
    #[error("cancelled")]
    Cancelled,
    /// A `command` agent's program exited unsuccessfully.
    #[error("the program exited with {status}{}", detail(stderr_tail))]
    Command {
        status: ExitStatus,
        /// The last ~2 KB the program wrote to stderr.
        stderr_tail: String,
    },
    /// A `command` agent's program could not be started.
    #[error("could not start `{program}`: {reason}")]
    Spawn { program: String, reason: String },
    /// The agent's configuration cannot be used as it is (an invalid proxy, an empty command).
    #[error("{reason}")]
    Config { reason: String },
    #[error("{reason}")]
    Io { reason: String },
}

impl AgentError {
    /// Whether another attempt may succeed: 408, 429 and 5xx (529 is Anthropic's "overloaded"),
    /// a connection that failed, a stream that broke, an overloaded or rate-limited provider.
    ///
    /// This judges the error alone. A retry is only safe when no text of the failed attempt was
    /// delivered, since the next attempt would deliver it again and the user would see it
    /// twice; [`send`](super::send) checks that too, and so must any other caller.
    pub fn is_retryable(&self) -> bool {
        match self {
            AgentError::Http { status, .. } => {
                matches!(status, 408 | 429) || (500..600).contains(status) && *status != 501
            }
            AgentError::Connect { .. } | AgentError::BrokenStream { .. } => true,
            AgentError::ProviderError { kind, .. } => matches!(
                kind.as_str(),
                "overloaded_error" | "rate_limit_error" | "api_error" | "server_error"
            ),
            _ => false,
        }
    }

    /// Whether the agent looks unavailable, so that its `fallback` agents should be tried once
    /// its retries are spent: a retryable error, no answer at all within the timeout, a wait
    /// longer than baton's, or a key that is not set here (the fallback may need none).
    pub fn calls_for_fallback(&self) -> bool {
        self.is_retryable()
            || matches!(
                self,
                AgentError::Timeout { .. }
                    | AgentError::WaitTooLong { .. }
                    | AgentError::MissingKey { .. }
            )
    }

    /// The HTTP status, when the failure was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            AgentError::Http { status, .. }
            | AgentError::Unauthorized { status, .. }
            | AgentError::WaitTooLong { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// How long the endpoint asked us to wait before trying again.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            AgentError::Http { retry_after, .. } => retry_after.as_ref().map(|after| after.wait),
            _ => None,
        }
    }

    /// A word or two for a progress line: `429`, `overloaded_error`, `timeout`.
    pub fn label(&self) -> String {
        match self {
            AgentError::Http { status, .. }
            | AgentError::Unauthorized { status, .. }
            | AgentError::WaitTooLong { status, .. } => status.to_string(),
            AgentError::ProviderError { kind, .. } => kind.clone(),
            AgentError::MissingKey { .. } => "missing key".into(),
            AgentError::Timeout { .. } => "timeout".into(),
            AgentError::Connect { .. } => "connection failed".into(),
            AgentError::BrokenStream { .. } => "stream broke off".into(),
            AgentError::Malformed { .. } => "malformed stream".into(),
            AgentError::TooLarge { .. } => "too large".into(),
            AgentError::Cancelled => "cancelled".into(),
            AgentError::Command { status, .. } => status.to_string(),
            AgentError::Spawn { .. } => "spawn failed".into(),
            AgentError::Config { .. } => "configuration".into(),
            AgentError::Io { .. } => "i/o error".into(),
        }
    }

    /// This error with every occurrence of `secret` in its text replaced, for messages that
    /// came from the provider and might echo what was sent.
    pub(crate) fn scrubbed(self, secret: &str) -> AgentError {
        if secret.is_empty() {
            return self;
        }
        let scrub = |text: String| text.replace(secret, "[REDACTED]");
        match self {
            AgentError::Http {
                status,
                retry_after,
                message,
            } => AgentError::Http {
                status,
                retry_after,
                message: scrub(message),
            },
            AgentError::Unauthorized {
                agent,
                status,
                key_env,
                message,
            } => AgentError::Unauthorized {
                agent,
                status,
                key_env,
                message: scrub(message),
            },
            AgentError::WaitTooLong {
                status,
                retry_after,
                cap,
                message,
            } => AgentError::WaitTooLong {
                status,
                retry_after,
                cap,
                message: scrub(message),
            },
            AgentError::ProviderError { kind, message } => AgentError::ProviderError {
                kind: scrub(kind),
                message: scrub(message),
            },
            AgentError::Malformed { reason } => AgentError::Malformed {
                reason: scrub(reason),
            },
            AgentError::BrokenStream { reason } => AgentError::BrokenStream {
                reason: scrub(reason),
            },
            other => other,
        }
    }
}

/// `2 s`, `2.5 s`, `250 ms`: how long, as a progress line says it.
pub(crate) fn seconds(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        format!("{} ms", duration.as_millis())
    } else if duration.subsec_millis() == 0 {
        format!("{} s", duration.as_secs())
    } else {
        format!("{:.1} s", duration.as_secs_f64())
    }
}

/// ` Too Many Requests`, with its leading space, or nothing for an unknown status.
fn reason(status: u16) -> String {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|status| status.canonical_reason())
        .map(|reason| format!(" {reason}"))
        .unwrap_or_default()
}

fn key_advice(key_env: &Option<String>, agent: &str) -> String {
    match key_env {
        Some(env) => format!("check {env}"),
        None => {
            format!("the endpoint wants a key; name its variable in [agents.{agent}] api_key_env")
        }
    }
}

/// ` (message)`, or nothing when there is no message.
fn detail(message: &str) -> String {
    let message = message.trim();
    if message.is_empty() {
        String::new()
    } else {
        format!(" ({message})")
    }
}

/// `: message`, or nothing when there is no message.
fn tail(message: &str) -> String {
    let message = message.trim();
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

fn size(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB && bytes % MIB == 0 {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// A chunk that does not parse as the documented JSON: the parser's complaint and the start of
/// the chunk.
pub(crate) fn malformed(chunk: &[u8], error: &serde_json::Error) -> AgentError {
    AgentError::Malformed {
        reason: format!(
            "{error} in `{}`",
            excerpt(&String::from_utf8_lossy(chunk), 80)
        ),
    }
}

impl From<super::sse::TooLong> for AgentError {
    fn from(error: super::sse::TooLong) -> AgentError {
        AgentError::Malformed {
            reason: format!("an event longer than {}", size(error.limit)),
        }
    }
}

impl From<super::ndjson::TooLong> for AgentError {
    fn from(error: super::ndjson::TooLong) -> AgentError {
        AgentError::Malformed {
            reason: format!("a line longer than {}", size(error.limit)),
        }
    }
}

/// At most `max` characters of `text` on one line, marked with `…` when cut: enough to
/// recognise a bad chunk in a message without pasting a whole body into it.
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unauthorized_names_the_variable_to_check() {
        let error = AgentError::Unauthorized {
            agent: "researcher".into(),
            status: 401,
            key_env: Some("OPENAI_API_KEY".into()),
            message: String::new(),
        };
        assert_eq!(
            error.to_string(),
            "401 Unauthorized from researcher: check OPENAI_API_KEY"
        );
        assert!(!error.is_retryable());
    }

    #[test]
    fn retryable_statuses() {
        let http = |status| AgentError::Http {
            status,
            retry_after: None,
            message: String::new(),
        };
        for status in [408, 429, 500, 502, 503, 504, 529] {
            assert!(http(status).is_retryable(), "{status}");
        }
        for status in [400, 404, 413, 501] {
            assert!(!http(status).is_retryable(), "{status}");
        }
        assert_eq!(
            http(429).to_string(),
            "HTTP 429 Too Many Requests",
            "no message, no colon"
        );
    }

    #[test]
    fn excerpts_are_short_and_on_one_line() {
        assert_eq!(excerpt("a\n b", 10), "a b");
        assert_eq!(excerpt("ééééé", 3), "ééé…");
    }

    #[test]
    fn scrubbing_removes_the_secret_from_provider_text() {
        let error = AgentError::Http {
            status: 400,
            retry_after: None,
            message: "bad key sk-123 given".into(),
        };
        assert_eq!(
            error.scrubbed("sk-123").to_string(),
            "HTTP 400 Bad Request: bad key [REDACTED] given"
        );
    }
}
