//! Edits applied on the thread that reads them.
//!
//! A keystroke is one `didChange`. Through tower-lsp-server it is decoded three times (once
//! to check it, see `stdio.rs`, once by the server, once more into its parameters), handed to
//! the runtime's thread and routed; on a typist's machine, whose caches go cold between
//! keystrokes, that costs as much as linting a 100 KB brief. So the reader thread takes
//! `didChange` itself: it decodes it once, borrowing its text, and applies, lints and
//! publishes it exactly as the handler does ([`apply`] serves both).
//!
//! Order is kept: an edit takes this lane only when every document notification passed on
//! to the server before it has been applied (`behind` counts those that have not); otherwise
//! it goes the same way, behind them. Edits of configuration files or of documents that are
//! not open, and anything that does not decode as expected, go to the server, which knows
//! what to do and what to answer.

use std::borrow::Cow;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde::de::IgnoredAny;
use serde::Deserialize;
use tower_lsp_server::ls_types as lsp;
use tower_lsp_server::Client;

use super::diagnostics::{self, Linted};
use super::from_proto;
use super::guard::{contain, Panicked};
use super::linter::Linter;
use super::state::State;
use crate::document::Change;

/// The largest document a keystroke is linted for where it is applied; a larger one goes
/// to the linter task, which coalesces a burst of edits into one lint.
const INLINE_LINT_BYTES: usize = 256 * 1024;

/// The lane, shared by the reader thread and the handlers.
pub struct EditLane {
    state: Arc<State>,
    linter: Linter,
    client: Client,
    runtime: tokio::runtime::Handle,
    /// Document notifications passed on to the server and not yet applied by its handlers.
    behind: AtomicUsize,
}

impl EditLane {
    /// The lane; call within the runtime.
    pub fn new(state: Arc<State>, linter: Linter, client: Client) -> Self {
        EditLane {
            state,
            linter,
            client,
            runtime: tokio::runtime::Handle::current(),
            behind: AtomicUsize::new(0),
        }
    }

    /// Applies the message in `body` if it is an edit this lane takes; false when it is for
    /// the server. A panic is contained here, as the server contains its handlers': the
    /// thread goes on reading.
    pub fn take(&self, body: &[u8]) -> bool {
        contain("taking an edit", || self.try_take(body)).unwrap_or_else(|panicked| {
            self.tell_user(panicked);
            true
        })
    }

    fn try_take(&self, body: &[u8]) -> bool {
        if self.behind.load(Ordering::SeqCst) != 0 {
            return false;
        }
        let Ok(message) = serde_json::from_slice::<Message<'_>>(body) else {
            return false;
        };
        let is_change = message.method == "textDocument/didChange" && message.id.is_none();
        let Some(params) = message.params.filter(|_| is_change) else {
            return false;
        };
        let document = params.text_document;
        let Ok(uri) = lsp::Uri::from_str(&document.uri) else {
            return false;
        };
        if is_config_uri(&self.state, &uri) || self.state.store.get(uri.as_str()).is_none() {
            return false;
        }
        let changes: Vec<Change<'_>> = (params.content_changes.iter())
            .map(|change| Change {
                range: change.range.map(|range| {
                    let start = from_proto::position(range.start);
                    (start, from_proto::position(range.end))
                }),
                text: &change.text,
            })
            .collect();
        for linted in apply(&self.state, &self.linter, &uri, document.version, &changes) {
            match linted {
                Ok(publication) => diagnostics::publish(&self.state, publication),
                Err(panicked) => self.tell_user(panicked),
            }
        }
        true
    }

    fn tell_user(&self, panicked: Panicked) {
        let (client, state) = (self.client.clone(), self.state.clone());
        self.runtime.spawn(async move {
            diagnostics::tell_user(&client, &state, panicked).await;
        });
    }

    /// Notes that the server got `body`: if it is a document notification it will apply,
    /// later edits must wait for it.
    pub fn passed_on(&self, body: &[u8]) {
        if is_document_notification(body) {
            self.behind.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// For a handler of a document notification: when dropped, notes that the server's
    /// notification was applied.
    pub fn applying(&self) -> Applying<'_> {
        Applying(self)
    }
}

/// See [`EditLane::applying`].
pub struct Applying<'a>(&'a EditLane);

impl Drop for Applying<'_> {
    fn drop(&mut self) {
        let behind = &self.0.behind;
        let _ = behind.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
    }
}

