//! The human and JSON forms of `check`'s findings (DESIGN §9).

use std::fmt::Write;

use serde::Serialize;

use super::finding::Finding;
use crate::brief::Severity;

/// `file:line:column: severity[code]: message`, one finding a line, as compilers print.
pub fn human(findings: &[Finding]) -> String {
    let mut out = String::new();
    for finding in findings {
        let _ = writeln!(
            out,
            "{}:{}:{}: {}[{}]: {}",
            finding.file,
            finding.start.line,
            finding.start.column,
            finding.severity,
            finding.rule.as_str(),
            finding.message
        );
    }
    out
}

/// One item of `check --format json`.
#[derive(Serialize)]
struct JsonFinding<'a> {
    file: &'a str,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    severity: Severity,
    code: &'a str,
    message: &'a str,
}

/// One JSON array of every finding, on its own line.
pub fn json(findings: &[Finding]) -> String {
    let items: Vec<JsonFinding<'_>> = findings
        .iter()
        .map(|finding| JsonFinding {
            file: &finding.file,
            line: finding.start.line,
            column: finding.start.column,
            end_line: finding.end.line,
            end_column: finding.end.column,
            severity: finding.severity,
            code: finding.rule.as_str(),
            message: &finding.message,
        })
        .collect();
    let mut out = serde_json::to_string_pretty(&items).expect("findings serialize");
    out.push('\n');
    out
}

/// `3 errors, 1 warning in 2 files (5 documents checked)`; `None` when there is nothing to
/// say, so that a clean check prints nothing at all.
pub fn summary(findings: &[Finding], documents: usize) -> Option<String> {
    if findings.is_empty() {
        return (documents == 0).then(|| "baton check: no baton documents found".to_owned());
    }
    let count = |wanted: &[Severity]| {
        findings
            .iter()
            .filter(|finding| wanted.contains(&finding.severity))
            .count()
    };
    let mut files: Vec<&str> = findings.iter().map(|f| f.file.as_str()).collect();
    files.sort_unstable();
    files.dedup();
    let parts: Vec<String> = [
        (count(&[Severity::Error]), "error"),
        (count(&[Severity::Warning]), "warning"),
        (count(&[Severity::Information, Severity::Hint]), "note"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, noun)| plural(n, noun))
    .collect();
    Some(format!(
        "{} in {} ({} checked)",
        parts.join(", "),
        plural(files.len(), "file"),
        plural(documents, "document")
    ))
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::brief::Code;
    use crate::cli::finding::{LineColumn, Rule};

    fn finding(file: &str, severity: Severity) -> Finding {
        Finding {
            file: file.to_owned(),
            path: PathBuf::from("/").join(file),
            start: LineColumn { line: 2, column: 3 },
            end: LineColumn { line: 2, column: 9 },
            severity,
            rule: Rule::Lint(Code::EmptyField),
            message: "the field `x` is empty".to_owned(),
        }
    }

    #[test]
    fn summary_counts_by_severity_and_file() {
        let findings = [
            finding("a.brief.md", Severity::Error),
            finding("a.brief.md", Severity::Warning),
            finding("b.brief.md", Severity::Error),
            finding("b.brief.md", Severity::Information),
        ];
        assert_eq!(
            summary(&findings, 3).unwrap(),
            "2 errors, 1 warning, 1 note in 2 files (3 documents checked)"
        );
        assert_eq!(summary(&[], 3), None);
        assert!(summary(&[], 0).unwrap().contains("no baton documents"));
    }

    #[test]
    fn human_lines_read_like_a_compiler() {
        assert_eq!(
            human(&[finding("a.brief.md", Severity::Warning)]),
            "a.brief.md:2:3: warning[empty-field]: the field `x` is empty\n"
        );
    }
}
