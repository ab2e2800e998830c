//! Everything decided before a run (DESIGN §4 steps 1–2): which brief, which agent and its
//! fallbacks, whether policy lets them be used (§7), and the exact request each would get.
//! Pure: the caller has read the document, its configuration and the inputs.

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::agent::{Message, Request};
use crate::brief::link::same_title;
use crate::brief::lint::Analysis;
use crate::brief::model::Brief;
use crate::brief::payload::{self, Input, Payload};
use crate::brief::target::{target_agent, Target};
use crate::config::{policy, AgentSpec, Config, Provider};
use crate::document::Document;
use crate::workspace::Settings;

mod refusal;
mod shown;

pub use refusal::Refusal;
pub use shown::{payload_json, preview};

use super::budget::{Budget, Verdict};
use super::privacy_gate;
use super::thread::{Choice, ThreadKey, Turn};
use super::tokens::Counter;

/// One agent the run may go to, with the request it gets.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub agent: String,
    pub spec: AgentSpec,
    /// The request: the earlier turns of [`Attempt::thread`], then the payload.
    pub request: Request,
    /// The thread of this agent that the run carries on, and that its answer joins when it is
    /// done; `None` for `thread: none`. A fallback agent has its own thread with the document:
    /// it is sent its own earlier turns, and its answer goes there.
    pub thread: Option<ThreadKey>,
}

/// A run ready to go: the brief, the message, and the agents to try in order (the chosen one,
/// then its `fallback` agents that policy allows).
#[derive(Clone, Debug)]
pub struct Plan {
    pub document: PathBuf,
    pub brief_title: String,
    pub payload: Payload,
    pub attempts: Vec<Attempt>,
    /// The `fallback` agents left out, each with why (refused by policy, not configured, no
    /// model): never contacted, and named when the run fails, so no fallback vanishes silently.
    pub left_out: Vec<String>,
    /// Where `.baton/runs/` goes: the folder of the workspace `baton.toml`, else the document's.
    pub journal_root: PathBuf,
    /// Whether the answer's headings are demoted under `## Output` (`[output] demote_headings`).
    pub demote_headings: bool,
    /// The thread of the chosen agent (the first attempt's); `None` for `thread: none`.
    pub thread: Option<ThreadKey>,
}

impl Plan {
    pub fn agent(&self) -> &str {
        &self.attempts[0].agent
    }
}

/// What to plan.
pub struct Ask<'a> {
    pub path: &'a Path,
    pub document: &'a Document,
    pub analysis: &'a Analysis,
    pub settings: &'a Settings,
    pub brief: usize,
    /// The agent asked for; `None` for the brief's own.
    pub agent: Option<&'a str>,
    /// Send this part of the document as is, instead of the rendered brief.
    pub selection: Option<Range<usize>>,
    /// Whether the user trusts the workspace (DESIGN §7).
    pub trusted: bool,
    pub inputs: &'a [Input],
    /// Reads the turns of a thread in the workspace whose journal is at the given root (the
    /// caller's reader: [`super::thread::on_disk`]); planning stays free of IO of its own.
    pub turns: &'a dyn Fn(&Path, &ThreadKey) -> Vec<Turn>,
    /// Reads the ratio an agent's recent runs reported of the prompt tokens counted, from the
    /// journal at the given root (the caller's reader: [`super::budget::journalled`]), to
    /// correct an estimate before refusing a request past its window.
    pub corrections: &'a dyn Fn(&Path, &str) -> Option<f64>,
}

/// Picks a brief by title (case and spacing folded), or the only one.
pub fn pick_brief(briefs: &[Brief], wanted: Option<&str>) -> Result<usize, Refusal> {
    let titles = || briefs.iter().map(|brief| brief.title.clone()).collect();
    match wanted {
        Some(wanted) => briefs
            .iter()
            .position(|brief| same_title(&brief.title, wanted))
            .ok_or_else(|| Refusal::NoSuchBrief {
                wanted: wanted.trim().to_owned(),
                titles: titles(),
            }),
        None => match briefs.len() {
            0 => Err(Refusal::NoBrief),
            1 => Ok(0),
            _ => Err(Refusal::SeveralBriefs { titles: titles() }),
        },
    }
}

