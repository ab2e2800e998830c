//! What the three HTTP wires share: one `reqwest::Client` per proxy setting, the key read at
//! send time, a POST whose failures become [`AgentError`]s, and body reads that time out and
//! cancel.

use std::collections::HashMap;
use std::fmt;
use std::ops::Deref;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use reqwest::Response;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::error::excerpt;
use super::retry::RetryAfter;
use super::{within, AgentError, Request};
use crate::config::{key_variable, AgentSpec};

/// How much of an error response is read to find the provider's message.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// An API key. Its `Debug` shows no part of it, and there is no `Display`.
pub(crate) struct ApiKey(String);

impl ApiKey {
    /// Removes this key from whatever an error says (a provider may echo it back).
    pub fn scrub<T>(key: Option<&ApiKey>, result: Result<T, AgentError>) -> Result<T, AgentError> {
        match key {
            Some(key) => result.map_err(|error| error.scrubbed(key.secret())),
            None => result,
        }
    }

    pub fn secret(&self) -> &str {
        &self.0
    }

    /// A header carrying the key (with `prefix`, e.g. `Bearer `), marked sensitive so that
    /// reqwest and hyper never print it.
    pub fn header(&self, prefix: &str, env: &str) -> Result<HeaderValue, AgentError> {
        let mut value = HeaderValue::from_str(&format!("{prefix}{}", self.0)).map_err(|_| {
            AgentError::Config {
                reason: format!("the key in {env} has characters an HTTP header cannot carry"),
            }
        })?;
        value.set_sensitive(true);
        Ok(value)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(..)")
    }
}

/// An HTTP endpoint of one agent, with the agent's proxy, key variable and idle timeout.
#[derive(Clone)]
pub(crate) struct Endpoint {
    pub agent: String,
    pub url: String,
    pub key_env: Option<String>,
    pub idle: Duration,
    client: reqwest::Client,
}

