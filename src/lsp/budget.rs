//! The budgets of an open document's briefs ([`crate::dispatch::budgets`]), for the budget
//! code lens, the background count and the hover on a brief's heading.
//!
//! Never on the keystroke path: counted in the background once typing pauses
//! ([`super::counting`]), when a lens is resolved, or for a hover; a code lens request only
//! reads the cache ([`Budgets::counted`]).

use std::path::Path;

use super::state::Snapshot;
use crate::brief::hover::Hover;
use crate::dispatch::budgets::Budgets;
use crate::document::Document;

/// The budgets of the snapshot's briefs, its linked documents read through `open` (the
/// editor's buffers, else the disk). `None` for a document that is no saved baton document
/// (no journal, no thread).
pub fn budgets<'a>(
    snapshot: &'a Snapshot,
    open: &'a dyn Fn(&Path) -> Option<Document>,
) -> Option<Budgets<'a>> {
    let path = snapshot.context.path.as_deref()?;
    let (document, analysis) = (snapshot.document(), snapshot.analysis());
    let linked = snapshot.context.linked(open);
    Budgets::new(document, analysis, snapshot.settings(), path, linked)
}

/// The hover at `offset` with, on a brief's heading, its budget broken down (role, thread,
/// brief, inputs) under what the hover already says. Not on the heading's `@mention`: that
/// hover is the agent's.
pub fn with_breakdown(snapshot: &Snapshot, offset: usize, found: Option<Hover>) -> Option<Hover> {
    let analysis = snapshot.analysis();
    let on_heading = analysis.briefs.iter().find(|brief| {
        let on_mention = (brief.mention.as_ref()).is_some_and(|m| m.range.contains(&offset));
        !on_mention && (brief.heading.as_ref()).is_some_and(|heading| heading.contains(&offset))
    });
    let Some(brief) = on_heading else {
        return found;
    };
    // Linked documents are read from disk: a hover has no access to the editor's buffers.
    let open = |_: &Path| None;
    let Some(budget) = budgets(snapshot, &open).and_then(|mut budgets| budgets.of(brief)) else {
        return found;
    };
    let heading = brief.heading.clone().unwrap_or(offset..offset);
    Some(match found {
        Some(mut hover) => {
            hover.markdown = format!("{}\n\n---\n\n{}", hover.markdown, budget.breakdown());
            hover
        }
        None => Hover {
            range: heading,
            markdown: budget.breakdown(),
        },
    })
}
