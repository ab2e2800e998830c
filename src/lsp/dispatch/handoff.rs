//! `baton.handoff` { uri, brief?, agent? } and `baton.resume` { uri, agent? } (DESIGN §6):
//! the editor's side of `dispatch::handoff_run`. A handoff is answered at once (with the agent
//! and whether an agent is asked) and written by a task, which then opens the file
//! (`window/showDocument`) for the user to read and edit; a resume starts the new thread from
//! the handoff as the editor holds it, unsaved edits included, and sends nothing.
//!
//! While an agent writes the handoff, it is listed beside the runs (`baton.runs`, `baton/runs`),
//! and a work-done progress (`baton-handoff-<id>`) follows its run as it queues and streams.
//! Cancelling the progress, or `baton.cancel` with the handoff's id or its document, cancels
//! the run: the journal keeps what arrived, marked cancelled, and no handoff is written. A
//! handoff baton writes from the journal takes no time and has no progress.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tower_lsp_server::ls_types as lsp;

use super::{Args, Dispatcher};
use crate::dispatch::handoff_run::{self, HandOff, Prepared, Written};
use crate::dispatch::journal::Journal;
use crate::dispatch::run::registry::{Phase, RunInfo};
use crate::dispatch::run::{Cancel, Event, Outcome};
use crate::dispatch::run_id;
use crate::dispatch::tokens;
use crate::lsp::guard::contain;
use crate::lsp::progress::{self, RunProgress};
use crate::lsp::refused::{refused, Failure, Outcome as Answered};
use crate::lsp::to_proto;

/// How often the handoff's progress says how many tokens arrived, at most.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// What the handoff's run tells the task that shows it.
enum Signal {
    Queued,
    Started {
        run: String,
    },
    /// The length of a piece of the answer.
    Text(usize),
    Note(String),
    Finished(Outcome),
}

/// What the progress has seen of the handoff's run.
#[derive(Default)]
struct Seen {
    run: Option<String>,
    received: usize,
    outcome: Option<Outcome>,
}

impl Dispatcher {
    /// `baton.handoff`: plans the handoff of the document's thread and writes it in a task.
    pub(super) async fn handoff(&self, args: Args) -> Answered<Value> {
        let uri = args.uri()?.to_owned();
        let snapshot = self.snapshot(&uri)?;
        let Some(path) = snapshot.context.path.clone() else {
            return Err(refused(
                "save the document first: the handoff is written beside it",
            ));
        };
        let machine = &snapshot.context.machine;
        let key_set = |variable: &str| machine.is_set(variable);
        let prepared = contain("planning a handoff", || {
            handoff_run::prepare(&HandOff {
                path: &path,
                document: snapshot.document(),
                analysis: snapshot.analysis(),
                settings: snapshot.settings(),
                brief: args.brief.as_deref(),
                agent: args.agent.as_deref(),
                offline: false,
                trusted: self.trusted(&snapshot),
                key_set: &key_set,
            })
        })
        .map_err(|panicked| Failure::Protocol(panicked.to_jsonrpc()))?
        .map_err(|message| refused(format!("cannot hand off: {message}")))?;
        let agent = prepared.agent().to_owned();
        let dispatcher = self.clone();
        let Some(plan) = prepared.plan() else {
            // Written from the journal at once: nothing to follow or cancel.
            tokio::spawn(async move {
                let queues = &dispatcher.state.runs.queues;
                let mut on_update = |_: Event<'_>| {};
                let cancel = Cancel::new();
                let written =
                    handoff_run::hand_off(prepared, queues, &mut on_update, &cancel).await;
                dispatcher.handed_off(written).await;
            });
            return Ok(json!({ "agent": agent, "asks_agent": false }));
        };
        let journal = plan.journal_root.clone();
        let id = run_id::new();
        let cancel = Cancel::new();
        let info = RunInfo {
            run: id.clone(),
            uri,
            brief: "Handoff".to_owned(),
            agent: agent.clone(),
            state: Phase::Queued,
            tokens: 0,
        };
        (self.state.handoffs).insert(id.clone(), (info, cancel.clone()));
        self.changed().await;
        let answer = json!({ "agent": agent, "asks_agent": true, "handoff": id });
        tokio::spawn(dispatcher.asked(prepared, id, cancel, journal));
        Ok(answer)
    }

    /// Cancels the handoff a progress token names; `false` if it names none.
    pub fn cancel_handoff(&self, token: &lsp::ProgressToken) -> bool {
        let Some(id) = progress::handoff_of(token) else {
            return false;
        };
        if let Some(handoff) = self.state.handoffs.get(&id) {
            handoff.value().1.cancel();
        }
        true
    }

