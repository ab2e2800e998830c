//! Which models an endpoint says it serves, read from the answer of the probe's listing
//! (`baton agents`): OpenAI-compatible and Anthropic `GET …/models` answer
//! `{"data": [{"id": "gpt-4o-mini"}, …]}`, Ollama `GET /api/tags` answers
//! `{"models": [{"name": "llama3.2:latest", "model": "llama3.2:latest"}, …]}`.
//!
//! Pure: the probe reads the body and asks here. A body that is no such list (a proxy's own
//! page, a server that does not list models) says nothing, so the agent is not called wrong.

use serde::Deserialize;

use crate::config::Provider;

/// What the listing says of the agent's model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listed {
    /// The model is among those listed.
    Yes,
    /// The endpoint listed its models, and this one is not among them.
    No {
        /// How many models it did list (none: nothing is installed, for Ollama).
        listed: usize,
    },
    /// The answer was not a list of models: nothing can be said.
    Unknown,
}

#[derive(Deserialize)]
struct OpenAiList {
    data: Vec<OpenAiModel>,
}

#[derive(Deserialize)]
struct OpenAiModel {
    id: String,
}

#[derive(Deserialize)]
struct OllamaTags {
    models: Vec<OllamaModel>,
}

#[derive(Deserialize)]
struct OllamaModel {
    #[serde(default)]
    name: String,
    #[serde(default)]
    model: String,
}

/// Whether `body`, the listing of a `provider` endpoint, holds `model`.
pub fn listed(provider: Provider, body: &[u8], model: &str) -> Listed {
    // Each model listed, by the names it answers to.
    let models: Vec<Vec<String>> = match provider {
        Provider::Openai | Provider::Anthropic => {
            match serde_json::from_slice::<OpenAiList>(body) {
                Ok(list) => list.data.into_iter().map(|model| vec![model.id]).collect(),
                Err(_) => return Listed::Unknown,
            }
        }
        Provider::Ollama => match serde_json::from_slice::<OllamaTags>(body) {
            Ok(tags) => (tags.models.into_iter())
                .map(|model| vec![model.name, model.model])
                .collect(),
            Err(_) => return Listed::Unknown,
        },
        Provider::Command => return Listed::Unknown,
    };
    let wanted = canonical(provider, model);
    let found = (models.iter().flatten())
        .any(|name| !name.is_empty() && canonical(provider, name) == wanted);
    if found {
        Listed::Yes
    } else {
        Listed::No {
            listed: models.len(),
        }
    }
}

/// Ollama names a model `name:tag`, and a name without a tag means `:latest`.
fn canonical(provider: Provider, name: &str) -> String {
    if provider == Provider::Ollama && !name.contains(':') {
        format!("{name}:latest")
    } else {
        name.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_compatible_lists_by_id() {
        let body =
            br#"{"object":"list","data":[{"id":"gpt-4o-mini","object":"model"},{"id":"o3"}]}"#;
        assert_eq!(listed(Provider::Openai, body, "gpt-4o-mini"), Listed::Yes);
        assert_eq!(
            listed(Provider::Openai, body, "gpt-5"),
            Listed::No { listed: 2 }
        );
        assert_eq!(
            listed(
                Provider::Anthropic,
                br#"{"data":[{"id":"claude-x"}]}"#,
                "claude-x"
            ),
            Listed::Yes
        );
    }

    #[test]
    fn ollama_names_without_a_tag_mean_latest() {
        let body = br#"{"models":[{"name":"llama3.2:latest","model":"llama3.2:latest"},{"name":"qwen:7b","model":"qwen:7b"}]}"#;
        assert_eq!(listed(Provider::Ollama, body, "llama3.2"), Listed::Yes);
        assert_eq!(
            listed(Provider::Ollama, body, "llama3.2:latest"),
            Listed::Yes
        );
        assert_eq!(listed(Provider::Ollama, body, "qwen:7b"), Listed::Yes);
        assert_eq!(
            listed(Provider::Ollama, body, "qwen"),
            Listed::No { listed: 2 }
        );
        assert_eq!(
            listed(Provider::Ollama, br#"{"models":[]}"#, "llama3.2"),
            Listed::No { listed: 0 }
        );
    }

    #[test]
    fn anything_but_a_listing_says_nothing() {
        for body in [&b"<html>proxy</html>"[..], b"{}", b"", br#"{"data":"x"}"#] {
            assert_eq!(listed(Provider::Openai, body, "m"), Listed::Unknown);
            assert_eq!(listed(Provider::Ollama, body, "m"), Listed::Unknown);
        }
    }
}
