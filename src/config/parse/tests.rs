use super::*;
use crate::config::Locality;

/// The example of DESIGN §4 and §5, plus a kind and privacy.
pub(crate) const DESIGN_EXAMPLE: &str = r#"documents = ["agents/**/*.md", "*.task.md"]

[defaults]
agent = "researcher"
handoff_at = 0.75

[agents.researcher]
provider = "openai"
model = "gpt-4o-mini"
base_url = "https://api.openai.com/v1"
api_key_env = "OPENAI_API_KEY"
role = "You research competitors and cite sources."
locality = "remote"
context_window = 128000
handoff_at = 0.9
timeout_secs = 120
retries = 3
max_concurrent = 4
proxy = "http://proxy:3128"
fallback = ["local"]

[agents.local]
provider = "ollama"
model = "llama3.2"
base_url = "http://127.0.0.1:11434"
locality = "local"

[agents.cli]
provider = "command"
command = ["llm", "-m", "gpt-4o-mini"]

[kinds.review]
required = ["Subject", "Criteria", "Verdict Format"]
optional = ["Prior Reviews"]
aliases = { "Verdict Format" = ["Verdict"] }

[[routes]]
when = { heading = "(?i)research|scan", kind = "brief" }
agent = "researcher"

[privacy]
terms = ["Acme"]
detectors = ["email", "iban"]
redact = "block"
"#;

fn at<'t>(text: &'t str, range: &Range<usize>) -> &'t str {
    &text[range.clone()]
}

#[test]
fn the_design_example_parses_with_every_field() {
    let parsed = parse(DESIGN_EXAMPLE).unwrap();
    // No unknown key; only the keys that are not applied yet say so (routes are).
    let warned: Vec<_> = (parsed.warnings.iter())
        .map(|warning| at(DESIGN_EXAMPLE, &warning.range))
        .collect();
    assert_eq!(warned, ["detectors", "redact"]);
    assert_eq!(parsed.errors, []);
    let file = &parsed.file;
    assert_eq!(file.defaults.agent.as_deref(), Some("researcher"));
    assert_eq!(file.defaults.handoff_at, Some(0.75));
    let r = &file.agents["researcher"];
    assert_eq!(r.handoff_at, Some(0.9));
    assert_eq!(r.provider, Provider::Openai);
    assert_eq!(r.model.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(r.api_key_env.as_deref(), Some("OPENAI_API_KEY"));
    assert_eq!(r.locality, Some(Locality::Remote));
    assert_eq!(
        (r.context_window, r.timeout_secs),
        (Some(128000), Some(120))
    );
    assert_eq!((r.retries, r.max_concurrent), (Some(3), Some(4)));
    assert_eq!(r.proxy.as_deref(), Some("http://proxy:3128"));
    assert_eq!(r.fallback, ["local"]);
    assert_eq!(file.agents["cli"].command, ["llm", "-m", "gpt-4o-mini"]);
    assert_eq!(file.kinds["review"].aliases["Verdict Format"], ["Verdict"]);
    assert_eq!(file.routes[0].when.kind.as_deref(), Some("brief"));
    assert_eq!(file.routes[0].agent, "researcher");
    assert_eq!(
        file.privacy.as_ref().unwrap().redact.as_deref(),
        Some("block")
    );

    assert_eq!(
        at(DESIGN_EXAMPLE, &parsed.agent_spans["local"]),
        "[agents.local]"
    );
    let refs: Vec<_> = parsed
        .agent_refs
        .iter()
        .map(|r| at(DESIGN_EXAMPLE, &r.range))
        .collect();
    assert_eq!(refs, ["\"researcher\"", "\"local\"", "\"researcher\""]);
    assert_eq!(
        at(DESIGN_EXAMPLE, &parsed.document_spans[1]),
        "\"*.task.md\""
    );
}

#[test]
fn output_and_docs_are_known_and_the_docs_address_is_checked() {
    let text =
        "[output]\ndemote_headings = false\n[docs]\nbase_url = \"https://team.example/d.md\"\n";
    let parsed = parse(text).unwrap();
    assert_eq!((parsed.warnings.len(), parsed.errors.len()), (0, 0));
    assert!(!parsed.file.output.demote_headings());
    let config = crate::config::Config::new(parsed.file, None);
    assert_eq!(config.docs_base(), Some("https://team.example/d.md"));

    let text = "[docs]\nbase_url = \"ftp://x\"\n";
    let parsed = parse(text).unwrap();
    assert_eq!(parsed.errors.len(), 1);
    assert_eq!(at(text, &parsed.errors[0].range), "\"ftp://x\"");
    let config = crate::config::Config::new(parsed.file, None);
    assert_eq!(config.docs_base(), None, "an invalid address links nowhere");
    assert!(crate::config::Config::default().demote_headings());
}

#[test]
fn a_syntax_error_sits_where_toml_found_it() {
    let error = parse("[agents.researcher\nprovider = \"openai\"\n").unwrap_err();
    assert_eq!(error.range, 18..18);
    assert_eq!(error.message, "unclosed table, expected `]`");
}

#[test]
fn a_type_error_sits_at_the_value_and_names_the_key() {
    let text = "[agents.researcher]\nprovider = \"openai\"\ncontext_window = \"x\"\n";
    let error = parse(text).unwrap_err();
    assert_eq!(at(text, &error.range), "\"x\"");
    assert_eq!(
        error.message,
        "invalid type: string \"x\", expected u64 for key `agents.researcher.context_window`"
    );
}

#[test]
fn a_handoff_at_outside_zero_to_one_is_an_error_that_says_so() {
    let text = "[defaults]\nhandoff_at = 80\n";
    let error = parse(text).unwrap_err();
    assert_eq!(at(text, &error.range), "80");
    assert_eq!(
        error.message,
        "handoff_at is a share of the context window above 0 and at most 1 (0.8 is 80 %), \
         not 80 for key `defaults.handoff_at`"
    );
}

#[test]
fn a_route_heading_that_is_no_regex_is_an_error_at_the_pattern() {
    let text = "[[routes]]\nwhen = { heading = \"(?i)scan\" }\nagent = \"a\"\n\
                [[routes]]\nwhen = { heading = \"[research\", kind = \"brief\" }\nagent = \"b\"\n";
    let parsed = parse(text).unwrap();
    let found: Vec<_> = (parsed.errors.iter())
        .map(|error| (at(text, &error.range), error.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [(
            "\"[research\"",
            "`heading` is not a valid regex: unclosed character class; this route matches no brief until it is fixed"
        )]
    );
}

#[test]
fn a_command_agent_without_a_command_is_an_error_at_its_header() {
    let text = "[agents]\ncli = { provider = \"command\" }\n";
    let parsed = parse(text).unwrap();
    assert_eq!(parsed.errors.len(), 1);
    assert_eq!(at(text, &parsed.errors[0].range), "cli");
    assert!(parsed.errors[0].message.contains("no `command`"));
}
