//! Core values to LSP values. Byte ranges become lines and columns here, through
//! `document::position`, in the encoding the client negotiated.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::str::FromStr;

use ropey::Rope;
use tower_lsp_server::ls_types as lsp;

use crate::brief::complete::{Completion, CompletionKind};
use crate::brief::fix::TextEdit;
use crate::brief::hover::Hover;
use crate::brief::symbols::{Symbol, SymbolKind};
use crate::brief::{Code, Severity};
use crate::config::ConfigProblem;
use crate::document::{position, Document, Encoding, Position};

/// The `source` of every diagnostic baton publishes.
pub const SOURCE: &str = "baton";

pub fn position_encoding(encoding: Encoding) -> lsp::PositionEncodingKind {
    match encoding {
        Encoding::Utf8 => lsp::PositionEncodingKind::UTF8,
        Encoding::Utf16 => lsp::PositionEncodingKind::UTF16,
        Encoding::Utf32 => lsp::PositionEncodingKind::UTF32,
    }
}

fn lsp_position(position: Position) -> lsp::Position {
    lsp::Position::new(position.line, position.column)
}

pub fn range(document: &Document, range: Range<usize>, encoding: Encoding) -> lsp::Range {
    lsp::Range::new(
        lsp_position(document.position_of(range.start, encoding)),
        lsp_position(document.position_of(range.end, encoding)),
    )
}

/// A range in text that is not an open document (a configuration file, a linked brief).
pub fn range_in_text(rope: &Rope, range: Range<usize>, encoding: Encoding) -> lsp::Range {
    lsp::Range::new(
        lsp_position(position::position_of(rope, range.start, encoding)),
        lsp_position(position::position_of(rope, range.end, encoding)),
    )
}

pub fn severity(severity: Severity) -> lsp::DiagnosticSeverity {
    match severity {
        Severity::Error => lsp::DiagnosticSeverity::ERROR,
        Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        Severity::Information => lsp::DiagnosticSeverity::INFORMATION,
        Severity::Hint => lsp::DiagnosticSeverity::HINT,
    }
}

/// The code and, with a `[docs] base_url`, the link to its section.
fn code_fields(
    code: Code,
    docs: Option<&str>,
) -> (Option<lsp::NumberOrString>, Option<lsp::CodeDescription>) {
    let description = docs
        .and_then(|base| lsp::Uri::from_str(&code.docs_url(base)).ok())
        .map(|href| lsp::CodeDescription { href });
    (
        Some(lsp::NumberOrString::String(code.as_str().to_owned())),
        description,
    )
}

/// The problems of one configuration file, placed in the text they were found in.
/// `docs`: the `[docs] base_url` the diagnostics link to, when one is configured.
pub fn config_diagnostics(
    problems: &[ConfigProblem],
    encoding: Encoding,
    docs: Option<&str>,
) -> Vec<lsp::Diagnostic> {
    let Some(first) = problems.first() else {
        return Vec::new();
    };
    let rope = Rope::from_str(&first.text);
    problems
        .iter()
        .map(|problem| {
            let (code, code_description) = code_fields(Code::InvalidConfig, docs);
            lsp::Diagnostic {
                range: range_in_text(&rope, problem.error.range.clone(), encoding),
                severity: Some(severity(problem.severity)),
                code,
                code_description,
                source: Some(SOURCE.to_owned()),
                message: problem.error.message.clone(),
                ..lsp::Diagnostic::default()
            }
        })
        .collect()
}

pub fn text_edit(document: &Document, edit: &TextEdit, encoding: Encoding) -> lsp::TextEdit {
    lsp::TextEdit {
        range: range(document, edit.range.clone(), encoding),
        new_text: edit.new_text.clone(),
    }
}

pub fn text_edits(
    document: &Document,
    edits: &[TextEdit],
    encoding: Encoding,
) -> Vec<lsp::TextEdit> {
    edits
        .iter()
        .map(|edit| text_edit(document, edit, encoding))
        .collect()
}

