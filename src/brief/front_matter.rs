//! YAML front matter: the keys baton reads (`kind`, `agent`, `confidential`, `gates`,
//! `thread`, `tags`, and a handoff's `continues`), where each sits, and what is wrong with them.

use std::ops::Range;

use serde::Deserialize;

use super::diagnostic::{Code, Diagnostic, FixHint};
use super::suggest;
use crate::document::Document;

/// The keys DESIGN §1 defines.
pub const KEYS: [&str; 7] = [
    "kind",
    "agent",
    "confidential",
    "gates",
    "thread",
    "tags",
    "continues",
];

/// A value and where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub range: Range<usize>,
}

/// Quality gates (DESIGN §5), checked against an output once agents run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gates {
    #[serde(default)]
    pub headings: Vec<String>,
    pub format: Option<GateFormat>,
    pub max_words: Option<u64>,
    pub matches: Option<String>,
    pub reviewer: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GateFormat {
    Json,
    Table,
    List,
}

/// The front matter as read; keys that are absent or invalid are `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FrontMatter {
    /// Whether the document has a front matter block at all.
    pub present: bool,
    pub kind: Option<Spanned<String>>,
    pub agent: Option<Spanned<String>>,
    pub confidential: Option<bool>,
    pub gates: Option<Gates>,
    pub thread: Option<Spanned<String>>,
    /// `tags:`, a list of strings or one string, for `[[routes]]` (`when.tags`).
    pub tags: Vec<String>,
    /// Every top-level key, in order, with the range of the key and of its value.
    pub keys: Vec<Entry>,
}

/// A top-level `key: value` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub key_range: Range<usize>,
    pub value_range: Range<usize>,
}

/// Reads the front matter, reporting syntax errors, wrong types and unknown keys.
pub fn read(document: &Document) -> (FrontMatter, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let Some(block) = document.outline().front_matter.clone() else {
        return (FrontMatter::default(), diagnostics);
    };
    let body = document.slice(block.body.clone());
    let mut front_matter = FrontMatter {
        present: true,
        keys: entries(&body, block.body.start),
        ..Default::default()
    };
    let value: serde_yaml_ng::Value = match serde_yaml_ng::from_str(&body) {
        Ok(value) => value,
        Err(error) => {
            let at = error
                .location()
                .map_or(0, |location| location.index())
                .min(body.len());
            let start = block.body.start + at;
            let end = start + body[at..].find(['\n', '\r']).unwrap_or(body.len() - at);
            let message = format!("front matter is not valid YAML: {}", yaml_message(&error));
            diagnostics.push(Diagnostic::new(
                Code::InvalidFrontMatter,
                start..end.max(start),
                message,
            ));
            return (front_matter, diagnostics);
        }
    };
    let mapping = match value {
        serde_yaml_ng::Value::Mapping(mapping) => mapping,
        serde_yaml_ng::Value::Null => return (front_matter, diagnostics),
        _ => {
            let message = "front matter must be a mapping of `key: value` lines";
            diagnostics.push(Diagnostic::new(
                Code::InvalidFrontMatter,
                block.range.clone(),
                message,
            ));
            return (front_matter, diagnostics);
        }
    };
    for (key, value) in mapping {
        let Some(key) = key.as_str() else { continue };
        let entry = front_matter
            .keys
            .iter()
            .find(|entry| entry.key == key)
            .cloned();
        let found_before = diagnostics.len();
        let key_range = entry
            .as_ref()
            .map_or(block.range.clone(), |entry| entry.key_range.clone());
        let range = entry
            .as_ref()
            .map_or(block.range.clone(), |entry| entry.value_range.clone());
        let mut wrong_type = |expected: &str| {
            let message = format!("`{key}` must be {expected}");
            diagnostics.push(Diagnostic::new(
                Code::InvalidFrontMatter,
                range.clone(),
                message,
            ));
        };
        match key {
            "kind" | "agent" | "thread" => match value.as_str() {
                Some(text) => {
                    let spanned = Some(Spanned {
                        value: text.to_owned(),
                        range: range.clone(),
                    });
                    match key {
                        "kind" => front_matter.kind = spanned,
                        "agent" => front_matter.agent = spanned,
                        _ => front_matter.thread = spanned,
                    }
                }
                None => wrong_type("a string"),
            },
            // A handoff's source document (`dispatch::handoff`), read when resuming from it.
            "continues" => {
                if value.as_str().is_none() {
                    wrong_type("a path (the document whose thread the handoff continues)");
                }
            }
            "confidential" => match value.as_bool() {
                Some(flag) => front_matter.confidential = Some(flag),
                None => wrong_type("`true` or `false`"),
            },
            "tags" => match tags(value) {
                Some(tags) => front_matter.tags = tags,
                None => wrong_type("a list of strings (`tags: [market, eu]`) or one string"),
            },
            "gates" => match serde_yaml_ng::from_value::<Gates>(value) {
                Ok(gates) => front_matter.gates = Some(gates),
                Err(error) => wrong_type(&format!(
                    "a mapping of quality gates ({})",
                    yaml_message(&error)
                )),
            },
            _ => {
                let candidates = suggest::closest(key, KEYS);
                let message = format!(
                    "unknown front-matter key `{key}`{}; baton reads {}",
                    suggest::did_you_mean(&candidates, ""),
                    KEYS.map(|key| format!("`{key}`")).join(", ")
                );
                let mut diagnostic = Diagnostic::new(Code::UnknownKey, key_range, message);
                if !candidates.is_empty() {
                    diagnostic = diagnostic.with_fix(FixHint::Replace { candidates });
                }
                diagnostics.push(diagnostic);
                continue;
            }
        }
        // A value of the right type, for a key that does nothing yet: said at the key.
        if let Some(why) = not_applied(key).filter(|_| diagnostics.len() == found_before) {
            diagnostics.push(Diagnostic::new(Code::UnknownKey, key_range, why));
        }
    }
    (front_matter, diagnostics)
}

