//! Opening documents: stored unparsed by `didOpen`, then parsed, linted and published on the
//! blocking pool, one thread per core at most.

use std::collections::VecDeque;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::runtime::Handle;
use tower_lsp_server::ls_types as lsp;

use super::diagnostics;
use super::dispatch::Dispatcher;
use super::guard::contain;

/// The documents opened and not parsed yet, in the order they opened, worked through on the
/// blocking pool by at most one thread per core: a session restoring a thousand tabs keeps
/// every core busy without a thread for each tab, and a thread goes on to the next document
/// without handing over to another. (Not the linter task: a document opens once, so there is
/// nothing to coalesce, and a workspace of opens should not wait in one queue.)
pub struct Openings {
    /// The documents waiting (their URIs and versions), and how many threads work.
    waiting: Mutex<(VecDeque<(lsp::Uri, i32)>, usize)>,
    cores: usize,
}

impl Openings {
    pub fn new() -> Self {
        Openings {
            waiting: Mutex::default(),
            cores: std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
        }
    }

    /// Queues a document just opened; starts a thread if fewer than one per core work.
    pub fn push(self: &Arc<Self>, dispatcher: &Dispatcher, uri: lsp::Uri, version: i32) {
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        waiting.0.push_back((uri, version));
        if waiting.1 < self.cores {
            waiting.1 += 1;
            let (openings, dispatcher) = (self.clone(), dispatcher.clone());
            tokio::task::spawn_blocking(move || openings.work(&dispatcher));
        }
    }

    /// Opens the documents waiting, until none is left.
    fn work(&self, dispatcher: &Dispatcher) {
        let runtime = Handle::current();
        while let Some((uri, version)) = self.next() {
            // Contained whole: a panic must not end this thread, which `waiting` counts.
            let opened = contain("opening a document", || {
                finish_opening(dispatcher, &runtime, &uri, version)
            });
            if let Err(panicked) = opened {
                let (client, state) = (&dispatcher.client, &dispatcher.state);
                runtime.block_on(diagnostics::tell_user(client, state, panicked));
            }
        }
    }

    /// The next document waiting; `None`, with one thread fewer counted, when there is none.
    fn next(&self) -> Option<(lsp::Uri, i32)> {
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        let next = waiting.0.pop_front();
        if next.is_none() {
            waiting.1 -= 1;
        }
        next
    }
}

/// Parses (unless a reader came first), lints and publishes the document opened at `uri` at
/// `version`, then looks for its runs in the journal, which reads its briefs. Does nothing if
/// the document was closed, or changed: the change lints its own version.
fn finish_opening(dispatcher: &Dispatcher, runtime: &Handle, uri: &lsp::Uri, version: i32) {
    let (client, state) = (&dispatcher.client, &*dispatcher.state);
    let open = match state.parsed(uri.as_str()) {
        Some(Ok(open)) if open.version == version => open,
        Some(Err(panicked)) => {
            return runtime.block_on(diagnostics::tell_user(client, state, panicked));
        }
        _ => return,
    };
    let linted = diagnostics::diagnose_change(state, uri, &open);
    // Closed and opened again at the same version meanwhile: the new opening publishes
    // (`publish` alone would let the old text's diagnostics through, as the version matches).
    let stored = state.store.get(uri.as_str());
    if stored.is_some_and(|stored| Arc::ptr_eq(&stored, &open)) {
        for linted in linted {
            runtime.block_on(diagnostics::publish_linted(client, state, linted));
        }
    }
    dispatcher.scan_journal(uri);
}
