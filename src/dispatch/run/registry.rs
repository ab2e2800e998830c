//! The runs of a server or command: those queued or streaming (to list, show and cancel),
//! and the last run of each brief (for its code lens and its `dispatch-failed` diagnostic).
//! The one owner of run state; documents are named by a key the caller chooses (the server
//! uses URIs).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use super::queue::Queues;
use super::{Cancel, Outcome};
use crate::brief::lint::FailedRun;
use crate::dispatch::journal::RunSummary;

/// A run queued or streaming, as editors see it (`baton.runs`, `baton/runs`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunInfo {
    pub run: String,
    pub uri: String,
    pub brief: String,
    pub agent: String,
    pub state: Phase,
    pub tokens: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Queued,
    Streaming,
}

/// How a brief's last run went, for its code lens and diagnostics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LastRun {
    Running { run: String, tokens: usize },
    Ended(Outcome),
}

struct Active {
    info: RunInfo,
    cancel: Cancel,
    /// The run sent again for the same brief and agent, which cancelled this one.
    replaced_by: Option<String>,
}

#[derive(Default)]
pub struct Registry {
    pub queues: Queues,
    active: Mutex<HashMap<String, Active>>,
    /// By document URI, then brief title.
    last: Mutex<HashMap<String, HashMap<String, LastRun>>>,
    /// Runs in the journal whose output is missing from their document, by URI; read off the
    /// disk when the document opens, so code actions never touch the disk.
    recoverable: Mutex<HashMap<String, Vec<RunSummary>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Registry {
    /// Records a new run, queued until it streams. A run of the same brief and agent still
    /// going in the same document is cancelled, replaced by this one (DESIGN §4: a re-run
    /// replaces its block, and two runs must not write into one); returns the replaced runs.
    pub fn start(&self, info: RunInfo, cancel: Cancel) -> Vec<String> {
        let last = LastRun::Running {
            run: info.run.clone(),
            tokens: 0,
        };
        lock(&self.last)
            .entry(info.uri.clone())
            .or_default()
            .insert(info.brief.clone(), last);
        let mut active = lock(&self.active);
        let mut replaced: Vec<String> = active
            .values_mut()
            .filter(|old| {
                old.info.uri == info.uri
                    && old.info.brief == info.brief
                    && old.info.agent == info.agent
                    && old.replaced_by.is_none()
            })
            .map(|old| {
                old.replaced_by = Some(info.run.clone());
                old.cancel
                    .cancel_because(format!("sent again as run {}", info.run));
                old.info.run.clone()
            })
            .collect();
        replaced.sort();
        let run = info.run.clone();
        active.insert(
            run,
            Active {
                info,
                cancel,
                replaced_by: None,
            },
        );
        replaced
    }

    /// The run that replaced `run` (see [`Registry::start`]), while `run` is still active.
    pub fn replaced_by(&self, run: &str) -> Option<String> {
        lock(&self.active).get(run)?.replaced_by.clone()
    }

    pub fn set_phase(&self, run: &str, phase: Phase) {
        if let Some(active) = lock(&self.active).get_mut(run) {
            active.info.state = phase;
        }
    }

    pub fn set_tokens(&self, run: &str, tokens: usize) {
        let info = match lock(&self.active).get_mut(run) {
            Some(active) => {
                active.info.tokens = tokens;
                active.info.clone()
            }
            None => return,
        };
        if let Some(last) = lock(&self.last)
            .get_mut(&info.uri)
            .and_then(|briefs| briefs.get_mut(&info.brief))
        {
            if matches!(last, LastRun::Running { run: id, .. } if *id == info.run) {
                *last = LastRun::Running {
                    run: info.run,
                    tokens,
                };
            }
        }
    }

    /// Records how a run ended and forgets it as active.
    pub fn finish(&self, run: &str, outcome: Outcome) {
        let Some(active) = lock(&self.active).remove(run) else {
            return;
        };
        let info = active.info;
        let mut last = lock(&self.last);
        let briefs = last.entry(info.uri).or_default();
        // A newer run of the same brief may have started meanwhile; it owns the lens.
        let superseded = matches!(briefs.get(&info.brief), Some(LastRun::Running { run: id, .. }) if *id != info.run);
        if !superseded {
            briefs.insert(info.brief, LastRun::Ended(outcome));
        }
    }

    /// Cancels the runs `which` selects, at the user's request; returns their ids.
    pub fn cancel(&self, which: impl Fn(&RunInfo) -> bool) -> Vec<String> {
        let active = lock(&self.active);
        let mut cancelled: Vec<String> = active
            .values()
            .filter(|active| which(&active.info))
            .map(|active| {
                active.cancel.cancel();
                active.info.run.clone()
            })
            .collect();
        cancelled.sort();
        cancelled
    }

    /// The runs queued or streaming, oldest first.
    pub fn active(&self) -> Vec<RunInfo> {
        let mut runs: Vec<RunInfo> = lock(&self.active)
            .values()
            .map(|active| active.info.clone())
            .collect();
        runs.sort_by(|a, b| a.run.cmp(&b.run));
        runs
    }

    /// Whether a run is writing into the document at `uri`.
    pub fn is_streaming_into(&self, uri: &str) -> bool {
        lock(&self.active)
            .values()
            .any(|active| active.info.uri == uri)
    }

    pub fn is_active(&self, run: &str) -> bool {
        lock(&self.active).contains_key(run)
    }

    /// The last run of each brief of a document.
    pub fn last_runs(&self, uri: &str) -> HashMap<String, LastRun> {
        lock(&self.last).get(uri).cloned().unwrap_or_default()
    }

    /// The briefs of a document whose last run failed, with the reason.
    pub fn failures(&self, uri: &str) -> Vec<FailedRun> {
        let last = lock(&self.last);
        let Some(briefs) = last.get(uri) else {
            return Vec::new();
        };
        let mut failures: Vec<FailedRun> = briefs
            .iter()
            .filter_map(|(title, run)| match run {
                LastRun::Ended(Outcome::Failed(reason)) => Some(FailedRun {
                    title: title.clone(),
                    reason: reason.clone(),
                }),
                _ => None,
            })
            .collect();
        failures.sort();
        failures
    }

    pub fn set_recoverable(&self, uri: &str, runs: Vec<RunSummary>) {
        lock(&self.recoverable).insert(uri.to_owned(), runs);
    }

    pub fn recoverable(&self, uri: &str) -> Vec<RunSummary> {
        lock(&self.recoverable)
            .get(uri)
            .cloned()
            .unwrap_or_default()
    }

    /// Forgets what is known of a closed document, but its active runs, which go on.
    pub fn forget(&self, uri: &str) {
        lock(&self.recoverable).remove(uri);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(run: &str, brief: &str, agent: &str) -> RunInfo {
        RunInfo {
            run: run.to_owned(),
            uri: "file:///w/a.brief.md".to_owned(),
            brief: brief.to_owned(),
            agent: agent.to_owned(),
            state: Phase::Queued,
            tokens: 0,
        }
    }

    #[test]
    fn sending_a_brief_again_to_the_same_agent_cancels_and_replaces_its_run() {
        let registry = Registry::default();
        let (first, other_agent, second) = (Cancel::new(), Cancel::new(), Cancel::new());
        assert!(registry
            .start(info("R1", "Scan", "a"), first.clone())
            .is_empty());
        assert!(registry
            .start(info("R2", "Scan", "b"), other_agent.clone())
            .is_empty());
        assert_eq!(
            registry.start(info("R3", "Scan", "a"), second.clone()),
            ["R1"]
        );
        assert!(first.is_cancelled() && !other_agent.is_cancelled() && !second.is_cancelled());
        assert_eq!(registry.replaced_by("R1").as_deref(), Some("R3"));
        assert_eq!(first.reason().as_deref(), Some("sent again as run R3"));
        assert_eq!(registry.replaced_by("R3"), None);

        // The replaced run ends after its successor started: the lens stays the new run's.
        registry.finish("R1", Outcome::Cancelled(None));
        assert!(!registry.is_active("R1"));
        let running = LastRun::Running {
            run: "R3".to_owned(),
            tokens: 0,
        };
        assert_eq!(registry.last_runs(&info("", "", "").uri)["Scan"], running);
    }

    #[test]
    fn a_failed_last_run_is_a_failure_until_the_brief_is_sent_again() {
        let registry = Registry::default();
        let uri = info("", "", "").uri;
        registry.start(info("R1", "Scan", "a"), Cancel::new());
        registry.finish("R1", Outcome::Failed("HTTP 500".to_owned()));
        let failed = FailedRun {
            title: "Scan".to_owned(),
            reason: "HTTP 500".to_owned(),
        };
        assert_eq!(registry.failures(&uri), [failed]);
        registry.start(info("R2", "Scan", "a"), Cancel::new());
        assert!(registry.failures(&uri).is_empty());
        registry.finish("R2", Outcome::Done);
        assert_eq!(
            registry.last_runs(&uri)["Scan"],
            LastRun::Ended(Outcome::Done)
        );
    }

    #[test]
    fn cancel_selects_runs_and_says_which() {
        let registry = Registry::default();
        let tokens: Vec<Cancel> = (0..3).map(|_| Cancel::new()).collect();
        for (index, token) in tokens.iter().enumerate() {
            let brief = format!("B{index}");
            registry.start(info(&format!("R{index}"), &brief, "a"), token.clone());
        }
        assert_eq!(registry.cancel(|info| info.brief != "B1"), ["R0", "R2"]);
        let cancelled: Vec<bool> = tokens.iter().map(Cancel::is_cancelled).collect();
        assert_eq!(cancelled, [true, false, true]);
        // Cancelled runs stay listed until they finish.
        assert_eq!(registry.active().len(), 3);
        registry.finish("R0", Outcome::Cancelled(None));
        let active: Vec<String> = registry.active().into_iter().map(|info| info.run).collect();
        assert_eq!(active, ["R1", "R2"]);
    }
}