/// Leaves the client out: its proxy settings may hold credentials.
impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("agent", &self.agent)
            .field("url", &self.url)
            .field("key_env", &self.key_env)
            .field("idle", &self.idle)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// The endpoint `path` under the agent's `base_url` (or `default_base`), trailing slashes
    /// of the base dropped.
    pub fn new(
        agent: &str,
        spec: &AgentSpec,
        default_base: &str,
        path: &str,
        idle: Duration,
    ) -> Result<Endpoint, AgentError> {
        let base = spec
            .base_url()
            .unwrap_or(default_base)
            .trim_end_matches('/');
        // A value that is no variable name may be a key pasted in its place: it is neither
        // looked up nor repeated, and nothing is sent.
        if spec
            .api_key_env
            .as_deref()
            .is_some_and(|env| !key_variable::is_name(env))
        {
            return Err(AgentError::Config {
                reason: format!(
                    "agent `{agent}`: its api_key_env is not the name of an environment variable \
                     (it may be the key itself, which is not shown); put the key in an environment \
                     variable and name that variable in baton.toml"
                ),
            });
        }
        Ok(Endpoint {
            agent: agent.to_owned(),
            url: format!("{base}{path}"),
            key_env: spec.api_key_env.clone(),
            idle,
            client: shared_client(spec.proxy.as_deref())?,
        })
    }

    /// The key, read from the environment now: `None` when the agent names no variable (local
    /// servers need none), an error when it names one that is unset or blank.
    pub fn key(&self) -> Result<Option<ApiKey>, AgentError> {
        let Some(env) = &self.key_env else {
            return Ok(None);
        };
        match std::env::var(env) {
            Ok(key) if !key.trim().is_empty() => Ok(Some(ApiKey(key.trim().to_owned()))),
            _ => Err(AgentError::MissingKey {
                agent: self.agent.clone(),
                env: env.clone(),
            }),
        }
    }

    /// POSTs a JSON `body`; a success status gives the response to stream, any other status
    /// the error its body explains.
    pub async fn post_json(
        &self,
        headers: HeaderMap,
        body: Vec<u8>,
        cancel: &CancellationToken,
    ) -> Result<Response, AgentError> {
        tracing::debug!(agent = %self.agent, url = %self.url, bytes = body.len(), "sending request");
        let request = self
            .client
            .post(&self.url)
            .headers(headers)
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send();
        self.answer(request, cancel).await
    }

    /// GETs the endpoint (a probe: does it answer, does it take the key); a success status
    /// gives the response, any other status the error its body explains.
    pub async fn get(
        &self,
        headers: HeaderMap,
        cancel: &CancellationToken,
    ) -> Result<Response, AgentError> {
        tracing::debug!(agent = %self.agent, url = %self.url, "probing");
        let request = self.client.get(&self.url).headers(headers).send();
        self.answer(request, cancel).await
    }

    /// Waits for the response to `request`: a success status gives it, any other the error.
    async fn answer(
        &self,
        request: impl std::future::Future<Output = reqwest::Result<Response>>,
        cancel: &CancellationToken,
    ) -> Result<Response, AgentError> {
        let response =
            within(self.idle, cancel, request)
                .await?
                .map_err(|error| AgentError::Connect {
                    url: self.url.clone(),
                    reason: chain(error),
                })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        Err(self.failure(response, cancel).await)
    }

    /// The next piece of the body, `None` at its end.
    pub async fn chunk(
        &self,
        response: &mut Response,
        cancel: &CancellationToken,
    ) -> Result<Option<impl Deref<Target = [u8]>>, AgentError> {
        within(self.idle, cancel, response.chunk())
            .await?
            .map_err(|error| AgentError::BrokenStream {
                reason: chain(error),
            })
    }

    /// The error for a response with a failure status, from its headers and body.
    async fn failure(&self, mut response: Response, cancel: &CancellationToken) -> AgentError {
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| RetryAfter::parse(value, SystemTime::now()));
        let mut body = Vec::new();
        while body.len() < MAX_ERROR_BODY {
            match self.chunk(&mut response, cancel).await {
                Ok(Some(bytes)) => body.extend_from_slice(&bytes),
                Err(AgentError::Cancelled) => return AgentError::Cancelled,
                Ok(None) | Err(_) => break,
            }
        }
        let message = error_message(&body);
        match status {
            401 | 403 => AgentError::Unauthorized {
                agent: self.agent.clone(),
                status,
                key_env: self.key_env.clone(),
                message,
            },
            _ => AgentError::Http {
                status,
                retry_after,
                message,
            },
        }
    }
}

/// One turn as OpenAI and Ollama take it, the system prompt included.
#[derive(Serialize)]
pub(crate) struct Turn<'a> {
    pub role: &'static str,
    pub content: &'a str,
}

/// The request's system prompt (as a `system` turn, when `system_turn`) and its turns.
pub(crate) fn turns(request: &Request, system_turn: bool) -> Vec<Turn<'_>> {
    let system = request
        .system
        .as_deref()
        .filter(|_| system_turn)
        .map(|content| Turn {
            role: "system",
            content,
        });
    system
        .into_iter()
        .chain(request.messages.iter().map(|message| Turn {
            role: message.role.as_str(),
            content: &message.content,
        }))
        .collect()
}

/// A request body as JSON bytes.
pub(crate) fn json_body(body: &impl Serialize) -> Result<Vec<u8>, AgentError> {
    serde_json::to_vec(body).map_err(|error| AgentError::Io {
        reason: format!("could not encode the request: {error}"),
    })
}

