//! The editor features, wired to the pure core: symbols, hover, completion, definition,
//! references, rename. Each converts in, calls `brief::{symbols, hover, complete, navigate}`,
//! converts out. Links across files are resolved here, against open documents first and the
//! disk second, since the core knows only one document at a time.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ropey::Rope;
use tower_lsp_server::jsonrpc::{self, ErrorCode, Result};
use tower_lsp_server::ls_types as lsp;

use super::from_proto;
use super::state::{Session, Snapshot, State};
use super::to_proto;
use crate::brief::link::{Link, Target};
use crate::brief::navigate::{self, Definition};
use crate::brief::{complete, hover as hovers, model, symbols};
use crate::document::{Document, Encoding};
use crate::workspace::resolve_link;

/// The LSP error for a rename that cannot be done (`RequestFailed`), with the reason.
const REQUEST_FAILED: i64 = -32803;

fn offset(snapshot: &Snapshot, position: lsp::Position, encoding: Encoding) -> usize {
    from_proto::offset(snapshot.document(), position, encoding)
}

pub fn document_symbols(
    snapshot: &Snapshot,
    encoding: Encoding,
) -> Option<lsp::DocumentSymbolResponse> {
    let (document, kinds) = (snapshot.document(), &snapshot.settings().kinds);
    let symbols = symbols::document_symbols_in(document, snapshot.analysis(), kinds);
    let symbols = symbols
        .iter()
        .map(|symbol| to_proto::document_symbol(document, symbol, encoding))
        .collect();
    Some(lsp::DocumentSymbolResponse::Nested(symbols))
}

pub fn hover(snapshot: &Snapshot, at: lsp::Position, encoding: Encoding) -> Option<lsp::Hover> {
    let (settings, document) = (snapshot.settings(), snapshot.document());
    let offset = offset(snapshot, at, encoding);
    let found = hovers::hover(
        document,
        snapshot.analysis(),
        &settings.kinds,
        &settings.config,
        offset,
    );
    let found = super::budget::with_breakdown(snapshot, offset, found)?;
    Some(to_proto::hover(document, found, encoding))
}

pub fn completion(
    snapshot: &Snapshot,
    at: lsp::Position,
    encoding: Encoding,
) -> Option<lsp::CompletionResponse> {
    let (settings, document) = (snapshot.settings(), snapshot.document());
    let offset = offset(snapshot, at, encoding);
    let items = complete::complete(
        document,
        snapshot.analysis(),
        &settings.kinds,
        &settings.config,
        offset,
    );
    let items = items
        .into_iter()
        .map(|item| to_proto::completion_item(document, item, encoding))
        .collect();
    Some(lsp::CompletionResponse::Array(items))
}

pub fn definition(
    state: &State,
    snapshot: &Snapshot,
    at: &lsp::TextDocumentPositionParams,
    encoding: Encoding,
) -> Option<lsp::GotoDefinitionResponse> {
    let (document, analysis) = (snapshot.document(), snapshot.analysis());
    let offset = offset(snapshot, at.position, encoding);
    let config = &snapshot.settings().config;
    let location = match navigate::definition(document, analysis, config, offset)? {
        Definition::Agent { path, range } => {
            let rope = text_at(state, &path)?;
            let range = to_proto::range_in_text(&rope, range, encoding);
            lsp::Location::new(to_proto::file_uri(&path)?, range)
        }
        Definition::Brief {
            file: None,
            range: Some(range),
            ..
        } => lsp::Location::new(
            at.text_document.uri.clone(),
            to_proto::range(document, range, encoding),
        ),
        Definition::Brief { file: None, .. } => return None,
        Definition::Brief {
            file: Some(file), ..
        } => {
            let path = resolve_link(snapshot.context.path.as_deref()?.parent()?, &file);
            // Read within the workspace only, as the linter does: a link out leads nowhere.
            let open_at = |path: &Path| state.open_document_at(path);
            let other = snapshot.context.linked(&open_at)?.document(&file)?;
            let link = navigate::link_at(analysis, offset)?;
            let range = brief_heading(&other, &link.target).unwrap_or(0..0);
            lsp::Location::new(
                to_proto::file_uri(&path)?,
                to_proto::range(&other, range, encoding),
            )
        }
    };
    Some(lsp::GotoDefinitionResponse::Scalar(location))
}

/// The heading of the brief a link names in another document (its first line when the
/// brief has no heading).
fn brief_heading(document: &Document, target: &Target) -> Option<std::ops::Range<usize>> {
    let briefs = model::briefs(document);
    let brief = briefs
        .iter()
        .find(|brief| target.matches_title(&brief.title))?;
    Some(
        brief
            .heading
            .clone()
            .unwrap_or_else(|| brief.anchor(document)),
    )
}

