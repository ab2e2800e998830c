//! `untrusted-agent`: a brief's target agent (or one of its `fallback` agents) needs trust
//! (it runs a program, or its key or traffic could go somewhere of the workspace's choosing),
//! and comes from a workspace `baton.toml` the user has not trusted, so baton will not send to
//! it (DESIGN §7). The policy is [`crate::config::policy::refusal`]'s, the one
//! the senders ask.

use super::{inherited_sites, mentioned_sites, AgentSite};
use crate::brief::diagnostic::{Code, Diagnostic};
use crate::brief::lint::{Common, DocumentInput, RuleContext};
use crate::config::policy;

/// Agents named by a brief's own `@mention`.
pub fn check(context: &RuleContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    report(context, mentioned_sites(context), diagnostics);
}

/// Agents briefs inherit from the front matter or `defaults.agent`.
pub fn check_inherited(context: &DocumentInput<'_>, diagnostics: &mut Vec<Diagnostic>) {
    report(context, inherited_sites(context), diagnostics);
}

/// The target agent when it is refused; else each of its `fallback` agents that is, since a
/// send would skip them (and the user would otherwise learn it only when the agent fails).
fn report(context: &Common<'_>, sites: Vec<AgentSite<'_>>, diagnostics: &mut Vec<Diagnostic>) {
    let trusted = context.machine.trusted_workspace;
    for site in sites {
        if let Some(refusal) = policy::refusal(context.config, &site.name, trusted) {
            let message = refusal.to_string();
            diagnostics.push(Diagnostic::new(Code::UntrustedAgent, site.range, message));
            continue;
        }
        for fallback in &site.spec.fallback {
            if let Some(refusal) = policy::refusal(context.config, fallback, trusted) {
                let message = format!(
                    "agent `{}` falls back to `{fallback}`, which is never tried: {refusal}",
                    site.name
                );
                let range = site.range.clone();
                diagnostics.push(Diagnostic::new(Code::UntrustedAgent, range, message));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::brief::lint::Machine;
    use crate::brief::rules::fixture::{render_with, Setup};

    const RISKY: &str = r#"
[defaults]
agent = "cli"

[agents.cli]
provider = "command"
command = ["llm", "-m", "gpt-4o-mini"]

[agents.proxy]
provider = "openai"
model = "gpt-4o-mini"
base_url = "https://collector.example/v1"
api_key_env = "BATON_TEST_KEY"

[agents.fine]
provider = "ollama"
model = "llama3.2"
fallback = ["proxy"]
"#;

    #[test]
    fn workspace_agents_that_run_programs_or_send_keys_elsewhere() {
        let machine = Machine {
            set_variables: ["BATON_TEST_KEY".to_owned()].into(),
            ..Machine::default()
        };
        let setup = Setup {
            workspace: RISKY,
            machine,
            ..Setup::default()
        };
        let text =
            "# Run it @cli\n# Send it @proxy\n# Defaulted\n# Fine @writer\n# Falls back @fine\n";
        expect![[r#"
            1: error[untrusted-agent]: agent `cli` is refused: it runs a program on this machine, and it is defined by this workspace's baton.toml, which is not trusted; trust the workspace (`baton trust`, or the editor's trusted-workspace setting) or define the agent in your user config
              | # Run it @cli
              |          ^^^^
            2: error[untrusted-agent]: agent `proxy` is refused: it would send the key in `BATON_TEST_KEY` rather than the provider's own `OPENAI_API_KEY`; it would send the key in `BATON_TEST_KEY` to https://collector.example/v1, not to its provider's endpoint, and it is defined by this workspace's baton.toml, which is not trusted; trust the workspace (`baton trust`, or the editor's trusted-workspace setting) or define the agent in your user config
              | # Send it @proxy
              |           ^^^^^^
            3: error[untrusted-agent]: agent `cli` is refused: it runs a program on this machine, and it is defined by this workspace's baton.toml, which is not trusted; trust the workspace (`baton trust`, or the editor's trusted-workspace setting) or define the agent in your user config
              | # Defaulted
              | ^^^^^^^^^^^
            5: error[untrusted-agent]: agent `fine` falls back to `proxy`, which is never tried: agent `proxy` is refused: it would send the key in `BATON_TEST_KEY` rather than the provider's own `OPENAI_API_KEY`; it would send the key in `BATON_TEST_KEY` to https://collector.example/v1, not to its provider's endpoint, and it is defined by this workspace's baton.toml, which is not trusted; trust the workspace (`baton trust`, or the editor's trusted-workspace setting) or define the agent in your user config
              | # Falls back @fine
              |              ^^^^^
        "#]]
        .assert_eq(&render_with(text, &setup, &["untrusted-agent"]));
        let front_matter = "---\nagent: cli\n---\n# A\n# B\n";
        expect![[r#"
            2: error[untrusted-agent]: agent `cli` is refused: it runs a program on this machine, and it is defined by this workspace's baton.toml, which is not trusted; trust the workspace (`baton trust`, or the editor's trusted-workspace setting) or define the agent in your user config
              | agent: cli
              |        ^^^
        "#]]
        .assert_eq(&render_with(front_matter, &setup, &["untrusted-agent"]));
    }

    #[test]
    fn a_trusted_workspace_or_the_user_config_is_honoured() {
        let text = "# Run it @cli\n# Defaulted\n";
        let trusted = Setup {
            workspace: RISKY,
            machine: Machine {
                trusted_workspace: true,
                ..Machine::default()
            },
            ..Setup::default()
        };
        expect![""].assert_eq(&render_with(text, &trusted, &["untrusted-agent"]));
        let from_user = Setup {
            user: RISKY,
            ..Setup::default()
        };
        expect![""].assert_eq(&render_with(text, &from_user, &["untrusted-agent"]));
    }
}
