//! One `[agents.NAME]` table of `baton.toml` (DESIGN §4), as a serde type: the provider it
//! speaks, and the effective values of its optional keys, with the defaults filled in.

use serde::{Deserialize, Serialize};

use super::model::Defaults;

/// The context window assumed when an agent does not state one; the size of today's common
/// hosted models, so the budget shown in the code lens is plausible rather than zero.
pub const DEFAULT_CONTEXT_WINDOW: u64 = 128_000;
/// How long one request may take before it is abandoned, so a stuck endpoint cannot hang a run.
pub const DEFAULT_TIMEOUT_SECS: u64 = 120;
/// How many times a 429 or 5xx is retried before the fallback agents are tried.
pub const DEFAULT_RETRIES: u32 = 3;
/// How many runs of one agent may be in flight at once, so a pipeline cannot flood a provider.
pub const DEFAULT_MAX_CONCURRENT: u32 = 4;

/// The share of the context window past which a brief is over budget when nothing sets one.
pub const DEFAULT_HANDOFF_AT: f64 = 0.8;

/// `handoff_at`: a share of the context window, above 0 and at most 1.
pub(super) fn share<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<f64>, D::Error> {
    let value = f64::deserialize(deserializer)?;
    if value > 0.0 && value <= 1.0 {
        Ok(Some(value))
    } else {
        Err(serde::de::Error::custom(format!(
            "handoff_at is a share of the context window above 0 and at most 1 (0.8 is 80 %), not {value}"
        )))
    }
}

/// The wire format an agent speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Any OpenAI-compatible chat completions endpoint.
    Openai,
    Anthropic,
    Ollama,
    /// A local program: the payload on stdin, the answer on stdout.
    Command,
}

impl Provider {
    /// The `base_url` used when the agent gives none, written as the provider's own SDK takes it.
    pub fn default_base_url(self) -> Option<&'static str> {
        match self {
            Provider::Openai => Some("https://api.openai.com/v1"),
            Provider::Anthropic => Some("https://api.anthropic.com"),
            Provider::Ollama => Some("http://127.0.0.1:11434"),
            Provider::Command => None,
        }
    }

    /// The provider's name as `baton.toml` writes it.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Openai => "openai",
            Provider::Anthropic => "anthropic",
            Provider::Ollama => "ollama",
            Provider::Command => "command",
        }
    }

    /// The environment variable the provider's own SDK reads its key from; `None` for
    /// providers that take no key (a local Ollama, a program).
    pub fn conventional_key_env(self) -> Option<&'static str> {
        match self {
            Provider::Openai => Some("OPENAI_API_KEY"),
            Provider::Anthropic => Some("ANTHROPIC_API_KEY"),
            Provider::Ollama | Provider::Command => None,
        }
    }

    /// Where the provider's default endpoint runs.
    pub fn default_locality(self) -> Locality {
        match self {
            Provider::Openai | Provider::Anthropic => Locality::Remote,
            Provider::Ollama | Provider::Command => Locality::Local,
        }
    }
}

/// Whether text sent to an agent leaves the machine; only local agents may see confidential text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locality {
    Remote,
    Local,
}

/// One `[agents.NAME]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentSpec {
    pub provider: Provider,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub base_url: Option<String>,
    /// The environment variable holding the key; keys never live in files.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// The system prompt.
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub locality: Option<Locality>,
    #[serde(default)]
    pub context_window: Option<u64>,
    /// The share of `context_window` past which a brief is over budget (else `[defaults]`).
    #[serde(default, deserialize_with = "share")]
    pub handoff_at: Option<f64>,
    #[serde(default)]
    pub timeout_secs: Option<u64>,
    #[serde(default)]
    pub retries: Option<u32>,
    #[serde(default)]
    pub max_concurrent: Option<u32>,
    #[serde(default)]
    pub proxy: Option<String>,
    /// Agents tried in order when this one's retries are spent.
    #[serde(default)]
    pub fallback: Vec<String>,
    /// The program and its arguments, for `provider = "command"`; run without a shell.
    #[serde(default)]
    pub command: Vec<String>,
}

impl AgentSpec {
    /// An agent of `provider` with every other field left to its default.
    pub fn new(provider: Provider) -> AgentSpec {
        AgentSpec {
            provider,
            model: None,
            base_url: None,
            api_key_env: None,
            role: None,
            locality: None,
            context_window: None,
            handoff_at: None,
            timeout_secs: None,
            retries: None,
            max_concurrent: None,
            proxy: None,
            fallback: Vec::new(),
            command: Vec::new(),
        }
    }

    /// The endpoint to call: the configured one, else the provider's default (none for commands).
    pub fn base_url(&self) -> Option<&str> {
        self.base_url
            .as_deref()
            .or_else(|| self.provider.default_base_url())
    }

