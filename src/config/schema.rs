//! The keys `baton.toml` knows, and the warnings for the keys it does not.
//!
//! serde's `deny_unknown_fields` would turn a typo into a failure of the whole file; instead
//! the parsed TOML tree is walked against this schema and every unknown key becomes a warning at
//! the key itself, with the closest known key suggested.

use toml::de::{DeTable, DeValue};

use super::parse::ConfigError;

/// A table whose keys baton knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Schema {
    Top,
    Defaults,
    Agent,
    Kind,
    Route,
    When,
    Privacy,
    Output,
    Docs,
    Pipeline,
}

/// How the value under a known key is checked further.
enum Child {
    /// A table with known keys.
    Table(Schema),
    /// A table of user-chosen names, each naming a table with known keys (`agents`, `kinds`).
    Named(Schema),
    /// An array of tables with known keys (`routes`).
    Array(Schema),
}

impl Schema {
    fn keys(self) -> &'static [&'static str] {
        match self {
            Schema::Top => &[
                "defaults",
                "agents",
                "kinds",
                "documents",
                "routes",
                "privacy",
                "output",
                "docs",
                "pipeline",
            ],
            Schema::Defaults => &["agent", "handoff_at"],
            Schema::Agent => &[
                "provider",
                "model",
                "base_url",
                "api_key_env",
                "role",
                "locality",
                "context_window",
                "handoff_at",
                "timeout_secs",
                "retries",
                "max_concurrent",
                "proxy",
                "fallback",
                "command",
            ],
            Schema::Kind => &["required", "optional", "aliases"],
            Schema::Route => &["when", "agent"],
            Schema::When => &["heading", "kind", "tags"],
            Schema::Privacy => &["terms", "terms_file", "detectors", "redact"],
            Schema::Output => &["demote_headings"],
            Schema::Docs => &["base_url"],
            Schema::Pipeline => &["max_parallel"],
        }
    }

    fn child(self, key: &str) -> Option<Child> {
        match (self, key) {
            (Schema::Top, "defaults") => Some(Child::Table(Schema::Defaults)),
            (Schema::Top, "agents") => Some(Child::Named(Schema::Agent)),
            (Schema::Top, "kinds") => Some(Child::Named(Schema::Kind)),
            (Schema::Top, "routes") => Some(Child::Array(Schema::Route)),
            (Schema::Top, "privacy") => Some(Child::Table(Schema::Privacy)),
            (Schema::Top, "output") => Some(Child::Table(Schema::Output)),
            (Schema::Top, "docs") => Some(Child::Table(Schema::Docs)),
            (Schema::Top, "pipeline") => Some(Child::Table(Schema::Pipeline)),
            (Schema::Route, "when") => Some(Child::Table(Schema::When)),
            _ => None,
        }
    }
}

/// A warning for every key of `root` (a whole config file) that baton does not know.
pub(crate) fn unknown_keys(root: &DeTable<'_>) -> Vec<ConfigError> {
    let mut warnings = Vec::new();
    check_table(root, Schema::Top, "baton.toml", &mut warnings);
    warnings
}

/// Keys baton reads and checks but does not apply yet, with what the user should know:
/// configuration never silently does nothing (DESIGN §7, "Honest configuration"). A path of
/// one key is a top-level section; of two, a key inside it.
const NOT_APPLIED: &[(&[&str], &str)] = &[
    (
        &["privacy", "detectors"],
        "`detectors` is checked but not applied yet: nothing is looked for by pattern (emails, IBANs...); only `terms` and `terms_file` are, and they refuse sends to remote agents",
    ),
    (
        &["privacy", "redact"],
        "`redact` is checked but not applied yet: nothing is anonymized; a brief holding a `[privacy]` term is refused for every remote agent, whatever `redact` says",
    ),
];

/// A warning at each key of `root` that is read but not applied yet.
pub(crate) fn not_applied(root: &DeTable<'_>) -> Vec<ConfigError> {
    let mut warnings = Vec::new();
    for (path, why) in NOT_APPLIED {
        let mut table = Some(root);
        for (depth, name) in path.iter().enumerate() {
            let found = table.and_then(|t| t.iter().find(|(key, _)| key.get_ref() == name));
            let Some((key, value)) = found else {
                break;
            };
            if depth + 1 == path.len() {
                warnings.push(ConfigError {
                    range: key.span(),
                    message: (*why).to_owned(),
                });
            }
            table = value.get_ref().as_table();
        }
    }
    warnings.sort_by_key(|warning| warning.range.start);
    warnings
}

