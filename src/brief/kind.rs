//! Kinds of document and their fields (DESIGN §2): the built-in `brief` and `handoff`, and the
//! kinds `baton.toml` defines, extends or overrides.

use std::collections::BTreeMap;

use crate::config::model::KindSpec;

/// One field a kind knows, with the names it also answers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: String,
    pub required: bool,
    pub aliases: Vec<String>,
    /// One line telling the writer what belongs in the field.
    pub prompt: String,
    /// The name and aliases, normalized once so matching a heading allocates only once.
    keys: Vec<String>,
}

impl FieldSpec {
    pub fn new(name: &str, required: bool, aliases: Vec<String>, prompt: &str) -> Self {
        let keys = std::iter::once(name)
            .chain(aliases.iter().map(String::as_str))
            .map(normalize)
            .collect();
        FieldSpec {
            name: name.to_owned(),
            required,
            aliases,
            prompt: prompt.to_owned(),
            keys,
        }
    }

    /// Whether a heading, already [`normalize`]d, names this field.
    pub fn answers_to(&self, normalized: &str) -> bool {
        self.keys.iter().any(|key| key == normalized)
    }
}

/// A kind of document: its fields in canonical order, required ones first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kind {
    pub name: String,
    pub fields: Vec<FieldSpec>,
}

impl Kind {
    /// The field a heading names, matching names and aliases case-insensitively and ignoring
    /// trailing colons and repeated spaces.
    pub fn field(&self, heading: &str) -> Option<&FieldSpec> {
        self.field_index(heading).map(|index| &self.fields[index])
    }

    /// The index in [`Kind::fields`] of the field a heading names.
    pub fn field_index(&self, heading: &str) -> Option<usize> {
        let wanted = normalize(heading);
        self.fields
            .iter()
            .position(|field| field.answers_to(&wanted))
    }

    pub fn required(&self) -> impl Iterator<Item = &FieldSpec> {
        self.fields.iter().filter(|field| field.required)
    }

    /// Position of a field in canonical order.
    pub fn order_of(&self, name: &str) -> usize {
        self.fields
            .iter()
            .position(|field| field.name == name)
            .unwrap_or(usize::MAX)
    }
}

/// A field or kind name as compared: lowercase, single spaces, no trailing colons.
pub fn normalize(name: &str) -> String {
    let trimmed = name.trim().trim_end_matches([':', '：']).trim();
    let mut words = String::with_capacity(trimmed.len());
    for word in trimmed.split_whitespace() {
        if !words.is_empty() {
            words.push(' ');
        }
        words.push_str(word);
    }
    // Every heading of a brief is normalized as it is linted: ASCII, the usual case, is
    // lowercased in place.
    if words.is_ascii() {
        words.make_ascii_lowercase();
        return words;
    }
    words.to_lowercase()
}

/// All kinds in force for a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kinds {
    kinds: Vec<Kind>,
}

const BRIEF: &[(&str, bool, &[&str], &str)] = &[
    (
        "Objective",
        true,
        &["Goal", "Task", "Purpose"],
        "What the agent must achieve, in one or two sentences.",
    ),
    (
        "Context",
        true,
        &["Background"],
        "What the agent needs to know that it cannot find out itself.",
    ),
    (
        "Constraints",
        true,
        &["Guardrails", "Limits"],
        "What the agent must not do, and the limits it works within.",
    ),
    (
        "Expected Output",
        true,
        &["Output Format", "Deliverable", "Deliverables", "Format"],
        "The shape of the answer: format, length, sections.",
    ),
    ("Audience", false, &[], "Who will read the result."),
    ("Examples", false, &[], "Examples of good output."),
    ("References", false, &[], "Sources the agent should use."),
    ("Deadline", false, &[], "When the result is needed."),
];

const HANDOFF: &[(&str, bool, &[&str], &str)] = &[
    (
        "Key Decisions",
        true,
        &["Decisions"],
        "The decisions taken so far, and who took them.",
    ),
    (
        "Current State",
        true,
        &["State", "Status"],
        "Where the work stands now: what is done, what is not.",
    ),
    (
        "Next Steps",
        true,
        &["Next Actions", "Todo"],
        "What the next conversation should do first.",
    ),
    (
        "Reasoning",
        true,
        &["Rationale", "Why"],
        "Why the decisions were taken, so they are not re-argued.",
    ),
    (
        "Open Questions",
        false,
        &[],
        "Questions nobody has answered yet.",
    ),
    (
        "Artifacts",
        false,
        &[],
        "Files, links and outputs produced so far.",
    ),
    (
        "Context",
        false,
        &[],
        "Background the next conversation needs.",
    ),
];

