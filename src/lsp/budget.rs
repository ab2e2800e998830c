//! The budgets of a document's briefs (DESIGN §6), for the budget code lens and the hover on a
//! brief's heading: each brief as its own agent would get it (role, the thread's earlier
//! turns, the brief, its inputs) against that agent's context window.
//!
//! Never on the keystroke path: counted in the background once typing pauses
//! ([`super::counting`]), when a lens is resolved, or for a hover; a code lens request only
//! reads the cache ([`Budgets::counted`]). Counts are cached by text
//! ([`crate::dispatch::tokens`]), so after a keystroke only the brief that changed is counted
//! again; the thread and the journal are read once per request.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::state::Snapshot;
use crate::brief::graph::TitleIndex;
use crate::brief::hover::Hover;
use crate::brief::model::Brief;
use crate::brief::payload;
use crate::dispatch::budget::{self, Budget, Texts};
use crate::dispatch::inputs;
use crate::dispatch::journal::Journal;
use crate::dispatch::plan;
use crate::dispatch::thread::{ThreadKey, Threads, Turn};
use crate::dispatch::tokens::Counter;
use crate::document::Document;
use crate::workspace::LinkedDocuments;

/// What one request reads once for all the briefs of a document.
pub struct Budgets<'a> {
    snapshot: &'a Snapshot,
    linked: Option<LinkedDocuments<'a>>,
    titles: TitleIndex,
    path: PathBuf,
    root: PathBuf,
    turns: HashMap<ThreadKey, Vec<Turn>>,
    corrections: HashMap<String, Option<f64>>,
}

impl<'a> Budgets<'a> {
    /// `None` for a document that is no saved baton document (no journal, no thread).
    pub fn new(
        snapshot: &'a Snapshot,
        open: &'a dyn Fn(&Path) -> Option<Document>,
    ) -> Option<Budgets<'a>> {
        let path = snapshot.context.path.clone()?;
        if !snapshot.analysis().is_baton_document() {
            return None;
        }
        let root = plan::journal_root(&snapshot.settings().config, &path);
        Some(Budgets {
            snapshot,
            linked: snapshot.context.linked(open),
            titles: TitleIndex::new(&snapshot.analysis().briefs),
            path,
            root,
            turns: HashMap::new(),
            corrections: HashMap::new(),
        })
    }

    /// The budget of `brief` with its own agent, counting what was never counted; `None` when
    /// it has no agent baton knows.
    pub fn of(&mut self, brief: &Brief) -> Option<Budget> {
        self.budget(brief, true).flatten()
    }

    /// The budget of `brief` from the cache alone: `Some(None)` when some of its text was
    /// never counted (a lens then leaves the count to `codeLens/resolve` or the background
    /// count), `None` when it has no agent baton knows.
    pub fn counted(&mut self, brief: &Brief) -> Option<Option<Budget>> {
        self.budget(brief, false)
    }

    fn budget(&mut self, brief: &Brief, count: bool) -> Option<Option<Budget>> {
        let snapshot = self.snapshot;
        let (analysis, settings) = (snapshot.analysis(), snapshot.settings());
        let config = &settings.config;
        let agent = plan::own_agent(brief, analysis, config)?;
        let spec = config.agent(&agent)?;
        let kind = settings.kinds.get(analysis.kind.as_deref()?)?;
        let document = snapshot.document();
        let own = payload::own_part(document, brief, kind);
        let (briefs, linked) = (&analysis.briefs, self.linked.as_ref());
        let gathered = inputs::gather(document, briefs, &self.titles, brief, linked);
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
                .or_insert_with(|| budget::correction(&Journal::new(&self.root).runs(), &agent)),
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
        Some(match count {
            true => Some(Budget::count(&agent, spec, defaults, &texts, correction)),
            false => Budget::counted(&agent, spec, defaults, &texts, correction),
        })
    }
}

/// The hover at `offset` with, on a brief's heading, its budget broken down (role, thread,
/// brief, inputs) under what the hover already says. Not on the heading's `@mention`: that
/// hover is the agent's.
pub fn with_breakdown(snapshot: &Snapshot, offset: usize, found: Option<Hover>) -> Option<Hover> {
    let analysis = snapshot.analysis();
    let on_heading = analysis.briefs.iter().find(|brief| {
        let on_mention = (brief.mention.as_ref()).is_some_and(|m| m.range.contains(&offset));
        !on_mention && (brief.heading.as_ref()).is_some_and(|heading| heading.contains(&offset))
    });
    let Some(brief) = on_heading else {
        return found;
    };
    // Linked documents are read from disk: a hover has no access to the editor's buffers.
    let open = |_: &Path| None;
    let Some(budget) = Budgets::new(snapshot, &open).and_then(|mut budgets| budgets.of(brief))
    else {
        return found;
    };
    let heading = brief.heading.clone().unwrap_or(offset..offset);
    Some(match found {
        Some(mut hover) => {
            hover.markdown = format!("{}\n\n---\n\n{}", hover.markdown, budget.breakdown());
            hover
        }
        None => Hover {
            range: heading,
            markdown: budget.breakdown(),
        },
    })
}
