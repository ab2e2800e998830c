//! The privacy hook of [`plan`](super::plan) (DESIGN §7, "fail closed"): the last check
//! before a byte leaves, asking [`crate::privacy::refusal`], the function `confidential-remote`
//! asks while linting.

use super::plan::{Ask, Attempt, LeftOut, Refusal};
use crate::brief::payload::Payload;
use crate::privacy;

/// The privacy hook (DESIGN §7): until text can be anonymized, a payload that is confidential
/// (the document says `confidential: true`, or the payload, inputs included, holds a
/// `[privacy]` term, or the terms file is unreadable) never reaches a remote agent. The run is
/// refused when its agent is remote; a remote `fallback` is left out, with why.
pub(super) fn gate(
    ask: &Ask<'_>,
    payload: &Payload,
    attempts: Vec<Attempt>,
    mut left_out: Vec<LeftOut>,
) -> Result<(Vec<Attempt>, Vec<LeftOut>), Refusal> {
    let confidential = ask.analysis.front_matter.confidential == Some(true);
    let terms = &ask.settings.config.terms;
    let what = match payload.title.as_str() {
        "" => "this brief".to_owned(),
        title => format!("\"{title}\""),
    };
    let mut allowed = Vec::with_capacity(attempts.len());
    for (index, attempt) in attempts.into_iter().enumerate() {
        let local = privacy::is_local(&ask.settings.config, &attempt.agent, ask.trusted);
        let Some(exposure) = privacy::refusal(&payload.text, confidential, terms, local) else {
            allowed.push(attempt);
            continue;
        };
        let message = exposure.explain(&what, &attempt.agent);
        if index == 0 {
            return Err(Refusal::Confidential { message });
        }
        left_out.push((attempt.agent, message));
    }
    Ok((allowed, left_out))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::brief::lint::{lint, Context, Machine, NoOtherDocuments};
    use crate::brief::payload::Input;
    use crate::config::Config;
    use crate::dispatch::plan::plan;
    use crate::document::Document;
    use crate::workspace::Settings;

    const CONFIG: &str = "[privacy]\nterms = [\"Acme Corp\"]\n\
        [agents.remote]\nprovider = \"openai\"\nmodel = \"m\"\nfallback = [\"cloud\", \"local\"]\n\
        [agents.cloud]\nprovider = \"anthropic\"\nmodel = \"m\"\n\
        [agents.local]\nprovider = \"ollama\"\nmodel = \"m\"\n";

    /// Plans the only brief of `text` for `agent`, with `inputs`.
    fn planned(text: &str, agent: &str, inputs: &[Input]) -> Result<Vec<String>, Refusal> {
        let settings = Settings::new(Config::from_toml(CONFIG).unwrap());
        let document = Document::new(text);
        let path = Path::new("/ws/a.brief.md");
        let context = Context {
            config: &settings.config,
            kinds: &settings.kinds,
            path: Some(path),
            others: &NoOtherDocuments,
            machine: &Machine::default(),
            failed_runs: &[],
            over_budget: &[],
        };
        let analysis = lint(&document, &context);
        let plan = plan(&Ask {
            path,
            document: &document,
            analysis: &analysis,
            settings: &settings,
            brief: 0,
            agent: Some(agent),
            selection: None,
            trusted: true,
            inputs,
            turns: &|_, _| Vec::new(),
            corrections: &|_, _| None,
        })?;
        let mut tried: Vec<String> = plan.attempts.iter().map(|a| a.agent.clone()).collect();
        tried.extend(plan.left_out);
        Ok(tried)
    }

    #[test]
    fn a_term_refuses_a_remote_agent_and_its_remote_fallbacks_not_a_local_one() {
        let text = "# Scan\n## Objective\nPrices of acme corp.\n";
        let refused = planned(text, "remote", &[]).unwrap_err();
        assert!(matches!(refused, Refusal::Confidential { .. }));
        assert_eq!(refused.short().as_deref(), Some("confidential"));
        assert!(refused.to_string().starts_with(
            "\"Scan\" is not sent to @remote, a remote agent: it holds `Acme Corp`, a [privacy] term"
        ));
        assert_eq!(planned(text, "local", &[]).unwrap(), ["local"]);

        let clean = "# Scan\n## Objective\nPrices.\n";
        let tried = planned(clean, "remote", &[]).unwrap();
        assert_eq!(tried, ["remote", "cloud", "local"]);
    }

    #[test]
    fn inputs_and_confidential_documents_count_too() {
        let clean = "# Scan\n## Objective\nPrices.\n";
        let input = Input {
            title: "Leads".into(),
            agent: None,
            text: "Talk to Acme Corp.".into(),
        };
        let refused = planned(clean, "remote", &[input]).unwrap_err();
        assert!(refused.to_string().contains("`Acme Corp`"), "{refused}");

        let confidential = "---\nconfidential: true\n---\n# Scan\n## Objective\nPrices.\n";
        let refused = planned(confidential, "cloud", &[]).unwrap_err();
        assert!(
            refused.to_string().contains("`confidential: true`"),
            "{refused}"
        );
        assert_eq!(planned(confidential, "local", &[]).unwrap(), ["local"]);
    }
}
