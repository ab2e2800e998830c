//! The confidential terms of `[privacy]` (`terms`, and the lines of `terms_file`), looked for
//! as whole words, ignoring case, in one pass over a text (Aho-Corasick).

use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// The terms to look for, compiled once per configuration. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Terms {
    /// The terms as the user wrote them, trimmed, without duplicates.
    terms: Vec<String>,
    /// For each pattern of `matcher`, the index of its term in `terms`.
    owners: Vec<usize>,
    matcher: Option<Arc<AhoCorasick>>,
    /// Why a `terms_file` could not be read, when one could not: then no term list is
    /// complete, and every remote send is refused (fail closed).
    unreadable: Option<String>,
}

impl Terms {
    /// `terms` (blank ones are dropped) compiled into one matcher.
    pub fn new<S: AsRef<str>>(terms: impl IntoIterator<Item = S>) -> Terms {
        let mut this = Terms::default();
        this.extend(terms);
        this
    }

    /// Adds `terms` and compiles the matcher again.
    pub fn extend<S: AsRef<str>>(&mut self, terms: impl IntoIterator<Item = S>) {
        for term in terms {
            let term = term.as_ref().trim();
            let known = self
                .terms
                .iter()
                .any(|t| t.to_lowercase() == term.to_lowercase());
            if !term.is_empty() && !known {
                self.terms.push(term.to_owned());
            }
        }
        self.compile();
    }

    /// Records that a terms file could not be read (`why` says which and why).
    pub fn set_unreadable(&mut self, why: String) {
        self.unreadable = Some(why);
    }

    /// Why the term list is incomplete, if it is.
    pub fn unreadable(&self) -> Option<&str> {
        self.unreadable.as_deref()
    }

    /// Whether there is nothing to look for and nothing missing.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty() && self.unreadable.is_none()
    }

    pub fn terms(&self) -> &[String] {
        &self.terms
    }

    /// The first term (as the user wrote it) that `text` holds as a whole word, ignoring case.
    pub fn find(&self, text: &str) -> Option<&str> {
        let matcher = self.matcher.as_ref()?;
        let bytes = text.as_bytes();
        matcher
            .find_overlapping_iter(text)
            .find(|found| whole_word(bytes, found.start(), found.end()))
            .map(|found| self.terms[self.owners[found.pattern().as_usize()]].as_str())
    }

    fn compile(&mut self) {
        // ASCII letters are folded by the matcher; letters outside ASCII are looked for as
        // written, in lower case and in upper case.
        let mut patterns: Vec<String> = Vec::new();
        self.owners.clear();
        for (index, term) in self.terms.iter().enumerate() {
            let mut variants = vec![term.clone()];
            if !term.is_ascii() {
                variants.extend([term.to_lowercase(), term.to_uppercase()]);
                variants.dedup();
            }
            for variant in variants {
                patterns.push(variant);
                self.owners.push(index);
            }
        }
        self.matcher = (!patterns.is_empty())
            .then(|| {
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .build(&patterns)
                    .ok()
            })
            .flatten()
            .map(Arc::new);
    }
}

/// Reads a terms file's text: one term a line; blank lines and lines starting with `#` are
/// skipped.
pub fn parse_terms_file(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// Whether `start..end` of `text` is not glued to a letter, digit or `_` on a side where the
/// term itself ends in one (`Acme` is not found in `Acmes`; `@acme.io` is found in `x@acme.io`
/// only when what precedes `@` is allowed: a term starting with a symbol has no boundary
/// there).
fn whole_word(text: &[u8], start: usize, end: usize) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let as_str = |range: std::ops::Range<usize>| std::str::from_utf8(&text[range]).ok();
    let first = as_str(start..end).and_then(|s| s.chars().next());
    let last = as_str(start..end).and_then(|s| s.chars().next_back());
    let before = as_str(0..start).and_then(|s| s.chars().next_back());
    let after = as_str(end..text.len()).and_then(|s| s.chars().next());
    let open = !(first.is_some_and(word) && before.is_some_and(word));
    let close = !(last.is_some_and(word) && after.is_some_and(word));
    open && close
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_found_as_whole_words_ignoring_case() {
        let terms = Terms::new(["Acme Corp", "  ", "Zürich", "@globex.io", "acme corp"]);
        assert_eq!(terms.terms(), ["Acme Corp", "Zürich", "@globex.io"]);
        assert_eq!(terms.find("ask ACME CORP first"), Some("Acme Corp"));
        assert_eq!(terms.find("Acme Corporation"), None, "not a whole word");
        assert_eq!(terms.find("xAcme Corp"), None);
        assert_eq!(terms.find("in zürich."), Some("Zürich"));
        assert_eq!(terms.find("IN ZÜRICH"), Some("Zürich"));
        assert_eq!(terms.find("mail bob@globex.io now"), Some("@globex.io"));
        assert_eq!(terms.find("Acme Corps, and Acme Corp."), Some("Acme Corp"));
        assert_eq!(terms.find("nothing here"), None);
        assert!(Terms::default().find("Acme Corp").is_none());
        assert!(Terms::default().is_empty());
    }

    #[test]
    fn a_terms_file_is_one_term_a_line_with_comments() {
        let text = "# customers\nAcme\n\n  Globex  \n#Initech\n";
        assert_eq!(parse_terms_file(text), ["Acme", "Globex"]);
        let mut terms = Terms::new(["Acme"]);
        terms.extend(parse_terms_file(text));
        assert_eq!(terms.terms(), ["Acme", "Globex"]);
        assert!(terms.unreadable().is_none());
        terms.set_unreadable("cannot read t.txt".into());
        assert!(!terms.is_empty());
    }
}