/// The brief's own agent: its `@mention`, else the front matter's `agent:`, else the first
/// matching route, else `defaults.agent` ([`crate::brief::target`]).
pub fn own_agent(brief: &Brief, analysis: &Analysis, config: &Config) -> Option<String> {
    own_target(brief, analysis, config).map(|target| target.name)
}

/// [`own_agent`] with where it was named, for the reason a code lens, hover or
/// `baton run --dry-run` gives (`Target::reason`).
pub fn own_target(brief: &Brief, analysis: &Analysis, config: &Config) -> Option<Target> {
    let kind = analysis.kind.as_deref();
    target_agent(brief, kind, &analysis.front_matter, config)
}

/// Plans the run: the agent asked for (else the brief's own), checked against the
/// configuration and policy, and the request rendered for it and each usable fallback.
pub fn plan(ask: &Ask<'_>) -> Result<Plan, Refusal> {
    let config = &ask.settings.config;
    let Some(kind) = ask.analysis.kind.as_deref() else {
        return Err(Refusal::NotBaton);
    };
    let kind = ask.settings.kinds.get(kind).ok_or(Refusal::NotBaton)?;
    let brief = ask.analysis.briefs.get(ask.brief).ok_or(Refusal::NoBrief)?;
    let known = || config.agent_names().map(str::to_owned).collect::<Vec<_>>();
    let agent = match ask.agent {
        Some(agent) => agent.to_owned(),
        None => own_agent(brief, ask.analysis, config)
            .ok_or_else(|| Refusal::NoAgent { known: known() })?,
    };
    let mut payload = payload::render(ask.document, ask.analysis, kind, ask.brief, ask.inputs);
    if let Some(selection) = &ask.selection {
        payload.text = payload::render_selection(&ask.document.slice(selection.clone()));
    }
    if payload.text.trim().is_empty() {
        return Err(Refusal::Empty);
    }
    let (attempts, left_out) = attempts(config, &agent, &payload.text, ask.trusted)?;
    let (mut attempts, left_out) = privacy_gate::gate(ask, &payload, attempts, left_out)?;
    let journal_root = journal_root(config, ask.path);
    for attempt in &mut attempts {
        attempt.thread = thread_key(ask.analysis, ask.path, &journal_root, &attempt.agent);
        if let Some(key) = &attempt.thread {
            let earlier = (ask.turns)(&journal_root, key);
            let messages = earlier.iter().flat_map(Turn::messages);
            attempt.request.messages.splice(0..0, messages);
        }
    }
    let left_out = left_out
        .into_iter()
        .map(|(fallback, why)| {
            tracing::warn!("fallback agent `{fallback}` of `{agent}` left out: {why}");
            format!("fallback `{fallback}` was not tried: {why}")
        })
        .collect();
    let plan = Plan {
        thread: attempts[0].thread.clone(),
        document: ask.path.to_path_buf(),
        brief_title: brief.title.clone(),
        payload,
        attempts,
        left_out,
        journal_root,
        demote_headings: config.demote_headings(),
    };
    within_budget(&plan, config, ask.corrections)?;
    Ok(plan)
}

/// Refuses a plan whose request exceeds its agent's whole context window: the agent would
/// see only part of it (or answer an error), so nothing leaves and the numbers say why.
/// Counted here, at send time, never while typing; an estimate is corrected as the lens's is,
/// by the ratio the agent's recent runs reported.
fn within_budget(
    plan: &Plan,
    config: &Config,
    corrections: &dyn Fn(&Path, &str) -> Option<f64>,
) -> Result<(), Refusal> {
    let first = &plan.attempts[0];
    let correction = match Counter::for_agent(&first.spec).estimate {
        true => corrections(&plan.journal_root, &first.agent),
        false => None,
    };
    let budget = Budget::of_request(
        &first.agent,
        &first.spec,
        &config.file.defaults,
        &first.request,
        correction,
    );
    match budget.verdict() {
        Verdict::Past => Err(Refusal::OverBudget {
            message: budget.message(),
        }),
        Verdict::Within | Verdict::Over => Ok(()),
    }
}

/// Where runs of the document at `path` are journalled (and its threads kept): the folder of
/// the workspace `baton.toml`, else the document's.
pub fn journal_root(config: &Config, path: &Path) -> PathBuf {
    let folder = path.parent().unwrap_or(Path::new("/"));
    config.root.clone().unwrap_or_else(|| folder.to_path_buf())
}