/// Applies an edit the editor made to `uri` and lints the document, as `didChange` asks.
/// Returns what to publish; the linter task publishes for a document too large to lint at
/// once, or when it already has lints to do.
pub fn apply(
    state: &State,
    linter: &Linter,
    uri: &lsp::Uri,
    version: i32,
    changes: &[Change<'_>],
) -> Vec<Linted> {
    let started = std::time::Instant::now();
    match contain("applying an edit", || {
        state.change(uri.as_str(), version, changes)
    }) {
        Ok(Ok(open)) => {
            tracing::debug!("applied v{version} in {:?}", started.elapsed());
            if open.document.len() <= INLINE_LINT_BYTES && linter.is_idle() {
                diagnostics::diagnose_change(state, uri, &open)
            } else {
                linter.lint(uri.clone());
                Vec::new()
            }
        }
        Ok(Err(error)) => {
            tracing::error!("change not applied: {error}");
            Vec::new()
        }
        Err(panicked) => {
            // The store missed this edit, so later ones would land in the wrong places:
            // forget the document (reopening it restores it) rather than lint garbage.
            state.close(uri.as_str());
            vec![Err(panicked)]
        }
    }
}

/// Whether `uri` names a configuration file baton reads (its edits reload the configuration).
pub fn is_config_uri(state: &State, uri: &lsp::Uri) -> bool {
    uri.as_str().ends_with(".toml")
        && from_proto::path(uri).is_some_and(|path| state.configs.is_config_file(&path))
}

/// Whether `body` is a `didOpen`, `didChange` or `didClose` whose parameters the server will
/// decode, so that its handler runs.
fn is_document_notification(body: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Method<'a> {
        #[serde(borrow)]
        method: Cow<'a, str>,
        id: Option<IgnoredAny>,
    }
    #[derive(Deserialize)]
    #[allow(dead_code)] // Only decoded, to check; the server decodes it again.
    struct Params<T> {
        params: T,
    }
    let Ok(message) = serde_json::from_slice::<Method<'_>>(body) else {
        return false;
    };
    if message.id.is_some() {
        return false;
    }
    match &*message.method {
        "textDocument/didOpen" => serde_json::from_slice::<Params<OpenParams<'_>>>(body).is_ok(),
        "textDocument/didChange" => {
            serde_json::from_slice::<Params<lsp::DidChangeTextDocumentParams>>(body).is_ok()
        }
        "textDocument/didClose" => {
            serde_json::from_slice::<Params<lsp::DidCloseTextDocumentParams>>(body).is_ok()
        }
        _ => false,
    }
}

/// `DidOpenTextDocumentParams` with its strings borrowed: it decodes exactly when the
/// server's does, without copying the document's text once more on the thread that reads.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // Only decoded, to check.
struct OpenParams<'a> {
    #[serde(borrow)]
    text_document: OpenedDocument<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // Only decoded, to check.
struct OpenedDocument<'a> {
    uri: lsp::Uri,
    #[serde(borrow)]
    language_id: Cow<'a, str>,
    version: i32,
    #[serde(borrow)]
    text: Cow<'a, str>,
}

/// A `didChange` notification, its text borrowed from the frame where it has no escapes.
#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow)]
    method: Cow<'a, str>,
    id: Option<IgnoredAny>,
    #[serde(borrow)]
    params: Option<ChangeParams<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChangeParams<'a> {
    #[serde(borrow)]
    text_document: VersionedDocument<'a>,
    #[serde(borrow)]
    content_changes: Vec<ContentChange<'a>>,
}

#[derive(Deserialize)]
struct VersionedDocument<'a> {
    #[serde(borrow)]
    uri: Cow<'a, str>,
    version: i32,
}

#[derive(Deserialize)]
struct ContentChange<'a> {
    range: Option<lsp::Range>,
    #[serde(borrow)]
    text: Cow<'a, str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The server decodes a `didOpen` it was passed, and its handler then tells the lane; so
    /// the lane's check must accept exactly what the server's decoding accepts.
    #[test]
    fn an_open_is_counted_exactly_when_the_server_can_decode_it() {
        let opens = [
            r#"{"uri":"file:///a.md","languageId":"markdown","version":1,"text":"A\n"}"#,
            r#"{"uri":"file:///a.md","languageId":"markdown","version":1,"text":"say \"hi\" 🎉"}"#,
            r#"{"uri":"file:///a.md","languageId":"markdown","version":1,"text":"x","extra":1}"#,
            r#"{"uri":"file:///a.md","languageId":"markdown","version":1,"text":7}"#,
            r#"{"uri":"file:///a.md","languageId":"markdown","text":"x"}"#,
            r#"{"uri":"not a uri","languageId":"markdown","version":1,"text":"x"}"#,
            r#"{"uri":"file:///a.md","languageId":null,"version":1,"text":"x"}"#,
            r#"{"uri":"file:///a.md","languageId":"markdown","version":1.5,"text":"x"}"#,
        ];
        for open in opens {
            let body = format!(
                r#"{{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{{"textDocument":{open}}}}}"#
            );
            let server = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|message| {
                    serde_json::from_value::<lsp::DidOpenTextDocumentParams>(
                        message["params"].clone(),
                    )
                    .ok()
                });
            assert_eq!(
                is_document_notification(body.as_bytes()),
                server.is_some(),
                "{open}"
            );
        }
    }
}
