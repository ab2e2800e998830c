//! The shape of `baton.toml` (and the user's `config.toml`), as serde types.
//!
//! Every field is optional in the file; an agent's table is [`AgentSpec`] (`agent.rs`), whose
//! methods give the effective values with the defaults of DESIGN §4 filled in. Unknown keys are
//! not rejected here: `parse` reports them as warnings, so that a typo never costs the user
//! their whole configuration.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::agent::{share, AgentSpec};

/// How many runs of a pipeline may be in flight at once (`[pipeline] max_parallel`).
pub const DEFAULT_MAX_PARALLEL: usize = 4;

/// One configuration file: the workspace `baton.toml` or the user's `config.toml`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConfigFile {
    pub defaults: Defaults,
    pub agents: BTreeMap<String, AgentSpec>,
    pub kinds: BTreeMap<String, KindSpec>,
    /// Globs naming the Markdown files baton treats as briefs.
    pub documents: Vec<String>,
    pub routes: Vec<Route>,
    pub privacy: Option<Privacy>,
    pub output: Output,
    pub docs: Docs,
    pub pipeline: Pipeline,
}

/// The `[pipeline]` table: how `baton run` and "Run pipeline" run linked briefs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Pipeline {
    /// At most this many runs of a pipeline at once (each agent's `max_concurrent` holds
    /// too). Default 4; 0 counts as 1.
    pub max_parallel: Option<usize>,
}

/// The `[output]` table: how answers are placed into documents. Unset keys are `None`, so
/// that merging can tell "not said" from the default.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Output {
    /// Demote the headings of an answer so its top level sits under `## Output` (`#` becomes
    /// `###`); the journal keeps the answer as received either way. Default: true.
    pub demote_headings: Option<bool>,
}

impl Output {
    /// Whether answers' headings are demoted on injection (default true).
    pub fn demote_headings(&self) -> bool {
        self.demote_headings.unwrap_or(true)
    }
}

/// The `[docs]` table: where the diagnostics reference lives for this team.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Docs {
    /// An `http(s)` address of the diagnostics reference; a diagnostic links to
    /// `{base_url}#{code}`. No link at all when unset (`baton explain CODE` always works).
    pub base_url: Option<String>,
}

/// The `[defaults]` table.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Defaults {
    /// The agent a brief goes to when it names none and no route matches.
    pub agent: Option<String>,
    /// The share of an agent's context window past which a brief is over budget and a
    /// handoff is offered; for agents that set none.
    #[serde(deserialize_with = "share")]
    pub handoff_at: Option<f64>,
}

/// One `[kinds.NAME]` table: defines a kind, or extends or overrides a built-in one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct KindSpec {
    pub required: Option<Vec<String>>,
    pub optional: Option<Vec<String>>,
    /// Field name to its alternative headings.
    pub aliases: BTreeMap<String, Vec<String>>,
}

/// One `[[routes]]` rule: picks the agent for a brief that names none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    #[serde(default)]
    pub when: RouteWhen,
    pub agent: String,
}

/// The conditions of a route; all that are given must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RouteWhen {
    /// A regular expression matched against the brief's heading.
    pub heading: Option<String>,
    pub kind: Option<String>,
    pub tags: Vec<String>,
}

/// The `[privacy]` table (DESIGN §7).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Privacy {
    pub terms: Vec<String>,
    pub terms_file: Option<String>,
    pub detectors: Vec<String>,
    /// `auto` (the default) or `block`.
    pub redact: Option<String>,
}
