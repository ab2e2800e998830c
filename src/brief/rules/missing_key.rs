//! `missing-key`: a brief's target agent reads its API key from an environment variable
//! (`api_key_env`) that is not set where baton runs, or that is no variable name at all (a key
//! pasted in its place, never repeated), so sending the brief would fail.

use super::{inherited_sites, mentioned_sites, AgentSite};
use crate::brief::diagnostic::{Code, Diagnostic};
use crate::brief::lint::{Common, DocumentInput, RuleContext};
use crate::config::{key_variable, policy};

/// Agents named by a brief's own `@mention`.
pub fn check(context: &RuleContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    report(context, mentioned_sites(context), diagnostics);
}

/// Agents briefs inherit from the front matter or `defaults.agent`. Not for a handoff: it is
/// read by the next conversation, not sent to the agent it inherits, so a key that agent
/// lacks is no problem of the handoff's (an `@mention` on it still is).
pub fn check_inherited(context: &DocumentInput<'_>, diagnostics: &mut Vec<Diagnostic>) {
    if context.kind.is_some_and(|kind| kind.name == HANDOFF) {
        return;
    }
    report(context, inherited_sites(context), diagnostics);
}

/// The built-in kind of handoff briefs.
const HANDOFF: &str = "handoff";

fn report(context: &Common<'_>, sites: Vec<AgentSite<'_>>, diagnostics: &mut Vec<Diagnostic>) {
    if !context.machine.check_keys {
        return;
    }
    let trusted = context.machine.trusted_workspace;
    for site in sites {
        let Some(variable) = site.spec.api_key_env.as_deref() else {
            continue;
        };
        if policy::refusal(context.config, &site.name, trusted).is_some() {
            // `untrusted-agent` says why; whether its key is set was not even looked at.
            continue;
        }
        let message = if !key_variable::is_name(variable) {
            // Never quoted: it may be the key itself, pasted where its variable's name belongs.
            format!(
                "agent `{}` cannot read its API key: its `api_key_env` in baton.toml does not name an environment variable (it may hold the key itself, which is not shown); put the key in an environment variable and name that variable there",
                site.name
            )
        } else if context.machine.is_set(variable) {
            continue;
        } else {
            format!(
                "agent `{}` reads its API key from `{variable}`, which is not set in the environment baton runs in; the language server (or `baton send`) must start with it set",
                site.name
            )
        };
        diagnostics.push(Diagnostic::new(Code::MissingKey, site.range, message));
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::brief::lint::Machine;
    use crate::brief::rules::fixture::{render_with, Setup};

    const KEYED: &str = r#"
[defaults]
agent = "keyed"

[agents.keyed]
provider = "openai"
model = "gpt-4o-mini"
api_key_env = "BATON_TEST_KEY"
"#;

    #[test]
    fn on_the_mention_the_front_matter_value_or_the_heading() {
        let setup = Setup {
            user: KEYED,
            ..Setup::default()
        };
        let text = "# Mentioned @keyed\n# Named elsewhere @researcher\n# Defaulted\n";
        expect![[r#"
            1: warning[missing-key]: agent `keyed` reads its API key from `BATON_TEST_KEY`, which is not set in the environment baton runs in; the language server (or `baton send`) must start with it set
              | # Mentioned @keyed
              |             ^^^^^^
            3: warning[missing-key]: agent `keyed` reads its API key from `BATON_TEST_KEY`, which is not set in the environment baton runs in; the language server (or `baton send`) must start with it set
              | # Defaulted
              | ^^^^^^^^^^^
        "#]]
        .assert_eq(&render_with(text, &setup, &["missing-key"]));
        let text = "---\nagent: keyed\n---\n# A\n# B\n# C @unknown\n";
        expect![[r#"
            2: warning[missing-key]: agent `keyed` reads its API key from `BATON_TEST_KEY`, which is not set in the environment baton runs in; the language server (or `baton send`) must start with it set
              | agent: keyed
              |        ^^^^^
        "#]]
        .assert_eq(&render_with(text, &setup, &["missing-key"]));
    }

    #[test]
    fn a_routed_agent_is_checked_on_the_brief_it_routes() {
        const ROUTED: &str = r#"
[[routes]]
when = { heading = "(?i)scan" }
agent = "keyed"

[agents.keyed]
provider = "openai"
model = "gpt-4o-mini"
api_key_env = "BATON_TEST_KEY"
"#;
        let setup = Setup {
            user: ROUTED,
            ..Setup::default()
        };
        let found = render_with("# Scan rivals\n# Write\n", &setup, &["missing-key"]);
        expect![[r#"
            1: warning[missing-key]: agent `keyed` reads its API key from `BATON_TEST_KEY`, which is not set in the environment baton runs in; the language server (or `baton send`) must start with it set
              | # Scan rivals
              | ^^^^^^^^^^^^^
        "#]]
        .assert_eq(&found);
    }

    #[test]
    fn a_handoff_does_not_ask_for_the_key_of_an_agent_it_only_inherits() {
        let setup = Setup {
            user: KEYED,
            ..Setup::default()
        };
        let text = "---\nkind: handoff\n---\n# Carry on\n# Ask @keyed\n";
        let found = render_with(text, &setup, &["missing-key"]);
        assert_eq!(found.matches("missing-key").count(), 1, "{found}");
        assert!(found.contains("# Ask @keyed"), "{found}");
    }

    #[test]
    fn nothing_is_reported_where_keys_are_not_checked() {
        let setup = Setup {
            user: KEYED,
            machine: Machine {
                check_keys: false,
                ..Machine::default()
            },
            ..Setup::default()
        };
        assert_eq!(render_with("# Defaulted\n", &setup, &["missing-key"]), "");
    }

    #[test]
    fn a_set_variable_or_an_agent_without_key_is_fine() {
        let machine = Machine {
            set_variables: ["BATON_TEST_KEY".to_owned()].into(),
            ..Machine::default()
        };
        let setup = Setup {
            user: KEYED,
            machine,
            ..Setup::default()
        };
        let text = "# Mentioned @keyed\n# Defaulted\n## Output @keyed\n";
        expect![""].assert_eq(&render_with(text, &setup, &["missing-key"]));
        let setup = Setup::default();
        expect![""].assert_eq(&render_with("# A @writer\n", &setup, &["missing-key"]));
    }

    #[test]
    fn a_pasted_key_is_reported_without_repeating_it() {
        let setup = Setup {
            user: "[agents.keyed]\nprovider = \"openai\"\nmodel = \"m\"\napi_key_env = \"sk-proj-abcDEF1234567890abcDEF\"\n",
            ..Setup::default()
        };
        let found = render_with("# Send @keyed\n", &setup, &["missing-key"]);
        assert!(!found.contains("abcDEF"), "{found}");
        expect![[r#"
            1: warning[missing-key]: agent `keyed` cannot read its API key: its `api_key_env` in baton.toml does not name an environment variable (it may hold the key itself, which is not shown); put the key in an environment variable and name that variable there
              | # Send @keyed
              |        ^^^^^^
        "#]]
        .assert_eq(&found);
    }
}
