//! Checks that need the merged configuration: every name that refers to an agent must name one
//! that is defined, in either file.

use std::collections::BTreeMap;

use super::agent::AgentSpec;
use super::parse::{AgentRef, ConfigError};
use super::schema::suggest;

/// An error at each reference in `refs` (from one file) to an agent `agents` does not define.
pub fn unknown_agents(refs: &[AgentRef], agents: &BTreeMap<String, AgentSpec>) -> Vec<ConfigError> {
    refs.iter()
        .filter(|r| !agents.contains_key(&r.name))
        .map(|r| {
            let hint = match suggest(&r.name, agents.keys().map(String::as_str)) {
                Some(known) => format!(" (did you mean `{known}`?)"),
                None if agents.is_empty() => " (no agents are defined)".to_string(),
                None => String::new(),
            };
            ConfigError {
                range: r.range.clone(),
                message: format!("no agent named `{}`{hint}", r.name),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse::parse;

    #[test]
    fn references_to_undefined_agents_are_errors_at_the_name() {
        let text = r#"[defaults]
agent = "reseacher"
[agents.researcher]
provider = "openai"
fallback = ["local", "zzz"]
"#;
        let parsed = parse(text).unwrap();
        let mut agents = parsed.file.agents.clone();
        agents.insert(
            "local".into(),
            AgentSpec::new(super::super::Provider::Ollama),
        );
        let errors = unknown_agents(&parsed.agent_refs, &agents);
        let found: Vec<_> = errors
            .iter()
            .map(|e| (&text[e.range.clone()], e.message.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "\"reseacher\"",
                    "no agent named `reseacher` (did you mean `researcher`?)"
                ),
                ("\"zzz\"", "no agent named `zzz`"),
            ]
        );
    }
}
