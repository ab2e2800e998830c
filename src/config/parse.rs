//! Parsing one configuration file's text into a [`ConfigFile`], with byte ranges for everything
//! an editor needs to point at: errors, unknown keys, agent definitions and agent references.
//!
//! Pure: text in, values out. The TOML is parsed once into toml's spanned tree, which is walked
//! for locations and then deserialized into the typed model.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use toml::de::{DeTable, DeValue};

use super::agent::Provider;
use super::key_variable;
use super::model::ConfigFile;
use super::routes;
use super::schema;

/// A problem in a configuration file, at a byte range of its text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    pub range: Range<usize>,
    pub message: String,
}

/// A string in a file that names an agent: `defaults.agent`, a `fallback` entry, a route's
/// `agent`. Checked once the files are merged, since the agent may live in the other file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentRef {
    pub name: String,
    /// The string's range, quotes included.
    pub range: Range<usize>,
}

/// One file, parsed: the model, plus what the editor needs to locate things in the text.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParsedConfig {
    pub file: ConfigFile,
    /// Unknown keys; the file is still used.
    pub warnings: Vec<ConfigError>,
    /// Mistakes that make one part unusable but not the file, such as a command agent
    /// without a command; the file is still used.
    pub errors: Vec<ConfigError>,
    /// For each agent, its `[agents.NAME]` header (or its key, when written inline).
    pub agent_spans: BTreeMap<String, Range<usize>>,
    pub agent_refs: Vec<AgentRef>,
    /// The range of each `documents` entry, in the order of `file.documents`.
    pub document_spans: Vec<Range<usize>>,
    /// The range of `[privacy] terms_file`'s value, when given.
    pub terms_file_span: Option<Range<usize>>,
}

/// Parses one configuration file. `Err` is a syntax or type error, which makes the whole file
/// unusable; it sits where toml found it, with the key it concerns named in the message.
pub fn parse(text: &str) -> Result<ParsedConfig, ConfigError> {
    let tree = DeTable::parse(text).map_err(|e| ConfigError {
        range: e.span().unwrap_or(0..0),
        message: e.message().to_string(),
    })?;
    let root = tree.get_ref();
    let mut warnings = schema::unknown_keys(root);
    warnings.extend(schema::not_applied(root));
    let key_problems = key_variable::problems(root);
    let agent_spans = agent_spans(root, text);
    let agent_refs = agent_refs(root);
    let document_spans = match root.get("documents").map(|v| v.get_ref()) {
        Some(DeValue::Array(items)) => items.iter().map(|item| item.span()).collect(),
        _ => Vec::new(),
    };
    let docs_span = child(root.get("docs"), "base_url").map_or(0..0, |value| value.span());
    let terms_file_span = child(root.get("privacy"), "terms_file").map(|value| value.span());
    let route_problems = route_problems(root);

    let file = ConfigFile::deserialize(toml::de::Deserializer::from(tree))
        .map_err(|e| type_error(&e, text))?;
    let mut errors: Vec<ConfigError> = file
        .agents
        .iter()
        .filter(|(_, agent)| agent.provider == Provider::Command && agent.command.is_empty())
        .map(|(name, _)| ConfigError {
            range: agent_spans.get(name).cloned().unwrap_or(0..0),
            message: format!("agent `{name}` has `provider = \"command\"` but no `command` to run"),
        })
        .collect();
    errors.extend(key_problems);
    errors.extend(route_problems);
    if let Some(url) = file
        .docs
        .base_url
        .as_deref()
        .filter(|url| !super::is_http_url(url))
    {
        errors.push(ConfigError {
            range: docs_span,
            message: format!(
                "`base_url` must be an http:// or https:// address, not `{url}`; diagnostics link nowhere until it is"
            ),
        });
    }
    Ok(ParsedConfig {
        file,
        warnings,
        errors,
        agent_spans,
        agent_refs,
        document_spans,
        terms_file_span,
    })
}

