//! The lint rules, one per file. A brief rule reads a [`RuleContext`] (whole briefs), a
//! document rule a [`DocumentInput`] (the briefs' outlines and the failed runs); each pushes
//! diagnostics.

mod broken_link;
mod confidential_remote;
pub(crate) mod cycle;
mod dispatch_failed;
mod duplicate_field;
mod empty_field;
mod missing_field;
mod missing_key;
mod over_budget;
pub(crate) mod stale_output;
mod unknown_agent;
mod unknown_kind;
mod untrusted_agent;

#[cfg(test)]
pub(crate) mod fixture;

use std::ops::Range;

use super::diagnostic::Diagnostic;
use super::lint::{Common, DocumentInput, RuleContext};
use super::model::Mention;
use super::target::{target_of, Source};
use crate::config::AgentSpec;

/// The rules that look across briefs, at the front matter or at the runs; they run on every
/// lint.
pub fn check_document(context: &DocumentInput<'_>, diagnostics: &mut Vec<Diagnostic>) {
    unknown_kind::check(context, diagnostics);
    unknown_agent::check_front_matter(context, diagnostics);
    unknown_agent::check_routed(context, diagnostics);
    broken_link::check(context, diagnostics);
    cycle::check(context, diagnostics);
    missing_key::check_inherited(context, diagnostics);
    untrusted_agent::check_inherited(context, diagnostics);
    stale_output::check_linked(context, diagnostics);
    dispatch_failed::check(context, diagnostics);
    over_budget::check(context, diagnostics);
}

/// The rules that read each brief on its own: what they find depends only on the brief's
/// text, its kind, the configuration and the machine, so it can be kept while other briefs
/// change.
pub fn check_briefs(context: &RuleContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    unknown_agent::check(context, diagnostics);
    missing_field::check(context, diagnostics);
    empty_field::check(context, diagnostics);
    duplicate_field::check(context, diagnostics);
    stale_output::check(context, diagnostics);
    missing_key::check(context, diagnostics);
    untrusted_agent::check(context, diagnostics);
    confidential_remote::check(context, diagnostics);
}

/// A brief's target agent, when the configuration defines it, and where a problem with it
/// is reported.
pub struct AgentSite<'a> {
    pub name: String,
    pub spec: &'a AgentSpec,
    pub range: Range<usize>,
}

/// A brief's target agent when the configuration defines it (agents it does not define are
/// `unknown-agent`'s business), reported where it was named: on the mention, on the front
/// matter's `agent:` value, or, for a route or `defaults.agent`, on `anchor`.
fn site<'a>(
    context: &Common<'a>,
    title: &str,
    mention: Option<&Mention>,
    anchor: impl FnOnce() -> Range<usize>,
) -> Option<AgentSite<'a>> {
    let kind = context.kind.map(|kind| kind.name.as_str());
    let target = target_of(title, mention, kind, context.front_matter, context.config)?;
    let spec = context.config.agent(&target.name)?;
    let range = match target.source {
        Source::Mention(range) | Source::FrontMatter(range) => range,
        Source::Route(_) | Source::Default => anchor(),
    };
    Some(AgentSite {
        name: target.name,
        spec,
        range,
    })
}

/// The agents briefs name with their own `@mention`: they depend on the brief alone, for the
/// brief rules.
pub fn mentioned_sites<'a>(context: &RuleContext<'a>) -> Vec<AgentSite<'a>> {
    (context.briefs.iter())
        .filter_map(|brief| {
            let mention = brief.mention.as_ref()?;
            site(&context.common, &brief.title, Some(mention), || {
                mention.range.clone()
            })
        })
        .collect()
}

/// The agents briefs inherit, from the front matter's `agent:` (reported once, on its value),
/// a route or `defaults.agent` (reported on each brief), for the document rules.
pub fn inherited_sites<'a>(context: &DocumentInput<'a>) -> Vec<AgentSite<'a>> {
    let mut sites: Vec<AgentSite<'a>> = Vec::new();
    for brief in context
        .briefs
        .iter()
        .filter(|brief| brief.mention.is_none())
    {
        let anchor = || brief.anchor.clone();
        let Some(site) = site(&context.common, &brief.title, None, anchor) else {
            continue;
        };
        if !sites.iter().any(|known| known.range == site.range) {
            sites.push(site);
        }
    }
    sites
}
