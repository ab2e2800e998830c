//! The lint rules, one per file. Each reads a [`RuleContext`] and pushes diagnostics.

mod broken_link;
mod confidential_remote;
mod cycle;
mod duplicate_field;
mod empty_field;
mod missing_field;
mod missing_key;
pub(crate) mod stale_output;
mod unknown_agent;
mod unknown_kind;
mod untrusted_agent;

#[cfg(test)]
pub(crate) mod fixture;

use std::ops::Range;

use super::diagnostic::Diagnostic;
use super::lint::RuleContext;
use super::target::{target_agent, Source};
use crate::config::AgentSpec;

/// Runs every rule.
pub fn check_all(context: &RuleContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    check_document(context, diagnostics);
    check_briefs(context, diagnostics);
}

/// The rules that look across briefs or at the front matter; they run on every lint.
pub fn check_document(context: &RuleContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    unknown_kind::check(context, diagnostics);
    unknown_agent::check_front_matter(context, diagnostics);
    broken_link::check(context, diagnostics);
    cycle::check(context, diagnostics);
    missing_key::check_inherited(context, diagnostics);
    untrusted_agent::check_inherited(context, diagnostics);
    stale_output::check_linked(context, diagnostics);
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

/// The configured target agents of the briefs (agents the configuration does not define are
/// `unknown-agent`'s business). With `mentioned`, those a brief names with its own `@mention`,
/// reported on the mention: they depend on the brief alone, for the brief rules. Without, the
/// targets briefs inherit: from the front matter's `agent:` (reported once, on its value) or
/// from `defaults.agent` (reported on each brief's heading), for the document rules.
pub fn agent_sites<'a>(context: &RuleContext<'a>, mentioned: bool) -> Vec<AgentSite<'a>> {
    let mut sites: Vec<AgentSite<'a>> = Vec::new();
    for brief in context.briefs {
        if brief.mention.is_some() != mentioned {
            continue;
        }
        let Some(target) = target_agent(brief, context.front_matter, context.config) else {
            continue;
        };
        let Some(spec) = context.config.agent(&target.name) else {
            continue;
        };
        let range = match target.source {
            Source::Mention(range) => range,
            Source::FrontMatter(range) if sites.iter().any(|site| site.range == range) => continue,
            Source::FrontMatter(range) => range,
            Source::Default => brief.anchor(context.document),
        };
        sites.push(AgentSite {
            name: target.name,
            spec,
            range,
        });
    }
    sites
}
