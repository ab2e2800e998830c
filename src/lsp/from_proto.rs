//! LSP values to core values: positions to byte offsets (through `document::position`),
//! content changes to document changes, `file:` URIs to paths, diagnostic `data` to fix hints.

use std::path::PathBuf;

use tower_lsp_server::ls_types as lsp;

use crate::brief::FixHint;
use crate::document::{Change, Document, Encoding, Position};

pub fn position(position: lsp::Position) -> Position {
    Position::new(position.line, position.character)
}

pub fn offset(document: &Document, at: lsp::Position, encoding: Encoding) -> usize {
    document.offset_of(position(at), encoding)
}

/// The editor's changes, borrowing their text.
pub fn changes(events: &[lsp::TextDocumentContentChangeEvent]) -> Vec<Change<'_>> {
    events
        .iter()
        .map(|event| Change {
            range: event
                .range
                .map(|range| (position(range.start), position(range.end))),
            text: &event.text,
        })
        .collect()
}

/// The path of a `file:` URI; `None` for any other scheme (an untitled buffer, say).
pub fn path(uri: &lsp::Uri) -> Option<PathBuf> {
    let is_file = uri.scheme().as_str().eq_ignore_ascii_case("file");
    is_file
        .then(|| uri.to_file_path())
        .flatten()
        .map(|path| path.into_owned())
}

/// The fix hint a baton diagnostic carries in `data`, if it is one of ours.
pub fn fix_hint(diagnostic: &lsp::Diagnostic) -> Option<FixHint> {
    if diagnostic.source.as_deref() != Some(super::to_proto::SOURCE) {
        return None;
    }
    serde_json::from_value(diagnostic.data.clone()?).ok()
}

/// The diagnostic code of a baton diagnostic.
pub fn code(diagnostic: &lsp::Diagnostic) -> Option<crate::brief::Code> {
    match &diagnostic.code {
        Some(lsp::NumberOrString::String(code)) => {
            serde_json::from_value(serde_json::Value::String(code.clone())).ok()
        }
        _ => None,
    }
}
