//! A brief's token budget (DESIGN §6): what sending it would put in the agent's context
//! (role, the thread's earlier turns, the brief, its inputs) against the agent's
//! `context_window`. Past `handoff_at` (default 0.8) it is over budget and a handoff is
//! offered; past the whole window the send is refused with the numbers.
//!
//! Counting is [`super::tokens`]'s, cached by text: a budget asked for again after a keystroke
//! recounts only the brief that changed. Estimates (every provider but OpenAI) are corrected by
//! the ratio the agent's recent runs reported ([`correction`]).

use std::path::Path;

use super::journal::Journal;
use crate::agent::Request;
use crate::config::{AgentSpec, Defaults};
use crate::dispatch::run_file::RunSummary;
use crate::dispatch::tokens::{short, Counter};

/// The tokens of each part of a payload.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Parts {
    pub role: u64,
    pub thread: u64,
    pub brief: u64,
    pub inputs: u64,
}

impl Parts {
    pub fn total(&self) -> u64 {
        self.role + self.thread + self.brief + self.inputs
    }
}

/// One brief's budget with one agent.
#[derive(Clone, Debug, PartialEq)]
pub struct Budget {
    pub agent: String,
    pub parts: Parts,
    pub window: u64,
    pub handoff_at: f64,
    /// Counted with another provider's vocabulary: shown with `≈`.
    pub estimate: bool,
}

/// Where a budget stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Within,
    /// Past `handoff_at`: time to hand off.
    Over,
    /// Past the whole context window: the agent cannot take it.
    Past,
}

/// The texts a payload is made of, before counting.
pub struct Texts<'a> {
    pub role: Option<&'a str>,
    /// The thread's earlier turns, user and assistant alike.
    pub thread: Vec<&'a str>,
    pub brief: &'a str,
    pub inputs: Vec<&'a str>,
}

impl Budget {
    /// Counts `texts` for `agent`. `correction` multiplies estimates (see [`correction`]).
    pub fn count(
        agent: &str,
        spec: &AgentSpec,
        defaults: &Defaults,
        texts: &Texts<'_>,
        correction: Option<f64>,
    ) -> Budget {
        let counter = Counter::for_agent(spec);
        Budget::with(agent, spec, defaults, texts, correction, |text| {
            Some(counter.count(text))
        })
        .expect("counting always gives a number")
    }

    /// The budget of `texts` if every one of them was counted before: cache lookups only, so
    /// cheap enough for a request that must not wait for the tokenizer. `None` when some text
    /// still needs counting.
    pub fn counted(
        agent: &str,
        spec: &AgentSpec,
        defaults: &Defaults,
        texts: &Texts<'_>,
        correction: Option<f64>,
    ) -> Option<Budget> {
        let counter = Counter::for_agent(spec);
        Budget::with(agent, spec, defaults, texts, correction, |text| {
            counter.counted(text)
        })
    }

    fn with(
        agent: &str,
        spec: &AgentSpec,
        defaults: &Defaults,
        texts: &Texts<'_>,
        correction: Option<f64>,
        tokens: impl Fn(&str) -> Option<u64>,
    ) -> Option<Budget> {
        let counter = Counter::for_agent(spec);
        let ratio = correction.filter(|_| counter.estimate).unwrap_or(1.0);
        let count = |text: &str| Some((tokens(text)? as f64 * ratio).round() as u64);
        let sum = |texts: &[&str]| texts.iter().map(|text| count(text)).sum::<Option<u64>>();
        Some(Budget {
            agent: agent.to_owned(),
            parts: Parts {
                role: match texts.role {
                    Some(role) => count(role)?,
                    None => 0,
                },
                thread: sum(&texts.thread)?,
                brief: count(texts.brief)?,
                inputs: sum(&texts.inputs)?,
            },
            window: spec.context_window(),
            handoff_at: spec.handoff_at(defaults),
            estimate: counter.estimate,
        })
    }

    /// Whether `texts` could be past `handoff_at` at all. No text has more tokens than bytes,
    /// so texts whose bytes (times an estimate's correction) fit are within budget without
    /// being counted.
    pub fn may_be_over(
        spec: &AgentSpec,
        defaults: &Defaults,
        texts: &Texts<'_>,
        correction: Option<f64>,
    ) -> bool {
        let counter = Counter::for_agent(spec);
        let ratio = correction.filter(|_| counter.estimate).unwrap_or(1.0);
        let all = || {
            (texts.role.into_iter())
                .chain(texts.thread.iter().copied())
                .chain([texts.brief])
                .chain(texts.inputs.iter().copied())
        };
        let bytes: usize = all().map(str::len).sum();
        // Each part is rounded on its own: one token of slack per text.
        let most = bytes as f64 * ratio.max(1.0) + all().count() as f64;
        most > spec.context_window() as f64 * spec.handoff_at(defaults)
    }

