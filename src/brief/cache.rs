//! Linting while the user types: what each brief's own rules found is kept, keyed by the
//! revision of the parsed part of the document that holds the brief, and reused while that
//! part is unchanged. A keystroke re-reads the brief it touched; the rules that look across
//! briefs (links, cycles, front matter) run on light copies of every brief.
//!
//! The result is the same as [`lint`](super::lint::lint)'s diagnostics; a test checks that.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::ops::Range;

use super::diagnostic::Diagnostic;
use super::front_matter::{self, FrontMatter};
use super::graph::{TitleIndex, TitleKeys};
use super::kind::Kind;
use super::link::Link;
use super::lint::{classify, field_specs, lint, Context, Machine, RuleContext};
use super::model::{self, Brief, Mention};
use super::rules;
use crate::document::Document;

/// What a lint while typing produces: the document's kind (`None`: not a baton document)
/// and its diagnostics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Findings {
    pub kind: Option<String>,
    pub diagnostics: Vec<Diagnostic>,
    /// A hash of the briefs' titles in order: when it changes, documents linking here may
    /// need linting again.
    pub titles: u64,
}

/// A brief's findings, in offsets relative to the start of the part that holds it.
struct Kept {
    revision: u64,
    offset: usize,
    len: usize,
    title: String,
    keys: Option<TitleKeys>,
    /// The H1 and its `@mention`: where the document rules report a brief's inherited
    /// target agent, and whether it has one of its own.
    heading: Option<Range<usize>>,
    mention: Option<Mention>,
    links: Vec<Link>,
    diagnostics: Vec<Diagnostic>,
}

/// Per-document memory of what the brief rules found. Owned by whoever lints the document
/// as it changes; useless (but harmless) across documents.
#[derive(Default)]
pub struct LintCache {
    /// What the kept findings depend on besides the text: the configuration, the kinds,
    /// the document's kind and the machine (which keys are set, whether it trusts the
    /// workspace).
    key: Option<(usize, usize, String, Machine)>,
    /// In document order, so that walking the briefs again meets them in the same order.
    kept: Vec<Option<Kept>>,
    front_matter: Option<(u64, FrontMatter, Vec<Diagnostic>)>,
}

