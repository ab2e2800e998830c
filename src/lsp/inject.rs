//! Streaming a run's answer into the document (DESIGN §4 step 4) with `workspace/applyEdit`.
//!
//! The block is created under its brief when the first text arrives, then grows by appended
//! edits, at most one per flush (the caller flushes about every 50 ms). Every edit is computed
//! from the document as the store holds it *now* (`dispatch::place`), and sent
//! versioned when the client takes versions. How often edits may go out while the user types
//! is `writing`'s decision: live, or only when typing pauses.
//!
//! What the block should hold is always "everything received": each flush appends what the
//! block lacks. An edit the client answered `applied: true` is not taken on trust: nothing more
//! is computed until a version of the document shows whether it landed, because computing from
//! text that may lack it would write the same text (or a second block) twice. The first
//! version the client reports after its answer holds the edit if the client applied it; if it
//! does not, the client dropped it, and the next edit is computed from that newer text. A
//! block is created only where the text holds no marker of the run at all.
//!
//! If the user deletes the block (or its brief, or closes the document), injection stops; the
//! answer is in the journal, and recovery offers it back.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tower_lsp_server::ls_types as lsp;
use tower_lsp_server::Client;

use super::state::State;
use super::to_proto;
use crate::brief::fix::TextEdit;
use crate::brief::output::{self, Marker, Status};
use crate::dispatch::place::{self, Answer as Placing, Gone, Placed};
use crate::document::store::OpenDocument;

/// How long to wait for a newer version after the client refused an edit, or after it said it
/// applied one, before deciding without it. Live writing then computes the next edit from the
/// text it has: a versioned edit, which the client refuses again if it moved on.
const ECHO_WAIT: Duration = Duration::from_millis(1000);

/// How long pause writing waits for an applied edit to come back before it stops writing:
/// computing again from text that may lack the edit could write it twice, and a client that
/// applied an edit reports the change within milliseconds.
const ECHO_GIVE_UP: Duration = Duration::from_secs(10);

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
    /// The editor said it applied an edit but never reported the change.
    NoEcho,
    /// The run ended, but the document never stood still long enough to take the last edits.
    KeptChanging,
}

impl Stopped {
    pub fn describe(self) -> &'static str {
        match self {
            Stopped::BlockDeleted => "its output block was deleted",
            Stopped::BriefGone => "its brief is no longer in the document",
            Stopped::Closed => "the document was closed",
            Stopped::Replaced => "the brief was sent again",
            Stopped::NoEcho => "the editor said it applied an edit but never reported the change",
            Stopped::KeptChanging => {
                "the document kept changing, so the end of the answer could not be written"
            }
        }
    }
}

/// An edit the client answered `applied: true`, until a version shows whether it landed.
struct Unconfirmed {
    /// The store's version when the answer came: any later version holds the edit if the
    /// client applied it, since the client reports its changes in order.
    answered_at: i32,
    since: Instant,
    /// What the block holds once the edit is in: so much of `received`, with this status.
    holds: usize,
    status: Status,
    versioned: bool,
}

/// What the client answered to an edit.
enum Answer {
    Applied,
    Refused,
}

/// Tells writers apart for `Writing::claim`.
static WRITERS: AtomicU64 = AtomicU64::new(0);

