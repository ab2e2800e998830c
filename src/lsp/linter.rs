//! The linter task: lints open documents as their edits land, the newest version only.
//!
//! Handlers apply edits to the store at once and ask for a lint here. The task lints
//! whatever version the store holds when it gets to a document, so a burst of keystrokes
//! that arrives while a lint runs costs one more lint, not one per keystroke: diagnostics
//! never fall behind the text. With no backlog, a lint starts as soon as the edit is
//! applied; there is no debounce.

use std::collections::HashSet;
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
}

impl Linter {
    /// Starts the task; it ends when the `Linter` is dropped.
    pub fn spawn(client: Client, state: Arc<State>) -> Linter {
        let (jobs, queue) = mpsc::unbounded_channel();
        tokio::spawn(run(queue, client, state));
        Linter { jobs }
    }

    /// Lints the document at `uri` at the version it has when its turn comes.
    pub fn lint(&self, uri: lsp::Uri) {
        // The task ends only with the server; a lint asked for after that has no one to see it.
        let _ = self.jobs.send(uri);
    }
}

async fn run(mut queue: mpsc::UnboundedReceiver<lsp::Uri>, client: Client, state: Arc<State>) {
    while let Some(first) = queue.recv().await {
        // Everything asked for meanwhile, each document once, in the order asked.
        let mut seen = HashSet::new();
        let mut batch = Vec::new();
        for uri in std::iter::once(first).chain(std::iter::from_fn(|| queue.try_recv().ok())) {
            if seen.insert(uri.as_str().to_owned()) {
                batch.push(uri);
            }
        }
        for uri in batch {
            let Some(open) = state.store.get(uri.as_str()) else {
                continue; // Closed meanwhile.
            };
            for linted in diagnostics::diagnose_change(&state, &uri, &open) {
                diagnostics::publish_linted(&client, &state, linted).await;
            }
        }
    }
}
