//! Pipelines (DESIGN §5): linked briefs run in dependency order, in parallel, up to date like
//! make. Knows no LSP and no terminal: `baton run` and the editor's "Run pipeline" drive it
//! alike, through the [`Files`] they read documents from and the [`Writer`] they write answers
//! with, and render its [`Event`]s.
//!
//! - [`build`] (`graph`): the briefs selected and every brief they need, transitively and across
//!   files inside the workspace, in topological order, each with its agent and [`State`]; a
//!   cycle is refused.
//! - `schedule`: pure: which briefs must run, which may start now, which are skipped because a
//!   brief they need failed.
//! - [`run`] (`execute`): the executor loop: starts each brief as soon as it may, bounded by
//!   `[pipeline] max_parallel` and each agent's `max_concurrent`, plans it with its inputs as
//!   they are now, and places each answer into the documents it keeps in memory.
//! - `resume`: before anything is scheduled, a finished run the journal holds whose block is
//!   missing from its document is put back, so a pipeline killed midway sends only what has no
//!   complete answer.
//! - `texts`: the documents of a pipeline in memory, the inputs and the state of each brief.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::brief::lint::Analysis;
use crate::brief::output::Marker;
use crate::brief::target::Target;
use crate::document::Document;
use crate::workspace::{Boundary, Settings};

mod answer;
mod execute;
mod graph;
mod resume;
pub mod schedule;
mod texts;

pub use execute::run;
pub use graph::build;

/// How a pipeline reads documents and their settings: the editor answers from its open
/// buffers, else the disk; the CLI from the disk.
pub trait Files: Sync {
    /// The text of `file` (an absolute path), or `None` when it cannot be read.
    fn text(&self, file: &Path) -> Option<String>;
    /// `file` parsed and analysed already (a buffer the editor holds open), to spare reading
    /// its briefs again; `None` reads it with [`Files::text`].
    fn analysed(&self, _file: &Path) -> Option<(Document, Arc<Analysis>)> {
        None
    }
    /// The configuration in force for `file`.
    fn settings(&self, file: &Path) -> Arc<Settings>;
    /// Whether the user trusts the workspace of `file` (DESIGN §7).
    fn trusted(&self, file: &Path) -> bool;
    /// The folder `file`'s links may reach: by default the folder of the `baton.toml` in
    /// force, else the document's own folder. The editor narrows it to its workspace folders.
    fn boundary(&self, file: &Path) -> Boundary {
        let settings = self.settings(file);
        let dir = file.parent().unwrap_or(Path::new("/"));
        Boundary::of_document(settings.config.root.as_deref(), dir, &[])
    }
    /// Whether the environment variable `name` is set (and not empty), for refusing a brief
    /// whose agents could not authenticate before its run is journalled.
    fn key_set(&self, name: &str) -> bool {
        std::env::var_os(name).is_some_and(|value| !value.is_empty())
    }
}

/// What to run: every brief of some files, or one brief; with every brief they need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    Files(Vec<PathBuf>),
    Brief { file: PathBuf, title: String },
}

/// The briefs of a pipeline, in topological order: every brief comes after the briefs it needs.
#[derive(Clone, Debug)]
pub struct Pipeline {
    pub nodes: Vec<Node>,
}

/// One brief of a pipeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// The document, as an absolute path (links are resolved from it).
    pub file: PathBuf,
    pub title: String,
    /// The brief's own agent and where it was named; `None` when nothing names one.
    pub agent: Option<Target>,
    /// Where that agent's text goes when it is not its provider's own endpoint (DESIGN §7).
    pub host: Option<String>,
    /// The briefs it links to (indices into [`Pipeline::nodes`], all before this one).
    pub needs: Vec<usize>,
    pub state: State,
}

/// Where a brief stands before the pipeline runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Its latest output is done and has the `input` hash of what would be sent now.
    UpToDate,
    /// Its latest output is done, but the brief or an input changed since.
    Stale,
    /// Its latest output failed, broke off or was cancelled.
    Failed,
    /// No run of it is in the document.
    NeverRun,
}

impl State {
    /// In a few words, for `baton graph` and `--dry-run`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::UpToDate => "done",
            State::Stale => "stale",
            State::Failed => "failed",
            State::NeverRun => "never run",
        }
    }
}

impl Pipeline {
    /// How many briefs there are, and how many of them are up to date (for a code lens:
    /// `4 briefs, 2 up to date`).
    pub fn counts(&self) -> (usize, usize) {
        let fresh = self
            .nodes
            .iter()
            .filter(|node| node.state == State::UpToDate);
        (self.nodes.len(), fresh.count())
    }