    /// Where this agent's text goes when that is not its provider's own endpoint (DESIGN §7):
    /// the host (and port) of its `base_url`, and `via` its proxy's. Shown on the send
    /// actions, the send lens and the preview, so that a user sees where a repository's agent
    /// points. `None` for the provider's default endpoint without a proxy, and for `command`
    /// agents, which have no endpoint.
    pub fn shown_host(&self) -> Option<String> {
        let default = self.provider.default_base_url()?;
        let configured = self
            .base_url
            .as_deref()
            .map(|url| url.trim_end_matches('/'));
        let elsewhere = (configured.filter(|url| *url != default)).map(|url| {
            Some(url_host(url))
                .filter(|host| !host.is_empty())
                .unwrap_or("no host")
        });
        let proxy = self.proxy.as_deref().map(url_host);
        match (elsewhere, proxy) {
            (None, None) => None,
            (Some(host), None) => Some(host.to_owned()),
            (host, Some(proxy)) => Some(format!(
                "{} via {proxy}",
                host.unwrap_or_else(|| url_host(default))
            )),
        }
    }

    pub fn locality(&self) -> Locality {
        self.locality
            .unwrap_or_else(|| self.provider.default_locality())
    }

    pub fn context_window(&self) -> u64 {
        self.context_window.unwrap_or(DEFAULT_CONTEXT_WINDOW)
    }

    /// The share of the context window past which a brief is over budget: this agent's, else
    /// `[defaults]`, else 0.8.
    pub fn handoff_at(&self, defaults: &Defaults) -> f64 {
        self.handoff_at
            .or(defaults.handoff_at)
            .unwrap_or(DEFAULT_HANDOFF_AT)
    }

    pub fn timeout_secs(&self) -> u64 {
        self.timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS)
    }

    pub fn retries(&self) -> u32 {
        self.retries.unwrap_or(DEFAULT_RETRIES)
    }

    pub fn max_concurrent(&self) -> u32 {
        self.max_concurrent.unwrap_or(DEFAULT_MAX_CONCURRENT)
    }
}

/// The host (and port) of a URL, without scheme, credentials or path: what may be shown of a
/// URL, which can carry a password. Empty when the URL names no host.
pub(crate) fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
}

/// A URL with any `user:password@` taken out, so a message can show where text goes without
/// repeating a credential written into it.
pub(crate) fn without_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://{host}{}", &rest[end..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_is_shown_only_where_text_goes_elsewhere() {
        let spec = |provider, base_url: Option<&str>, proxy: Option<&str>| AgentSpec {
            base_url: base_url.map(str::to_owned),
            proxy: proxy.map(str::to_owned),
            ..AgentSpec::new(provider)
        };
        let cases = [
            (spec(Provider::Openai, None, None), None),
            (
                spec(Provider::Openai, Some("https://api.openai.com/v1/"), None),
                None,
            ),
            (
                spec(Provider::Ollama, Some("http://127.0.0.1:11434"), None),
                None,
            ),
            (spec(Provider::Command, None, None), None),
            (
                spec(Provider::Openai, Some("https://llm.example.net/v1"), None),
                Some("llm.example.net"),
            ),
            (
                spec(Provider::Ollama, Some("http://gpu-box:11434"), None),
                Some("gpu-box:11434"),
            ),
            (
                spec(
                    Provider::Anthropic,
                    Some("https://me:pw@claude.example.org"),
                    None,
                ),
                Some("claude.example.org"),
            ),
            (
                spec(
                    Provider::Anthropic,
                    None,
                    Some("http://u:p@proxy.corp:3128"),
                ),
                Some("api.anthropic.com via proxy.corp:3128"),
            ),
            (
                spec(
                    Provider::Openai,
                    Some("http://10.0.0.5:8000/v1"),
                    Some("socks5://gw:1080"),
                ),
                Some("10.0.0.5:8000 via gw:1080"),
            ),
        ];
        for (spec, shown) in cases {
            assert_eq!(spec.shown_host().as_deref(), shown, "{spec:?}");
        }
    }

    #[test]
    fn effective_values_fall_back_to_provider_defaults() {
        let local = AgentSpec::new(Provider::Ollama);
        assert_eq!(local.base_url(), Some("http://127.0.0.1:11434"));
        assert_eq!(local.locality(), Locality::Local);
        assert_eq!(
            (local.context_window(), local.timeout_secs()),
            (128_000, 120)
        );
        assert_eq!((local.retries(), local.max_concurrent()), (3, 4));

        let mut remote = AgentSpec::new(Provider::Anthropic);
        assert_eq!(remote.base_url(), Some("https://api.anthropic.com"));
        assert_eq!(remote.locality(), Locality::Remote);
        remote.locality = Some(Locality::Local);
        remote.base_url = Some("http://10.0.0.2:8080".into());
        assert_eq!(remote.locality(), Locality::Local);
        assert_eq!(remote.base_url(), Some("http://10.0.0.2:8080"));
        assert_eq!(AgentSpec::new(Provider::Command).base_url(), None);
    }

    #[test]
    fn handoff_at_is_the_agents_else_the_defaults_else_eight_tenths() {
        let mut spec = AgentSpec::new(Provider::Openai);
        let mut defaults = Defaults::default();
        assert_eq!(spec.handoff_at(&defaults), 0.8);
        defaults.handoff_at = Some(0.6);
        assert_eq!(spec.handoff_at(&defaults), 0.6);
        spec.handoff_at = Some(0.9);
        assert_eq!(spec.handoff_at(&defaults), 0.9);
    }
}
