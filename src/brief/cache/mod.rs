//! Linting while the user types: what each brief's own rules found is kept, keyed by the
//! revision of the parsed part of the document that holds the brief, and reused while that
//! part is unchanged. A keystroke re-reads the brief it touched; the rules that look across
//! briefs (links, cycles, front matter) run on light copies of every brief.
//!
//! The result is the same as [`lint`](super::lint::lint)'s, diagnostics and analysis; a test
//! and the fuzzer check that.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::ops::Range;
use std::sync::Arc;

use super::diagnostic::Diagnostic;
use super::front_matter::{self, FrontMatter};
use super::lint::{classify, lint, Analysis, Context, Machine};
use super::model::{self, Brief};
use crate::document::Document;
use document_rules::{Briefs, DocumentFindings};
use kept::{check_brief, Kept, Place};

mod document_rules;
mod kept;
#[cfg(test)]
mod tests;

/// What a lint while typing produces: the document's kind (`None`: not a baton document)
/// and its diagnostics, and what it read, to make the full analysis from
/// ([`Findings::analysis`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Findings {
    pub kind: Option<String>,
    pub diagnostics: Vec<Diagnostic>,
    /// A hash of the briefs' titles in order: when it changes, documents linking here may
    /// need linting again.
    pub titles: u64,
    front_matter: Arc<FrontMatter>,
    /// Each brief, relative to the start of the part that holds it, and that start.
    briefs: Vec<(usize, Arc<Brief>)>,
}

impl Findings {
    /// The document's full analysis, the same as [`lint`]'s, made from what this lint read
    /// and kept rather than by reading the document again.
    pub fn analysis(&self) -> Analysis {
        Analysis {
            kind: self.kind.clone(),
            front_matter: FrontMatter::clone(&self.front_matter),
            briefs: (self.briefs.iter())
                .map(|(base, brief)| Brief::clone(brief).moved(0, *base))
                .collect(),
            diagnostics: self.diagnostics.clone(),
        }
    }
}

/// The front matter as last read, kept while the part that holds it is unchanged.
struct KeptFrontMatter {
    /// The revision of the document's first part (`None`: not to be kept).
    revision: Option<u64>,
    front_matter: Arc<FrontMatter>,
    diagnostics: Vec<Diagnostic>,
    /// A hash of the block's place and text, for the document rules' structure.
    hash: u64,
}

/// Per-document memory of what the brief rules found. Owned by whoever lints the document
/// as it changes; useless (but harmless) across documents.
#[derive(Default)]
pub struct LintCache {
    /// What the kept findings depend on besides the text: the configuration, the kinds,
    /// the document's kind and the machine (which keys are set, whether it trusts the
    /// workspace).
    key: Option<(usize, usize, String, Machine, BriefInputs)>,
    /// In document order, so that walking the briefs again meets them in the same order.
    kept: Vec<Option<Kept>>,
    /// The list the next lint fills, kept empty between lints so that its memory is reused.
    spare: Vec<Option<Kept>>,
    front_matter: Option<Arc<KeptFrontMatter>>,
    document_findings: Option<DocumentFindings>,
    /// How many diagnostics the last lint found, to size the next one's list.
    found: usize,
}

