use proptest::prelude::*;

use super::*;
use crate::document::{closed, parse};

/// What tree-sitter-md makes of `range` of `text`.
fn parsed(rope: &Rope, range: Range<usize>) -> Scanned {
    let tree = parse::parse(rope, range.clone(), None);
    Scanned {
        outline: Outline::build(rope, &tree, range.start),
        closed: closed::is_closed(rope, range, &tree),
    }
}

fn agrees(text: &str, from: usize) -> Result<bool, TestCaseError> {
    let rope = Rope::from_str(text);
    let range = from..text.len();
    let Some(scanned) = scan(&rope, range.clone()) else {
        return Ok(false);
    };
    prop_assert_eq!(scanned, parsed(&rope, range), "{:?} from {}", text, from);
    Ok(true)
}

/// Lines of briefs as people write them, and lines near the edges of the rules.
const LINES: &[&str] = &[
    "",
    "   ",
    "# Brief @agent",
    "## Objective",
    "##",
    "# #",
    "## Title ##",
    "#  spaced  #",
    "#x",
    "####### seven",
    " # indented",
    "   ### three",
    "    # code",
    "text",
    "more text",
    "  indented text",
    "**Decision:** bold",
    "a | b",
    "| a | b |",
    "> quoted text",
    "> ",
    ">",
    ">> nested",
    ">  two spaces",
    ">     code",
    "> # quoted heading",
    "> - quoted item",
    "> ```",
    "| --- | --- |",
    "--- | ---",
    // One-column tables, on some of which tree-sitter-md errs.
    "x|",
    "|x|",
    "x |",
    "|-",
    "-|",
    "|-|",
    ":-",
    "-:",
    "| :-: ",
    "---",
    "--- ",
    "----",
    "- - -",
    "***",
    "* * *",
    "___",
    "===",
    "= =",
    "--",
    "-",
    "- item",
    "- [ ] task",
    "-  two spaces",
    "-     five",
    "  - nested",
    "    - deep",
    "      - deeper",
    "* star",
    "+ plus",
    "1. one",
    "2. two",
    "1) paren",
    "10. ten",
    "1.5 million",
    "- # heading in item",
    "- ```",
    "- > quote",
    "- [link](x) in item",
    "  continuation",
    "     five indented",
    "> quote",
    "<div>",
    "[ref]: /url",
    "[link](x) text",
    "[[Other brief]]",
    "[^1]: note",
    "\ttab",
    "- \ttab",
    "```",
    "```rust",
    "``` a`b",
    "````",
    "~~~",
    "~~~~ x",
    "  ```",
    "    ```",
    "\\# escaped",
    "é unicode",
    "中文内容",
    "Setext",
    "x  ",
    "---\t",
    "<!-- comment -->",
    "+++",
    "<!-- baton:output run=1 agent=a -->",
    "<!--",
    "-->",
    "text -->",
    "<!-- /baton:output -->",
];

/// Lines the scanner reads, so that long documents get through it.
const PLAIN: &[&str] = &[
    "",
    "# Brief @agent",
    "## Context",
    "### Deep",
    "text",
    "Setext",
    "**Decision:** bold",
    "| a | b |",
    "| --- | --- |",
    "---",
    "===",
    "- item",
    "  - nested",
    "    - deep",
    "1. one",
    "2. two",
    "* star",
    "  continuation",
    "```",
    "```json",
    "~~~",
    "# #",
    "<!-- baton:output run=1 -->",
    "<!-- /baton:output -->",
    "-->",
    "[link](x) text",
    "- [ ] task",
    "> quoted text",
    ">",
];

fn document() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        4 => prop::sample::select(PLAIN),
        3 => Just(""),
        1 => prop::sample::select(LINES),
    ];
    (
        prop::collection::vec(line, 0..40),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(lines, front_matter, crlf, final_break)| {
            let mut text = if front_matter {
                "---\nkind: brief\n---\n".to_owned()
            } else {
                String::new()
            };
            let line_break = if crlf { "\r\n" } else { "\n" };
            text.push_str(&lines.join(line_break));
            if final_break {
                text.push_str(line_break);
            }
            text
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn what_the_scan_reads_the_parser_reads(text in document(), cut in any::<prop::sample::Index>()) {
        agrees(&text, 0)?;
        let line_starts: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        agrees(&text, line_starts[cut.index(line_starts.len())])?;
    }
}

/// A brief with what the benchmark's generated briefs hold.
const TYPICAL: &str = "---\nkind: brief\n---\n\n# 🚀 Review the prototype 3 @researcher\n\n\
    Farid will **simplify** the pipeline.\n\n## Objective\n\n1. Review the workflow.\n\
    2. The budget is due *Friday*. これは仕様書の一部です。\n   - nested, wrapped\n   over two lines\n\n\
    ## Context\n\n> ✅ I believe the launch plan is necessary.\n> See [notes](notes/a.md).\n\n\
    | Item | Owner |\n| --- | --- |\n| review | Ingrid |\n\n## Constraints\n\n```bash\n\
    # not a heading\n```\n\nUses the output of [[Test the risk register 2]].\n\n\
    ## Expected Output\n\n- [ ] a task\n- See <https://example.org/x>.\n\n\
    ## Output @researcher\n<!-- baton:output run=01JDXK3V7Q agent=researcher -->\n\
    - An answer.\n<!-- /baton:output -->\n";

#[test]
fn typical_briefs_are_read_without_the_parser() {
    assert!(
        agrees(TYPICAL, 0).unwrap(),
        "the typical brief needs the parser"
    );
    let examples = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/examples"))
        .expect("examples/ is part of the repository");
    let mut read = 0;
    for entry in examples {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|extension| extension == "md") {
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                agrees(&text, 0).unwrap(),
                "{} needs the parser",
                path.display()
            );
            read += 1;
        }
    }
    assert!(read >= 3, "the examples hold briefs");
}

/// tree-sitter-md errs on a one-column table row over a delimiter row with no `|` after its
/// cell, and its error recovery swallows the rest of the document, headings included: the
/// scanner must leave such text to the parser, or a segment it read would end open (its
/// `closed` wrong) and miss that the next segment's H1 is swallowed too.
#[test]
fn one_column_tables_the_parser_errs_on_are_left_to_it() {
    for header in ["x|", "|x|", "x |", "a | b", "x"] {
        for delimiter in [
            "|-",
            ":-",
            "-:",
            "| :-: ",
            "-|",
            "|-|",
            "-|-",
            "| --- | --- |",
        ] {
            let text = format!("{header}\n{delimiter}\n\n## After\n");
            agrees(&text, 0).unwrap();
        }
    }
}
