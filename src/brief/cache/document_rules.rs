//! The document rules (links, cycles, front matter) while the user types: what they found is
//! kept while nothing they read changes, and each finding is placed again by the element of
//! a brief it lies on.

use std::ops::Range;

use super::kept::Kept;
use super::LintCache;
use crate::brief::diagnostic::Diagnostic;
use crate::brief::front_matter::FrontMatter;
use crate::brief::graph::TitleIndex;
use crate::brief::kind::Kind;
use crate::brief::lint::{Context, DocumentInput, Outline};
use crate::brief::rules;
use crate::document::{Document, FrontMatterBlock};

/// What the document rules found, kept while nothing they read has changed: the briefs'
/// titles, mentions and links (not where they are) and the front matter. A keystroke in
/// prose changes none of that, so a large document's links and cycles are not resolved
/// again; each finding is re-placed by the element it lies on, which moves with the text.
pub(super) struct DocumentFindings {
    structure: u64,
    placed: Vec<(Anchor, Diagnostic)>,
}

/// The kept briefs as the document rules see them: their kind, where the part holding each
/// starts, and the hash of what the rules read (`None`: their findings are not to be kept).
pub(super) struct Briefs<'a, 'k> {
    pub kind: Option<&'k Kind>,
    pub bases: &'a [usize],
    pub structure: Option<u64>,
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

impl LintCache {
    /// What the document rules find: kept from the last lint when `structure` (`None`: not
    /// to be kept) is the same, else found again.
    pub(super) fn document_rules(
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
            .map(|(entry, &base)| Outline::placed(&entry.brief, base, document))
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
}

/// The elements of a kept brief that document rules report on, placed in the document.
fn elements(entry: &Kept, base: usize) -> impl Iterator<Item = (Element, Range<usize>)> + '_ {
    let shift = move |range: &Range<usize>| range.start + base..range.end + base;
    let brief = &entry.brief;
    let heading = (brief.heading.as_ref()).map(|range| (Element::Heading, shift(range)));
    let mention = (brief.mention.as_ref()).map(|mention| (Element::Mention, shift(&mention.range)));
    let links = brief
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
