use std::path::Path;

use expect_test::expect;

use crate::brief::cache::LintCache;
use crate::brief::input::{self, Input};
use crate::brief::kind::Kinds;
use crate::brief::lint::{lint, Context, Machine, NoOtherDocuments};
use crate::brief::model;
use crate::brief::payload;
use crate::brief::rules::fixture::render;
use crate::brief::Code;
use crate::config::Config;
use crate::document::Document;

/// A brief with its current hash in the marker, as `baton send` writes it.
const FRESH: &str = "# Scan pricing @researcher
## Objective
Find prices.
## Output @researcher
<!-- baton:output run=R1 agent=researcher model=m input=HASH status=done -->
An answer.
<!-- /baton:output -->
";

/// `text` with `HASH` replaced by the input hash of brief `index`, as a send would write it:
/// with the latest outputs of the briefs it links to.
fn with_hash(text: &str, index: usize) -> String {
    let document = Document::new(text);
    let briefs = model::briefs(&document);
    let kinds = Kinds::default();
    let inputs = input::gather(&document, &briefs, &briefs[index], &NoOtherDocuments);
    let kind = kinds.get("brief").unwrap();
    let hash = payload::input_hash(&document, &briefs[index], kind, &inputs);
    text.replace("HASH", &hash)
}

#[test]
fn an_edited_brief_makes_its_output_stale() {
    let fresh = with_hash(FRESH, 0);
    expect![""].assert_eq(&render(&fresh, "", &["stale-output"]));
    let edited = fresh.replace("Find prices.", "Find prices in euros.");
    expect![[r#"
        4: information[stale-output]: `Scan pricing` changed after this output was written (run R1); send it to @researcher again for an answer to the brief as it is now
          | ## Output @researcher
          | ^^^^^^^^^^^^^^^^^^^^^
    "#]]
    .assert_eq(&render(&edited, "", &["stale-output"]));
}

#[test]
fn running_and_hand_written_outputs_are_not_stale() {
    let edited = with_hash(FRESH, 0).replace("Find prices.", "Find prices in euros.");
    let running = edited.replace("status=done", "status=running");
    expect![""].assert_eq(&render(&running, "", &["stale-output"]));
    let by_hand = "# T @writer\n## Objective\nx\n## Output @writer\n\nWritten by hand.\n";
    expect![""].assert_eq(&render(by_hand, "", &["stale-output"]));
    let crlf = "# T\r\n## Objective\r\nx\r\n## Output\r\n\r\n<!-- baton:output run=R2 status=partial input=00000000 -->\r\nhalf\r\n";
    expect![[r#"
        4: information[stale-output]: `T` changed after this output was written (run R2); send it again for an answer to the brief as it is now
          | ## Output
          | ^^^^^^^^^
    "#]]
    .assert_eq(&render(crlf, "", &["stale-output"]));
}

/// A scan with an answer, and a report that links to it, answered with the scan's answer as
/// its input.
const LINKED: &str = "# Scan @researcher
## Objective
Look.
## Output @researcher
<!-- baton:output run=R1 agent=researcher model=m input=00000000 status=done -->
Three rivals.
<!-- /baton:output -->
# Report @writer
## Objective
Summarize [[Scan]].
## Output @writer
<!-- baton:output run=R2 agent=writer model=m input=HASH status=done -->
A summary.
<!-- /baton:output -->
";

#[test]
fn a_change_of_a_linked_briefs_output_makes_the_output_stale() {
    let fresh = with_hash(LINKED, 1);
    // The scan's own output is stale (its marker's hash is made up); the report's is not.
    let report_stale = |text: &str| {
        render(text, "", &["stale-output"])
            .lines()
            .filter(|line| line.contains("stale-output"))
            .filter(|line| !line.contains("`Scan`"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(report_stale(&fresh), Vec::<String>::new());
    let answered_again = fresh.replace("Three rivals.", "Four rivals.");
    expect![[r#"
        [
            "11: information[stale-output]: `Report` or the output of a brief it links to changed after this output was written (run R2); send it to @writer again for an answer to the brief as it is now",
        ]
    "#]]
    .assert_debug_eq(&report_stale(&answered_again));
    let edited = fresh.replace("Summarize", "Summarise");
    assert_eq!(report_stale(&edited).len(), 1);
    // The hash a send writes is the hash the rule expects: the same inputs.
    let sent = Input {
        title: "Scan".into(),
        agent: Some("researcher".into()),
        text: "Three rivals.".into(),
    };
    let document = Document::new(&fresh);
    let briefs = model::briefs(&document);
    let kinds = Kinds::default();
    let kind = kinds.get("brief").unwrap();
    let hash = payload::input_hash(&document, &briefs[1], kind, &[sent]);
    assert!(fresh.contains(&format!("input={hash} ")));
}

#[test]
fn typing_finds_what_a_whole_lint_finds_when_a_linked_output_changes() {
    let config = Config::default();
    let kinds = Kinds::default();
    let context = Context {
        config: &config,
        kinds: &kinds,
        path: Some(Path::new("a.brief.md")),
        others: &NoOtherDocuments,
        machine: &Machine::default(),
        failed_runs: &[],
        over_budget: &[],
    };
    let text = with_hash(LINKED, 1);
    let mut document = Document::new(&text);
    let mut cache = LintCache::default();
    let stale = |diagnostics: &[crate::brief::Diagnostic]| {
        diagnostics
            .iter()
            .filter(|d| d.code == Code::StaleOutput)
            .count()
    };
    assert_eq!(
        stale(&cache.lint(&document, &context).diagnostics),
        1,
        "the scan's"
    );
    // Typing into the scan's answer, then into the report, then undoing both.
    let steps: [(&str, &str); 3] = [
        ("Three", "Four"),
        ("Summarize", "Summarise"),
        ("Four", "Three"),
    ];
    let mut counts = Vec::new();
    for (find, with) in steps {
        let at = document.slice(0..document.len()).find(find).unwrap();
        document.replace(at..at + find.len(), with);
        let typed = cache.lint(&document, &context).diagnostics;
        assert_eq!(
            typed,
            lint(&document, &context).diagnostics,
            "after {find} -> {with}"
        );
        counts.push(stale(&typed));
    }
    assert_eq!(counts, [2, 2, 2]);
    let at = document.slice(0..document.len()).find("Summarise").unwrap();
    document.replace(at..at + "Summarise".len(), "Summarize");
    let typed = cache.lint(&document, &context).diagnostics;
    assert_eq!(typed, lint(&document, &context).diagnostics);
    assert_eq!(stale(&typed), 1, "back as sent");
}
