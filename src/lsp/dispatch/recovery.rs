//! The journal as the editor sees it: which journalled runs of an opened document are missing
//! from it (offered back by a code action), `baton.recover` putting one back, and
//! `baton.journal` saying where the runs are.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde_json::{json, Value};
use tower_lsp_server::ls_types as lsp;

use super::{invalid, Args, Dispatcher};
use crate::brief::output::{self, Status};
use crate::dispatch::journal::Journal;
use crate::dispatch::run::recovery;
use crate::lsp::refused::{refused, Outcome};
use crate::lsp::state::{Snapshot, State};
use crate::lsp::to_proto;

impl Dispatcher {
    /// `baton.recover`: a journalled run's output put back under its brief.
    pub(super) async fn recover(&self, args: Args) -> Outcome<Value> {
        let uri = args.uri()?.to_owned();
        let Some(run) = args.run.clone() else {
            return Err(invalid("baton.recover needs `run`".to_owned()).into());
        };
        let snapshot = self.snapshot(&uri)?;
        let root = journal_root(&snapshot);
        let journal = Journal::new(&root);
        let saved = journal
            .read(&run)
            .map_err(|error| refused(format!("cannot read run {run}: {error}")))?;
        let document = snapshot.document();
        let demote = snapshot.settings().config.demote_headings();
        let edit = recovery::edit(document, &saved, demote).map_err(|_| {
            refused(format!(
                "the brief \"{}\" of run {run} is no longer in the document; its output is in {}",
                saved.record.brief_title,
                journal.file(&run).display()
            ))
        })?;
        let session = self.state.session();
        let lsp_uri = lsp::Uri::from_str(&uri).map_err(|error| invalid(error.to_string()))?;
        let edits = to_proto::text_edits(document, &[edit], session.encoding);
        let edit = to_proto::workspace_edit(
            vec![(lsp_uri, Some(snapshot.open.version), edits)],
            session.document_changes,
        );
        let client = self.client.clone();
        tokio::spawn(async move {
            match client.apply_edit(edit).await {
                Ok(response) if response.applied => {}
                Ok(_) | Err(_) => {
                    client
                        .show_message(
                            lsp::MessageType::WARNING,
                            "baton: the saved output could not be inserted (the document changed); try again",
                        )
                        .await;
                }
            }
        });
        Ok(json!({ "run": run }))
    }

    /// `baton.journal`: where the runs are, and the document's newest.
    pub(super) fn journal(&self, args: &Args) -> Outcome<Value> {
        let (root, document) = match &args.uri {
            Some(uri) => {
                let snapshot = self.snapshot(uri)?;
                (journal_root(&snapshot), snapshot.context.path.clone())
            }
            None => match &self.state.session().root {
                Some(root) => (root.clone(), None),
                None => return Err(invalid("baton.journal needs `uri`".to_owned()).into()),
            },
        };
        let journal = Journal::new(&root);
        let latest = journal
            .runs()
            .into_iter()
            .find(|run| document.as_ref().is_none_or(|path| run.document == *path))
            .map(|run| journal.file(&run.run_id));
        Ok(json!({ "dir": journal.dir(), "latest": latest }))
    }

    /// Reads which journalled runs of a just-opened document are missing from it, off the
    /// typing path; code actions then offer them back.
    pub fn scan_journal(&self, uri: &lsp::Uri) {
        let Some(snapshot) = self.state.snapshot(uri.as_str()).and_then(|s| s.ok()) else {
            return;
        };
        // What the lint just found tells; a full analysis of every opened document would
        // cost more than the journal read.
        let is_baton = match self.state.cached_analysis(uri.as_str()) {
            Some(analyzed) => analyzed.findings.kind.is_some(),
            None => snapshot.analysis().is_baton_document(),
        };
        if !is_baton {
            return;
        }
        let Some(path) = snapshot.context.path.clone() else {
            return;
        };
        let root = journal_root(&snapshot);
        let present = complete_runs(&snapshot, &self.state);
        let state = self.state.clone();
        let uri = uri.as_str().to_owned();
        tokio::task::spawn_blocking(move || {
            let runs = Journal::new(&root).unrecovered(&path, &present);
            state.runs.set_recoverable(&uri, runs);
        });
    }
}

/// The runs whose output is whole in the document: its markers, except those still marked
/// running by a run that is not streaming here (a server killed mid-stream left them).
pub fn complete_runs(snapshot: &Snapshot, state: &State) -> HashSet<String> {
    output::markers(&snapshot.document().text())
        .into_iter()
        .filter(|marker| marker.status != Status::Running || state.runs.is_active(&marker.run))
        .map(|marker| marker.run)
        .collect()
}

/// Where the journal of a document's runs is: beside the workspace `baton.toml`, else beside the document.
fn journal_root(snapshot: &Snapshot) -> PathBuf {
    let folder = snapshot
        .context
        .path
        .as_deref()
        .and_then(Path::parent)
        .map(Path::to_path_buf);
    snapshot
        .settings()
        .config
        .root
        .clone()
        .or(folder)
        .unwrap_or_default()
}
