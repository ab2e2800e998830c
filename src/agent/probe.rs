//! Whether an agent can be reached, without asking it anything (`baton agents`, DESIGN §9).
//!
//! An HTTP agent gets one cheap GET that lists models (and, where the answer is such a list, its
//! `model` must be in it: `models.rs`), with its key as a real request would
//! carry it: OpenAI-compatible `GET {base_url}/models`, Anthropic `GET {base_url}/v1/models`
//! (with `x-api-key` and `anthropic-version`), Ollama `GET {base_url}/api/tags`. It goes through
//! the same client as a run (the agent's `proxy`, else `HTTPS_PROXY`/`NO_PROXY`; no redirects
//! followed), with a short timeout. A `command` agent's program is looked up on `PATH` (or at
//! its path) and never run.
//!
//! Whether an agent may be probed at all (trust, DESIGN §7) is the caller's decision: a probe
//! sends the key to the agent's `base_url`, as a run would.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::http::{ApiKey, Endpoint};
use super::models::{self, Listed};
use super::{anthropic, ollama, openai, AgentError};
use crate::config::{AgentSpec, Provider};

/// The most of a model listing read: a few thousand models' worth. A longer one is not read
/// to its end, and says nothing of the model.
const MAX_LISTING_BYTES: usize = 4 * 1024 * 1024;

/// How long a probe waits for an answer, so that `baton agents` on a machine without network
/// reports in seconds instead of the minutes of a run's timeout.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// What a probe found. Messages are safe to show: the key is scrubbed from them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Reach {
    /// The endpoint answered with a success status (and, where it lists its models, the
    /// agent's model among them).
    Reachable {
        url: String,
        status: u16,
        millis: u64,
    },
    /// The endpoint answered, and listed its models: the agent's `model` is not among them
    /// (for Ollama: not pulled).
    ModelMissing {
        url: String,
        model: String,
        /// How many models it lists.
        listed: usize,
    },
    /// The endpoint answered 401 or 403: the key is wrong, lacks access, or was not sent.
    KeyRejected {
        url: String,
        status: u16,
        message: String,
    },
    /// The endpoint answered with another error status (a wrong `base_url` often gives 404).
    Failed {
        url: String,
        status: u16,
        message: String,
    },
    /// Nothing answered: refused connection, unknown host, TLS, proxy, or the timeout.
    Unreachable { url: String, reason: String },
    /// A `command` agent's program exists and may be executed.
    ProgramFound { path: PathBuf },
    /// A `command` agent's program is not on `PATH`, or not at its path, or not executable.
    ProgramMissing { program: String, reason: String },
    /// The configuration cannot be probed as it is (an invalid proxy URL, an empty command).
    Invalid { reason: String },
}

impl Reach {
    /// Whether the agent answered as it should: a success status, or an existing program.
    pub fn is_ok(&self) -> bool {
        matches!(self, Reach::Reachable { .. } | Reach::ProgramFound { .. })
    }
}

