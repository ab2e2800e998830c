//! `baton explain CODE`: a diagnostic's section of `docs/diagnostics.md`, built into the
//! binary (like `ruff rule`), so the text always matches the version that reported it and
//! needs no network.

use std::process::ExitCode;

use super::finding::Rule;

/// The diagnostics reference, as shipped.
const REFERENCE: &str = include_str!("../../docs/diagnostics.md");

/// The exit status of an unknown code, like clap's usage errors.
const USAGE_ERROR: u8 = 2;

/// Prints the section of `code`, or with `list` the codes with their severities.
pub fn run(code: Option<&str>, list: bool) -> ExitCode {
    if list || code.is_none() {
        for rule in Rule::all() {
            println!("{:<22} {}", rule.as_str(), rule.severity());
        }
        return ExitCode::SUCCESS;
    }
    let code = code.unwrap_or_default().trim();
    match section(code) {
        Some(text) => {
            println!("{}", text.trim_end());
            ExitCode::SUCCESS
        }
        None => {
            let codes: Vec<&str> = Rule::all().map(Rule::as_str).collect();
            eprintln!(
                "baton explain: unknown code `{code}`; the codes are: {}",
                codes.join(", ")
            );
            ExitCode::from(USAGE_ERROR)
        }
    }
}

/// The section `## CODE` of the reference, its heading included, up to the next heading of
/// level one or two outside a code fence (the examples hold headings of their own). Codes
/// match ignoring case and a leading `[` or trailing `]` (as `check` prints them).
pub fn section(code: &str) -> Option<&'static str> {
    let code = code.trim_matches(['[', ']']).to_lowercase();
    if code.is_empty() || !Rule::all().any(|rule| rule.as_str() == code) {
        return None;
    }
    let heading = format!("## {code}");
    let mut start = None;
    let mut fence: Option<&str> = None;
    let mut offset = 0;
    for line in REFERENCE.split_inclusive('\n') {
        let trimmed = line.trim_end();
        if let Some(open) = fence {
            if trimmed.starts_with(open) {
                fence = None;
            }
        } else if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fence = Some(&trimmed[..3]);
        } else if trimmed.starts_with("# ") || trimmed.starts_with("## ") {
            match start {
                Some(start) => return Some(&REFERENCE[start..offset]),
                None if trimmed == heading => start = Some(offset),
                None => {}
            }
        }
        offset += line.len();
    }
    start.map(|start| &REFERENCE[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_a_section_that_ends_before_the_next() {
        for rule in Rule::all() {
            let text = section(rule.as_str()).unwrap_or_else(|| panic!("{rule:?} has no section"));
            assert!(text.starts_with(&format!("## {}\n", rule.as_str())));
            assert!(text.contains("**Severity:**"), "{rule:?}");
            let others = text.lines().skip(1).filter(|line| line.starts_with("## "));
            // Headings inside the examples' fences are part of the section.
            assert!(
                others
                    .clone()
                    .all(|line| !Rule::all().any(|r| line == format!("## {}", r.as_str()))),
                "{rule:?}"
            );
        }
    }

    #[test]
    fn an_example_heading_inside_a_fence_does_not_end_a_section() {
        let text = section("MISSING-FIELD").unwrap();
        assert!(text.contains("## Objective"), "the fenced example is kept");
        assert!(text.contains("**Quick fix:**"));
        assert!(!text.contains("## empty-field"));
        assert_eq!(
            section("[cycle]").map(|t| t.lines().next()),
            Some(Some("## cycle"))
        );
        assert_eq!(section("nonsense"), None);
        assert_eq!(section(""), None);
        assert!(section("io-error")
            .unwrap()
            .ends_with("paths you check.\n\n"));
    }
}
