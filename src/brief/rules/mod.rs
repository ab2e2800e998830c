//! The lint rules, one per file. Each reads a [`RuleContext`] and pushes diagnostics.

mod broken_link;
mod cycle;
mod duplicate_field;
mod empty_field;
mod missing_field;
mod unknown_agent;
mod unknown_kind;

#[cfg(test)]
pub(crate) mod fixture;

use super::diagnostic::Diagnostic;
use super::lint::RuleContext;

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
}

/// The rules that read each brief on its own: what they find depends only on the brief's
/// text, its kind and the configuration, so it can be kept while other briefs change.
pub fn check_briefs(context: &RuleContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    unknown_agent::check(context, diagnostics);
    missing_field::check(context, diagnostics);
    empty_field::check(context, diagnostics);
    duplicate_field::check(context, diagnostics);
}
