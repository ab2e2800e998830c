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
mod tests;
