//! The budgets of a document's briefs (DESIGN §6): each brief as its own agent would get it
//! (role, the thread's earlier turns, the brief, its inputs) against that agent's context
//! window. For the editor's budget lenses, hovers and background count, and `baton check`.
//!
//! Counts are cached by text ([`super::tokens`]), so after a keystroke only the brief that
//! changed is counted again; the thread and the journal are read once per [`Budgets`]. Which
//! briefs are over budget ([`Budgets::over`]) is decided without counting a brief whose text
//! is too short to be over (a token is at least one byte): a document of ordinary briefs never
//! loads the tokenizer for it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::budget::{self, Budget, Texts, Verdict};
use super::inputs;
use super::plan;
use super::thread::{ThreadKey, Threads, Turn};
use super::tokens::Counter;
use crate::brief::graph::TitleIndex;
use crate::brief::lint::{Analysis, OverBudget};
use crate::brief::model::Brief;
use crate::brief::payload;
use crate::document::Document;
use crate::workspace::{LinkedDocuments, Settings};

/// What the budgets of one document's briefs read once for all of them.
pub struct Budgets<'a> {
    document: &'a Document,
    analysis: &'a Analysis,
    settings: &'a Settings,
    linked: Option<LinkedDocuments<'a>>,
    titles: TitleIndex,
    path: PathBuf,
    root: PathBuf,
    turns: HashMap<ThreadKey, Vec<Turn>>,
    corrections: HashMap<String, Option<f64>>,
}

/// How a budget is had: counting what was never counted, from the cache alone, or only when
/// the texts are long enough to be over budget.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Counting {
    Count,
    Cached,
    IfItMatters,
}

impl<'a> Budgets<'a> {
    /// The budgets of the briefs of `document`, saved at `path` (the journal and threads are
    /// found from it); its links to other files are read through `linked`. `None` for a
    /// document that is no baton document.
    pub fn new(
        document: &'a Document,
        analysis: &'a Analysis,
        settings: &'a Settings,
        path: &Path,
        linked: Option<LinkedDocuments<'a>>,
    ) -> Option<Budgets<'a>> {
        if !analysis.is_baton_document() {
            return None;
        }
        Some(Budgets {
            document,
            analysis,
            settings,
            linked,
            titles: TitleIndex::new(&analysis.briefs),
            path: path.to_path_buf(),
            root: plan::journal_root(&settings.config, path),
            turns: HashMap::new(),
            corrections: HashMap::new(),
        })
    }

    /// The budget of `brief` with its own agent, counting what was never counted; `None` when
    /// it has no agent baton knows.
    pub fn of(&mut self, brief: &Brief) -> Option<Budget> {
        self.budget(brief, Counting::Count).flatten()
    }

    /// The budget of `brief` from the cache alone: `Some(None)` when some of its text was
    /// never counted, `None` when it has no agent baton knows.
    pub fn counted(&mut self, brief: &Brief) -> Option<Option<Budget>> {
        self.budget(brief, Counting::Cached)
    }

    /// The briefs over budget, with the numbers; a brief too short to be over is not counted.
    pub fn over(&mut self) -> Vec<OverBudget> {
        let analysis = self.analysis;
        (analysis.briefs.iter())
            .filter_map(|brief| {
                let budget = self.budget(brief, Counting::IfItMatters).flatten()?;
                let verdict = budget.verdict();
                (verdict != Verdict::Within).then(|| OverBudget {
                    title: brief.title.clone(),
                    message: budget.message(),
                    past: verdict == Verdict::Past,
                })
            })
            .collect()
    }

    fn budget(&mut self, brief: &Brief, counting: Counting) -> Option<Option<Budget>> {
        let (analysis, config) = (self.analysis, &self.settings.config);
        let agent = plan::own_agent(brief, analysis, config)?;
        let spec = config.agent(&agent)?;
        let kind = self.settings.kinds.get(analysis.kind.as_deref()?)?;
        let own = payload::own_part(self.document, brief, kind);
        let (briefs, linked) = (&analysis.briefs, self.linked.as_ref());
        let gathered = inputs::gather(self.document, briefs, &self.titles, brief, linked);
        let turns = match plan::thread_key(analysis, &self.path, &self.root, &agent) {
            Some(key) => {
                let root = &self.root;
                self.turns
                    .entry(key)
                    .or_insert_with_key(|key| Threads::new(root).turns(key))
                    .as_slice()
            }
            None => &[],
        };
        let correction = match Counter::for_agent(spec).estimate {
            true => *self
                .corrections
                .entry(agent.clone())
                .or_insert_with(|| budget::journalled(&self.root, &agent)),
            false => None,
        };
        let texts = Texts {
            role: spec.role.as_deref(),
            thread: turns
                .iter()
                .flat_map(|turn| {
                    std::iter::once(turn.user.as_str()).chain(turn.assistant.as_deref())
                })
                .collect(),
            brief: &own,
            inputs: gathered.iter().map(|input| input.text.as_str()).collect(),
        };
        let defaults = &config.file.defaults;
        Some(match counting {
            Counting::Count => Some(Budget::count(&agent, spec, defaults, &texts, correction)),
            Counting::Cached => Budget::counted(&agent, spec, defaults, &texts, correction),
            Counting::IfItMatters if !Budget::may_be_over(spec, defaults, &texts, correction) => {
                None
            }
            Counting::IfItMatters => {
                Some(Budget::count(&agent, spec, defaults, &texts, correction))
            }
        })
    }
}
