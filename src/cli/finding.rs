//! What `check` reports: a diagnostic placed in a file by line and column, ready to render.
//!
//! Lines and columns are 1-based and count Unicode characters (DESIGN §9), whatever the
//! editor encodings; the end is exclusive, the column just past the range's last character.

use std::path::PathBuf;

use ropey::Rope;

use crate::brief::{Code, Severity, TextRange};
use crate::document::position::position_of;
use crate::document::Encoding;

/// The rule a finding comes from: a lint code, or a file `check` could not read at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    Lint(Code),
    /// The file or folder could not be read (permissions, a broken link). The CLI's own rule:
    /// an editor never meets it, since it holds the text it sends.
    IoError,
}

impl Rule {
    /// Every rule `check` can report, in the order the reference lists them.
    pub fn all() -> impl Iterator<Item = Rule> {
        Code::ALL.into_iter().map(Rule::Lint).chain([Rule::IoError])
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Lint(code) => code.as_str(),
            Rule::IoError => "io-error",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            Rule::Lint(code) => code.severity(),
            Rule::IoError => Severity::Error,
        }
    }

    /// This rule's section of the diagnostics reference at `base` (`[docs] base_url`).
    pub fn docs_url(self, base: &str) -> String {
        format!("{base}#{}", self.as_str())
    }
}

/// A 1-based line and column, the column in Unicode characters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineColumn {
    pub line: u32,
    pub column: u32,
}

impl LineColumn {
    /// The start of a file, where problems with the file as a whole are reported.
    pub const START: LineColumn = LineColumn { line: 1, column: 1 };

    /// The position of a byte offset in `rope`.
    pub fn of(rope: &Rope, offset: usize) -> LineColumn {
        let position = position_of(rope, offset, Encoding::Utf32);
        LineColumn {
            line: position.line + 1,
            column: position.column + 1,
        }
    }
}

/// One finding in one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The path as the user wrote it (or as found walking a folder they named).
    pub file: String,
    /// The absolute path, for SARIF's relative URIs.
    pub path: PathBuf,
    pub start: LineColumn,
    pub end: LineColumn,
    pub severity: Severity,
    pub rule: Rule,
    pub message: String,
}

impl Finding {
    /// A finding about a whole file, placed at its first character.
    pub fn at_start(file: &super::walk::Candidate, rule: Rule, message: String) -> Finding {
        Finding {
            file: file.display.clone(),
            path: file.path.clone(),
            start: LineColumn::START,
            end: LineColumn::START,
            severity: rule.severity(),
            rule,
            message,
        }
    }

    /// A finding on a byte range of a file's text.
    pub fn in_text(
        file: &super::walk::Candidate,
        rope: &Rope,
        range: &TextRange,
        severity: Severity,
        rule: Rule,
        message: String,
    ) -> Finding {
        Finding {
            file: file.display.clone(),
            path: file.path.clone(),
            start: LineColumn::of(rope, range.start),
            end: LineColumn::of(rope, range.end.max(range.start)),
            severity,
            rule,
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters_from_one() {
        let rope = Rope::from_str("a\r\n🎉 日本 x");
        assert_eq!(LineColumn::of(&rope, 0), LineColumn { line: 1, column: 1 });
        let x = "a\r\n🎉 日本 ".len();
        assert_eq!(LineColumn::of(&rope, x), LineColumn { line: 2, column: 6 });
    }

    #[test]
    fn every_rule_has_a_distinct_name() {
        let mut names: Vec<_> = Rule::all().map(Rule::as_str).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
        let url = Rule::IoError.docs_url("https://team.example/diagnostics");
        assert_eq!(url, "https://team.example/diagnostics#io-error");
    }
}
