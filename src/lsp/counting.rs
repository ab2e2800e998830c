//! The background count (DESIGN §6): once a document has been quiet for [`PAUSE`] after a
//! lint (its opening, a pause in typing, an answer landing, a configuration change), the
//! budgets of all its briefs are counted on a thread of low priority, and the briefs over budget
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
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use dashmap::DashMap;
use tokio::sync::{oneshot, Notify};
use tokio::time::Instant;
use tower_lsp_server::ls_types as lsp;

use super::budget::budgets;
use super::guard::contain;
use super::linter::Linter;
use super::state::State;
use crate::brief::lint::OverBudget;

/// How long a document stays quiet before it is counted: typing never waits for a count.
pub const PAUSE: Duration = Duration::from_millis(300);

/// The briefs over budget in each open document, as last counted, and the documents waiting
/// for a count.
#[derive(Default)]
pub struct Verdicts {
    over: DashMap<String, Vec<OverBudget>>,
    /// Each document asked for, with when it was last asked: it is counted once that is
    /// [`PAUSE`] ago.
    asked: Mutex<HashMap<String, std::time::Instant>>,
    /// Wakes the counting task when a document is asked for while none was waiting.
    wake: Notify,
}

impl Verdicts {
    /// The briefs of `uri` over budget, as last counted.
    pub fn of(&self, uri: &str) -> Vec<OverBudget> {
        self.over
            .get(uri)
            .map(|over| over.clone())
            .unwrap_or_default()
    }

    /// Counts `uri` once it has been quiet for [`PAUSE`]. Asked after every lint, so it must
    /// stay cheap: while the user types, a lookup and a time stamp, and no task woken.
    pub fn ask(&self, uri: &str) {
        let now = std::time::Instant::now();
        let mut asked = self.asked.lock().unwrap_or_else(PoisonError::into_inner);
        match asked.get_mut(uri) {
            Some(at) => *at = now,
            None => {
                let first = asked.is_empty();
                asked.insert(uri.to_owned(), now);
                if first {
                    self.wake.notify_one();
                }
            }
        }
    }

    pub fn forget(&self, uri: &str) {
        self.over.remove(uri);
    }

    /// The documents quiet for [`PAUSE`], taken off the waiting list; and when the next one
    /// will be, if any waits.
    fn quiet(&self) -> (Vec<String>, Option<Instant>) {
        let now = std::time::Instant::now();
        let mut asked = self.asked.lock().unwrap_or_else(PoisonError::into_inner);
        let ready: Vec<String> = (asked.iter())
            .filter(|(_, at)| now.duration_since(**at) >= PAUSE)
            .map(|(uri, _)| uri.clone())
            .collect();
        for uri in &ready {
            asked.remove(uri);
        }
        let next = asked
            .values()
            .min()
            .map(|at| Instant::from_std(*at + PAUSE));
        (ready, next)
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

/// A document to count, and where to say whether its verdicts changed.
type Job = (String, oneshot::Sender<bool>);

/// Starts the counting task, and the thread it counts on. Counts run on a thread of their own
/// at a lower priority: on a machine with two cores, counting a large document never takes
/// the core a keystroke's lint needs.
pub fn spawn(state: Arc<State>, linter: Linter) {
    let (jobs, queue) = std::sync::mpsc::channel::<Job>();
    let counting = state.clone();
    let started = std::thread::Builder::new()
        .name("baton-count".to_owned())
        .spawn(move || {
            lower_priority();
            // Ends when the task does, with the server's runtime.
            for (uri, changed) in queue {
                let _ = changed.send(count(&counting, &uri));
            }
        });
    match started {
        Ok(_) => {
            tokio::spawn(run(state, linter, jobs));
        }
        Err(error) => tracing::error!("no thread to count budgets on: {error}"),
    }
}

async fn run(state: Arc<State>, linter: Linter, jobs: std::sync::mpsc::Sender<Job>) {
    loop {
        let (ready, next) = state.verdicts.quiet();
        for uri in ready {
            let (changed, answer) = oneshot::channel();
            if jobs.send((uri.clone(), changed)).is_err() {
                return;
            }
            if answer.await.unwrap_or(false) {
                if let Ok(uri) = lsp::Uri::from_str(&uri) {
                    linter.lint(uri);
                }
            }
        }
        match next {
            // Asked again meanwhile, its time moved on: it is looked at again then.
            Some(at) => tokio::time::sleep_until(at).await,
            None => state.verdicts.wake.notified().await,
        }
    }
}

/// Lowers the calling thread's scheduling priority (nice 10). Linux keeps a nice value per
/// thread; elsewhere it would be the whole process's, so it is left alone.
#[cfg(target_os = "linux")]
fn lower_priority() {
    // SAFETY: both calls take and return plain integers; the thread named is this one.
    let thread = unsafe { libc::gettid() };
    if unsafe { libc::setpriority(libc::PRIO_PROCESS, thread as libc::id_t, 10) } != 0 {
        tracing::debug!("the counting thread keeps its priority");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

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