/// A deserialization error, with the dotted key it concerns appended: toml reports the
/// position but not the key, and "expected u64" alone does not say which setting is wrong.
fn type_error(error: &toml::de::Error, text: &str) -> ConfigError {
    let range = error.span().unwrap_or(0..0);
    let path = DeTable::parse(text)
        .ok()
        .and_then(|tree| key_path(tree.get_ref(), &range));
    let message = match path {
        Some(path) if !path.is_empty() => {
            format!("{} for key `{}`", error.message(), path.join("."))
        }
        _ => error.message().to_string(),
    };
    ConfigError { range, message }
}

/// The deepest key whose value covers `span`. Tables opened by a header span only the header,
/// so every branch is searched rather than only those covering the span.
fn key_path(table: &DeTable<'_>, span: &Range<usize>) -> Option<Vec<String>> {
    table.iter().find_map(|(key, value)| {
        let inner = value_path(value.get_ref(), span);
        let here = covers(&value.span(), span).then(Vec::new);
        inner.or(here).map(|mut path| {
            path.insert(0, key.get_ref().to_string());
            path
        })
    })
}

fn value_path(value: &DeValue<'_>, span: &Range<usize>) -> Option<Vec<String>> {
    match value {
        DeValue::Table(table) => key_path(table, span),
        DeValue::Array(items) => items.iter().find_map(|item| {
            value_path(item.get_ref(), span).or_else(|| covers(&item.span(), span).then(Vec::new))
        }),
        _ => None,
    }
}

fn covers(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end
}

fn agent_spans(root: &DeTable<'_>, text: &str) -> BTreeMap<String, Range<usize>> {
    let Some(agents) = root.get("agents").and_then(|v| v.get_ref().as_table()) else {
        return BTreeMap::new();
    };
    agents
        .iter()
        .map(|(name, body)| {
            let header = body.span();
            let is_header = text.get(header.clone()).is_some_and(|s| s.starts_with('['));
            let range = if is_header { header } else { name.span() };
            (name.get_ref().to_string(), range)
        })
        .collect()
}

type Node<'i> = toml::Spanned<DeValue<'i>>;

fn agent_refs(root: &DeTable<'_>) -> Vec<AgentRef> {
    let mut refs = Vec::new();
    let mut push = |value: Option<&Node<'_>>| {
        if let Some((DeValue::String(name), range)) = value.map(|v| (v.get_ref(), v.span())) {
            refs.push(AgentRef {
                name: name.to_string(),
                range,
            });
        }
    };
    push(child(root.get("defaults"), "agent"));
    if let Some(agents) = root.get("agents").and_then(|v| v.get_ref().as_table()) {
        for agent in agents.values() {
            items(child(Some(agent), "fallback")).for_each(|item| push(Some(item)));
        }
    }
    for route in items(root.get("routes")) {
        push(child(Some(route), "agent"));
    }
    refs
}

/// An error at each route's `heading` that is not a valid regex.
fn route_problems(root: &DeTable<'_>) -> Vec<ConfigError> {
    items(root.get("routes"))
        .filter_map(|route| child(child(Some(route), "when"), "heading"))
        .filter_map(|heading| {
            let DeValue::String(pattern) = heading.get_ref() else {
                return None;
            };
            let message = routes::heading_problem(pattern)?;
            Some(ConfigError {
                range: heading.span(),
                message,
            })
        })
        .collect()
}

/// The value under `key`, when `table` is a table that has one.
fn child<'a, 'i>(table: Option<&'a Node<'i>>, key: &str) -> Option<&'a Node<'i>> {
    table?.get_ref().as_table()?.get(key)
}

/// The items of `array`, or none when it is absent or not an array.
fn items<'a, 'i>(array: Option<&'a Node<'i>>) -> impl Iterator<Item = &'a Node<'i>> {
    array
        .and_then(|v| v.get_ref().as_array())
        .into_iter()
        .flat_map(|a| a.iter())
}

#[cfg(test)]
mod tests {
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
}
