//! The linter task: lints open documents as their edits land, the newest version only.
//!
//! Handlers apply edits to the store at once and ask for a lint here. The task lints
//! whatever version the store holds when it gets to a document, so a burst of keystrokes
//! that arrives while a lint runs costs one more lint, not one per keystroke: diagnostics
//! never fall behind the text. With no backlog, a lint starts as soon as the edit is
//! applied; there is no debounce. Documents the user edits are linted before documents that
//! only a streaming answer changed, so typing stays quick while runs write.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;
use tower_lsp_server::ls_types as lsp;
use tower_lsp_server::Client;

use super::diagnostics;
use super::state::State;

/// Where handlers ask for lints.
#[derive(Clone)]
pub struct Linter {
    jobs: mpsc::UnboundedSender<lsp::Uri>,
    /// Lints asked for and not yet done (or merged into another request).
    outstanding: Arc<AtomicUsize>,
}

impl Linter {
    /// Starts the task; it ends when the `Linter` is dropped.
    pub fn spawn(client: Client, state: Arc<State>) -> Linter {
        let (jobs, queue) = mpsc::unbounded_channel();
        let outstanding = Arc::new(AtomicUsize::new(0));
        tokio::spawn(run(queue, client, state, outstanding.clone()));
        Linter { jobs, outstanding }
    }

    /// Lints the document at `uri` at the version it has when its turn comes.
    pub fn lint(&self, uri: lsp::Uri) {
        self.outstanding.fetch_add(1, Ordering::SeqCst);
        // The task ends only with the server; a lint asked for after that has no one to see it.
        let _ = self.jobs.send(uri);
    }

    /// Whether the task has nothing to do: a lint done now, by the caller, waits for no one.
    pub fn is_idle(&self) -> bool {
        self.outstanding.load(Ordering::SeqCst) == 0
    }
}

async fn run(
    mut queue: mpsc::UnboundedReceiver<lsp::Uri>,
    client: Client,
    state: Arc<State>,
    outstanding: Arc<AtomicUsize>,
) {
    let done = |count: usize| outstanding.fetch_sub(count, Ordering::SeqCst);
    // Documents waiting for a lint, each once, in the order asked.
    let mut pending: VecDeque<lsp::Uri> = VecDeque::new();
    loop {
        if pending.is_empty() {
            match queue.recv().await {
                Some(uri) => pending.push_back(uri),
                None => return,
            }
        }
        // Everything asked for meanwhile; a document already waiting keeps its place.
        while let Ok(uri) = queue.try_recv() {
            if pending.contains(&uri) {
                done(1);
            } else {
                pending.push_back(uri);
            }
        }
        // What the user types comes before what a run writes: a document an answer is
        // streaming into waits while another one needs linting.
        let next = pending
            .iter()
            .position(|uri| !state.runs.is_streaming_into(uri.as_str()))
            .unwrap_or(0);
        let Some(uri) = pending.remove(next) else {
            continue;
        };
        // Closed meanwhile: nothing to lint.
        if let Some(open) = state.store.get(uri.as_str()) {
            for linted in diagnostics::diagnose_change(&state, &uri, &open) {
                diagnostics::publish_linted(&client, &state, linted).await;
            }
        }
        done(1);
    }
}
