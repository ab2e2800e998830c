//! What the lint while typing keeps of one brief: the brief as read and what its own rules
//! found, relative to the start of the part of the document that holds it.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::ops::Range;
use std::sync::Arc;

use crate::brief::diagnostic::Diagnostic;
use crate::brief::front_matter::FrontMatter;
use crate::brief::graph::TitleKeys;
use crate::brief::kind::Kind;
use crate::brief::lint::{field_specs, Context, RuleContext};
use crate::brief::model::Brief;
use crate::brief::rules;
use crate::document::Document;

/// A brief and what its own rules found, in offsets relative to the start of the part that
/// holds it.
pub(super) struct Kept {
    pub revision: u64,
    pub offset: usize,
    pub len: usize,
    /// The brief as read ([`Brief::moved`] to its part's start): what the document rules
    /// report on (its heading, `@mention` and links), and what the full analysis is made of.
    pub brief: Arc<Brief>,
    /// A hash of the title, for [`Findings::titles`](super::Findings::titles).
    pub title_hash: u64,
    pub keys: Option<TitleKeys>,
    pub diagnostics: Vec<Diagnostic>,
    /// A hash of what the document rules read of this brief, positions left out (see
    /// [`DocumentFindings`](super::document_rules::DocumentFindings)).
    pub structure: u64,
    /// What `stale-output` reads of this brief as a run's input ([`rules::stale_output::digest`]):
    /// it counts only in a document where some brief links to another.
    pub inputs: u64,
    /// Whether what the document rules find on this brief can be kept and moved with its
    /// elements: not when a link leads to another document (whose titles may change without
    /// this one), nor for a brief without a heading (findings go on its first line of text).
    pub placeable: bool,
}

/// Where a brief sits: in which part (its revision and start), and how far into it.
pub(super) struct Place {
    pub revision: u64,
    pub base: usize,
    pub offset: usize,
}

/// Runs the brief rules on one brief and keeps what they found, relative to `base`.
pub(super) fn check_brief(
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
    for diagnostic in &mut diagnostics {
        diagnostic.range = diagnostic.range.start - base..diagnostic.range.end - base;
    }
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
        revision,
        brief: Arc::new(brief.moved(base, 0)),
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
