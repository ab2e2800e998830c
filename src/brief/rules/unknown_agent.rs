//! `unknown-agent`: an `@mention` in a heading, or front matter `agent:`, names an agent the
//! configuration does not define; or a `[[routes]]` entry sends a brief to one (said on the
//! brief, since nothing in the document names the agent; `baton.toml` gets its own error).

use std::ops::Range;

use crate::brief::diagnostic::{Code, Diagnostic, FixHint};
use crate::brief::lint::{Common, DocumentInput, RuleContext};
use crate::brief::suggest;
use crate::brief::target::{target_of, Source};

/// Front matter `agent:`, checked once per document.
pub fn check_front_matter(context: &DocumentInput<'_>, diagnostics: &mut Vec<Diagnostic>) {
    if let Some(agent) = &context.front_matter.agent {
        report(
            context,
            &[(&agent.value, agent.range.clone(), false)],
            diagnostics,
        );
    }
}

/// Briefs a route sends to an agent the configuration does not define.
pub fn check_routed(context: &DocumentInput<'_>, diagnostics: &mut Vec<Diagnostic>) {
    if context.config.routes.is_empty() || context.front_matter.agent.is_some() {
        return;
    }
    let kind = context.kind.map(|kind| kind.name.as_str());
    for brief in context
        .briefs
        .iter()
        .filter(|brief| brief.mention.is_none())
    {
        let target = target_of(
            &brief.title,
            None,
            kind,
            context.front_matter,
            context.config,
        );
        let Some(target) = target.filter(|target| context.config.agent(&target.name).is_none())
        else {
            continue;
        };
        let Source::Route(route) = &target.source else {
            continue;
        };
        let message = format!(
            "unknown agent `{}`, chosen by route {} of baton.toml ({}); define it there, or name an agent with `@agent`",
            target.name,
            route.number,
            route.conditions()
        );
        let range = brief.anchor.clone();
        diagnostics.push(Diagnostic::new(Code::UnknownAgent, range, message));
    }
}

/// Mentions in the briefs' headings.
pub fn check(context: &RuleContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let mut names: Vec<(&str, Range<usize>, bool)> = Vec::new();
    for brief in context.briefs {
        let output_mentions = brief
            .outputs
            .iter()
            .filter_map(|output| output.mention.as_ref());
        for mention in brief.mention.iter().chain(output_mentions) {
            names.push((&mention.name, mention.range.clone(), true));
        }
    }
    report(context, &names, diagnostics);
}

fn report(
    context: &Common<'_>,
    names: &[(&str, Range<usize>, bool)],
    diagnostics: &mut Vec<Diagnostic>,
) {
    for (name, range, is_mention) in names.iter().cloned() {
        if context.config.agent(name).is_some() {
            continue;
        }
        let at = if is_mention { "@" } else { "" };
        let candidates = suggest::closest(name, context.config.agent_names());
        let message = if context.config.agent_names().next().is_none() {
            format!("unknown agent `{at}{name}`: no agents are defined; add `[agents.{name}]` to baton.toml")
        } else {
            format!(
                "unknown agent `{at}{name}`{}; agents are defined in baton.toml",
                suggest::did_you_mean(&candidates, at)
            )
        };
        let mut diagnostic = Diagnostic::new(Code::UnknownAgent, range, message);
        if !candidates.is_empty() {
            let candidates = candidates
                .into_iter()
                .map(|name| format!("{at}{name}"))
                .collect();
            diagnostic = diagnostic.with_fix(FixHint::Replace { candidates });
        }
        diagnostics.push(diagnostic);
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::brief::rules::fixture::render;

    #[test]
    fn mentions_and_front_matter_agents_must_exist() {
        let text = "---\nagent: writr\n---\n# Scan 🎉 pricing @reseacher\n## Output @researcher\n# Email a@b.com @writer\n";
        expect![[r#"
            2: error[unknown-agent]: unknown agent `writr` (did you mean `writer`?); agents are defined in baton.toml
              | agent: writr
              |        ^^^^^
              fix: {"fix":"replace","candidates":["writer"]}
            4: error[unknown-agent]: unknown agent `@reseacher` (did you mean `@researcher`?); agents are defined in baton.toml
              | # Scan 🎉 pricing @reseacher
              |                  ^^^^^^^^^^
              fix: {"fix":"replace","candidates":["@researcher"]}
        "#]]
        .assert_eq(&render(text, "", &["unknown-agent"]));
    }

    #[test]
    fn a_route_to_an_unknown_agent_is_said_on_the_brief_it_routes() {
        let config = "[[routes]]\nwhen = { heading = \"(?i)scan\" }\nagent = \"scanner\"\n";
        let text = "# Scan rivals\n# Write\n# Scan again @writer\n";
        expect![[r#"
            1: error[unknown-agent]: unknown agent `scanner`, chosen by route 1 of baton.toml (heading matches (?i)scan); define it there, or name an agent with `@agent`
              | # Scan rivals
              | ^^^^^^^^^^^^^
        "#]]
        .assert_eq(&render(text, config, &["unknown-agent"]));
    }
}