fn check_table(table: &DeTable<'_>, schema: Schema, place: &str, out: &mut Vec<ConfigError>) {
    for (key, value) in table.iter() {
        let name = key.get_ref().as_ref();
        if !schema.keys().contains(&name) {
            let hint = match suggest(name, schema.keys().iter().copied()) {
                Some(known) => format!(" (did you mean `{known}`?)"),
                None => String::new(),
            };
            out.push(ConfigError {
                range: key.span(),
                message: format!("unknown key `{name}` in {place}{hint}"),
            });
            continue;
        }
        match (schema.child(name), value.get_ref()) {
            (Some(Child::Table(inner)), DeValue::Table(t)) => {
                let place = match schema {
                    Schema::Top => format!("[{name}]"),
                    _ => format!("`{name}` of {place}"),
                };
                check_table(t, inner, &place, out)
            }
            (Some(Child::Named(inner)), DeValue::Table(named)) => {
                for (entry, body) in named.iter() {
                    if let DeValue::Table(t) = body.get_ref() {
                        let place = format!("[{name}.{}]", entry.get_ref());
                        check_table(t, inner, &place, out);
                    }
                }
            }
            (Some(Child::Array(inner)), DeValue::Array(items)) => {
                for item in items.iter() {
                    if let DeValue::Table(t) = item.get_ref() {
                        check_table(t, inner, &format!("[[{name}]]"), out);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The candidate closest to `word`, when it is close enough to be the likely intent: within an
/// edit distance of a third of the word's length, or one of the two a prefix of the other.
pub(crate) fn suggest<'a>(
    word: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .filter_map(|known| {
            let distance = strsim::damerau_levenshtein(word, known);
            let prefix = word.len() >= 3 && (known.starts_with(word) || word.starts_with(known));
            (distance <= limit || prefix).then_some((distance, known))
        })
        .min()
        .map(|(_, known)| known)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warnings(text: &str) -> Vec<(String, String)> {
        let root = DeTable::parse(text).unwrap();
        unknown_keys(root.get_ref())
            .into_iter()
            .map(|w| (text[w.range].to_string(), w.message))
            .collect()
    }

    #[test]
    fn sections_not_applied_yet_say_so_at_their_key() {
        let text =
            "[privacy]\nterms = [\"Acme\"]\n[[routes]]\nagent = \"r\"\n[[routes]]\nagent = \"s\"\n";
        let root = DeTable::parse(text).unwrap();
        assert_eq!(
            not_applied(root.get_ref()),
            [],
            "terms and routes are applied"
        );

        let text = "[privacy]\nterms = [\"Acme\"]\ndetectors = [\"email\"]\nredact = \"auto\"\n";
        let root = DeTable::parse(text).unwrap();
        let found: Vec<_> = not_applied(root.get_ref())
            .into_iter()
            .map(|warning| (text[warning.range].to_owned(), warning.message))
            .collect();
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].0, "detectors");
        assert_eq!(found[1].0, "redact");
        assert!(found[1].1.contains("nothing is anonymized"));
    }

    #[test]
    fn unknown_keys_are_reported_at_the_key_with_a_suggestion() {
        let text = "agent = 1\n[agents.r]\nprovider = \"openai\"\nmodle = \"x\"\nzzz = 1\n\
                    [[routes]]\nagent = \"r\"\nwhen = { heading = \"x\", tag = [] }\n";
        assert_eq!(
            warnings(text),
            [
                (
                    "agent".into(),
                    "unknown key `agent` in baton.toml (did you mean `agents`?)".into()
                ),
                (
                    "modle".into(),
                    "unknown key `modle` in [agents.r] (did you mean `model`?)".into()
                ),
                ("zzz".into(), "unknown key `zzz` in [agents.r]".into()),
                (
                    "tag".into(),
                    "unknown key `tag` in `when` of [[routes]] (did you mean `tags`?)".into()
                ),
            ]
        );
    }
}
