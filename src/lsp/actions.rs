//! Quick fixes for baton's diagnostics.
//!
//! The editor hands back the diagnostics it shows, with their `data`; that only says where to
//! look. What to do is re-derived from the current analysis, so a fix computed for an older
//! version of the text is never applied to a newer one.

use std::ops::Range;

use tower_lsp_server::ls_types as lsp;

use super::from_proto;
use super::state::{Session, Snapshot};
use super::to_proto;
use crate::brief::fix::{self, TextEdit};
use crate::brief::{Diagnostic, FixHint};

/// One quick fix: a title, its edits, whether the editor should prefer it.
struct Fix {
    title: String,
    edits: Vec<TextEdit>,
    preferred: bool,
}

/// The quick fixes for the diagnostics of a `textDocument/codeAction` request.
pub fn quick_fixes(
    snapshot: &Snapshot,
    params: &lsp::CodeActionParams,
    session: &Session,
) -> Vec<lsp::CodeActionOrCommand> {
    let wanted = params.context.only.as_ref().is_none_or(|only| {
        only.iter().any(|kind| {
            lsp::CodeActionKind::QUICKFIX
                .as_str()
                .starts_with(kind.as_str())
        })
    });
    if !wanted {
        return Vec::new();
    }
    let mut actions = Vec::new();
    for shown in &params.context.diagnostics {
        let Some(current) = current_diagnostic(snapshot, shown, session) else {
            continue;
        };
        for fix in fixes(snapshot, current) {
            actions.push(code_action(snapshot, params, shown, fix, session));
        }
    }
    actions
}

/// The diagnostic of the current analysis that a shown one stands for, if it still has a fix.
fn current_diagnostic<'a>(
    snapshot: &'a Snapshot,
    shown: &lsp::Diagnostic,
    session: &Session,
) -> Option<&'a Diagnostic> {
    from_proto::fix_hint(shown)?;
    let code = from_proto::code(shown)?;
    let at = from_proto::offset(snapshot.document(), shown.range.start, session.encoding);
    snapshot
        .analysis()
        .diagnostics
        .iter()
        .filter(|diagnostic| diagnostic.fix.is_some() && diagnostic.code == code)
        .find(|diagnostic| diagnostic.range.start <= at && at <= diagnostic.range.end)
}

fn fixes(snapshot: &Snapshot, diagnostic: &Diagnostic) -> Vec<Fix> {
    match diagnostic.fix.as_deref() {
        Some(FixHint::InsertFields { fields }) => {
            insert_fields(snapshot, diagnostic.range.start, fields)
        }
        Some(FixHint::Replace { candidates }) => candidates
            .iter()
            .enumerate()
            .map(|(i, candidate)| Fix {
                title: format!("Replace with `{candidate}`"),
                edits: vec![replace(diagnostic.range.clone(), candidate)],
                preferred: i == 0,
            })
            .collect(),
        Some(FixHint::ClosestLink) => closest_link(snapshot, diagnostic),
        None => Vec::new(),
    }
}

/// "Replace with `[[Title]]`" for a broken link, closest titles first (ranked only now).
fn closest_link(snapshot: &Snapshot, diagnostic: &Diagnostic) -> Vec<Fix> {
    let analysis = snapshot.analysis();
    let briefs = &analysis.briefs;
    let Some(link) = briefs
        .iter()
        .flat_map(|brief| &brief.links)
        .find(|link| link.range == diagnostic.range)
    else {
        return Vec::new();
    };
    fix::link_replacements(snapshot.document(), briefs, link)
        .into_iter()
        .enumerate()
        .map(|(i, replacement)| Fix {
            title: format!("Replace with `{replacement}`"),
            edits: vec![replace(diagnostic.range.clone(), &replacement)],
            preferred: i == 0,
        })
        .collect()
}

fn replace(range: Range<usize>, text: &str) -> TextEdit {
    TextEdit {
        range,
        new_text: text.to_owned(),
    }
}

/// "Insert all N missing fields" (when more than one), then one fix per field.
fn insert_fields(snapshot: &Snapshot, at: usize, fields: &[String]) -> Vec<Fix> {
    let analysis = snapshot.analysis();
    let kind = analysis
        .kind
        .as_deref()
        .and_then(|name| snapshot.settings().kinds.get(name));
    let (Some(brief), Some(kind)) = (analysis.brief_at(at), kind) else {
        return Vec::new();
    };
    let edits = |names: &[String]| fix::insert_fields(snapshot.document(), brief, kind, names);
    let mut fixes = Vec::new();
    if fields.len() > 1 {
        fixes.push(Fix {
            title: format!("Insert all {} missing fields", fields.len()),
            edits: edits(fields),
            preferred: true,
        });
    }
    for field in fields {
        fixes.push(Fix {
            title: format!("Insert field `{field}`"),
            edits: edits(std::slice::from_ref(field)),
            preferred: fields.len() == 1,
        });
    }
    fixes
}

fn code_action(
    snapshot: &Snapshot,
    params: &lsp::CodeActionParams,
    shown: &lsp::Diagnostic,
    fix: Fix,
    session: &Session,
) -> lsp::CodeActionOrCommand {
    let edits = to_proto::text_edits(snapshot.document(), &fix.edits, session.encoding);
    let document = (
        params.text_document.uri.clone(),
        Some(snapshot.open.version),
        edits,
    );
    let edit = to_proto::workspace_edit(vec![document], session.document_changes);
    lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
        title: fix.title,
        kind: Some(lsp::CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![shown.clone()]),
        edit: Some(edit),
        is_preferred: Some(fix.preferred),
        ..lsp::CodeAction::default()
    })
}