impl LintCache {
    /// Lints `document`, reusing what is known of the parts that did not change.
    pub fn lint(&mut self, document: &Document, context: &Context<'_>) -> Findings {
        if document.is_too_large() {
            let analysis = lint(document, context);
            return Findings {
                kind: analysis.kind,
                diagnostics: analysis.diagnostics,
                titles: 0,
            };
        }
        let parts: Vec<(Range<usize>, u64)> = document.parts().collect();
        let (front_matter, mut diagnostics) =
            self.front_matter(document, parts.first().map(|part| part.1));
        let Some(kind) = classify(context.path, &front_matter, context.config) else {
            return Findings::default();
        };
        let same_key = self
            .key
            .as_ref()
            .is_some_and(|(config, kinds, kept_kind, machine)| {
                *config == context.config as *const _ as usize
                    && *kinds == context.kinds as *const _ as usize
                    && *kept_kind == kind
                    && machine == context.machine
            });
        if !same_key {
            let key = (
                context.config as *const _ as usize,
                context.kinds as *const _ as usize,
                kind.clone(),
                context.machine.clone(),
            );
            self.kept.clear();
            self.key = Some(key);
        }
        let kind_spec = context.kinds.get(&kind);
        let mut kept: Vec<Option<Kept>> = Vec::with_capacity(self.kept.len());
        let mut next_old = 0;
        let mut skeletons = Vec::new();
        let mut part = 0;
        let mut titles_hasher = DefaultHasher::new();
        for span in model::spans(document) {
            while part + 1 < parts.len() && parts[part].0.end <= span.range.start {
                part += 1;
            }
            let (part_range, revision) = parts[part].clone();
            let offset = span.range.start - part_range.start;
            let reusable = self.take(&mut next_old, revision, offset, span.range.len());
            let entry = match reusable {
                Some(entry) => entry,
                None => {
                    let brief = model::build_span(document, &span);
                    check_brief(
                        document,
                        context,
                        &front_matter,
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
            entry.title.hash(&mut titles_hasher);
            skeletons.push(skeleton(&entry, part_range.start));
            kept.push(Some(entry));
        }
        self.kept = kept;
        let titles_hash = titles_hasher.finish();
        let keys = self
            .kept
            .iter()
            .map(|entry| entry.as_ref().and_then(|entry| entry.keys.as_ref()));
        let titles = TitleIndex::from_keys(keys);
        let rule_context = RuleContext {
            document,
            front_matter: &front_matter,
            briefs: &skeletons,
            kind: kind_spec,
            kinds: context.kinds,
            config: context.config,
            others: context.others,
            machine: context.machine,
            titles,
            specs: Vec::new(),
        };
        rules::check_document(&rule_context, &mut diagnostics);
        diagnostics.sort_by(super::diagnostic::Diagnostic::document_order);
        Findings {
            kind: Some(kind),
            diagnostics,
            titles: titles_hash,
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
    ) -> (FrontMatter, Vec<Diagnostic>) {
        if let (Some(revision), Some((kept, front_matter, diagnostics))) =
            (first_part, &self.front_matter)
        {
            if *kept == revision {
                return (front_matter.clone(), diagnostics.clone());
            }
        }
        let (front_matter, diagnostics) = front_matter::read(document);
        if let Some(revision) = first_part {
            self.front_matter = Some((revision, front_matter.clone(), diagnostics.clone()));
        }
        (front_matter, diagnostics)
    }
}

/// Where a brief sits: in which part (its revision and start), and how far into it.
struct Place {
    revision: u64,
    base: usize,
    offset: usize,
}

/// Runs the brief rules on one brief and keeps what they found, relative to `base`.
fn check_brief(
    document: &Document,
    context: &Context<'_>,
    front_matter: &FrontMatter,
    kind: Option<&Kind>,
    brief: Brief,
    place: Place,
) -> Kept {
    let Place {
        revision,
        base,
        offset,
    } = place;
    let specs = vec![field_specs(kind, &brief)];
    let briefs = std::slice::from_ref(&brief);
    let rule_context = RuleContext {
        document,
        front_matter,
        briefs,
        kind,
        kinds: context.kinds,
        config: context.config,
        others: context.others,
        machine: context.machine,
        titles: TitleIndex::new(&[]),
        specs,
    };
    let mut diagnostics = Vec::new();
    rules::check_briefs(&rule_context, &mut diagnostics);
    let relative = |range: &Range<usize>| range.start - base..range.end - base;
    for diagnostic in &mut diagnostics {
        diagnostic.range = relative(&diagnostic.range);
    }
    let links = brief
        .links
        .iter()
        .map(|link| Link {
            range: relative(&link.range),
            target_range: relative(&link.target_range),
            ..link.clone()
        })
        .collect();
    Kept {
        offset,
        len: brief.range.len(),
        keys: (!brief.title.is_empty()).then(|| TitleKeys::of(&brief.title)),
        heading: brief.heading.as_ref().map(relative),
        mention: brief.mention.map(|mention| Mention {
            range: relative(&mention.range),
            ..mention
        }),
        title: brief.title,
        revision,
        links,
        diagnostics,
    }
}

/// A brief with just what the document rules read: title, heading, mention, range and links.
fn skeleton(entry: &Kept, base: usize) -> Brief {
    let shift = |range: &Range<usize>| range.start + base..range.end + base;
    let start = base + entry.offset;
    Brief {
        title: entry.title.clone(),
        heading: entry.heading.as_ref().map(shift),
        title_range: start..start,
        mention: entry.mention.as_ref().map(|mention| Mention {
            name: mention.name.clone(),
            range: shift(&mention.range),
        }),
        range: start..start + entry.len,
        fields: Vec::new(),
        outputs: Vec::new(),
        links: entry
            .links
            .iter()
            .map(|link| Link {
                range: shift(&link.range),
                target_range: shift(&link.target_range),
                ..link.clone()
            })
            .collect(),
    }
}