/// Edits to one document: its URI, the version they were computed for, the edits.
pub type DocumentEdits = (lsp::Uri, Option<i32>, Vec<lsp::TextEdit>);

/// Edits to documents, versioned when the client accepts `documentChanges` (so a stale edit
/// is refused rather than applied to the wrong text).
pub fn workspace_edit(documents: Vec<DocumentEdits>, document_changes: bool) -> lsp::WorkspaceEdit {
    if document_changes {
        let edits = documents
            .into_iter()
            .map(|(uri, version, edits)| lsp::TextDocumentEdit {
                text_document: lsp::OptionalVersionedTextDocumentIdentifier { uri, version },
                edits: edits.into_iter().map(lsp::OneOf::Left).collect(),
            })
            .collect();
        lsp::WorkspaceEdit {
            document_changes: Some(lsp::DocumentChanges::Edits(edits)),
            ..lsp::WorkspaceEdit::default()
        }
    } else {
        let changes = documents
            .into_iter()
            .map(|(uri, _, edits)| (uri, edits))
            .collect::<HashMap<_, _>>();
        lsp::WorkspaceEdit {
            changes: Some(changes),
            ..lsp::WorkspaceEdit::default()
        }
    }
}

/// The `file:` URI of a path.
pub fn file_uri(path: &Path) -> Option<lsp::Uri> {
    lsp::Uri::from_file_path(path)
}

#[allow(deprecated)] // `deprecated` is a required field of the struct, superseded by `tags`.
pub fn document_symbol(
    document: &Document,
    symbol: &Symbol,
    encoding: Encoding,
) -> lsp::DocumentSymbol {
    let children: Vec<lsp::DocumentSymbol> = symbol
        .children
        .iter()
        .map(|child| document_symbol(document, child, encoding))
        .collect();
    lsp::DocumentSymbol {
        name: symbol.name.clone(),
        detail: symbol.detail.clone(),
        kind: match symbol.kind {
            SymbolKind::Brief => lsp::SymbolKind::CLASS,
            SymbolKind::Field => lsp::SymbolKind::FIELD,
            SymbolKind::Output => lsp::SymbolKind::EVENT,
        },
        tags: None,
        deprecated: None,
        range: range(document, symbol.range.clone(), encoding),
        selection_range: range(document, symbol.selection_range.clone(), encoding),
        children: (!children.is_empty()).then_some(children),
    }
}

fn markdown(value: String) -> lsp::MarkupContent {
    lsp::MarkupContent {
        kind: lsp::MarkupKind::Markdown,
        value,
    }
}

pub fn hover(document: &Document, hover: Hover, encoding: Encoding) -> lsp::Hover {
    lsp::Hover {
        contents: lsp::HoverContents::Markup(markdown(hover.markdown)),
        range: Some(range(document, hover.range, encoding)),
    }
}

pub fn completion_item(
    document: &Document,
    completion: Completion,
    encoding: Encoding,
) -> lsp::CompletionItem {
    let edit = lsp::TextEdit {
        range: range(document, completion.replace, encoding),
        new_text: completion.insert_text,
    };
    lsp::CompletionItem {
        label: completion.label,
        kind: Some(match completion.kind {
            CompletionKind::Agent => lsp::CompletionItemKind::REFERENCE,
            CompletionKind::Field => lsp::CompletionItemKind::FIELD,
            CompletionKind::Key => lsp::CompletionItemKind::PROPERTY,
            CompletionKind::Value => lsp::CompletionItemKind::VALUE,
            CompletionKind::Snippet => lsp::CompletionItemKind::SNIPPET,
        }),
        detail: completion.detail,
        documentation: completion
            .documentation
            .map(|text| lsp::Documentation::MarkupContent(markdown(text))),
        insert_text_format: Some(if completion.is_snippet {
            lsp::InsertTextFormat::SNIPPET
        } else {
            lsp::InsertTextFormat::PLAIN_TEXT
        }),
        text_edit: Some(lsp::CompletionTextEdit::Edit(edit)),
        ..lsp::CompletionItem::default()
    }
}