/// Probes the agent `agent` of `spec`, waiting at most `timeout`. A key variable that is unset
/// does not stop the probe: the request goes without a key, which tells whether the endpoint
/// is up (and an endpoint that wants a key answers 401).
pub async fn probe(
    agent: &str,
    spec: &AgentSpec,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Reach {
    let (default_base, path) = match spec.provider {
        Provider::Openai => (openai::DEFAULT_BASE_URL, "/models"),
        Provider::Anthropic => (anthropic::DEFAULT_BASE_URL, "/v1/models"),
        Provider::Ollama => (ollama::DEFAULT_BASE_URL, "/api/tags"),
        Provider::Command => return find_command(agent, spec),
    };
    let endpoint = match Endpoint::new(agent, spec, default_base, path, timeout) {
        Ok(endpoint) => endpoint,
        Err(error) => {
            return Reach::Invalid {
                reason: error.to_string(),
            }
        }
    };
    let key = endpoint.key().ok().flatten();
    let headers = match headers(spec.provider, key.as_ref(), &endpoint) {
        Ok(headers) => headers,
        Err(error) => {
            return Reach::Invalid {
                reason: error.to_string(),
            }
        }
    };
    let started = Instant::now();
    let answer = endpoint.get(headers, cancel).await;
    let url = endpoint.url.clone();
    match ApiKey::scrub(key.as_ref(), answer) {
        Ok(response) => {
            let status = response.status().as_u16();
            let millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let Some(model) = spec.model.as_deref() else {
                return Reach::Reachable {
                    url,
                    status,
                    millis,
                };
            };
            let body = listing(response, timeout).await;
            match body.map(|body| models::listed(spec.provider, &body, model)) {
                Some(Listed::No { listed }) => Reach::ModelMissing {
                    url,
                    model: model.to_owned(),
                    listed,
                },
                Some(Listed::Yes | Listed::Unknown) | None => Reach::Reachable {
                    url,
                    status,
                    millis,
                },
            }
        }
        Err(AgentError::Unauthorized {
            status, message, ..
        }) => Reach::KeyRejected {
            url,
            status,
            message,
        },
        Err(AgentError::Http {
            status, message, ..
        }) => Reach::Failed {
            url,
            status,
            message,
        },
        Err(AgentError::Connect { reason, .. }) => Reach::Unreachable { url, reason },
        Err(error) => Reach::Unreachable {
            url,
            reason: error.to_string(),
        },
    }
}

/// The body of a model listing, when it arrives whole within `timeout` and the bound.
async fn listing(mut response: reqwest::Response, timeout: Duration) -> Option<Vec<u8>> {
    let read = async {
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.ok()? {
            if body.len() + chunk.len() > MAX_LISTING_BYTES {
                return None;
            }
            body.extend_from_slice(&chunk);
        }
        Some(body)
    };
    tokio::time::timeout(timeout, read).await.ok().flatten()
}

/// The headers a run of this provider would send, the key among them.
fn headers(
    provider: Provider,
    key: Option<&ApiKey>,
    endpoint: &Endpoint,
) -> Result<HeaderMap, AgentError> {
    let mut headers = HeaderMap::new();
    let env = endpoint.key_env.as_deref().unwrap_or_default();
    match (provider, key) {
        (Provider::Anthropic, key) => {
            headers.insert(
                HeaderName::from_static("anthropic-version"),
                HeaderValue::from_static(anthropic::API_VERSION),
            );
            if let Some(key) = key {
                headers.insert(HeaderName::from_static("x-api-key"), key.header("", env)?);
            }
        }
        (_, Some(key)) => {
            headers.insert(AUTHORIZATION, key.header("Bearer ", env)?);
        }
        (_, None) => {}
    }
    Ok(headers)
}

/// A `command` agent: its program, looked up as the operating system would start it.
fn find_command(agent: &str, spec: &AgentSpec) -> Reach {
    let Some(program) = spec.command.first() else {
        return Reach::Invalid {
            reason: format!("[agents.{agent}] has provider \"command\" but no command"),
        };
    };
    match find_program(program, std::env::var_os("PATH").as_deref()) {
        Ok(path) => Reach::ProgramFound { path },
        Err(reason) => Reach::ProgramMissing {
            program: program.clone(),
            reason,
        },
    }
}

/// Where `program` is: a name with a `/` is a path (relative to the current folder, as the
/// program would be started); a bare name is searched in `path_var`'s folders. The program
/// must be an executable file.
pub fn find_program(program: &str, path_var: Option<&std::ffi::OsStr>) -> Result<PathBuf, String> {
    if program.contains(std::path::MAIN_SEPARATOR) || program.contains('/') {
        let path = Path::new(program);
        return if is_executable(path) {
            Ok(path.to_path_buf())
        } else if path.exists() {
            Err(format!("{program} is not an executable file"))
        } else {
            Err(format!("{program} does not exist"))
        };
    }
    let Some(path_var) = path_var else {
        return Err(format!("`{program}` is not on PATH (PATH is not set)"));
    };
    std::env::split_paths(path_var)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(|| format!("`{program}` is not on PATH"))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .is_ok_and(|metadata| metadata.is_file() && metadata.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_are_found_on_path_or_by_their_path() {
        let path = std::env::var_os("PATH");
        let sh = find_program("sh", path.as_deref()).expect("sh is on PATH");
        assert!(sh.ends_with("sh"));
        assert!(find_program(sh.to_str().unwrap(), None).is_ok());
        let missing = find_program("baton-no-such-program", path.as_deref()).unwrap_err();
        assert_eq!(missing, "`baton-no-such-program` is not on PATH");
        assert!(find_program("/no/such/program", None)
            .unwrap_err()
            .contains("does not exist"));
        assert!(find_program("/", None)
            .unwrap_err()
            .contains("not an executable"));
        assert!(find_program("sh", None).is_err());
    }
}
