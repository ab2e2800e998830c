//! Why a brief cannot be sent ([`Refusal`]), and what each message tells the user to do.

use std::fmt;

use crate::config::key_variable;

/// Why a brief cannot be sent; each message says what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    NotBaton,
    NoBrief,
    SeveralBriefs {
        titles: Vec<String>,
    },
    NoSuchBrief {
        wanted: String,
        titles: Vec<String>,
    },
    NoAgent {
        known: Vec<String>,
    },
    UnknownAgent {
        name: String,
        known: Vec<String>,
    },
    /// Policy (DESIGN §7) refuses the agent; the message says why and how to allow it.
    Untrusted {
        message: String,
    },
    NoModel {
        agent: String,
    },
    /// The payload may not reach the (remote) agent (DESIGN §7, fail closed); the message says
    /// why and what to do.
    Confidential {
        message: String,
    },
    /// The agent sends a key from an environment variable that is not set where baton runs
    /// (and no `fallback` agent could answer instead).
    MissingKey {
        agent: String,
        variable: String,
    },
    Empty,
    /// More tokens than the agent's context window ([`super::budget`]), with the numbers.
    OverBudget {
        message: String,
    },
}

impl Refusal {
    /// A few words for the end of an action's title (`Send "Title" to @x — needs trust`),
    /// for the refusals that belong to an agent; `None` for the others.
    pub fn short(&self) -> Option<String> {
        match self {
            Refusal::UnknownAgent { .. } => Some("unknown agent".to_owned()),
            Refusal::Untrusted { .. } => Some("needs trust".to_owned()),
            Refusal::NoModel { .. } => Some("no model".to_owned()),
            Refusal::Confidential { .. } => Some("confidential".to_owned()),
            Refusal::OverBudget { .. } => Some("over budget".to_owned()),
            // Never the value when it is no variable name: it may be a pasted key.
            Refusal::MissingKey { variable, .. } if key_variable::is_name(variable) => {
                Some(format!("{variable} not set"))
            }
            Refusal::MissingKey { .. } => Some("no key variable".to_owned()),
            _ => None,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let quoted = |titles: &[String]| {
            titles
                .iter()
                .map(|title| format!("\"{title}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let agents = |known: &[String]| {
            if known.is_empty() {
                "no agents are configured (add [agents.NAME] to baton.toml)".to_owned()
            } else {
                format!("configured agents: {}", known.join(", "))
            }
        };
        match self {
            Refusal::NotBaton => f.write_str(
                "not a baton document (name it *.brief.md or give it `kind:` in its front matter)",
            ),
            Refusal::NoBrief => f.write_str("the document holds no brief"),
            Refusal::SeveralBriefs { titles } => write!(
                f,
                "the document holds several briefs; name one: {}",
                quoted(titles)
            ),
            Refusal::NoSuchBrief { wanted, titles } => write!(
                f,
                "no brief titled \"{wanted}\"; the document's briefs: {}",
                quoted(titles)
            ),
            Refusal::NoAgent { known } => write!(
                f,
                "no agent for this brief: mention @NAME in its title, or set `agent:` in the front matter or defaults.agent in baton.toml; {}",
                agents(known)
            ),
            Refusal::UnknownAgent { name, known } => write!(
                f,
                "unknown agent `{name}`: define [agents.{name}] in baton.toml, or send to another agent; {}",
                agents(known)
            ),
            Refusal::Untrusted { message } | Refusal::Confidential { message } => {
                f.write_str(message)
            }
            Refusal::NoModel { agent } => write!(
                f,
                "agent `{agent}` has no `model`; set `model = \"...\"` under [agents.{agent}]"
            ),
            Refusal::MissingKey { agent, variable } => write!(
                f,
                "agent `{agent}` sends its API key from {}, which is not set in the environment baton runs in; \
                 set it where the editor (or the shell that starts it) gets its environment, then restart the language server",
                key_variable::Shown(variable)
            ),
            Refusal::Empty => f.write_str("nothing to send: the brief (or selection) is empty"),
            Refusal::OverBudget { message } => write!(f, "over budget: {message}"),
        }
    }
}
