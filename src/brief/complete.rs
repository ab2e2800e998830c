//! Completion (DESIGN §8): `@agent` in headings, the missing fields of a brief after `## `,
//! front-matter keys and values, and a new-brief snippet on an empty line.
//!
//! The text is often mid-edit when completion is asked for, so the cursor's line is read as
//! text here rather than trusted to the outline; the analysis supplies the rest.

use std::ops::Range;

use super::front_matter::KEYS;
use super::kind::{FieldSpec, Kind, Kinds};
use super::lint::Analysis;
use super::navigate::touches;
use crate::config::Config;
use crate::document::Document;

/// What a completion item offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompletionKind {
    Agent,
    Field,
    Key,
    Value,
    Snippet,
}

/// One completion item: replace `replace` with `insert_text` (a snippet when `is_snippet`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    pub label: String,
    pub kind: CompletionKind,
    pub detail: Option<String>,
    pub documentation: Option<String>,
    pub replace: Range<usize>,
    pub insert_text: String,
    pub is_snippet: bool,
}

/// A plain-text item inserting `insert_text` (its label when empty) over `replace`.
fn item(label: &str, kind: CompletionKind, detail: &str, replace: &Range<usize>) -> Completion {
    Completion {
        label: label.to_owned(),
        kind,
        detail: Some(detail.to_owned()),
        documentation: None,
        replace: replace.clone(),
        insert_text: label.to_owned(),
        is_snippet: false,
    }
}

/// The cursor's line: where it starts, its text without the line break, the cursor's column.
struct Line {
    start: usize,
    text: String,
    column: usize,
}

impl Line {
    fn at(document: &Document, offset: usize) -> Line {
        let rope = document.rope();
        let number = rope.byte_to_line(offset);
        let start = rope.line_to_byte(number);
        let end = rope.try_line_to_byte(number + 1).unwrap_or(document.len());
        let text = document.slice(start..end);
        let text = text.trim_end_matches(['\n', '\r']).to_owned();
        let column = (offset - start).min(text.len());
        Line {
            start,
            text,
            column,
        }
    }

    /// The document range of a column range of this line.
    fn range(&self, columns: Range<usize>) -> Range<usize> {
        self.start + columns.start..self.start + columns.end
    }
}

