//! Linting while the user types: what each brief's own rules found is kept, keyed by the
//! revision of the parsed part of the document that holds the brief, and reused while that
//! part is unchanged. A keystroke re-reads the brief it touched; the rules that look across
//! briefs (links, cycles, front matter) run on light copies of every brief.
//!
//! The result is the same as [`lint`](super::lint::lint)'s diagnostics; a test checks that.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::ops::Range;
use std::sync::Arc;

use super::diagnostic::Diagnostic;
use super::front_matter::{self, FrontMatter};
use super::graph::{TitleIndex, TitleKeys};
use super::kind::Kind;
use super::link::Link;
use super::lint::{
    classify, field_specs, lint, Context, DocumentInput, Machine, Outline, RuleContext,
};
use super::model::{self, Brief, Mention};
use super::rules;
use crate::document::{Document, FrontMatterBlock};

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
    /// A hash of the title, for [`Findings::titles`].
    title_hash: u64,
    keys: Option<TitleKeys>,
    /// The H1 and its `@mention`: where the document rules report a brief's inherited
    /// target agent, and whether it has one of its own.
    heading: Option<Range<usize>>,
    mention: Option<Mention>,
    links: Vec<Link>,
    diagnostics: Vec<Diagnostic>,
    /// A hash of what the document rules read of this brief, positions left out (see
    /// [`DocumentFindings`]).
    structure: u64,
    /// What `stale-output` reads of this brief as a run's input ([`rules::stale_output::digest`]):
    /// it counts only in a document where some brief links to another.
    inputs: u64,
    /// Whether what the document rules find on this brief can be kept and moved with its
    /// elements: not when a link leads to another document (whose titles may change without
    /// this one), nor for a brief without a heading (findings go on its first line of text).
    placeable: bool,
}

/// What the document rules found, kept while nothing they read has changed: the briefs'
/// titles, mentions and links (not where they are) and the front matter. A keystroke in
/// prose changes none of that, so a large document's links and cycles are not resolved
/// again; each finding is re-placed by the element it lies on, which moves with the text.
struct DocumentFindings {
    structure: u64,
    placed: Vec<(Anchor, Diagnostic)>,
}

/// The kept briefs as the document rules see them: their kind, where the part holding each
/// starts, and the hash of what the rules read (`None`: their findings are not to be kept).
struct Briefs<'a, 'k> {
    kind: Option<&'k Kind>,
    bases: &'a [usize],
    structure: Option<u64>,
}