impl LintCache {
    /// Lints `document`, reusing what is known of the parts that did not change.
    pub fn lint(&mut self, document: &Document, context: &Context<'_>) -> Findings {
        if document.is_too_large() {
            let analysis = lint(document, context);
            return Findings {
                kind: analysis.kind,
                diagnostics: analysis.diagnostics,
                ..Findings::default()
            };
        }
        let parts: Vec<(Range<usize>, u64)> = document.parts().collect();
        let kept_front_matter = self.front_matter(document, parts.first().map(|part| part.1));
        let front_matter = &kept_front_matter.front_matter;
        let Some(kind) = classify(context.path, front_matter, context.config) else {
            return Findings::default();
        };
        let same_key =
            self.key
                .as_ref()
                .is_some_and(|(config, kinds, kept_kind, machine, inputs)| {
                    *config == context.config as *const _ as usize
                        && *kinds == context.kinds as *const _ as usize
                        && *kept_kind == kind
                        && machine == context.machine
                        && *inputs == brief_inputs(front_matter)
                });
        if !same_key {
            let key = (
                context.config as *const _ as usize,
                context.kinds as *const _ as usize,
                kind.clone(),
                context.machine.clone(),
                brief_inputs(front_matter),
            );
            self.kept.clear();
            self.document_findings = None;
            self.key = Some(key);
        }
        let kind_spec = context.kinds.get(&kind);
        let mut kept = std::mem::take(&mut self.spare);
        let mut bases = Vec::with_capacity(self.kept.len());
        let mut next_old = 0;
        let mut part = 0;
        let mut diagnostics = Vec::with_capacity(self.found);
        let mut briefs = Vec::with_capacity(self.kept.len());
        diagnostics.extend(kept_front_matter.diagnostics.iter().cloned());
        let mut titles_hasher = DefaultHasher::new();
        let mut structure = DefaultHasher::new();
        structure.write_u64(kept_front_matter.hash);
        // What the document rules read besides the briefs: a run failing changes it.
        context.failed_runs.hash(&mut structure);
        context.over_budget.hash(&mut structure);
        let mut placeable = true;
        let mut inputs = DefaultHasher::new();
        let mut linking = false;
        for span in model::spans(document) {
            while part + 1 < parts.len() && parts[part].0.end <= span.range.start {
                part += 1;
            }
            let (part_range, revision) = parts[part].clone();
            let revision = spanned_revision(&parts[part..], span.range.end, revision);
            let offset = span.range.start - part_range.start;
            let reusable = self.take(&mut next_old, revision, offset, span.range.len());
            let entry = match reusable {
                Some(entry) => entry,
                None => {
                    let brief = model::build_span(document, &span);
                    check_brief(
                        document,
                        context,
                        front_matter,
                        kind_spec,
                        brief,
                        Place {
                            revision,
                            base: part_range.start,
                            offset,
                        },
                    )
                }
            };
            let shift =
                |range: &Range<usize>| range.start + part_range.start..range.end + part_range.start;
            diagnostics.extend(entry.diagnostics.iter().map(|diagnostic| Diagnostic {
                range: shift(&diagnostic.range),
                ..diagnostic.clone()
            }));
            titles_hasher.write_u64(entry.title_hash);
            structure.write_u64(entry.structure);
            inputs.write_u64(entry.inputs);
            linking |= !entry.brief.links.is_empty();
            placeable &= entry.placeable;
            bases.push(part_range.start);
            briefs.push((part_range.start, entry.brief.clone()));
            kept.push(Some(entry));
        }
        let mut spare = std::mem::replace(&mut self.kept, kept);
        spare.clear();
        self.spare = spare;
        // Typing into an answer changes an input, which matters only if some brief links.
        if linking {
            structure.write_u64(inputs.finish());
        }
        let structure = placeable.then(|| structure.finish());
        let kept_briefs = Briefs {
            kind: kind_spec,
            bases: &bases,
            structure,
        };
        let found = self.document_rules(document, context, front_matter, kept_briefs);
        diagnostics.extend(found);
        let order = super::diagnostic::Diagnostic::document_order;
        // Usually in order already, but for what the document rules added.
        if !diagnostics.is_sorted_by(|a, b| order(a, b).is_le()) {
            diagnostics.sort_by(order);
        }
        self.found = diagnostics.len();
        Findings {
            kind: Some(kind),
            diagnostics,
            titles: titles_hasher.finish(),
            front_matter: kept_front_matter.front_matter.clone(),
            briefs,
        }
    }

    /// The kept findings for a brief, if its part is unchanged. Briefs come in document
    /// order and so do the kept entries: look a few entries ahead of the last match, so an
    /// inserted or deleted brief costs a short skip, not a search.
    fn take(&mut self, next: &mut usize, revision: u64, offset: usize, len: usize) -> Option<Kept> {
        const LOOK_AHEAD: usize = 8;
        let window = *next..(*next + LOOK_AHEAD).min(self.kept.len());
        let found = window.into_iter().find(|&index| {
            let entry = self.kept[index].as_ref();
            entry.is_some_and(|entry| {
                entry.revision == revision && entry.offset == offset && entry.len == len
            })
        })?;
        *next = found + 1;
        self.kept[found].take()
    }

    /// The front matter lies in the first part; it is read again only when that part changes.
    fn front_matter(
        &mut self,
        document: &Document,
        first_part: Option<u64>,
    ) -> Arc<KeptFrontMatter> {
        if let Some(kept) = &self.front_matter {
            if first_part.is_some() && kept.revision == first_part {
                return kept.clone();
            }
        }
        let (front_matter, diagnostics) = front_matter::read(document);
        let mut hasher = DefaultHasher::new();
        if let Some(block) = &document.outline().front_matter {
            (block.range.clone(), document.slice(block.range.clone())).hash(&mut hasher);
        }
        let kept = Arc::new(KeptFrontMatter {
            revision: first_part,
            front_matter: Arc::new(front_matter),
            diagnostics,
            hash: hasher.finish(),
        });
        self.front_matter = Some(kept.clone());
        kept
    }
}

/// The revision of what a brief spans: its part's, or, for a brief that reaches into later
/// parts (an agent's answer holding an `# H1`, which is opaque, cuts a part but not the
/// brief), a mix of all their revisions, so that an edit in any of them reads it again.
fn spanned_revision(parts: &[(Range<usize>, u64)], end: usize, first: u64) -> u64 {
    let later = parts[1..].iter().take_while(|(range, _)| range.start < end);
    later.fold(first, |mixed, (_, revision)| {
        let mut hasher = DefaultHasher::new();
        (mixed, revision).hash(&mut hasher);
        hasher.finish()
    })
}

/// What the brief rules read of the front matter: the inherited agent, `confidential`
/// (`confidential-remote`) and the `tags` routes match. A change to any finds every brief again.
type BriefInputs = (Option<String>, Option<bool>, Vec<String>);

fn brief_inputs(front_matter: &FrontMatter) -> BriefInputs {
    let agent = front_matter.agent.as_ref().map(|agent| agent.value.clone());
    (agent, front_matter.confidential, front_matter.tags.clone())
}