/// The completions at a byte offset; none outside baton documents.
pub fn complete(
    document: &Document,
    analysis: &Analysis,
    kinds: &Kinds,
    config: &Config,
    offset: usize,
) -> Vec<Completion> {
    if !analysis.is_baton_document() || offset > document.len() {
        return Vec::new();
    }
    let line = Line::at(document, offset);
    let outline = document.outline();
    let body = outline
        .front_matter
        .as_ref()
        .map(|block| block.body.clone());
    if !line.text.is_char_boundary(line.column) || body.as_ref().is_some_and(|b| offset < b.start) {
        Vec::new()
    } else if body.is_some_and(|body| body.contains(&offset)) {
        front_matter(analysis, kinds, config, &line)
    } else if outline.is_verbatim(line.start) || outline.answer_at(offset).is_some() {
        // Code is not Markdown to complete, and an agent's answer is opaque.
        Vec::new()
    } else if let Some(items) = mention(config, &line) {
        items
    } else if let Some(items) = missing_fields(analysis, kinds, &line, offset) {
        items
    } else if line.text.trim().is_empty() {
        vec![new_brief(analysis.kind.as_deref(), kinds, config, &line)]
    } else {
        Vec::new()
    }
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// `@partial` on an ATX heading line: every agent, replacing the partial name.
fn mention(config: &Config, line: &Line) -> Option<Vec<Completion>> {
    let text = line.text.trim_start_matches(' ');
    if line.text.len() - text.len() > 3 || !text.starts_with('#') {
        return None;
    }
    let (before, after) = line.text.split_at(line.column);
    let name_start = before.trim_end_matches(is_name_char).len();
    let at = before[..name_start].strip_suffix('@')?;
    if !(at.is_empty() || at.ends_with(char::is_whitespace)) {
        return None;
    }
    let name_end = line.column + after.len() - after.trim_start_matches(is_name_char).len();
    Some(agents(config, &line.range(name_start..name_end), ""))
}

/// Every agent, as completions inserting `prefix` and its name over `replace`.
fn agents(config: &Config, replace: &Range<usize>, prefix: &str) -> Vec<Completion> {
    let agents = config.file.agents.iter().map(|(name, spec)| {
        let provider = spec.provider.name();
        let detail = match &spec.model {
            Some(model) => format!("{provider} · {model}"),
            None => provider.to_owned(),
        };
        Completion {
            documentation: spec.role.clone(),
            insert_text: format!("{prefix}{name}"),
            ..item(name, CompletionKind::Agent, &detail, replace)
        }
    });
    agents.collect()
}

/// `## ` in a brief: the fields of its kind that it lacks, required ones first.
fn missing_fields(
    analysis: &Analysis,
    kinds: &Kinds,
    line: &Line,
    offset: usize,
) -> Option<Vec<Completion>> {
    let indent = line.text.len() - line.text.trim_start_matches(' ').len();
    if indent > 3 || !line.text[indent..].starts_with("## ") || line.column < indent + 3 {
        return None;
    }
    let brief = analysis.brief_at(offset)?;
    let kind = kinds.get(analysis.kind.as_deref()?)?;
    // The heading being typed does not count as present.
    let typed = brief.fields.iter().filter(|f| !touches(&f.heading, offset));
    let present: Vec<&FieldSpec> = typed.filter_map(|f| kind.field(&f.name)).collect();
    let mut missing: Vec<&FieldSpec> = (kind.fields.iter())
        .filter(|spec| !present.iter().any(|p| p.name == spec.name))
        .collect();
    missing.sort_by_key(|spec| !spec.required);
    let replace = line.range(indent + 3..line.text.trim_end().len().max(line.column));
    let items = missing.into_iter().map(|spec| {
        let need = ["optional field", "required field"][usize::from(spec.required)];
        Completion {
            documentation: Some(spec.prompt.clone()),
            ..item(&spec.name, CompletionKind::Field, need, &replace)
        }
    });
    Some(items.collect())
}

const KEY_DETAILS: [&str; 5] = [
    "the document's kind: brief, handoff, or one from baton.toml",
    "the agent for briefs that name none",
    "true refuses every remote agent (nothing is anonymized yet)",
    "not applied yet: quality gates the outputs must pass",
    "the conversation runs carry on: a name shares one, `none` sends no earlier turns",
];

/// Front matter: at the start of a line, the keys not yet present; after `key:`, its values.
fn front_matter(
    analysis: &Analysis,
    kinds: &Kinds,
    config: &Config,
    line: &Line,
) -> Vec<Completion> {
    let text = line.text.as_str();
    let colon = text.find(':');
    let in_key = text[..line.column]
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_');
    match colon {
        _ if text.starts_with(char::is_whitespace) => Vec::new(),
        Some(colon) if colon < line.column => values(kinds, config, line, colon),
        _ if !in_key => Vec::new(),
        _ => {
            let this_line = line.range(0..text.len());
            let present = |key: &str| {
                let mut entries = analysis.front_matter.keys.iter();
                entries.any(|e| e.key == key && !this_line.contains(&e.key_range.start))
            };
            // Completing the key of an existing line keeps its colon and value.
            let suffix = if colon.is_some() { "" } else { ": " };
            let replace = line.range(0..colon.unwrap_or(text.trim_end().len()).max(line.column));
            let keys = KEYS
                .iter()
                .zip(KEY_DETAILS)
                .filter(|(key, _)| !present(key));
            let key = |(key, detail): (&&str, &str)| Completion {
                insert_text: format!("{key}{suffix}"),
                ..item(key, CompletionKind::Key, detail, &replace)
            };
            keys.map(key).collect()
        }
    }
}

/// The values a key takes, replacing what follows its colon.
fn values(kinds: &Kinds, config: &Config, line: &Line, colon: usize) -> Vec<Completion> {
    let value = &line.text[colon + 1..];
    let start = colon + 1 + value.len() - value.trim_start().len();
    let end = colon + 1 + value.split(" #").next().unwrap_or(value).trim_end().len();
    let replace = line.range(start.min(line.column)..end.max(start).max(line.column));
    // `kind:brief` is not YAML for a key and a value: give the space it lacks.
    let prefix = if start == colon + 1 { " " } else { "" };
    let value = |label: &str, detail: &str| Completion {
        insert_text: format!("{prefix}{label}"),
        ..item(label, CompletionKind::Value, detail, &replace)
    };
    let kind = |name: &str| value(name, &required(kinds.get(name)).join(" · "));
    match line.text[..colon].trim() {
        "kind" => kinds.names().map(kind).collect(),
        "agent" => agents(config, &replace, prefix),
        "confidential" => vec![
            value("true", "refuse every remote agent"),
            value(
                "false",
                "remote agents may see this document (unless it holds a [privacy] term)",
            ),
        ],
        "thread" => vec![value("none", "send no earlier turns to the agent")],
        _ => Vec::new(),
    }
}

fn required(kind: Option<&Kind>) -> Vec<&str> {
    kind.map_or(Vec::new(), |k| {
        k.required().map(|f| f.name.as_str()).collect()
    })
}

/// A new brief with the required fields of the document's kind, for the default agent.
fn new_brief(kind: Option<&str>, kinds: &Kinds, config: &Config, line: &Line) -> Completion {
    let kind = kind.and_then(|name| kinds.get(name));
    let fields = required(kind);
    let mut sections: Vec<String> = fields.iter().map(|f| format!("## {}", escape(f))).collect();
    match sections.first_mut() {
        Some(first) => first.push_str("\n\n${3}"),
        None => sections.push("${3}".to_owned()),
    }
    let defaults = config.file.defaults.agent.as_deref();
    let agent = defaults
        .or_else(|| config.agent_names().next())
        .unwrap_or("agent");
    let (agent, sections) = (escape(agent), sections.join("\n\n"));
    let detail = format!(
        "a {} with its required fields",
        kind.map_or("brief", |k| &k.name)
    );
    let replace = line.range(0..line.text.len());
    Completion {
        documentation: Some(fields.iter().map(|f| format!("## {f}\n")).collect()),
        insert_text: format!("# ${{1:Title}} @${{2:{agent}}}\n\n{sections}\n"),
        is_snippet: true,
        ..item("New brief", CompletionKind::Snippet, &detail, &replace)
    }
}

/// Snippet syntax gives `$`, `}` and `\` meaning; text keeps them literal.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('$', "\\$")
        .replace('}', "\\}")
}

#[cfg(test)]
mod tests;