/// The error bodies the providers document: OpenAI and Anthropic put an object with a
/// `message` under `error`, Ollama a string; OpenAI-compatible servers vary between these and
/// a top-level `message`.
#[derive(Deserialize)]
struct ErrorBody {
    error: Option<ErrorField>,
    message: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ErrorField {
    Object { message: String },
    Text(String),
}

/// The provider's message in an error body, else a short excerpt of the body itself (a proxy's
/// HTML page, a plain-text error), so the user sees something to go on.
fn error_message(body: &[u8]) -> String {
    let parsed = serde_json::from_slice::<ErrorBody>(body).ok();
    let message = parsed.and_then(|body| match body.error {
        Some(ErrorField::Object { message } | ErrorField::Text(message)) => Some(message),
        None => body.message,
    });
    match message {
        Some(message) => excerpt(&message, 500),
        None => excerpt(&String::from_utf8_lossy(body), 200),
    }
}

/// A reqwest error and its causes, without the URL, on one line: "error sending request:
/// tcp connect error: Connection refused (os error 111)".
fn chain(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// One client per proxy setting (and runtime), shared by every agent and run, so connections
/// and TLS sessions are reused.
///
/// An agent's `proxy` replaces the environment's `HTTPS_PROXY`/`HTTP_PROXY` (still with
/// `NO_PROXY`'s exceptions); without one, reqwest reads the environment. Redirects are not
/// followed: an API endpoint that redirects is misconfigured, and following would send the
/// `x-api-key` header to wherever the redirect points.
///
/// A client's pooled connections belong to the tokio runtime that opened them, and a client
/// used again from another runtime after that one ended fails with "dispatch task is gone"
/// (reqwest#1148). The server has one runtime, but every `#[tokio::test]` has its own, so
/// clients are kept per runtime.
fn shared_client(proxy: Option<&str>) -> Result<reqwest::Client, AgentError> {
    type Key = (Option<tokio::runtime::Id>, Option<String>);
    /// Past this many clients the cache starts over: only tests create runtimes by the dozen.
    const MAX_CLIENTS: usize = 32;
    static CLIENTS: OnceLock<Mutex<HashMap<Key, reqwest::Client>>> = OnceLock::new();
    let mut clients = CLIENTS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let runtime = tokio::runtime::Handle::try_current()
        .ok()
        .map(|handle| handle.id());
    let key = (runtime, proxy.map(str::to_owned));
    if let Some(client) = clients.get(&key) {
        return Ok(client.clone());
    }
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("baton/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none());
    if let Some(proxy) = proxy {
        // The proxy URL may hold credentials, so the error does not repeat it.
        let proxy = reqwest::Proxy::all(proxy).map_err(|_| AgentError::Config {
            reason: "the agent's proxy is not a valid URL".into(),
        })?;
        builder = builder.proxy(proxy.no_proxy(reqwest::NoProxy::from_env()));
    }
    let client = builder.build().map_err(|error| AgentError::Config {
        reason: format!("could not set up HTTP: {}", chain(error)),
    })?;
    if clients.len() >= MAX_CLIENTS {
        clients.clear();
    }
    clients.insert(key, client.clone());
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_error_bodies() {
        let openai = br#"{"error":{"message":"Rate limit reached","type":"requests","code":null}}"#;
        assert_eq!(error_message(openai), "Rate limit reached");
        let anthropic =
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        assert_eq!(error_message(anthropic), "Overloaded");
        let ollama = br#"{"error":"model \"x\" not found, try pulling it first"}"#;
        assert_eq!(
            error_message(ollama),
            "model \"x\" not found, try pulling it first"
        );
        assert_eq!(
            error_message(b"<html>\n<h1>502 Bad Gateway</h1></html>"),
            "<html> <h1>502 Bad Gateway</h1></html>"
        );
    }

    #[test]
    fn keys_do_not_show_in_debug() {
        let key = ApiKey("sk-secret".into());
        assert_eq!(format!("{key:?}"), "ApiKey(..)");
        let header = key.header("Bearer ", "ENV").unwrap();
        assert!(header.is_sensitive());
        assert!(!format!("{header:?}").contains("sk-secret"));
    }
}