    /// The budget of a request as it would leave: the system prompt as the role, the last
    /// message as the brief (with its inputs), every earlier message as the thread.
    pub fn of_request(
        agent: &str,
        spec: &AgentSpec,
        defaults: &Defaults,
        request: &Request,
        correction: Option<f64>,
    ) -> Budget {
        let (last, earlier) = match request.messages.split_last() {
            Some((last, earlier)) => (last.content.as_str(), earlier),
            None => ("", &[][..]),
        };
        let texts = Texts {
            role: request.system.as_deref(),
            thread: earlier.iter().map(|m| m.content.as_str()).collect(),
            brief: last,
            inputs: Vec::new(),
        };
        Budget::count(agent, spec, defaults, &texts, correction)
    }

    pub fn total(&self) -> u64 {
        self.parts.total()
    }

    pub fn verdict(&self) -> Verdict {
        let total = self.total() as f64;
        let window = self.window as f64;
        if total > window {
            Verdict::Past
        } else if total > window * self.handoff_at {
            Verdict::Over
        } else {
            Verdict::Within
        }
    }

    /// `12.4k`, or `≈12.4k` for an estimate.
    pub fn shown(&self, n: u64) -> String {
        let approx = if self.estimate { "≈" } else { "" };
        format!("{approx}{}", short(n))
    }

    /// The code lens: `@researcher · 12.4k / 128k`.
    pub fn lens_title(&self) -> String {
        format!(
            "@{} · {} / {}",
            self.agent,
            self.shown(self.total()),
            short(self.window)
        )
    }

    /// Why a budget is over, for the diagnostic and the refusal.
    pub fn message(&self) -> String {
        let share = self.total() as f64 * 100.0 / self.window.max(1) as f64;
        let approx = if self.estimate { "about " } else { "" };
        let parts = self.parts;
        let head = format!(
            "{approx}{} tokens for @{} ({share:.0} % of its context window of {}; role {}, thread {}, brief {}, inputs {})",
            self.total(),
            self.agent,
            self.window,
            parts.role,
            parts.thread,
            parts.brief,
            parts.inputs
        );
        match self.verdict() {
            Verdict::Past => format!("{head}: more than the agent can take; hand off to start a fresh thread, or send less"),
            Verdict::Over => format!(
                "{head}: past handoff_at ({:.0} %); hand off before the conversation fills up",
                self.handoff_at * 100.0
            ),
            Verdict::Within => head,
        }
    }

    /// The hover's breakdown, in Markdown.
    pub fn breakdown(&self) -> String {
        let parts = self.parts;
        let row = |name: &str, n: u64| format!("| {name} | {} |\n", self.shown(n));
        let mut text = format!(
            "**Budget for @{}**: {} of {} tokens (hand off at {:.0} %)\n\n| part | tokens |\n|---|---:|\n",
            self.agent,
            self.shown(self.total()),
            short(self.window),
            self.handoff_at * 100.0
        );
        text += &row("role", parts.role);
        text += &row("thread", parts.thread);
        text += &row("brief", parts.brief);
        text += &row("inputs", parts.inputs);
        if self.estimate {
            text += "\n≈ estimated with the o200k_base vocabulary; corrected by what this agent's recent runs reported.\n";
        }
        text
    }
}

/// [`correction`] for `agent` from the journal at `root`: the reader [`super::plan::Ask`] and
/// [`super::budgets::Budgets`] use.
pub fn journalled(root: &Path, agent: &str) -> Option<f64> {
    correction(&Journal::new(root).runs(), agent)
}

/// How many recent runs of an agent the correction of its estimates averages.
const RECENT_RUNS: usize = 5;

/// The ratio of prompt tokens an agent's recent runs reported to the tokens counted as sent,
/// averaged over its newest runs that reported both (`runs` newest first, as the journal lists
/// them); `None` when none did.
pub fn correction(runs: &[RunSummary], agent: &str) -> Option<f64> {
    let ratios: Vec<f64> = runs
        .iter()
        .filter(|run| run.agent == agent)
        .filter_map(|run| run.usage.as_ref()?.ratio())
        .take(RECENT_RUNS)
        .collect();
    (!ratios.is_empty()).then(|| ratios.iter().sum::<f64>() / ratios.len() as f64)
}

#[cfg(test)]
mod tests;