/// What a key baton reads but does not apply yet leaves undone, said where it is written:
/// configuration never silently does nothing (DESIGN §7, "Honest configuration").
fn not_applied(key: &str) -> Option<&'static str> {
    Some(match key {
        "gates" => "`gates` are read but not applied yet: no output is checked against them",
        _ => return None,
    })
}

/// `tags:` as a list of strings, or one string as a list of one; `None` for any other value.
fn tags(value: serde_yaml_ng::Value) -> Option<Vec<String>> {
    match value {
        serde_yaml_ng::Value::String(tag) => Some(vec![tag]),
        serde_yaml_ng::Value::Sequence(items) => items
            .into_iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect(),
        _ => None,
    }
}

fn yaml_message(error: &serde_yaml_ng::Error) -> String {
    // The location is shown by the diagnostic's range; keep the message to the reason.
    let text = error.to_string();
    match text.find(" at line ") {
        Some(index) => text[..index].to_owned(),
        None => text,
    }
}

/// The top-level `key: value` lines of a YAML body starting at byte `base` of the document.
fn entries(body: &str, base: usize) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut line_start = 0;
    for line in body.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        let starts_key =
            content.starts_with(|c: char| c.is_alphanumeric() || c == '_' || c == '"' || c == '\'');
        if let (true, Some(colon)) = (starts_key, content.find(':')) {
            let key = content[..colon].trim().trim_matches(['"', '\'']);
            let value = &content[colon + 1..];
            let value = value.split(" #").next().unwrap_or(value);
            let value_start = colon + 1 + (value.len() - value.trim_start().len());
            let value_end = (colon + 1 + value.trim_end().len()).max(value_start);
            entries.push(Entry {
                key: key.to_owned(),
                key_range: base + line_start..base + line_start + content[..colon].trim_end().len(),
                value_range: base + line_start + value_start..base + line_start + value_end,
            });
        }
        line_start += line.len();
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> (FrontMatter, Vec<(String, String)>) {
        let document = Document::new(text);
        let (front_matter, diagnostics) = read(&document);
        let found = diagnostics
            .iter()
            .map(|d| {
                (
                    document.slice(d.range.clone()).into_owned(),
                    format!("{}: {}", d.code, d.message),
                )
            })
            .collect();
        (front_matter, found)
    }

    #[test]
    fn reads_known_keys_with_their_places() {
        let (front_matter, diagnostics) =
            check("---\nkind: handoff\nagent: critic # reviewer\nconfidential: true\n---\n");
        // `confidential` is applied (`confidential-remote`): nothing to say about it here.
        assert_eq!(diagnostics.len(), 0, "{diagnostics:?}");
        assert_eq!(front_matter.kind.unwrap().value, "handoff");
        let agent = front_matter.agent.unwrap();
        assert_eq!((agent.value.as_str(), agent.range), ("critic", 25..31));
        assert_eq!(front_matter.confidential, Some(true));
    }

    #[test]
    fn tags_are_a_list_or_one_string() {
        let (front_matter, diagnostics) = check("---\ntags: [market, EU]\n---\n");
        assert_eq!(
            (front_matter.tags, diagnostics.len()),
            (vec!["market".into(), "EU".into()], 0)
        );
        let (front_matter, diagnostics) = check("---\ntags: market\n---\n");
        assert_eq!(
            (front_matter.tags, diagnostics.len()),
            (vec!["market".into()], 0)
        );
        for wrong in ["{a: b}", "[market, [x]]", "3"] {
            let (front_matter, diagnostics) = check(&format!("---\ntags: {wrong}\n---\n"));
            assert_eq!(front_matter.tags, Vec::<String>::new());
            assert_eq!(
                diagnostics,
                [(
                    wrong.to_owned(),
                    "invalid-front-matter: `tags` must be a list of strings (`tags: [market, eu]`) or one string".to_owned()
                )]
            );
        }
    }

    #[test]
    fn reports_unknown_keys_wrong_types_and_bad_yaml() {
        let (_, diagnostics) = check("---\nknd: brief\nconfidential: maybe\n---\n");
        assert_eq!(diagnostics[0].0, "knd");
        assert!(diagnostics[0]
            .1
            .starts_with("unknown-key: unknown front-matter key `knd` (did you mean `kind`?)"));
        assert_eq!(
            diagnostics[1],
            (
                "maybe".into(),
                "invalid-front-matter: `confidential` must be `true` or `false`".into()
            )
        );
        let (_, diagnostics) = check("---\nkind: [brief\n---\n");
        assert_eq!(diagnostics.len(), 1);
        assert!(
            diagnostics[0]
                .1
                .starts_with("invalid-front-matter: front matter is not valid YAML"),
            "{diagnostics:?}"
        );
    }
}
