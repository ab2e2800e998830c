//! `stale-output`: an output block whose marker's `input` hash is no longer the one its brief
//! would be sent with ([`payload::input_hash`]: the brief without its output blocks, plus the
//! latest outputs of the briefs it links to): the brief, or an input, changed after the answer
//! was written, so the answer may not fit any more. A run still streaming (`status=running`)
//! is left alone.
//!
//! A brief that links nowhere depends on its own text only: a brief rule ([`check`]). One that
//! links to others depends on their outputs too: a document rule ([`check_linked`]), which the
//! lint cache runs again when such a brief or any output changes ([`digest`]).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use crate::brief::diagnostic::{Code, Diagnostic};
use crate::brief::input::{self, Input};
use crate::brief::kind::Kind;
use crate::brief::lint::{DocumentInput, RuleContext};
use crate::brief::model::{self, Brief, OutputBlock};
use crate::brief::output::{Marker, Status};
use crate::brief::payload;
use crate::document::Document;

/// Briefs that link nowhere.
pub fn check(context: &RuleContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let Some(kind) = context.kind else { return };
    for brief in context.briefs.iter().filter(|brief| brief.links.is_empty()) {
        report(context.document, brief, kind, &[], diagnostics);
    }
}

/// Briefs that link to others, whose latest outputs are part of their input. A document rule
/// sees only the briefs' outlines: each brief this needs whole is read again from the document.
pub fn check_linked(context: &DocumentInput<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let Some(kind) = context.kind else { return };
    if context.briefs.iter().all(|brief| brief.links.is_empty()) {
        return;
    }
    let document = context.document;
    let spans = model::spans(document);
    if spans.len() != context.briefs.len() {
        return;
    }
    let titles: Vec<&str> = context
        .briefs
        .iter()
        .map(|brief| brief.title.as_str())
        .collect();
    // Only the briefs that link, and those they link to, are read whole.
    let whole = |index: usize| model::build_span(document, &spans[index]);
    let latest = |index: usize| input::latest_output(document, &whole(index));
    for (index, linking) in context.briefs.iter().enumerate() {
        if linking.links.is_empty() {
            continue;
        }
        let brief = whole(index);
        if !brief
            .outputs
            .iter()
            .any(|block| marker(document, block).is_some())
        {
            continue;
        }
        let inputs = input::gather_with(&titles, &brief, context.others, &latest);
        report(document, &brief, kind, &inputs, diagnostics);
    }
}

/// What [`check_linked`] reads of one brief besides its title and links, as a hash for the
/// lint cache: the whole text of a brief that links to others and has an output (its own
/// input), and its output blocks (the latest of which is someone's input; hashing them all
/// is cheaper than finding the latest, and changes whenever it does). 0 for a brief with no
/// output, so that typing into such briefs never runs the document rules again.
pub fn digest(document: &Document, brief: &Brief) -> u64 {
    if brief.outputs.is_empty() {
        return 0;
    }
    let mut hasher = DefaultHasher::new();
    if !brief.links.is_empty() {
        document.slice(brief.range.clone()).hash(&mut hasher);
    }
    for block in &brief.outputs {
        let marker = block.marker.as_ref();
        marker
            .map(|m| (&m.run, &m.agent, m.status.as_str()))
            .hash(&mut hasher);
        document.slice(block.body.clone()).hash(&mut hasher);
    }
    hasher.finish()
}

fn report(
    document: &Document,
    brief: &Brief,
    kind: &Kind,
    inputs: &[Input],
    diagnostics: &mut Vec<Diagnostic>,
) {
    // Hashing reads the whole brief: only for briefs with an answer to compare.
    let mut hash = None;
    for block in &brief.outputs {
        let Some(marker) = marker(document, block) else {
            continue;
        };
        if marker.status == Status::Running || marker.input.is_empty() {
            continue;
        }
        let hash = hash.get_or_insert_with(|| payload::input_hash(document, brief, kind, inputs));
        if marker.input == *hash {
            continue;
        }
        let what = if brief.title.is_empty() {
            "this brief".to_owned()
        } else {
            format!("`{}`", brief.title)
        };
        let what = if inputs.is_empty() {
            what
        } else {
            format!("{what} or the output of a brief it links to")
        };
        let to = if marker.agent.is_empty() {
            String::new()
        } else {
            format!(" to @{}", marker.agent)
        };
        let message = format!(
            "{what} changed after this output was written (run {}); send it{to} again for an answer to the brief as it is now",
            marker.run
        );
        diagnostics.push(Diagnostic::new(
            Code::StaleOutput,
            block.heading.clone(),
            message,
        ));
    }
}

/// The block's marker: its first line that is not blank, if that is one. Markdown a user
/// wrote under `## Output` by hand has none, and is nobody's run.
fn marker(document: &Document, block: &OutputBlock) -> Option<Marker> {
    let rope = document.rope();
    let mut line = rope.byte_to_line(block.body.start.min(document.len()));
    // The body starts at the end of the heading, on the heading's own line.
    if rope.line_to_byte(line) < block.body.start {
        line += 1;
    }
    while line < rope.len_lines() {
        let start = rope.line_to_byte(line);
        if start >= block.body.end {
            return None;
        }
        let end = rope.try_line_to_byte(line + 1).unwrap_or(document.len());
        let text = document.slice(start..end.min(block.body.end));
        if !text.trim().is_empty() {
            return Marker::parse(&text);
        }
        line += 1;
    }
    None
}

#[cfg(test)]
mod tests;
