//! Merging the workspace `baton.toml` over the user's `config.toml`.
//!
//! The workspace wins wherever both speak: an agent or kind of the same name is replaced as a
//! whole (a half-merged agent, say the user's key with the workspace's URL, would surprise
//! everyone), lists of documents and routes are joined with the workspace's first, so its routes
//! are tried first.

use super::model::{ConfigFile, Defaults, Docs, Output, Pipeline, Privacy};

/// The configuration that applies: `workspace` over `user`.
pub fn merge(user: Option<ConfigFile>, workspace: Option<ConfigFile>) -> ConfigFile {
    let (user, workspace) = match (user, workspace) {
        (None, None) => return ConfigFile::default(),
        (Some(only), None) | (None, Some(only)) => return only,
        (Some(user), Some(workspace)) => (user, workspace),
    };
    let mut agents = user.agents;
    agents.extend(workspace.agents);
    let mut kinds = user.kinds;
    kinds.extend(workspace.kinds);
    ConfigFile {
        defaults: Defaults {
            agent: workspace.defaults.agent.or(user.defaults.agent),
            handoff_at: workspace.defaults.handoff_at.or(user.defaults.handoff_at),
        },
        agents,
        kinds,
        documents: join(workspace.documents, user.documents),
        routes: join(workspace.routes, user.routes),
        privacy: merge_privacy(user.privacy, workspace.privacy),
        output: Output {
            demote_headings: (workspace.output.demote_headings).or(user.output.demote_headings),
        },
        docs: Docs {
            base_url: workspace.docs.base_url.or(user.docs.base_url),
        },
        pipeline: Pipeline {
            max_parallel: (workspace.pipeline.max_parallel).or(user.pipeline.max_parallel),
        },
    }
}

fn join<T>(mut first: Vec<T>, second: Vec<T>) -> Vec<T> {
    first.extend(second);
    first
}

/// Terms and detectors are united rather than replaced: a workspace must not be able to switch
/// off the protection the user asked for. The single-valued settings follow the workspace.
fn merge_privacy(user: Option<Privacy>, workspace: Option<Privacy>) -> Option<Privacy> {
    let (user, workspace) = match (user, workspace) {
        (Some(user), Some(workspace)) => (user, workspace),
        (user, workspace) => return workspace.or(user),
    };
    Some(Privacy {
        terms: union(workspace.terms, user.terms),
        terms_file: workspace.terms_file.or(user.terms_file),
        detectors: union(workspace.detectors, user.detectors),
        redact: workspace.redact.or(user.redact),
    })
}

fn union(mut first: Vec<String>, second: Vec<String>) -> Vec<String> {
    for item in second {
        if !first.contains(&item) {
            first.push(item);
        }
    }
    first
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse::parse;

    fn file(text: &str) -> ConfigFile {
        parse(text).unwrap().file
    }

    #[test]
    fn the_workspace_wins_and_lists_are_joined_workspace_first() {
        let user = file(
            r#"documents = ["notes/*.md"]
[defaults]
agent = "mine"
[agents.mine]
provider = "ollama"
[agents.shared]
provider = "openai"
api_key_env = "MY_KEY"
model = "user-model"
[[routes]]
agent = "mine"
[privacy]
terms = ["Acme"]
detectors = ["email"]
redact = "block"
[output]
demote_headings = false
[docs]
base_url = "https://user.example/diagnostics"
"#,
        );
        let workspace = file(
            r#"documents = ["*.task.md"]
[agents.shared]
provider = "anthropic"
[[routes]]
agent = "shared"
[privacy]
terms = ["Globex", "Acme"]
redact = "auto"
[docs]
base_url = "https://team.example/diagnostics"
"#,
        );
        let merged = merge(Some(user.clone()), Some(workspace.clone()));
        assert_eq!(merged.defaults.agent.as_deref(), Some("mine"));
        assert_eq!(merged.agents.len(), 2);
        assert_eq!(merged.agents["shared"], workspace.agents["shared"]);
        assert_eq!(merged.agents["shared"].api_key_env, None, "replaced whole");
        assert_eq!(merged.documents, ["*.task.md", "notes/*.md"]);
        let agents: Vec<_> = merged.routes.iter().map(|r| r.agent.as_str()).collect();
        assert_eq!(agents, ["shared", "mine"]);
        let privacy = merged.privacy.unwrap();
        assert_eq!(privacy.terms, ["Globex", "Acme"]);
        assert_eq!(privacy.detectors, ["email"]);
        assert_eq!(privacy.redact.as_deref(), Some("auto"));
        assert!(
            !merged.output.demote_headings(),
            "the user's, the workspace says nothing"
        );
        let base = merged.docs.base_url.as_deref();
        assert_eq!(base, Some("https://team.example/diagnostics"));
        assert!(ConfigFile::default().output.demote_headings());

        assert_eq!(merge(Some(user.clone()), None), user);
        assert_eq!(merge(None, None), ConfigFile::default());
    }
}