pub fn references(
    state: &State,
    snapshot: &Snapshot,
    at: &lsp::TextDocumentPositionParams,
    include_declaration: bool,
    encoding: Encoding,
) -> Option<Vec<lsp::Location>> {
    let (document, analysis) = (snapshot.document(), snapshot.analysis());
    let offset = offset(snapshot, at.position, encoding);
    let here = navigate::references(document, analysis, offset, include_declaration);
    let mut locations: Vec<lsp::Location> = here
        .into_iter()
        .map(|range| {
            let range = to_proto::range(document, range, encoding);
            lsp::Location::new(at.text_document.uri.clone(), range)
        })
        .collect();
    let path = snapshot.context.path.as_deref();
    let title = navigate::prepare_rename(document, analysis, offset).map(|(_, title)| title);
    if let (Some(path), Some(title)) = (path, title) {
        for (uri, other) in other_documents(state, path) {
            for link in incoming_links(&other, path, &title) {
                let range = to_proto::range(other.document(), link.range.clone(), encoding);
                locations.push(lsp::Location::new(uri.clone(), range));
            }
        }
    }
    Some(locations)
}

pub fn prepare_rename(
    snapshot: &Snapshot,
    at: lsp::Position,
    encoding: Encoding,
) -> Option<lsp::PrepareRenameResponse> {
    let offset = offset(snapshot, at, encoding);
    let (range, title) =
        navigate::prepare_rename(snapshot.document(), snapshot.analysis(), offset)?;
    Some(lsp::PrepareRenameResponse::RangeWithPlaceholder {
        range: to_proto::range(snapshot.document(), range, encoding),
        placeholder: title,
    })
}

/// Renames a brief: its title and the links to it in this document, and the links to it
/// in the other open documents.
pub fn rename(
    state: &State,
    snapshot: &Snapshot,
    at: &lsp::TextDocumentPositionParams,
    new_title: &str,
    session: &Session,
) -> Result<Option<lsp::WorkspaceEdit>> {
    let (document, analysis) = (snapshot.document(), snapshot.analysis());
    let encoding = session.encoding;
    let offset = offset(snapshot, at.position, encoding);
    let old_title = navigate::prepare_rename(document, analysis, offset).map(|(_, title)| title);
    let edits = navigate::rename(document, analysis, offset, new_title).map_err(|reason| {
        jsonrpc::Error {
            code: ErrorCode::ServerError(REQUEST_FAILED),
            message: reason.into(),
            data: None,
        }
    })?;
    let edits = to_proto::text_edits(document, &edits, encoding);
    let mut documents = vec![(
        at.text_document.uri.clone(),
        Some(snapshot.open.version),
        edits,
    )];
    if let (Some(path), Some(old_title)) = (snapshot.context.path.as_deref(), old_title) {
        let new_title = new_title.trim();
        documents.extend(retarget_links(state, path, &old_title, new_title, encoding));
    }
    let edit = to_proto::workspace_edit(documents, session.document_changes);
    Ok(Some(edit))
}

/// Edits making the links of other open documents to brief `old_title` of the document at
/// `path` name `new_title`.
fn retarget_links(
    state: &State,
    path: &Path,
    old_title: &str,
    new_title: &str,
    encoding: Encoding,
) -> Vec<to_proto::DocumentEdits> {
    let mut documents = Vec::new();
    for (uri, other) in other_documents(state, path) {
        // Each spelling of the file name the links use, as written.
        let files: BTreeSet<&str> = incoming_links(&other, path, old_title)
            .filter_map(|link| link.target.file())
            .collect();
        let (document, analysis) = (other.document(), other.analysis());
        let edits: Vec<_> = files
            .into_iter()
            .flat_map(|file| {
                navigate::rename_links(document, analysis, Some(file), old_title, new_title)
            })
            .collect();
        if !edits.is_empty() {
            let edits = to_proto::text_edits(document, &edits, encoding);
            documents.push((uri, Some(other.open.version), edits));
        }
    }
    documents
}

/// The other open documents that are files, with their current analysis.
fn other_documents(state: &State, path: &Path) -> Vec<(lsp::Uri, Snapshot)> {
    state
        .open_files()
        .into_iter()
        .filter(|(other, _)| other != path)
        .filter_map(|(_, uri)| {
            let snapshot = state.snapshot(&uri)?.ok()?;
            Some((lsp::Uri::from_str(&uri).ok()?, snapshot))
        })
        .collect()
}

/// The links of `other` that name brief `title` of the document at `path`.
fn incoming_links<'a>(
    other: &'a Snapshot,
    path: &'a Path,
    title: &'a str,
) -> impl Iterator<Item = &'a Link> {
    let dir: PathBuf = other
        .context
        .path
        .as_deref()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    other
        .analysis()
        .briefs
        .iter()
        .flat_map(|brief| &brief.links)
        .filter(move |link| match &link.target {
            Target::File { .. } => false,
            target => {
                let names_path = target
                    .file()
                    .is_some_and(|file| resolve_link(&dir, file) == path);
                names_path && target.matches_title(title)
            }
        })
}

/// The text of a file (a configuration file), to place a range in it.
fn text_at(state: &State, path: &Path) -> Option<Rope> {
    if let Some(document) = state.open_document_at(path) {
        return Some(document.rope().clone());
    }
    let bytes = std::fs::read(path).ok()?;
    Some(Rope::from_str(&String::from_utf8_lossy(&bytes)))
}
