//! What may reach a remote agent (DESIGN §7). Anonymization does not exist yet, so baton fails
//! closed: text bound for an agent whose `locality` is remote is refused when its document is
//! `confidential: true`, when it holds a `[privacy]` term, or when a `terms_file` could not be
//! read (the term list is then incomplete). Local agents see everything.
//!
//! Pure: the configuration has read the terms file ([`crate::config::load`]).

pub mod locality;
pub mod terms;

use std::fmt;

pub use locality::is_local;
pub use terms::{parse_terms_file, Terms};

/// Why a text may not go to a remote agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exposure {
    /// The document's front matter says `confidential: true`.
    Confidential,
    /// The text holds this `[privacy]` term (as the user wrote it: it is their own word).
    Term(String),
    /// A `terms_file` could not be read; the reason names the file.
    TermsUnreadable(String),
}

impl fmt::Display for Exposure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exposure::Confidential => f.write_str("its document is `confidential: true`"),
            Exposure::Term(term) => write!(f, "it holds `{term}`, a [privacy] term"),
            Exposure::TermsUnreadable(why) => write!(
                f,
                "the [privacy] terms_file could not be read ({why}), so baton cannot tell what it holds"
            ),
        }
    }
}

impl Exposure {
    /// The whole explanation for `what` (a brief, a payload) bound for remote agent `agent`:
    /// why, and what to do.
    pub fn explain(&self, what: &str, agent: &str) -> String {
        let fix = match self {
            Exposure::Confidential => {
                "send it to a local agent (`locality = \"local\"`), or set `confidential: false`"
            }
            Exposure::Term(_) => {
                "send it to a local agent (`locality = \"local\"`), or remove the term"
            }
            Exposure::TermsUnreadable(_) => {
                "fix the terms_file, or send it to a local agent (`locality = \"local\"`)"
            }
        };
        format!(
            "{what} is not sent to @{agent}, a remote agent: {self}, and baton does not anonymize text yet; {fix}"
        )
    }
}

/// Why `text` may not be sent to an agent, or `None` when it may: always for a local agent
/// (`local`: [`is_local`]); for a remote one, unless the document is `confidential`, a term is
/// found, or the term list is incomplete.
pub fn refusal(text: &str, confidential: bool, terms: &Terms, local: bool) -> Option<Exposure> {
    if local {
        return None;
    }
    if confidential {
        return Some(Exposure::Confidential);
    }
    if let Some(why) = terms.unreadable() {
        return Some(Exposure::TermsUnreadable(why.to_owned()));
    }
    terms.find(text).map(|term| Exposure::Term(term.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_remote_agents_are_refused_and_each_reason_says_what_to_do() {
        let (remote, local) = (false, true);
        let terms = Terms::new(["Acme"]);
        let text = "Find acme's prices.";
        let found = refusal(text, false, &terms, remote).unwrap();
        assert_eq!(found, Exposure::Term("Acme".into()));
        assert_eq!(
            found.explain("`Scan`", "r"),
            "`Scan` is not sent to @r, a remote agent: it holds `Acme`, a [privacy] term, and baton does not anonymize text yet; send it to a local agent (`locality = \"local\"`), or remove the term"
        );
        assert_eq!(refusal(text, true, &terms, local), None);
        assert_eq!(refusal("Nothing.", false, &terms, remote), None);
        let confidential = refusal("Nothing.", true, &terms, remote);
        assert_eq!(confidential, Some(Exposure::Confidential));

        let mut broken = Terms::new(["Acme"]);
        broken.set_unreadable("cannot read /ws/t.txt: not found".into());
        let why = refusal("Nothing.", false, &broken, remote).unwrap();
        assert!(why
            .explain("x", "r")
            .contains("could not be read (cannot read /ws/t.txt"));
        assert_eq!(refusal("Nothing.", false, &broken, local), None);
    }
}
