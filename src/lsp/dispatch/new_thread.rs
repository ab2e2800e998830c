//! `baton.newThread`: "Start a new thread with @agent" (DESIGN §6). The turns of the thread
//! the brief's runs with that agent carry on are forgotten: the next run is sent without them.
//! The thread file and the journal keep them.

use serde_json::{json, Value};

use super::{Args, Dispatcher};
use crate::dispatch::plan;
use crate::dispatch::thread::Threads;
use crate::lsp::refused::{refused, Outcome};

impl Dispatcher {
    /// Starts the thread of the document with `agent` (else the brief's own agent) anew;
    /// answers `{ "forgotten": n }`, the number of turns the next run is no longer sent.
    pub(super) fn new_thread(&self, args: &Args) -> Outcome<Value> {
        let snapshot = self.snapshot(args.uri()?)?;
        let Some(path) = snapshot.context.path.as_deref() else {
            return Err(refused(
                "save the document first: threads are kept beside it",
            ));
        };
        let analysis = snapshot.analysis();
        let config = &snapshot.settings().config;
        let agent = match &args.agent {
            Some(agent) => agent.clone(),
            None => {
                let index = self.brief_index(&snapshot, args)?;
                plan::own_agent(&analysis.briefs[index], analysis, config).ok_or_else(|| {
                    refused("no agent for this brief: say which thread to start anew (`agent`)")
                })?
            }
        };
        let root = plan::journal_root(config, path);
        let Some(key) = plan::thread_key(analysis, path, &root, &agent) else {
            return Err(refused(
                "this document has `thread: none`: its runs are sent without earlier turns already",
            ));
        };
        let threads = Threads::new(&root);
        let forgotten = threads.turns(&key).len();
        if forgotten > 0 {
            threads.start_new(&key, None).map_err(|error| {
                refused(format!(
                    "baton did not start a new thread with @{agent}: {error}"
                ))
            })?;
        }
        tracing::info!("new thread with @{agent}: {forgotten} turns forgotten");
        Ok(json!({ "forgotten": forgotten }))
    }
}
