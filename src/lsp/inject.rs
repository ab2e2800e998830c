//! Streaming a run's answer into the document (DESIGN §4 step 4) with `workspace/applyEdit`.
//!
//! The block is created under its brief when the first text arrives, then grows by appended
//! edits, at most one per flush (the caller flushes about every 50 ms). Every edit is computed
//! from the document as the store holds it *now*, placed by finding the run's marker, and sent
//! as a versioned edit: if the user typed meanwhile, the client refuses it and the next flush
//! tries again with the newer text. So the user can keep typing anywhere.
//!
//! What the block should hold is always "everything received": each flush appends what the
//! block lacks, so an edit the client dropped without saying so is made good by the next one.
//! If the user deletes the block (or its brief, or closes the document), injection stops; the
//! answer is in the journal, and recovery offers it back.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tower_lsp_server::ls_types as lsp;
use tower_lsp_server::Client;

use super::state::State;
use super::to_proto;
use crate::brief::fix::TextEdit;
use crate::brief::model;
use crate::brief::output::{self, Marker, Status};
use crate::document::store::OpenDocument;

/// How long to wait for the client to report an applied edit back (`didChange`) before
/// computing the next edit from the store anyway.
const ECHO_WAIT: Duration = Duration::from_millis(1000);

/// Why injection stopped early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopped {
    /// The user deleted the block.
    BlockDeleted,
    /// The brief is gone (deleted or renamed).
    BriefGone,
    /// The document was closed.
    Closed,
    /// The brief was sent again to the same agent: the new run writes the block.
    Replaced,
}

impl Stopped {
    pub fn describe(self) -> &'static str {
        match self {
            Stopped::BlockDeleted => "its output block was deleted",
            Stopped::BriefGone => "its brief is no longer in the document",
            Stopped::Closed => "the document was closed",
            Stopped::Replaced => "the brief was sent again",
        }
    }
}

/// One run's writer into one document.
pub struct Injector {
    client: Client,
    state: Arc<State>,
    uri: lsp::Uri,
    title: String,
    marker: Marker,
    received: String,
    /// How much of `received` the client said it applied.
    acknowledged: usize,
    /// Whether the block has been seen in the store: before that, a missing block means our
    /// creating edit has not come back yet (or was dropped), not that the user deleted it.
    seen: bool,
    /// The version an applied edit was computed from, until the store moves past it.
    awaiting: Option<(i32, Instant)>,
    /// Whether a new run of the same brief and agent replaced this one.
    replaced: bool,
    stopped: Option<Stopped>,
}

impl Injector {
    pub fn new(
        client: Client,
        state: Arc<State>,
        uri: lsp::Uri,
        title: String,
        marker: Marker,
    ) -> Self {
        Injector {
            client,
            state,
            uri,
            title,
            marker,
            received: String::new(),
            acknowledged: 0,
            seen: false,
            awaiting: None,
            replaced: false,
            stopped: None,
        }
    }

    /// The run was replaced by a new run of the same brief and agent: from now on it only
    /// finishes a block it has in the document, and never creates one, which would take the
    /// place of the new run's block.
    pub fn replaced(&mut self) {
        self.replaced = true;
    }

    /// A new agent takes over (a fallback) before any text arrived.
    pub fn retarget(&mut self, run: &str, agent: &str, model: &str) {
        self.marker.run = run.to_owned();
        self.marker.agent = agent.to_owned();
        self.marker.model = model.to_owned();
    }

    pub fn push(&mut self, text: &str) {
        self.received.push_str(text);
    }

    pub fn received(&self) -> &str {
        &self.received
    }

    pub fn stopped(&self) -> Option<Stopped> {
        self.stopped
    }

    /// Whether the document lacks text it should have.
    pub fn behind(&self) -> bool {
        self.stopped.is_none() && self.acknowledged < self.received.len()
    }

    /// One step towards the document holding everything received, with the marker at
    /// `status`. Returns whether the document is (as far as the client said) up to date.
    pub async fn flush(&mut self, status: Status) -> bool {
        if self.stopped.is_some() {
            return true;
        }
        let Some(open) = self.state.store.get(self.uri.as_str()) else {
            self.stopped = Some(Stopped::Closed);
            return true;
        };
        if let Some((version, since)) = self.awaiting {
            if open.version == version && since.elapsed() < ECHO_WAIT {
                return false;
            }
            self.awaiting = None;
        }
        let text = open.document.text();
        let edits = match output::find(&text, &self.marker.run) {
            Some(block) => {
                self.seen = true;
                self.append_edits(&text, &block, status)
            }
            None if self.replaced => {
                self.stopped = Some(Stopped::Replaced);
                return true;
            }
            None if self.seen => {
                self.stopped = Some(Stopped::BlockDeleted);
                return true;
            }
            None => match self.create_edit(&open, &text, status) {
                Some(edit) => vec![edit],
                None => return true,
            },
        };
        if edits.is_empty() {
            return true;
        }
        let applied = self.apply(&open, &edits).await;
        if applied {
            self.acknowledged = self.received.len();
            self.awaiting = Some((open.version, Instant::now()));
        }
        false
    }

    /// The edit creating the block under the brief (replacing the agent's earlier block).
    fn create_edit(&mut self, open: &OpenDocument, text: &str, status: Status) -> Option<TextEdit> {
        let briefs = model::briefs(&open.document);
        let Some(brief) = briefs.iter().find(|brief| brief.title == self.title) else {
            self.stopped = Some(Stopped::BriefGone);
            return None;
        };
        let marker = Marker {
            status,
            ..self.marker.clone()
        };
        let block = output::block_text(&marker.agent, &marker, &self.received);
        let (range, new_text) = output::placement(text, brief.range.clone(), &marker.agent, &block);
        Some(TextEdit { range, new_text })
    }

    /// What the block lacks, appended; and the marker's status, when it changed.
    fn append_edits(&self, text: &str, block: &output::Block, status: Status) -> Vec<TextEdit> {
        let body = &text[block.body.clone()];
        let missing = if self.received.starts_with(body) {
            &self.received[body.len()..]
        } else {
            // The user edited inside the block: append only what was never sent.
            &self.received[self.acknowledged.min(self.received.len())..]
        };
        let mut edits = Vec::new();
        if block.marker.status != status {
            if let Some((range, new_text)) = output::restatus(text, &self.marker.run, status) {
                edits.push(TextEdit { range, new_text });
            }
        }
        if !missing.is_empty() {
            let (at, new_text) = block.append(missing);
            edits.push(TextEdit {
                range: at..at,
                new_text,
            });
        }
        edits
    }

    async fn apply(&self, open: &OpenDocument, edits: &[TextEdit]) -> bool {
        let session = self.state.session();
        let edits = to_proto::text_edits(&open.document, edits, session.encoding);
        let edit = to_proto::workspace_edit(
            vec![(self.uri.clone(), Some(open.version), edits)],
            session.document_changes,
        );
        match self.client.apply_edit(edit).await {
            Ok(response) => {
                if !response.applied {
                    tracing::debug!(
                        "client refused an output edit at v{}: {}",
                        open.version,
                        response.failure_reason.unwrap_or_default()
                    );
                }
                response.applied
            }
            Err(error) => {
                tracing::warn!("workspace/applyEdit failed: {error}");
                false
            }
        }
    }
}