/// The thread runs of `agent` from the document at `path` carry on, as its front matter's
/// `thread:` says; `None` for `thread: none`. `root` is [`journal_root`].
pub fn thread_key(analysis: &Analysis, path: &Path, root: &Path, agent: &str) -> Option<ThreadKey> {
    let named = analysis.front_matter.thread.as_ref();
    let choice = Choice::of(named.map(|spanned| spanned.value.as_str()));
    ThreadKey::of(path, root, choice, agent)
}

/// Why a send to `agent` would be refused, found without rendering the brief: what code
/// actions and code lenses put in their titles, so that what is offered tells what sending
/// would answer. `key_set` says whether an environment variable is set.
pub fn obstacle(
    config: &Config,
    agent: &str,
    trusted: bool,
    key_set: &dyn Fn(&str) -> bool,
) -> Option<Refusal> {
    match attempts(config, agent, "", trusted) {
        Ok((attempts, _)) => key_refusal(&attempts, key_set),
        Err(refusal) => Some(refusal),
    }
}

/// Refuses a plan none of whose agents could authenticate: each sends a key from a variable
/// that is not set (`key_set`). Sending it would only fail, having written a run for nothing.
pub fn key_refusal(attempts: &[Attempt], key_set: &dyn Fn(&str) -> bool) -> Option<Refusal> {
    let missing = |attempt: &Attempt| {
        let variable = attempt.spec.api_key_env.as_deref()?;
        (!key_set(variable)).then(|| variable.to_owned())
    };
    let (first, fallbacks) = attempts.split_first()?;
    let variable = missing(first)?;
    fallbacks
        .iter()
        .all(|fallback| missing(fallback).is_some())
        .then(|| Refusal::MissingKey {
            agent: first.agent.clone(),
            variable,
        })
}

/// A `fallback` agent left out of a plan, and why.
pub(super) type LeftOut = (String, String);

/// The agents a run to `agent` would try in order, each with its request for `text`: the
/// agent itself, then its `fallback` agents that exist and policy allows; and the fallbacks
/// left out, with why.
fn attempts(
    config: &Config,
    agent: &str,
    text: &str,
    trusted: bool,
) -> Result<(Vec<Attempt>, Vec<LeftOut>), Refusal> {
    let first = attempt(config, agent, text, trusted).map_err(|refusal| match refusal {
        None => Refusal::UnknownAgent {
            name: agent.to_owned(),
            known: config.agent_names().map(str::to_owned).collect(),
        },
        Some(refusal) => refusal,
    })?;
    let mut attempts = vec![first];
    let mut left_out = Vec::new();
    for fallback in &attempts[0].spec.fallback.clone() {
        let already = attempts.iter().any(|attempt| attempt.agent == *fallback);
        if already {
            continue;
        }
        match attempt(config, fallback, text, trusted) {
            Ok(attempt) => attempts.push(attempt),
            Err(why) => left_out.push((
                fallback.clone(),
                why.map_or_else(|| "not configured".to_owned(), |why| why.to_string()),
            )),
        }
    }
    Ok((attempts, left_out))
}

/// The attempt for `agent`, or why it cannot be made (`None`: no such agent).
fn attempt(
    config: &Config,
    agent: &str,
    text: &str,
    trusted: bool,
) -> Result<Attempt, Option<Refusal>> {
    let spec = config.agent(agent).ok_or(None)?;
    if let Some(refusal) = policy::refusal(config, agent, trusted) {
        return Err(Some(Refusal::Untrusted {
            message: refusal.to_string(),
        }));
    }
    let model = match (&spec.model, spec.provider) {
        (Some(model), _) => model.clone(),
        (None, Provider::Command) => String::new(),
        (None, _) => {
            return Err(Some(Refusal::NoModel {
                agent: agent.to_owned(),
            }))
        }
    };
    Ok(Attempt {
        agent: agent.to_owned(),
        spec: spec.clone(),
        request: Request {
            model,
            system: spec.role.clone(),
            messages: vec![Message::user(text.to_owned())],
        },
        thread: None,
    })
}

#[cfg(test)]
mod tests;
