//! Pushing diagnostics: lint the version just stored, convert it, and publish it with its
//! version, unless a newer change has arrived meanwhile (that change publishes its own).

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Instant;

use tower_lsp_server::ls_types as lsp;
use tower_lsp_server::Client;

use super::config_watch::Report;
use super::guard::{contain, Panicked};
use super::state::{Analyzed, State};
use super::to_proto;
use super::wire::{self, DiagnosticsJson};
use crate::brief::Analysis;
use crate::document::store::OpenDocument;
use crate::document::Encoding;
use crate::workspace::resolve_link;

/// Diagnostics ready to send for one document.
#[derive(Debug)]
pub struct Publication {
    pub uri: lsp::Uri,
    /// The document version they were computed from; `None` for files the editor may not
    /// have open (configuration files).
    pub version: Option<i32>,
    pub diagnostics: DiagnosticsJson,
}

/// Diagnostics to publish, or the panic that kept the linter from computing them.
pub type Linted = Result<Publication, Panicked>;

/// Lints `open`, just stored for `uri`, and converts the result. Markdown that is not a baton
/// document gets an empty list. `None` when the document was closed meanwhile.
pub fn diagnose(state: &State, uri: &lsp::Uri, open: &OpenDocument) -> Option<Linted> {
    let started = Instant::now();
    let analyzed = match state.analyze(uri.as_str(), open)? {
        Ok(analyzed) => analyzed,
        Err(panicked) => return Some(Err(panicked)),
    };
    let linted = started.elapsed();
    let encoding = state.encoding();
    let docs = state.docs_base(uri.as_str());
    let diagnostics = contain("placing diagnostics", || {
        let all = analyzed.findings.diagnostics.iter();
        let how = (encoding, docs.as_deref());
        state.placements.place(uri.as_str(), open, all, how)
    });
    tracing::debug!(
        "linted {} v{} in {linted:?}, placed in {:?}",
        uri.as_str(),
        open.version,
        started.elapsed() - linted
    );
    Some(diagnostics.map(|diagnostics| Publication {
        uri: uri.clone(),
        version: Some(open.version),
        diagnostics,
    }))
}

/// Lints an open document; and when the titles of its briefs changed since its last lint,
/// the other open documents that link to it, since which of their links are broken may have
/// changed too.
pub fn diagnose_change(state: &State, uri: &lsp::Uri, open: &OpenDocument) -> Vec<Linted> {
    let before = state.cached_analysis(uri.as_str());
    let mut linted: Vec<_> = diagnose(state, uri, open).into_iter().collect();
    let after = state.cached_analysis(uri.as_str());
    // A document just opened was read from disk by the others so far: nothing changed.
    let titles = |analyzed: &Option<Arc<Analyzed>>| analyzed.as_ref().map(|a| a.findings.titles);
    if before.is_some() && titles(&before) != titles(&after) {
        if let Some(path) = state.path_of(uri.as_str()) {
            linted.extend(diagnose_linking(state, &path));
        }
    }
    linted
}

/// The other open documents with a link to the document at `path`, linted again.
fn diagnose_linking(state: &State, path: &Path) -> Vec<Linted> {
    let links_here = |other: &Path, analysis: &Analysis| {
        let dir = other.parent().unwrap_or(other);
        let mut links = analysis.briefs.iter().flat_map(|brief| &brief.links);
        links.any(|link| {
            let file = link.target.file();
            file.is_some_and(|file| resolve_link(dir, file) == path)
        })
    };
    state
        .open_files()
        .into_iter()
        .filter(|(other, _)| other != path)
        .filter_map(|(other, uri)| {
            let snapshot = state.snapshot(&uri)?.ok()?;
            if !links_here(&other, snapshot.analysis()) {
                return None;
            }
            diagnose(state, &lsp::Uri::from_str(&uri).ok()?, &snapshot.open)
        })
        .collect()
}

/// Configuration problems as publications on their files.
pub fn config_publications(reports: Vec<Report>, encoding: Encoding) -> Vec<Publication> {
    reports
        .into_iter()
        .filter_map(|report| {
            let Some(uri) = to_proto::file_uri(&report.path) else {
                tracing::warn!("no URI for {}", report.path.display());
                return None;
            };
            Some(Publication {
                uri,
                version: None,
                diagnostics: DiagnosticsJson::of_lsp(&to_proto::config_diagnostics(
                    &report.problems,
                    encoding,
                    None,
                )),
            })
        })
        .collect()
}

/// Clears a document's diagnostics (it was closed).
pub fn cleared(uri: lsp::Uri) -> Publication {
    Publication {
        uri,
        version: None,
        diagnostics: DiagnosticsJson::empty(),
    }
}

/// Sends a publication, unless it is for a version the store no longer holds.
pub fn publish(state: &State, publication: Publication) {
    if let Some(version) = publication.version {
        let current = state
            .store
            .get(publication.uri.as_str())
            .map(|open| open.version);
        if current != Some(version) {
            return;
        }
    }
    wire::publish_diagnostics(
        publication.uri.as_str(),
        publication.version,
        &publication.diagnostics,
    );
    // Budgets are counted once the document has been quiet a while, never on this path.
    state.verdicts.ask(publication.uri.as_str());
}

/// Publishes lint results; a lint that panicked is told to the user instead.
pub async fn publish_linted(client: &Client, state: &State, linted: Linted) {
    match linted {
        Ok(publication) => publish(state, publication),
        Err(panicked) => tell_user(client, state, panicked).await,
    }
}

/// Tells the user of an internal error, the first time only: later ones are only logged, so
/// a bug hit on every keystroke does not flood the editor with pop-ups.
pub async fn tell_user(client: &Client, state: &State, panicked: Panicked) {
    if state.first_panic() {
        let message = panicked.user_message();
        client.show_message(lsp::MessageType::ERROR, message).await;
    }
}
