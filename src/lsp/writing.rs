//! How a streamed answer may be written into this client's documents while the user types.
//!
//! An edit computed from the text at version `v` is safe only if the client applies it to `v`.
//! A client that declares `workspaceEdit.documentChanges` gets versioned edits and, as LSP
//! means, refuses one made for a version it has moved past (`applied: false`); the server
//! then computes the next edit from the newer text. That is **live** writing: the answer grows
//! as it arrives, whatever the user does.
//!
//! Two kinds of client cannot be trusted with it, and get **pause** writing instead: an edit
//! is computed and sent only when the document has not changed for [`TYPING_PAUSE`], from its
//! latest version, and the answer is buffered meanwhile.
//! - A client without `documentChanges` takes only unversioned edits, which it applies at the
//!   positions given even when the user typed meanwhile (the answer comes out garbled).
//! - Neovim's own `workspace/applyEdit` handler drops a versioned edit made for an older
//!   version, prints "newer than edits", and still answers `applied: true`; it checks no
//!   version at all when the edit says version 0 (where Neovim starts every buffer). Neovim
//!   with baton's plugin, or with `editors/nvim/lsp/baton.lua`, installs a handler that
//!   refuses such edits and says so by declaring `workspaceEdit.failureHandling`.
//!
//! A client not known for it may still drop an edit and answer `applied: true`: the injector
//! notices (the next version does not hold the edit) and reports it here, which moves every
//! run of the session to pause writing.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use dashmap::DashMap;
use tower_lsp_server::ls_types as lsp;

/// How long a document must go unchanged before pause writing sends an edit. Longer than the
/// editors' own delay in reporting typed text (Neovim batches `didChange` for up to 150 ms), so
/// that no keystroke is still on its way when the edit is computed.
pub const TYPING_PAUSE: Duration = Duration::from_millis(500);

/// How the session's client was found to take versioned edits, and when each open document
/// last changed.
#[derive(Default)]
pub struct Writing {
    /// Whether `initialize` showed a client that refuses stale versioned edits.
    trusted: AtomicBool,
    /// A client that was trusted dropped an edit while answering `applied: true`.
    dropped: AtomicBool,
    changed_at: DashMap<String, Instant>,
    /// The writer whose edit to each document is on its way, under pause writing: one at a
    /// time, since an unversioned edit computed from text another edit changed lands wrong.
    in_flight: DashMap<String, u64>,
}

impl Writing {
    /// Settles, from `initialize`, whether the client can be written to live.
    pub fn initialize(&self, params: &lsp::InitializeParams) {
        self.trusted
            .store(refuses_stale_edits(params), Ordering::Relaxed);
    }

    /// Whether edits may be sent while the user types (see the module's doc).
    pub fn live(&self) -> bool {
        self.trusted.load(Ordering::Relaxed) && !self.dropped.load(Ordering::Relaxed)
    }

    /// The client answered `applied: true` to a versioned edit that never reached the text:
    /// from now on, write only when typing pauses.
    pub fn dropped_an_edit(&self) {
        if !self.dropped.swap(true, Ordering::Relaxed) && self.trusted.load(Ordering::Relaxed) {
            tracing::info!(
                "the client dropped a versioned edit and answered applied: true; streamed \
                 answers are now written when typing pauses"
            );
        }
    }

    /// A document was opened or changed, now.
    pub fn changed(&self, uri: &str) {
        self.changed_at.insert(uri.to_owned(), Instant::now());
    }

    pub fn closed(&self, uri: &str) {
        self.changed_at.remove(uri);
    }

    /// Lets `writer` send an edit to the document unless another writer's edit is on its way;
    /// returns whether it may.
    pub fn claim(&self, uri: &str, writer: u64) -> bool {
        *self.in_flight.entry(uri.to_owned()).or_insert(writer) == writer
    }

    /// `writer`'s edit to the document has arrived (or never will).
    pub fn release(&self, uri: &str, writer: u64) {
        self.in_flight.remove_if(uri, |_, holder| *holder == writer);
    }

    /// Whether the document has gone unchanged for [`TYPING_PAUSE`].
    pub fn paused(&self, uri: &str) -> bool {
        self.changed_at
            .get(uri)
            .is_none_or(|at| at.elapsed() >= TYPING_PAUSE)
    }
}

/// Whether the client declares versioned edits and is not known to drop stale ones while
/// answering `applied: true`.
fn refuses_stale_edits(params: &lsp::InitializeParams) -> bool {
    let edit = params
        .capabilities
        .workspace
        .as_ref()
        .and_then(|workspace| workspace.workspace_edit.as_ref());
    let versioned = edit.and_then(|edit| edit.document_changes) == Some(true);
    let says_how_it_fails = edit
        .and_then(|edit| edit.failure_handling.as_ref())
        .is_some();
    let neovim = params
        .client_info
        .as_ref()
        .is_some_and(|client| client.name == "Neovim");
    versioned && (says_how_it_fails || !neovim)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(name: &str, workspace_edit: serde_json::Value) -> lsp::InitializeParams {
        serde_json::from_value(serde_json::json!({
            "processId": null,
            "rootUri": null,
            "clientInfo": { "name": name },
            "capabilities": { "workspace": { "workspaceEdit": workspace_edit } }
        }))
        .unwrap()
    }

    #[test]
    fn live_only_for_clients_that_refuse_stale_versioned_edits() {
        let cases = [
            (
                "Visual Studio Code",
                serde_json::json!({ "documentChanges": true }),
                true,
            ),
            (
                "helix",
                serde_json::json!({ "documentChanges": true, "failureHandling": "abort" }),
                true,
            ),
            ("Visual Studio Code", serde_json::json!({}), false),
            (
                "Neovim",
                serde_json::json!({ "documentChanges": true }),
                false,
            ),
            (
                "Neovim",
                serde_json::json!({ "documentChanges": true, "failureHandling": "abort" }),
                true,
            ),
            (
                "Neovim",
                serde_json::json!({ "resourceOperations": ["rename"] }),
                false,
            ),
        ];
        for (name, edit, live) in cases {
            let writing = Writing::default();
            writing.initialize(&params(name, edit.clone()));
            assert_eq!(writing.live(), live, "{name} with {edit}");
        }
    }

    #[test]
    fn a_dropped_edit_ends_live_writing_for_the_session() {
        let writing = Writing::default();
        writing.initialize(&params("x", serde_json::json!({ "documentChanges": true })));
        assert!(writing.live());
        writing.dropped_an_edit();
        assert!(!writing.live());
    }

    #[test]
    fn one_writer_at_a_time_has_an_edit_on_its_way_to_a_document() {
        let writing = Writing::default();
        assert!(writing.claim("file:///a.md", 1));
        assert!(writing.claim("file:///a.md", 1), "a writer keeps its claim");
        assert!(!writing.claim("file:///a.md", 2));
        assert!(writing.claim("file:///b.md", 2), "other documents are free");
        writing.release("file:///a.md", 2);
        assert!(
            !writing.claim("file:///a.md", 2),
            "only the holder releases"
        );
        writing.release("file:///a.md", 1);
        assert!(writing.claim("file:///a.md", 2));
    }

    #[test]
    fn a_document_is_paused_once_it_went_unchanged_long_enough() {
        let writing = Writing::default();
        assert!(writing.paused("file:///a.md"), "never changed");
        writing.changed("file:///a.md");
        assert!(!writing.paused("file:///a.md"));
        writing.closed("file:///a.md");
        assert!(writing.paused("file:///a.md"));
    }
}