fn builtin(name: &str, fields: &[(&str, bool, &[&str], &str)]) -> Kind {
    let fields = fields
        .iter()
        .map(|(name, required, aliases, prompt)| {
            let aliases = aliases.iter().map(|alias| (*alias).to_owned()).collect();
            FieldSpec::new(name, *required, aliases, prompt)
        })
        .collect();
    Kind {
        name: name.to_owned(),
        fields,
    }
}

impl Default for Kinds {
    fn default() -> Self {
        Kinds {
            kinds: vec![builtin("brief", BRIEF), builtin("handoff", HANDOFF)],
        }
    }
}

impl Kinds {
    /// The built-in kinds with those of the configuration applied. A configured kind with a
    /// built-in name overrides the lists it gives (`required`, `optional`) and adds its aliases.
    pub fn from_config(specs: &BTreeMap<String, KindSpec>) -> Self {
        let mut kinds = Kinds::default();
        for (name, spec) in specs {
            let existing = kinds
                .kinds
                .iter()
                .position(|kind| kind.name.eq_ignore_ascii_case(name));
            let base = existing.map(|index| kinds.kinds[index].clone());
            let kind = configured_kind(name, spec, base.as_ref());
            match existing {
                Some(index) => kinds.kinds[index] = kind,
                None => kinds.kinds.push(kind),
            }
        }
        kinds
    }

    pub fn get(&self, name: &str) -> Option<&Kind> {
        // The usual case, a kind asked for as it is named, allocates nothing.
        if let Some(kind) = self.kinds.iter().find(|kind| kind.name == name) {
            return Some(kind);
        }
        let wanted = normalize(name);
        self.kinds
            .iter()
            .find(|kind| normalize(&kind.name) == wanted)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.kinds.iter().map(|kind| kind.name.as_str())
    }
}

fn configured_kind(name: &str, spec: &KindSpec, base: Option<&Kind>) -> Kind {
    let inherited = |required: bool| -> Vec<String> {
        base.map(|kind| {
            kind.fields
                .iter()
                .filter(|f| f.required == required)
                .map(|f| f.name.clone())
                .collect()
        })
        .unwrap_or_default()
    };
    let required = spec.required.clone().unwrap_or_else(|| inherited(true));
    let optional = spec.optional.clone().unwrap_or_else(|| inherited(false));
    let base_field = |field: &str| {
        base.and_then(|kind| {
            kind.fields
                .iter()
                .find(|f| f.name.eq_ignore_ascii_case(field))
        })
    };
    let make = |field: &String, required: bool| {
        let mut aliases = base_field(field)
            .map(|f| f.aliases.clone())
            .unwrap_or_default();
        let configured = spec
            .aliases
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(field));
        aliases.extend(
            configured
                .map(|(_, extra)| extra.clone())
                .unwrap_or_default(),
        );
        let prompt = base_field(field).map_or_else(
            || format!("What belongs under {field}."),
            |f| f.prompt.clone(),
        );
        FieldSpec::new(field, required, aliases, &prompt)
    };
    let fields = required
        .iter()
        .map(|field| make(field, true))
        .chain(optional.iter().map(|field| make(field, false)));
    Kind {
        name: name.to_owned(),
        fields: fields.collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_match_case_insensitively_without_colons() {
        let kinds = Kinds::default();
        let brief = kinds.get("Brief").unwrap();
        assert_eq!(brief.field("goal:").unwrap().name, "Objective");
        assert_eq!(
            brief.field("  output   FORMAT ").unwrap().name,
            "Expected Output"
        );
        assert!(brief.field("Objectives").is_none());
    }

    #[test]
    fn config_defines_and_overrides_kinds() {
        let mut specs = BTreeMap::new();
        specs.insert(
            "review".to_owned(),
            KindSpec {
                required: Some(vec!["Subject".into(), "Verdict Format".into()]),
                optional: None,
                aliases: [("Verdict Format".to_owned(), vec!["Verdict".to_owned()])].into(),
            },
        );
        specs.insert(
            "brief".to_owned(),
            KindSpec {
                required: Some(vec!["Objective".into()]),
                optional: None,
                aliases: Default::default(),
            },
        );
        let kinds = Kinds::from_config(&specs);
        assert_eq!(
            kinds.get("review").unwrap().field("verdict").unwrap().name,
            "Verdict Format"
        );
        let brief = kinds.get("brief").unwrap();
        assert_eq!(brief.required().count(), 1);
        assert_eq!(
            brief.field("Goal").unwrap().name,
            "Objective",
            "built-in aliases survive an override"
        );
        assert!(
            brief.field("Audience").is_some(),
            "optional fields are inherited when not given"
        );
    }
}
