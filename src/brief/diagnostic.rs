//! The diagnostics baton reports, as plain values: a byte range, a code, a message.
//!
//! Positions are byte offsets into the document text; only `document::position` turns them
//! into lines and columns, so the core never thinks about UTF-16.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A half-open byte range into a document's text.
pub type TextRange = Range<usize>;

/// How much a diagnostic matters, in the order editors show them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Information,
    Hint,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "information",
            Severity::Hint => "hint",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every diagnostic code baton knows (DESIGN §3). The string form is what users see.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    MissingField,
    EmptyField,
    DuplicateField,
    UnknownAgent,
    UnknownKind,
    InvalidFrontMatter,
    UnknownKey,
    BrokenLink,
    Cycle,
    InvalidConfig,
    NotUtf8,
    TooLarge,
    StaleOutput,
    MissingKey,
    UntrustedAgent,
    DispatchFailed,
    ConfidentialRemote,
    OverBudget,
}

impl Code {
    pub const ALL: [Code; 18] = [
        Code::MissingField,
        Code::EmptyField,
        Code::DuplicateField,
        Code::UnknownAgent,
        Code::UnknownKind,
        Code::InvalidFrontMatter,
        Code::UnknownKey,
        Code::BrokenLink,
        Code::Cycle,
        Code::InvalidConfig,
        Code::NotUtf8,
        Code::TooLarge,
        Code::StaleOutput,
        Code::MissingKey,
        Code::UntrustedAgent,
        Code::DispatchFailed,
        Code::ConfidentialRemote,
        Code::OverBudget,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::MissingField => "missing-field",
            Code::EmptyField => "empty-field",
            Code::DuplicateField => "duplicate-field",
            Code::UnknownAgent => "unknown-agent",
            Code::UnknownKind => "unknown-kind",
            Code::InvalidFrontMatter => "invalid-front-matter",
            Code::UnknownKey => "unknown-key",
            Code::BrokenLink => "broken-link",
            Code::Cycle => "cycle",
            Code::InvalidConfig => "invalid-config",
            Code::NotUtf8 => "not-utf8",
            Code::TooLarge => "too-large",
            Code::StaleOutput => "stale-output",
            Code::MissingKey => "missing-key",
            Code::UntrustedAgent => "untrusted-agent",
            Code::DispatchFailed => "dispatch-failed",
            Code::ConfidentialRemote => "confidential-remote",
            Code::OverBudget => "over-budget",
        }
    }

    /// The severity DESIGN §3 gives each code.
    pub fn severity(self) -> Severity {
        match self {
            Code::EmptyField
            | Code::DuplicateField
            | Code::UnknownKey
            | Code::MissingKey
            | Code::OverBudget => Severity::Warning,
            Code::TooLarge | Code::StaleOutput => Severity::Information,
            _ => Severity::Error,
        }
    }

    /// This code's section of the diagnostics reference at `base` (`[docs] base_url`), which
    /// editors link to via `codeDescription`. Without a base there is no link: `baton explain
    /// CODE` prints the section from the binary.
    pub fn docs_url(self, base: &str) -> String {
        format!("{base}#{}", self.as_str())
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a quick fix for a diagnostic would do, carried with the diagnostic so the editor can
/// hand it back in a code action request without the server re-deriving it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "fix", rename_all = "kebab-case")]
pub enum FixHint {
    /// Insert these canonical field names (the missing ones of a brief).
    InsertFields { fields: Vec<String> },
    /// Replace the diagnostic's range with one of these names, closest first.
    Replace { candidates: Vec<String> },
    /// Point the link at the closest brief title. Candidates are computed when the fix is
    /// asked for ([`crate::brief::fix::link_replacements`]): ranking every title of a large
    /// document for every broken link on every keystroke would cost more than the lint.
    ClosestLink,
}

/// One finding, placed on a byte range of the document it was found in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub range: TextRange,
    pub code: Code,
    pub severity: Severity,
    /// Shared: the lint cache hands out the diagnostics of unchanged briefs again on every
    /// keystroke, and a copy of a shared message costs no allocation.
    pub message: Arc<str>,
    /// Shared for the same reason as `message`.
    pub fix: Option<Arc<FixHint>>,
}

impl Diagnostic {
    pub fn new(code: Code, range: TextRange, message: impl Into<Arc<str>>) -> Self {
        Diagnostic {
            range,
            code,
            severity: code.severity(),
            message: message.into(),
            fix: None,
        }
    }

    /// The order diagnostics are reported in: by position, then code, then message.
    pub fn document_order(a: &Diagnostic, b: &Diagnostic) -> std::cmp::Ordering {
        (a.range.start, a.range.end, a.code, &a.message).cmp(&(
            b.range.start,
            b.range.end,
            b.code,
            &b.message,
        ))
    }

    pub fn with_fix(mut self, fix: FixHint) -> Self {
        self.fix = Some(Arc::new(fix));
        self
    }
}
