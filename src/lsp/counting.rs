//! The background count (DESIGN §6): once a document has been quiet for [`PAUSE`] after a
//! lint (its opening, a pause in typing, an answer landing, a configuration change), the
//! budgets of all its briefs are counted on the blocking pool, and the briefs over budget
//! kept for the `over-budget` rule. The document is linted again only when that verdict
//! changed.
//!
//! This is the one owner of the verdicts: lenses and hovers only read counts, so the
//! diagnostics cover every brief, in view or not, and no request waits for the tokenizer.
//! Counts are cached by text ([`crate::dispatch::tokens`]): after a keystroke only the brief
//! that changed is counted again.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use dashmap::DashMap;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tower_lsp_server::ls_types as lsp;

use super::budget::budgets;
use super::guard::contain;
use super::linter::Linter;
use super::state::State;
use crate::brief::lint::OverBudget;

/// How long a document stays quiet before it is counted: typing never waits for a count.
pub const PAUSE: Duration = Duration::from_millis(300);

/// The briefs over budget in each open document, as last counted, and where to ask for a
/// count.
#[derive(Default)]
pub struct Verdicts {
    over: DashMap<String, Vec<OverBudget>>,
    asks: OnceLock<mpsc::UnboundedSender<String>>,
}

impl Verdicts {
    /// The briefs of `uri` over budget, as last counted.
    pub fn of(&self, uri: &str) -> Vec<OverBudget> {
        self.over
            .get(uri)
            .map(|over| over.clone())
            .unwrap_or_default()
    }

    /// Counts `uri` once it has been quiet for [`PAUSE`]; asked after every lint, so it must
    /// stay cheap: a message to the counting task.
    pub fn ask(&self, uri: &str) {
        if let Some(asks) = self.asks.get() {
            // The task ends only with the server.
            let _ = asks.send(uri.to_owned());
        }
    }

    pub fn forget(&self, uri: &str) {
        self.over.remove(uri);
    }

    /// Keeps the briefs of `uri` found over budget; whether that changed what its
    /// `over-budget` diagnostics say.
    fn set(&self, uri: &str, mut over: Vec<OverBudget>) -> bool {
        over.sort();
        if self.over.get(uri).is_some_and(|old| *old == over) {
            return false;
        }
        if over.is_empty() && !self.over.contains_key(uri) {
            return false;
        }
        self.over.insert(uri.to_owned(), over);
        true
    }
}

/// Starts the counting task; it ends with the server.
pub fn spawn(state: Arc<State>, linter: Linter) {
    let (asks, queue) = mpsc::unbounded_channel();
    if state.verdicts.asks.set(asks).is_ok() {
        tokio::spawn(run(queue, state, linter));
    }
}

async fn run(mut queue: mpsc::UnboundedReceiver<String>, state: Arc<State>, linter: Linter) {
    // Documents asked for, and when each will have been quiet long enough.
    let mut due: HashMap<String, Instant> = HashMap::new();
    loop {
        let next = due.values().min().copied();
        tokio::select! {
            asked = queue.recv() => match asked {
                Some(uri) => {
                    due.insert(uri, Instant::now() + PAUSE);
                }
                None => return,
            },
            () = tokio::time::sleep_until(next.unwrap_or_else(Instant::now)), if next.is_some() => {
                let now = Instant::now();
                let ready: Vec<String> = (due.iter())
                    .filter(|(_, at)| **at <= now)
                    .map(|(uri, _)| uri.clone())
                    .collect();
                for uri in ready {
                    due.remove(&uri);
                    let counted = state.clone();
                    let asked = uri.clone();
                    let changed = tokio::task::spawn_blocking(move || count(&counted, &asked));
                    if changed.await.unwrap_or(false) {
                        if let Ok(uri) = lsp::Uri::from_str(&uri) {
                            linter.lint(uri);
                        }
                    }
                }
            }
        }
    }
}

/// Counts every brief of `uri` and keeps its verdicts; whether they changed.
fn count(state: &State, uri: &str) -> bool {
    let Some(Ok(snapshot)) = state.snapshot(uri) else {
        return false;
    };
    let over = contain("counting budgets", || {
        let open_at = |path: &Path| state.open_document_at(path);
        budgets(&snapshot, &open_at).map_or_else(Vec::new, |mut budgets| budgets.over())
    });
    match over {
        // Closed meanwhile: nothing to keep.
        Ok(over) if state.store.get(uri).is_some() => state.verdicts.set(uri, over),
        Ok(_) => false,
        Err(panicked) => {
            tracing::error!("{}", panicked.user_message());
            false
        }
    }
}