    /// The agent writes the handoff, followed by a progress that can cancel it. Two tasks, as
    /// a send's: one carries the run, this one shows it; a channel joins them.
    async fn asked(self, prepared: Prepared, id: String, cancel: Cancel, journal: PathBuf) {
        let state = self.state.clone();
        let agent = prepared.agent().to_owned();
        let title = format!("Handing off to @{agent}");
        let progress = RunProgress::begin_handoff(&self.client, state.session(), &id, &title).await;
        let (signals, mut received) = mpsc::unbounded_channel();
        let writing = {
            let (state, cancel) = (state.clone(), cancel.clone());
            tokio::spawn(async move {
                let mut on_update = |event: Event<'_>| {
                    let signal = match event {
                        Event::Queued { .. } => Signal::Queued,
                        Event::Started { run, .. } => Signal::Started {
                            run: run.to_owned(),
                        },
                        Event::Text(text) => Signal::Text(text.len()),
                        Event::Retrying(retry) => Signal::Note(retry.to_string()),
                        Event::FallingBack { from, to, reason } => {
                            Signal::Note(format!("{from} failed ({reason}); trying {to}"))
                        }
                        Event::Finished(finished) => Signal::Finished(finished.outcome.clone()),
                    };
                    // The receiver lives until the channel closes.
                    let _ = signals.send(signal);
                };
                let queues = &state.runs.queues;
                handoff_run::hand_off(prepared, queues, &mut on_update, &cancel).await
            })
        };
        let mut seen = Seen::default();
        let mut shown_at: Option<Instant> = None;
        while let Some(signal) = received.recv().await {
            match signal {
                Signal::Queued => progress.report("queued").await,
                Signal::Started { run } => {
                    seen.run = Some(run);
                    if let Some(mut handoff) = state.handoffs.get_mut(&id) {
                        handoff.value_mut().0.state = Phase::Streaming;
                    }
                    self.changed().await;
                    progress.report(&format!("@{agent} is writing")).await;
                }
                Signal::Text(length) => {
                    seen.received += length;
                    if let Some(mut handoff) = state.handoffs.get_mut(&id) {
                        handoff.value_mut().0.tokens = tokens::streamed(seen.received);
                    }
                    if shown_at.is_none_or(|at| at.elapsed() >= PROGRESS_EVERY) {
                        shown_at = Some(Instant::now());
                        let tokens = tokens::streamed(seen.received);
                        progress.report(&format!("writing · {tokens} tokens")).await;
                    }
                }
                Signal::Note(note) => progress.report(&note).await,
                Signal::Finished(outcome) => seen.outcome = Some(outcome),
            }
        }
        let written = writing
            .await
            .unwrap_or_else(|error| Err(format!("internal error: {error}")));
        state.handoffs.remove(&id);
        self.changed().await;
        let cancelled = matches!(seen.outcome, Some(Outcome::Cancelled(_))) && written.is_err();
        progress.end(&ending(&written, cancelled)).await;
        if cancelled {
            let message = cancelled_message(&agent, &seen, &journal);
            self.client
                .show_message(lsp::MessageType::INFO, message)
                .await;
        } else {
            self.handed_off(written).await;
        }
    }

    /// Tells the user how the handoff went, and opens it.
    async fn handed_off(&self, written: Result<Written, String>) {
        let written = match written {
            Ok(written) => written,
            Err(message) => {
                let message = format!("baton: no handoff was written: {message}");
                self.client
                    .show_message(lsp::MessageType::ERROR, message)
                    .await;
                return;
            }
        };
        if let Some(why) = &written.offline {
            let message = format!(
                "baton wrote the handoff from the journal ({why}): fill in Key Decisions and Reasoning"
            );
            self.client
                .show_message(lsp::MessageType::WARNING, message)
                .await;
        }
        let Some(file_uri) = to_proto::file_uri(&written.path) else {
            return;
        };
        if self.state.session().show_document {
            let show = lsp::ShowDocumentParams {
                uri: file_uri,
                external: Some(false),
                take_focus: Some(true),
                selection: None,
            };
            if let Err(error) = self.client.show_document(show).await {
                tracing::warn!("window/showDocument failed: {error}");
            }
        } else {
            let message = format!("baton: handoff written to {}", written.path.display());
            self.client
                .show_message(lsp::MessageType::INFO, message)
                .await;
        }
    }

    /// `baton.resume`: a new thread whose first turn is the handoff as the editor holds it.
    pub(super) fn resume(&self, args: &Args) -> Answered<Value> {
        let uri = args.uri()?.to_owned();
        let snapshot = self.snapshot(&uri)?;
        let Some(path) = snapshot.context.path.as_deref() else {
            return Err(refused("save the handoff first: a thread names its file"));
        };
        if snapshot.analysis().kind.as_deref() != Some("handoff") {
            return Err(refused(
                "only a handoff (`kind: handoff`) can be resumed from",
            ));
        }
        let text = snapshot.document().text();
        let settings = snapshot.settings();
        let resumed = crate::dispatch::resume::resume(path, &text, args.agent.as_deref(), settings)
            .map_err(|message| refused(format!("cannot resume: {message}")))?;
        let document = to_proto::file_uri(&resumed.document).map_or_else(
            || resumed.document.display().to_string(),
            |uri| uri.as_str().to_owned(),
        );
        Ok(json!({
            "document": document,
            "agent": resumed.agent,
            "thread": resumed.thread_file,
        }))
    }
}

/// How the handoff's progress ends: the file written, or why none was.
fn ending(written: &Result<Written, String>, cancelled: bool) -> String {
    match written {
        Ok(written) => {
            let name = written.path.file_name().unwrap_or_default();
            let name = name.to_string_lossy();
            match &written.offline {
                None => format!("wrote {name}"),
                Some(why) => format!("wrote {name} from the journal: {why}"),
            }
        }
        Err(_) if cancelled => "cancelled; no handoff was written".to_owned(),
        Err(message) => format!("failed: {message}"),
    }
}

/// Tells the user the handoff was cancelled, and where what arrived is kept.
fn cancelled_message(agent: &str, seen: &Seen, journal: &Path) -> String {
    let cancelled = format!("baton: the handoff to @{agent} was cancelled; no handoff was written");
    match &seen.run {
        Some(run) if seen.received > 0 => format!(
            "{cancelled}. What @{agent} had written ({} tokens) is kept in the journal: {}",
            tokens::streamed(seen.received),
            Journal::new(journal).file(run).display()
        ),
        _ => format!("{cancelled} (nothing had arrived)"),
    }
}