    /// The briefs that a run would send: all with `force`, else those not up to date and
    /// those that need one of them.
    pub fn to_run(&self, force: bool) -> Vec<bool> {
        schedule::to_run(&self.needs(), &self.states(), force)
    }

    fn needs(&self) -> Vec<Vec<usize>> {
        self.nodes.iter().map(|node| node.needs.clone()).collect()
    }

    fn states(&self) -> Vec<State> {
        self.nodes.iter().map(|node| node.state).collect()
    }
}

/// Where the answers go: the shell writes each finished run's block into its document (the
/// CLI: re-read the file, place, write atomically; the editor: an edit of the buffer).
pub trait Writer: Send {
    /// Writes the block of `marker`'s run, holding `body` (already [`place::body`]), under the
    /// brief `title` of `file`, in place of the run's own block or the agent's earlier one.
    ///
    /// [`place::body`]: crate::dispatch::place::body
    fn write(
        &mut self,
        file: &Path,
        title: &str,
        marker: &Marker,
        body: &str,
    ) -> Result<(), String>;
}

/// How to run a pipeline.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Send every brief, up to date or not.
    pub force: bool,
    /// At most this many runs at once; `None`: `[pipeline] max_parallel` (default 4).
    pub max_parallel: Option<usize>,
}

/// What a pipeline reports while it runs, in order; [`Event::Finished`] last. `node` indexes
/// [`Pipeline::nodes`].
#[derive(Debug)]
pub enum Event<'a> {
    /// A finished run of the journal was put back into its document (it had no block).
    Recovered {
        node: usize,
        run: &'a str,
    },
    /// The brief will run once the briefs it needs are done.
    Waiting {
        node: usize,
    },
    /// The brief may start, but `max_parallel` runs are going, or its agent's queue is full.
    Queued {
        node: usize,
    },
    /// Its request leaves for `agent` (again, for a fallback agent), as run `run`; `host` is
    /// where it goes when that is not the provider's own endpoint (DESIGN §7).
    Started {
        node: usize,
        run: &'a str,
        agent: &'a str,
        host: Option<&'a str>,
    },
    /// About `tokens` tokens of the answer have arrived so far (estimated from its bytes,
    /// `tokens::streamed`).
    Text {
        node: usize,
        tokens: usize,
    },
    /// The agent client retries, or falls back to another agent: what it says.
    Note {
        node: usize,
        message: &'a str,
    },
    Done {
        node: usize,
    },
    UpToDate {
        node: usize,
    },
    Failed {
        node: usize,
        reason: &'a str,
    },
    /// Not sent because `because` (a brief it needs, directly or not) failed.
    Skipped {
        node: usize,
        because: usize,
    },
    /// Cancelled while it ran (what arrived is written, marked cancelled), or before it
    /// started.
    Cancelled {
        node: usize,
    },
    Finished(&'a Summary),
}

/// How each brief of a pipeline ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub ended: Vec<Ended>,
}

/// How one brief ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ended {
    Done,
    UpToDate,
    /// Refused, failed after retries and fallbacks, or broke off; the reason in the user's words.
    Failed(String),
    Skipped {
        because: usize,
    },
    /// `started`: it was running (its partial answer, if any, is written).
    Cancelled {
        started: bool,
    },
}

impl Summary {
    /// Whether every brief ended done or up to date: the pipeline succeeded.
    pub fn success(&self) -> bool {
        self.ended
            .iter()
            .all(|ended| matches!(ended, Ended::Done | Ended::UpToDate))
    }

    /// How the briefs ended, counted: `3 done, 1 up to date, 1 failed, 0 skipped, 0 cancelled`.
    pub fn tally(&self) -> String {
        format!(
            "{} done, {} up to date, {} failed, {} skipped, {} cancelled",
            self.count(|e| *e == Ended::Done),
            self.count(|e| *e == Ended::UpToDate),
            self.count(|e| matches!(e, Ended::Failed(_))),
            self.count(|e| matches!(e, Ended::Skipped { .. })),
            self.count(|e| matches!(e, Ended::Cancelled { .. })),
        )
    }

    /// How many briefs ended `matching`.
    pub fn count(&self, matching: impl Fn(&Ended) -> bool) -> usize {
        self.ended.iter().filter(|ended| matching(ended)).count()
    }
}
