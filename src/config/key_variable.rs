//! What `api_key_env` holds: the name of an environment variable, or, by a common mistake, the
//! key itself pasted where its variable's name belongs (DESIGN §7: keys live in the
//! environment, never in files).
//!
//! A value that is not a plausible variable name is never repeated in any message, since it
//! may be a secret: it gets an `invalid-config` error at the value saying so without quoting
//! it, and every other message that would name the variable ([`Shown`]) says "the value of
//! `api_key_env`" instead. Pure.

use std::fmt;

use toml::de::{DeTable, DeValue};

use super::parse::ConfigError;

/// What a value of `api_key_env` is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A plausible variable name, `[A-Za-z_][A-Za-z0-9_]*`, that does not look like a key.
    Name,
    Empty,
    /// The shape of an API key or token (a provider's prefix, a long run of mixed letters and
    /// digits, a long string that no variable name could be).
    LooksLikeKey,
    /// Neither a variable name nor key-shaped (`$OPENAI_API_KEY`, `MY KEY`); still not quoted,
    /// since a key's shape cannot be known for certain.
    NotAName,
}

/// Prefixes of keys and tokens that no variable name can start with (they hold a `-`).
const KEY_PREFIXES: [&str; 6] = ["sk-", "xox", "xai-", "glpat-", "pypi-", "Bearer "];
/// A run of letters and digits at least this long between `_` is a key's random part: variable
/// names are made of words (`OPENAI_API_KEY`).
const KEY_RUN: usize = 20;

/// Judges a value of `api_key_env`.
pub fn judge(value: &str) -> Verdict {
    if value.trim().is_empty() {
        return Verdict::Empty;
    }
    if KEY_PREFIXES.iter().any(|prefix| value.starts_with(prefix)) {
        return Verdict::LooksLikeKey;
    }
    let identifier = value.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !identifier {
        let long_token = value.len() >= KEY_RUN && !value.contains(char::is_whitespace);
        return if long_token {
            Verdict::LooksLikeKey
        } else {
            Verdict::NotAName
        };
    }
    if value.split('_').any(random_looking) {
        Verdict::LooksLikeKey
    } else {
        Verdict::Name
    }
}

/// Whether the value is a usable variable name, so that it may be read and shown.
pub fn is_name(value: &str) -> bool {
    judge(value) == Verdict::Name
}

/// A long piece of a name mixing digits with letters, or lower with upper case: what a
/// random key looks like (`AKIAIOSFODNN7EXAMPLE`, the part after `ghp_` or `sk_live_`).
fn random_looking(piece: &str) -> bool {
    let has = |test: fn(&char) -> bool| piece.chars().any(|c| test(&c));
    let digits = has(char::is_ascii_digit);
    let letters = has(char::is_ascii_alphabetic);
    let mixed_case = has(char::is_ascii_lowercase) && has(char::is_ascii_uppercase);
    piece.len() >= KEY_RUN && (digits && letters || mixed_case)
}

/// What is wrong with a value that is not a variable name, in words that never quote it.
pub fn problem(verdict: Verdict) -> Option<&'static str> {
    match verdict {
        Verdict::Name => None,
        Verdict::Empty => Some(
            "`api_key_env` is empty; name the environment variable that holds the key, or remove the line if the agent needs no key",
        ),
        Verdict::LooksLikeKey => Some(
            "this looks like an API key, not the name of an environment variable; put the key in an environment variable and name that variable here",
        ),
        Verdict::NotAName => Some(
            "`api_key_env` must be the name of an environment variable (letters, digits and `_`, not starting with a digit), not a key or an expression; put the key in an environment variable and name that variable here",
        ),
    }
}

/// A value of `api_key_env` as a message may show it: the variable's name in backticks when it
/// is one, and otherwise words that do not repeat the value.
#[derive(Clone, Copy, Debug)]
pub struct Shown<'a>(pub &'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if is_name(self.0) {
            write!(f, "`{}`", self.0)
        } else {
            f.write_str("its `api_key_env` (not a variable name; the value is not shown)")
        }
    }
}

/// An error at each `api_key_env` value of one file's `[agents.*]` tables that is not a
/// variable name; the range covers the value, quotes included.
pub(super) fn problems(root: &DeTable<'_>) -> Vec<ConfigError> {
    let Some(agents) = root.get("agents").and_then(|v| v.get_ref().as_table()) else {
        return Vec::new();
    };
    agents
        .values()
        .filter_map(|agent| agent.get_ref().as_table()?.get("api_key_env"))
        .filter_map(|value| match value.get_ref() {
            DeValue::String(text) => {
                let message = problem(judge(text))?;
                Some(ConfigError {
                    range: value.span(),
                    message: message.to_owned(),
                })
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keys_and_the_rest() {
        let cases = [
            ("OPENAI_API_KEY", Verdict::Name),
            ("ANTHROPIC_API_KEY", Verdict::Name),
            ("AWS_SECRET_ACCESS_KEY", Verdict::Name),
            ("_private", Verdict::Name),
            ("http_proxy", Verdict::Name),
            ("HF_TOKEN", Verdict::Name),
            ("MY_VERY_LONG_BUT_WORDY_VARIABLE_NAME", Verdict::Name),
            ("", Verdict::Empty),
            ("  ", Verdict::Empty),
            (
                "sk-proj-abcDEF1234567890abcDEF1234567890",
                Verdict::LooksLikeKey,
            ),
            ("sk-ant-api03-abcdef", Verdict::LooksLikeKey),
            ("sk-short", Verdict::LooksLikeKey),
            ("xoxb-123-456", Verdict::LooksLikeKey),
            ("AKIAIOSFODNN7EXAMPLE", Verdict::LooksLikeKey),
            (
                "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
                Verdict::LooksLikeKey,
            ),
            ("sk_live_51H8abcdefghijklmnop1234", Verdict::LooksLikeKey),
            ("hf_aBcDeFgHiJkLmNoPqRsTuVwXyZaBcDeF", Verdict::LooksLikeKey),
            ("AIzaSyA-1234567890abcdefghijklmnop", Verdict::LooksLikeKey),
            ("$OPENAI_API_KEY", Verdict::NotAName),
            ("MY KEY", Verdict::NotAName),
            ("1PASSWORD", Verdict::NotAName),
            ("OPENAI-KEY", Verdict::NotAName),
        ];
        for (value, verdict) in cases {
            assert_eq!(judge(value), verdict, "{value:?}");
        }
    }

    #[test]
    fn only_a_name_is_ever_shown() {
        assert_eq!(Shown("OPENAI_API_KEY").to_string(), "`OPENAI_API_KEY`");
        let pasted = "sk-proj-abcDEF1234567890";
        assert!(!Shown(pasted).to_string().contains("abcDEF"));
        assert!(!Shown("MY KEY").to_string().contains("MY KEY"));
    }

    #[test]
    fn a_pasted_key_is_an_error_at_the_value_that_does_not_quote_it() {
        let text =
            "[agents.a]\nprovider = \"openai\"\napi_key_env = \"sk-proj-abcDEF1234567890abcDEF\"\n\
                    [agents.b]\nprovider = \"openai\"\napi_key_env = \"OPENAI_API_KEY\"\n";
        let tree = DeTable::parse(text).unwrap();
        let errors = problems(tree.get_ref());
        assert_eq!(errors.len(), 1);
        assert_eq!(
            &text[errors[0].range.clone()],
            "\"sk-proj-abcDEF1234567890abcDEF\""
        );
        assert!(errors[0].message.starts_with("this looks like an API key"));
        assert!(!errors[0].message.contains("abcDEF"));
    }
}
