//! `textDocument/publishDiagnostics`, written as JSON straight from the core's diagnostics.
//!
//! A large brief has hundreds of diagnostics, published on every keystroke. Going through
//! `ls_types` values and then tower-lsp-server's `serde_json::Value` tree costs several
//! allocations per field and serialises everything twice; here each diagnostic is written
//! once, and kept for the next publications while it stands where it was (`placement.rs`).
//! The frame goes to stdout through [`stdio::write_frame`], the writer tower-lsp-server's own
//! messages go through.

use serde::Serialize;
use tower_lsp_server::ls_types as lsp;

use super::stdio;
use super::to_proto::{self, SOURCE};
use crate::brief::{Diagnostic, FixHint};

/// A JSON array of LSP diagnostics, ready to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagnosticsJson(Vec<u8>);

impl DiagnosticsJson {
    pub fn empty() -> Self {
        DiagnosticsJson(b"[]".to_vec())
    }

    /// The array of diagnostics already written one by one ([`diagnostic`]).
    pub fn of_written<'a>(written: impl Iterator<Item = &'a [u8]>) -> Self {
        let mut json = Vec::with_capacity(4096);
        json.push(b'[');
        for (index, diagnostic) in written.enumerate() {
            if index > 0 {
                json.push(b',');
            }
            json.extend_from_slice(diagnostic);
        }
        json.push(b']');
        DiagnosticsJson(json)
    }

    /// Diagnostics already in LSP form (configuration problems).
    pub fn of_lsp(diagnostics: &[lsp::Diagnostic]) -> Self {
        DiagnosticsJson(to_json(diagnostics))
    }
}

/// Sends the notification for `uri`. Blocks until stdout has taken it, as every message the
/// server writes does.
pub fn publish_diagnostics(uri: &str, version: Option<i32>, diagnostics: &DiagnosticsJson) {
    let version = version.map(|version| format!(r#","version":{version}"#));
    let parts: [&[u8]; 6] = [
        br#"{"jsonrpc":"2.0","method":"textDocument/publishDiagnostics","params":{"uri":"#,
        &to_json(uri),
        version.as_deref().unwrap_or_default().as_bytes(),
        br#","diagnostics":"#,
        &diagnostics.0,
        b"}}",
    ];
    if let Err(error) = stdio::write_frame(&parts) {
        tracing::error!("cannot write diagnostics for {uri}: {error}");
    }
}

/// One core diagnostic as LSP spells it, placed at `range`; its `codeDescription` links to
/// its section at `docs` (`[docs] base_url`), and is left out without one.
pub fn diagnostic(diagnostic: &Diagnostic, range: lsp::Range, docs: Option<&str>) -> Vec<u8> {
    to_json(Wire::placed(diagnostic, range, docs))
}

fn to_json(value: impl Serialize) -> Vec<u8> {
    // Only maps with string keys, strings and numbers: serialising cannot fail.
    serde_json::to_vec(&value).unwrap_or_else(|_| b"null".to_vec())
}

/// One diagnostic as LSP spells it, borrowing its text from the core's.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Wire<'a> {
    range: lsp::Range,
    severity: lsp::DiagnosticSeverity,
    code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    code_description: Option<Href>,
    source: &'static str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a FixHint>,
}

#[derive(Serialize)]
struct Href {
    href: String,
}

impl<'a> Wire<'a> {
    fn placed(diagnostic: &'a Diagnostic, range: lsp::Range, docs: Option<&str>) -> Self {
        Wire {
            range,
            severity: to_proto::severity(diagnostic.severity),
            code: diagnostic.code.as_str(),
            code_description: docs.map(|base| Href {
                href: diagnostic.code.docs_url(base),
            }),
            source: SOURCE,
            message: &diagnostic.message,
            data: diagnostic.fix.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::brief::Code;
    use crate::document::{Document, Encoding};

    #[test]
    fn a_diagnostic_is_written_as_lsp_spells_it() {
        let document = Document::new("# Brief 🎉 @a\n\nx\n");
        let diagnostic = Diagnostic::new(Code::MissingField, 0..15, "add \"Objective\"").with_fix(
            FixHint::InsertFields {
                fields: vec!["Objective".into()],
            },
        );
        let range = to_proto::range(&document, diagnostic.range.clone(), Encoding::Utf16);
        let written = super::diagnostic(&diagnostic, range, Some("https://team.example/d"));
        let ours = DiagnosticsJson::of_written([written.as_slice()].into_iter());
        let ours: serde_json::Value = serde_json::from_slice(&ours.0).unwrap();
        let bare = super::diagnostic(&diagnostic, range, None);
        let bare: serde_json::Value = serde_json::from_slice(&bare).unwrap();
        assert_eq!(bare.get("codeDescription"), None, "no base, no link");
        let expected = serde_json::json!([{
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 13}},
            "severity": 1,
            "code": "missing-field",
            "codeDescription": {"href": "https://team.example/d#missing-field"},
            "source": "baton",
            "message": "add \"Objective\"",
            "data": {"fix": "insert-fields", "fields": ["Objective"]},
        }]);
        assert_eq!(ours, expected);
    }
}