/// One run's writer into one document.
pub struct Injector {
    id: u64,
    client: Client,
    state: Arc<State>,
    uri: lsp::Uri,
    title: String,
    marker: Marker,
    received: String,
    /// Whether the run is over: nothing more will be received.
    finished: bool,
    /// `[output] demote_headings` for this run.
    demote: bool,
    /// `received` as the block holds it (`place::body`), made once per change of it.
    body: std::sync::OnceLock<String>,
    /// How much of the body the block was seen to hold (kept when the user edits inside the
    /// block, to append only what was never written).
    written: usize,
    /// Whether the block has been seen in the store: before that, a missing block means our
    /// creating edit has not landed, not that the user deleted it.
    seen: bool,
    unconfirmed: Option<Unconfirmed>,
    /// The version an edit was refused at, and when: the next edit waits for a newer one.
    refused: Option<(i32, Instant)>,
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
        demote: bool,
    ) -> Self {
        Injector {
            id: WRITERS.fetch_add(1, Ordering::Relaxed),
            client,
            state,
            uri,
            title,
            marker,
            received: String::new(),
            finished: false,
            demote,
            body: std::sync::OnceLock::new(),
            written: 0,
            seen: false,
            unconfirmed: None,
            refused: None,
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
        self.body.take();
    }

    pub fn received(&self) -> &str {
        &self.received
    }

    /// What the block should hold (`place::body`).
    fn body(&self) -> &str {
        self.body
            .get_or_init(|| place::body(&self.received, self.finished, self.demote))
    }

    pub fn stopped(&self) -> Option<Stopped> {
        self.stopped
    }

    /// The run is over and its last edits could not be written in time.
    pub fn give_up(&mut self) {
        self.stopped.get_or_insert(Stopped::KeptChanging);
    }

    /// Whether the document lacks text it should have, or an edit is still to be confirmed.
    pub fn behind(&self) -> bool {
        self.stopped.is_none() && (self.written < self.body().len() || self.unconfirmed.is_some())
    }

    /// One step towards the document holding everything received, with the marker at
    /// `status`. Returns whether the document is up to date (or injection stopped).
    pub async fn flush(&mut self, status: Status) -> bool {
        if self.stopped.is_some() {
            return true;
        }
        if status != Status::Running && !self.finished {
            self.finished = true;
            self.body.take();
        }
        let Some(open) = self.state.store.get(self.uri.as_str()) else {
            self.stopped = Some(Stopped::Closed);
            return true;
        };
        if !self.settled(&open) {
            return self.stopped.is_some();
        }
        if let Some((version, since)) = self.refused {
            if open.version == version && since.elapsed() < ECHO_WAIT {
                return false;
            }
            self.refused = None;
        }
        if !self.may_write() {
            return false;
        }
        let up_to_date = self.write(&open, status).await;
        if self.unconfirmed.is_none() {
            self.release();
        }
        up_to_date
    }

    /// Computes the next edit from the document's text and sends it. Returns whether the
    /// document is up to date (or injection stopped).
    async fn write(&mut self, open: &OpenDocument, status: Status) -> bool {
        let text = open.document.text();
        let marker = Marker {
            status,
            ..self.marker.clone()
        };
        let placed = {
            let body = self.body();
            let answer = Placing {
                title: &self.title,
                marker: &marker,
                body,
                written: self.written,
                // A block once seen and now missing was deleted; a replaced run leaves the
                // place to the new run's block.
                may_create: !self.seen && !self.replaced,
            };
            place::place(&open.document, &text, &answer)
        };
        let edits = match placed {
            Placed::Update { edits, holds } => {
                self.seen = true;
                self.written = holds;
                edits
            }
            Placed::Create(edit) => vec![edit],
            Placed::Gone(gone) => {
                self.stopped = Some(match gone {
                    Gone::Block if self.replaced => Stopped::Replaced,
                    Gone::Block => Stopped::BlockDeleted,
                    Gone::Brief => Stopped::BriefGone,
                });
                return true;
            }
        };
        if edits.is_empty() {
            return true;
        }
        // Neovim checks no version 0 (where it opens every buffer): such an edit is applied
        // wherever it lands, as an unversioned one is.
        let versioned = self.state.session().document_changes && open.version > 0;
        match self.apply(open, &edits).await {
            Answer::Applied => self.applied(open.version, versioned, status),
            Answer::Refused => self.refused = Some((open.version, Instant::now())),
        }
        false
    }

    /// The client answered `applied: true` to an edit computed at `computed_at`.
    fn applied(&mut self, computed_at: i32, versioned: bool, status: Status) {
        let Some(now) = self.state.store.get(self.uri.as_str()) else {
            return;
        };
        self.unconfirmed = Some(Unconfirmed {
            answered_at: now.version,
            since: Instant::now(),
            holds: self.body().len(),
            status,
            versioned,
        });
        // The client may have reported the change before its answer was read.
        if now.version == computed_at || self.confirm_if_shown(&now.document.text()) {
            return;
        }
        if versioned {
            // The client reported a newer version before answering, without the edit: it had
            // moved past the edit's version, so it dropped the edit, whatever it answered.
            self.state.writing.dropped_an_edit();
            self.unconfirmed = None;
        }
    }

    /// Settles an edit the client said it applied, once a version shows whether it landed.
    /// Returns whether a new edit may be computed.
    fn settled(&mut self, open: &OpenDocument) -> bool {
        let Some(unconfirmed) = &self.unconfirmed else {
            return true;
        };
        if open.version != unconfirmed.answered_at {
            let text = open.document.text();
            if !self.confirm_if_shown(&text) {
                if self.unconfirmed.as_ref().is_some_and(|u| u.versioned) {
                    self.state.writing.dropped_an_edit();
                }
                tracing::debug!("an edit answered `applied` is not in v{}", open.version);
                self.unconfirmed = None;
            }
            self.release();
            return true;
        }
        let waited = unconfirmed.since.elapsed();
        if waited < ECHO_WAIT {
            return false;
        }
        if self.state.writing.live() {
            // A versioned edit computed from this text again is refused if the client has
            // moved past it, and is right if the client never applied the first one.
            self.unconfirmed = None;
            self.release();
            return true;
        }
        if waited >= ECHO_GIVE_UP {
            self.stopped = Some(Stopped::NoEcho);
            self.release();
        }
        false
    }

    /// Whether an edit may go out now: always when writing live; else once typing paused, and
    /// no other run's edit to this document is on its way.
    fn may_write(&self) -> bool {
        let (writing, uri) = (&self.state.writing, self.uri.as_str());
        writing.live() || (writing.paused(uri) && writing.claim(uri, self.id))
    }

    fn release(&self) {
        self.state.writing.release(self.uri.as_str(), self.id);
    }

    /// Whether `text` holds the unconfirmed edit; if so, it is confirmed.
    fn confirm_if_shown(&mut self, text: &str) -> bool {
        let Some(unconfirmed) = &self.unconfirmed else {
            return true;
        };
        let Some(block) = output::find(text, &self.marker.run) else {
            return false;
        };
        let body = &text[block.body.clone()];
        // When the user edited inside the block, what it holds can no longer be told apart
        // from what was written: the block is there, so the edit landed.
        let holds = !self.body().starts_with(body) || body.len() >= unconfirmed.holds;
        if !holds || block.marker.status != unconfirmed.status {
            return false;
        }
        self.written = unconfirmed.holds;
        self.seen = true;
        self.unconfirmed = None;
        true
    }

    async fn apply(&self, open: &OpenDocument, edits: &[TextEdit]) -> Answer {
        let session = self.state.session();
        let edits = to_proto::text_edits(&open.document, edits, session.encoding);
        let edit = to_proto::workspace_edit(
            vec![(self.uri.clone(), Some(open.version), edits)],
            session.document_changes,
        );
        match self.client.apply_edit(edit).await {
            Ok(response) if response.applied => Answer::Applied,
            Ok(response) => {
                tracing::debug!(
                    "client refused an output edit at v{}: {}",
                    open.version,
                    response.failure_reason.unwrap_or_default()
                );
                Answer::Refused
            }
            Err(error) => {
                tracing::warn!("workspace/applyEdit failed: {error}");
                Answer::Refused
            }
        }
    }
}

impl Drop for Injector {
    fn drop(&mut self) {
        self.release();
    }
}
