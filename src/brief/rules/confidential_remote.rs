//! `confidential-remote`: a brief bound for a remote agent (`locality`, DESIGN §4) whose text
//! may not leave the machine: its document is `confidential: true`, it holds a `[privacy]`
//! term, or a `terms_file` could not be read. baton does not anonymize yet, so it refuses to
//! send such a brief (DESIGN §7, fail closed); this says so before the user tries.
//! The decision is [`crate::privacy::refusal`]'s, the one `dispatch::plan` asks at send time.
//! Linked briefs' outputs, sent as inputs, are checked at send time only.

use crate::brief::diagnostic::{Code, Diagnostic};
use crate::brief::lint::RuleContext;
use crate::brief::payload;
use crate::brief::target::target_agent;
use crate::privacy;

pub fn check(context: &RuleContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let confidential = context.front_matter.confidential == Some(true);
    let terms = &context.config.terms;
    if !confidential && terms.is_empty() {
        return;
    }
    let Some(kind) = context.kind else { return };
    for brief in context.briefs {
        let kind_name = Some(kind.name.as_str());
        let Some(target) = target_agent(brief, kind_name, context.front_matter, context.config)
        else {
            continue;
        };
        if context.config.agent(&target.name).is_none() {
            continue;
        }
        let trusted = context.machine.trusted_workspace;
        // Rendering reads the whole brief: only for briefs that could be refused.
        if privacy::is_local(context.config, &target.name, trusted) {
            continue;
        }
        let text = payload::own_part(context.document, brief, kind);
        let Some(exposure) = privacy::refusal(&text, confidential, terms, false) else {
            continue;
        };
        let what = if brief.title.is_empty() {
            "this brief".to_owned()
        } else {
            format!("`{}`", brief.title)
        };
        let message = exposure.explain(&what, &target.name);
        let range = brief.anchor(context.document);
        diagnostics.push(Diagnostic::new(Code::ConfidentialRemote, range, message));
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::brief::rules::fixture::render;

    const TERMS: &str = "[privacy]\nterms = [\"Acme Corp\"]\n[agents.local]\nprovider = \"ollama\"\nmodel = \"m\"\n";

    #[test]
    fn a_term_in_a_brief_for_a_remote_agent_is_an_error_on_its_heading() {
        let text = "# Scan @researcher\n## Objective\nPrices of ACME corp.\n<!-- Acme Corp in a comment is not sent -->\n\
                    # Local scan @local\n## Objective\nPrices of Acme Corp.\n\
                    # Clean @researcher\n## Objective\nPrices of Acme Corporation.\n";
        expect![[r#"
            1: error[confidential-remote]: `Scan` is not sent to @researcher, a remote agent: it holds `Acme Corp`, a [privacy] term, and baton does not anonymize text yet; send it to a local agent (`locality = "local"`), or remove the term
              | # Scan @researcher
              | ^^^^^^^^^^^^^^^^^^
        "#]]
        .assert_eq(&render(text, TERMS, &["confidential-remote"]));
    }

    #[test]
    fn a_confidential_document_refuses_every_remote_target_and_only_those() {
        let text = "---\nconfidential: true\nagent: writer\n---\n# One\n## Objective\nx\n# Two @local\n## Objective\ny\n";
        expect![[r#"
            5: error[confidential-remote]: `One` is not sent to @writer, a remote agent: its document is `confidential: true`, and baton does not anonymize text yet; send it to a local agent (`locality = "local"`), or set `confidential: false`
              | # One
              | ^^^^^
        "#]]
        .assert_eq(&render(text, TERMS, &["confidential-remote"]));
        let open = text.replace("confidential: true", "confidential: false");
        expect![""].assert_eq(&render(&open, TERMS, &["confidential-remote"]));
    }

    #[test]
    fn a_routed_remote_agent_is_refused_too() {
        const ROUTED: &str = "[privacy]\nterms = [\"Acme Corp\"]\n[[routes]]\nwhen = { heading = \"(?i)scan\" }\nagent = \"researcher\"\n";
        let text = "# Scan\n## Objective\nAcme Corp.\n# Plan\n## Objective\nAcme Corp.\n";
        let found = render(text, ROUTED, &["confidential-remote"]);
        assert_eq!(found.matches("confidential-remote").count(), 1, "{found}");
        assert!(
            found.contains("`Scan` is not sent to @researcher"),
            "{found}"
        );
    }

    #[test]
    fn terms_in_output_blocks_are_not_sent_and_not_reported() {
        let text = "# Scan @researcher\n## Objective\nPrices.\n## Output @researcher\n<!-- baton:output run=R status=done input=x -->\nAcme Corp sells.\n<!-- /baton:output -->\n";
        expect![""].assert_eq(&render(text, TERMS, &["confidential-remote"]));
    }
}
