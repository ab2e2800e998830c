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
    unknown_kind::check(context, diagnostics);
    unknown_agent::check(context, diagnostics);
    missing_field::check(context, diagnostics);
    empty_field::check(context, diagnostics);
    duplicate_field::check(context, diagnostics);
    broken_link::check(context, diagnostics);
    cycle::check(context, diagnostics);
}
