//! The lint while typing against a lint from scratch.

use std::path::Path;

use super::LintCache;
use crate::brief::kind::Kinds;
use crate::brief::lint::{lint, Context, Machine, NoOtherDocuments};
use crate::brief::Code;
use crate::config::Config;
use crate::document::Document;

#[test]
fn typing_moves_what_the_document_rules_found() {
    let config = Config::from_toml("[agents.researcher]\nprovider = \"openai\"\n").unwrap();
    let kinds = Kinds::from_config(&config.file.kinds);
    let context = Context {
        config: &config,
        kinds: &kinds,
        path: Some(Path::new("a.brief.md")),
        others: &NoOtherDocuments,
        machine: &Machine::default(),
        failed_runs: &[],
        over_budget: &[],
    };
    let brief = |title: &str, body: &str| {
        format!("# {title} @researcher\n\n## Objective\n\n{body}\n\n## Context\n\nc\n\n## Constraints\n\nc\n\n## Expected Output\n\nc\n\n")
    };
    let text = brief("First", "Say hi.") + &brief("Second", "Use [[Nowhere]] and [[First]].");
    let mut document = Document::new(&text);
    let mut cache = LintCache::default();
    let broken = |diagnostics: &[crate::brief::Diagnostic]| {
        let found = diagnostics.iter().filter(|d| d.code == Code::BrokenLink);
        found.map(|d| d.range.clone()).collect::<Vec<_>>()
    };
    let before = broken(&cache.lint(&document, &context).diagnostics);
    let at = text.find("Say hi.").unwrap();
    document.replace(at..at, "Please ");
    let after = cache.lint(&document, &context);
    let moved: Vec<_> = before.iter().map(|r| r.start + 7..r.end + 7).collect();
    assert_eq!(broken(&after.diagnostics), moved);
    let fresh = lint(&document, &context);
    assert_eq!(after.diagnostics, fresh.diagnostics);
    // The analysis made from what was kept has every brief where a fresh lint has it: the
    // first one moved by the typing, the second one moved after it.
    assert_eq!(after.analysis(), fresh);
    assert_eq!(
        after.analysis().briefs[1].links[1].range.start,
        text.find("[[First]]").unwrap() + 7
    );
}