/// Where a document rule's finding lies.
#[derive(Clone, Copy)]
enum Anchor {
    /// In the front matter, at the top of the document: it does not move.
    Fixed,
    /// `delta` bytes into an element of a brief.
    On {
        brief: usize,
        element: Element,
        delta: usize,
    },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Element {
    Heading,
    Mention,
    Link(usize),
    LinkTarget(usize),
}

/// The front matter as last read, kept while the part that holds it is unchanged.
struct KeptFrontMatter {
    /// The revision of the document's first part (`None`: not to be kept).
    revision: Option<u64>,
    front_matter: FrontMatter,
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
                titles: 0,
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
            linking |= !entry.links.is_empty();
            placeable &= entry.placeable;
            bases.push(part_range.start);
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
        let briefs = Briefs {
            kind: kind_spec,
            bases: &bases,
            structure,
        };
        let found = self.document_rules(document, context, front_matter, briefs);
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
        }
    }

    /// What the document rules find: kept from the last lint when `structure` (`None`: not
    /// to be kept) is the same, else found again.
    fn document_rules(
        &mut self,
        document: &Document,
        context: &Context<'_>,
        front_matter: &FrontMatter,
        briefs: Briefs<'_, '_>,
    ) -> Vec<Diagnostic> {
        let Briefs {
            kind,
            bases,
            structure,
        } = briefs;
        let kept = self.document_findings.as_ref();
        if let Some(found) = kept.filter(|found| Some(found.structure) == structure) {
            if let Some(placed) = self.place(&found.placed, bases) {
                return placed;
            }
        }
        let found = self.check_document(document, context, front_matter, kind, bases);
        self.document_findings = structure.and_then(|structure| {
            let block = document.outline().front_matter.as_ref();
            let placed = self.anchor(&found, bases, block)?;
            Some(DocumentFindings { structure, placed })
        });
        found
    }

    /// Runs the document rules on light copies of the kept briefs.
    fn check_document(
        &self,
        document: &Document,
        context: &Context<'_>,
        front_matter: &FrontMatter,
        kind: Option<&Kind>,
        bases: &[usize],
    ) -> Vec<Diagnostic> {
        let entries = self.kept.iter().flatten();
        let outlines: Vec<Outline> = (entries.zip(bases))
            .map(|(entry, &base)| Outline::of(&skeleton(entry, base), document))
            .collect();
        let keys = self
            .kept
            .iter()
            .map(|entry| entry.as_ref().and_then(|entry| entry.keys.as_ref()));
        let input = DocumentInput {
            common: context.common(document, front_matter, kind),
            briefs: &outlines,
            titles: TitleIndex::from_keys(keys),
            failed_runs: context.failed_runs,
            over_budget: context.over_budget,
        };
        let mut found = Vec::new();
        rules::check_document(&input, &mut found);
        found
    }

    /// Where each of the document rules' findings lies, so that it can be placed again
    /// after the text moves. `None` when one lies on nothing that moves with it: those are
    /// found again on every lint.
    fn anchor(
        &self,
        found: &[Diagnostic],
        bases: &[usize],
        front_matter: Option<&FrontMatterBlock>,
    ) -> Option<Vec<(Anchor, Diagnostic)>> {
        let starts: Vec<usize> = (self.kept.iter().zip(bases))
            .map(|(entry, base)| base + entry.as_ref().map_or(0, |entry| entry.offset))
            .collect();
        let in_front_matter = |range: &Range<usize>| {
            front_matter.is_some_and(|block| {
                block.range.start <= range.start && range.end <= block.range.end
            })
        };
        found
            .iter()
            .map(|diagnostic| {
                let range = &diagnostic.range;
                let anchor = if in_front_matter(range) {
                    Anchor::Fixed
                } else {
                    let brief = starts
                        .partition_point(|&start| start <= range.start)
                        .checked_sub(1)?;
                    let entry = self.kept[brief].as_ref()?;
                    let (element, at) = elements(entry, bases[brief]).find(|(_, element)| {
                        element.start <= range.start && range.end <= element.end
                    })?;
                    Anchor::On {
                        brief,
                        element,
                        delta: range.start - at.start,
                    }
                };
                Some((anchor, diagnostic.clone()))
            })
            .collect()
    }

    /// The kept findings of the document rules, placed where their elements are now.
    fn place(&self, placed: &[(Anchor, Diagnostic)], bases: &[usize]) -> Option<Vec<Diagnostic>> {
        placed
            .iter()
            .map(|(anchor, diagnostic)| {
                let start = match *anchor {
                    Anchor::Fixed => diagnostic.range.start,
                    Anchor::On {
                        brief,
                        element,
                        delta,
                    } => {
                        let entry = self.kept.get(brief)?.as_ref()?;
                        let (_, at) = elements(entry, bases[brief]).find(|(e, _)| *e == element)?;
                        at.start + delta
                    }
                };
                Some(Diagnostic {
                    range: start..start + diagnostic.range.len(),
                    ..diagnostic.clone()
                })
            })
            .collect()
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
            front_matter,
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

/// Where a brief sits: in which part (its revision and start), and how far into it.
struct Place {
    revision: u64,
    base: usize,
    offset: usize,
}

/// What the brief rules read of the front matter: the inherited agent, `confidential`
/// (`confidential-remote`) and the `tags` routes match. A change to any finds every brief again.
type BriefInputs = (Option<String>, Option<bool>, Vec<String>);

fn brief_inputs(front_matter: &FrontMatter) -> BriefInputs {
    let agent = front_matter.agent.as_ref().map(|agent| agent.value.clone());
    (agent, front_matter.confidential, front_matter.tags.clone())
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
        common: context.common(document, front_matter, kind),
        briefs,
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
    let links_elsewhere = brief.links.iter().any(|link| link.target.file().is_some());
    let placeable = brief.heading.is_some() && !links_elsewhere;
    // What `stale-output` reads across briefs: their outputs, and linking briefs' text.
    let inputs = rules::stale_output::digest(document, &brief);
    Kept {
        structure: structure_of(&brief),
        inputs,
        placeable,
        offset,
        len: brief.range.len(),
        keys: (!brief.title.is_empty()).then(|| TitleKeys::of(&brief.title)),
        title_hash: {
            let mut hasher = DefaultHasher::new();
            brief.title.hash(&mut hasher);
            hasher.finish()
        },
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

/// A hash of what the document rules read of a brief: its title, whether it has a heading,
/// its mention and its links, with their lengths and not where they are.
fn structure_of(brief: &Brief) -> u64 {
    let mut hasher = DefaultHasher::new();
    brief.title.hash(&mut hasher);
    brief.heading.as_ref().map(Range::len).hash(&mut hasher);
    (brief.mention.as_ref())
        .map(|mention| (&mention.name, mention.range.len()))
        .hash(&mut hasher);
    for link in &brief.links {
        let target_at = link.target_range.start - link.range.start;
        (
            &link.target,
            link.range.len(),
            target_at,
            link.target_range.len(),
        )
            .hash(&mut hasher);
    }
    hasher.finish()
}

/// The elements of a kept brief that document rules report on, placed in the document.
fn elements(entry: &Kept, base: usize) -> impl Iterator<Item = (Element, Range<usize>)> + '_ {
    let shift = move |range: &Range<usize>| range.start + base..range.end + base;
    let heading = (entry.heading.as_ref()).map(|range| (Element::Heading, shift(range)));
    let mention = (entry.mention.as_ref()).map(|mention| (Element::Mention, shift(&mention.range)));
    let links = entry
        .links
        .iter()
        .enumerate()
        .flat_map(move |(index, link)| {
            [
                (Element::Link(index), shift(&link.range)),
                (Element::LinkTarget(index), shift(&link.target_range)),
            ]
        });
    // The smallest first: a finding on a link in a heading moves with the link.
    links.chain(mention).chain(heading)
}

/// A brief with just what its outline holds: title, heading, mention, range and links.
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::LintCache;
    use crate::brief::kind::Kinds;
    use crate::brief::lint::{lint, Context, Machine, NoOtherDocuments};
    use crate::brief::Code;
    use crate::config::Config;
    use crate::document::Document;

    #[test]
    fn typing_moves_what_the_document_rules_found() {
        let config = Config::from_toml("[agents.researcher]\nprovider = \"openai\"\n").unwrap();
        let kinds = Kinds::from_config(&config.file.kinds);
        let context = Context {
            config: &config,
            kinds: &kinds,
            path: Some(Path::new("a.brief.md")),
            others: &NoOtherDocuments,
            machine: &Machine::default(),
            failed_runs: &[],
            over_budget: &[],
        };
        let brief = |title: &str, body: &str| {
            format!("# {title} @researcher\n\n## Objective\n\n{body}\n\n## Context\n\nc\n\n## Constraints\n\nc\n\n## Expected Output\n\nc\n\n")
        };
        let text = brief("First", "Say hi.") + &brief("Second", "Use [[Nowhere]] and [[First]].");
        let mut document = Document::new(&text);
        let mut cache = LintCache::default();
        let broken = |diagnostics: &[crate::brief::Diagnostic]| {
            let found = diagnostics.iter().filter(|d| d.code == Code::BrokenLink);
            found.map(|d| d.range.clone()).collect::<Vec<_>>()
        };
        let before = broken(&cache.lint(&document, &context).diagnostics);
        let at = text.find("Say hi.").unwrap();
        document.replace(at..at, "Please ");
        let after = cache.lint(&document, &context).diagnostics;
        let moved: Vec<_> = before.iter().map(|r| r.start + 7..r.end + 7).collect();
        assert_eq!(broken(&after), moved);
        assert_eq!(after, lint(&document, &context).diagnostics);
    }
}
