//! `baton.handoff` { uri, brief?, agent? } and `baton.resume` { uri, agent? } (DESIGN §6):
//! the editor's side of `dispatch::handoff_run`. A handoff is answered at once (with the agent
//! and whether an agent is asked) and written by a task, which then opens the file
//! (`window/showDocument`) for the user to read and edit; a resume starts the new thread from
//! the handoff as the editor holds it, unsaved edits included, and sends nothing.

use serde_json::{json, Value};
use tower_lsp_server::ls_types as lsp;

use super::{Args, Dispatcher};
use crate::dispatch::handoff_run::{self, HandOff};
use crate::dispatch::run::{Cancel, Event};
use crate::lsp::guard::contain;
use crate::lsp::refused::{refused, Failure, Outcome};
use crate::lsp::to_proto;

impl Dispatcher {
    /// `baton.handoff`: plans the handoff of the document's thread and writes it in a task.
    pub(super) async fn handoff(&self, args: Args) -> Outcome<Value> {
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
        let answer = json!({ "agent": prepared.agent(), "asks_agent": prepared.plan().is_some() });
        let dispatcher = self.clone();
        tokio::spawn(async move {
            let cancel = Cancel::new();
            let queues = &dispatcher.state.runs.queues;
            let mut on_update = |_: Event<'_>| {};
            let written = handoff_run::hand_off(prepared, queues, &mut on_update, &cancel).await;
            dispatcher.handed_off(written).await;
        });
        Ok(answer)
    }

    /// Tells the user how the handoff went, and opens it.
    async fn handed_off(&self, written: Result<handoff_run::Written, String>) {
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
    pub(super) fn resume(&self, args: &Args) -> Outcome<Value> {
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
