//! A brief's token budget (DESIGN §6): what sending it would put in the agent's context
//! (role, the thread's earlier turns, the brief, its inputs) against the agent's
//! `context_window`. Past `handoff_at` (default 0.8) it is over budget and a handoff is
//! offered; past the whole window the send is refused with the numbers.
//!
//! Counting is [`super::tokens`]'s, cached by text: a budget asked for again after a keystroke
//! recounts only the brief that changed. Estimates (every provider but OpenAI) are corrected by
//! the ratio the agent's recent runs reported ([`correction`]).

use crate::agent::Request;
use crate::config::model::{AgentSpec, Defaults};
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
mod tests {
    use super::*;
    use crate::config::model::Provider;
    use crate::dispatch::run_file::Usage;
    use std::path::PathBuf;
    use std::time::UNIX_EPOCH;

    fn budget(total: u64, window: u64) -> Budget {
        Budget {
            agent: "researcher".into(),
            parts: Parts {
                role: 0,
                thread: 0,
                brief: total,
                inputs: 0,
            },
            window,
            handoff_at: 0.8,
            estimate: false,
        }
    }

    #[test]
    fn past_handoff_at_is_over_and_past_the_window_is_past() {
        assert_eq!(budget(80, 100).verdict(), Verdict::Within);
        assert_eq!(budget(81, 100).verdict(), Verdict::Over);
        assert_eq!(budget(100, 100).verdict(), Verdict::Over);
        assert_eq!(budget(101, 100).verdict(), Verdict::Past);
        assert_eq!(
            budget(101, 100).message(),
            "101 tokens for @researcher (101 % of its context window of 100; role 0, thread 0, \
             brief 101, inputs 0): more than the agent can take; hand off to start a fresh \
             thread, or send less"
        );
    }

    #[test]
    fn lens_titles_mark_estimates() {
        let mut b = budget(12_400, 128_000);
        assert_eq!(b.lens_title(), "@researcher · 12.4k / 128k");
        b.estimate = true;
        assert_eq!(b.lens_title(), "@researcher · ≈12.4k / 128k");
    }

    #[test]
    fn each_part_is_counted_and_estimates_are_corrected() {
        // "This is a test         with a lot of spaces" is 10 tokens in both vocabularies
        // (see tokens.rs).
        let ten = "This is a test         with a lot of spaces";
        let texts = Texts {
            role: Some(ten),
            thread: vec![ten, ten],
            brief: ten,
            inputs: vec![ten],
        };
        let openai = {
            let mut spec = AgentSpec::new(Provider::Openai);
            spec.model = Some("gpt-4o".into());
            spec
        };
        let defaults = Defaults::default();
        let b = Budget::count("r", &openai, &defaults, &texts, Some(2.0));
        let want = Parts {
            role: 10,
            thread: 20,
            brief: 10,
            inputs: 10,
        };
        assert_eq!(
            (b.parts, b.estimate),
            (want, false),
            "no correction for OpenAI"
        );
        let local = AgentSpec::new(Provider::Ollama);
        let b = Budget::count("l", &local, &defaults, &texts, Some(1.5));
        assert_eq!((b.total(), b.estimate), (75, true));
    }

    #[test]
    fn texts_too_short_to_be_over_are_known_within_without_counting() {
        let mut spec = AgentSpec::new(Provider::Ollama);
        let defaults = Defaults::default();
        let text = "Find the prices of the three rivals 🎉 顧客 ".repeat(20);
        let texts = |brief| Texts {
            role: Some("Be brief."),
            thread: vec!["earlier"],
            brief,
            inputs: Vec::new(),
        };
        let bytes = "Be brief.".len() + "earlier".len() + text.len();
        // Past handoff_at by bytes, the budget may be over and is counted; short of it, not.
        spec.context_window = Some(bytes as u64);
        assert!(Budget::may_be_over(&spec, &defaults, &texts(&text), None));
        spec.context_window = Some(bytes as u64 * 2);
        assert!(!Budget::may_be_over(&spec, &defaults, &texts(&text), None));
        // An estimate's correction above 1 scales the bound; below 1 never shrinks it.
        assert!(Budget::may_be_over(
            &spec,
            &defaults,
            &texts(&text),
            Some(2.0)
        ));
        assert!(!Budget::may_be_over(
            &spec,
            &defaults,
            &texts(&text),
            Some(0.5)
        ));
        // The bound holds: no text has more tokens than bytes, emoji and CJK included.
        let counted = Budget::count("l", &spec, &defaults, &texts(&text), None);
        assert!(counted.total() <= bytes as u64, "{counted:?}");
    }

    #[test]
    fn the_correction_averages_the_agents_recent_reports() {
        let run = |agent: &str, reported, counted| RunSummary {
            run_id: "R".into(),
            document: PathBuf::from("/w/a.brief.md"),
            brief_title: "T".into(),
            agent: agent.into(),
            model: "m".into(),
            input_hash: "0".into(),
            started_at: UNIX_EPOCH,
            state: None,
            usage: Some(Usage {
                prompt_tokens: Some(reported),
                completion_tokens: None,
                counted: Some(counted),
            }),
        };
        let runs = [
            run("local", 120, 100),
            run("other", 50, 100),
            run("local", 140, 100),
        ];
        let local = correction(&runs, "local").unwrap();
        assert!((local - 1.3).abs() < 1e-9, "{local}");
        assert_eq!(correction(&runs, "nobody"), None);
    }
}
