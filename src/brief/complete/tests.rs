use expect_test::{expect, Expect};

use super::*;
use crate::brief::symbols::fixture::{fixture, fixture_at, Fixture};

fn items(f: &Fixture) -> Vec<Completion> {
    complete(&f.document, &f.analysis, &f.kinds, &f.config, f.offset)
}

/// Each fixture's items, one a line: label, kind, the text it replaces, what it inserts,
/// and its detail; fixtures are separated by `--`.
fn check(texts: &[&str], expected: Expect) {
    let render = |text: &&str| {
        let f = fixture(text);
        let line = |c: &Completion| {
            let replaced = f.document.slice(c.replace.clone());
            let detail = c.detail.as_deref().unwrap_or("");
            let (label, kind, insert) = (&c.label, c.kind, &c.insert_text);
            format!("{label} {kind:?} {replaced:?} -> {insert:?} ({detail})\n")
        };
        items(&f).iter().map(line).collect::<String>()
    };
    expected.assert_eq(&texts.iter().map(render).collect::<Vec<_>>().join("--\n"));
}

#[test]
fn agents_after_an_at_sign_in_headings() {
    check(
        &["# 市场 🎉 @res$0\n", "# T\nmail a@res$0\n", "# T a@r$0\n"],
        expect![[r###"
            researcher Agent "res" -> "researcher" (openai · gpt-4o-mini)
            writer Agent "res" -> "writer" (anthropic · claude-sonnet-4-5)
            --
            --
        "###]],
    );
}

#[test]
fn nothing_inside_an_answer() {
    let block = "## Output @researcher\n<!-- baton:output run=R status=done -->\n";
    check(
        &[
            &format!("# T\n{block}# R @res$0\n<!-- /baton:output run=R -->\n"),
            &format!("# T\n{block}## Back$0\n<!-- /baton:output run=R -->\n"),
            &format!("# T\n{block}\n$0\n<!-- /baton:output run=R -->\n"),
        ],
        expect![[r#"
            --
            --
        "#]],
    );
}

#[test]
fn missing_fields_after_two_hashes() {
    check(
        &["# T\n## Goal\nx\n## Back$0\n## Constraints\n"],
        expect![[r###"
            Context Field "Back" -> "Context" (required field)
            Expected Output Field "Back" -> "Expected Output" (required field)
            Audience Field "Back" -> "Audience" (optional field)
            Examples Field "Back" -> "Examples" (optional field)
            References Field "Back" -> "References" (optional field)
            Deadline Field "Back" -> "Deadline" (optional field)
        "###]],
    );
}

#[test]
fn front_matter_keys_and_values() {
    let texts = [
        "---\nkind: handoff\nag$0\n---\n",
        "---\nkind:$0\n---\n",
        "---\nagent: wr$0 # default\nconfidential: \n---\n",
        "---\nconfidential: $0\n---\n",
    ];
    check(
        &texts,
        expect![[r###"
            agent Key "ag" -> "agent: " (the agent for briefs that name none)
            confidential Key "ag" -> "confidential: " (true refuses every remote agent (nothing is anonymized yet))
            gates Key "ag" -> "gates: " (not applied yet: quality gates the outputs must pass)
            thread Key "ag" -> "thread: " (the conversation runs carry on: a name shares one, `none` sends no earlier turns)
            --
            brief Value "" -> " brief" (Objective · Context · Constraints · Expected Output)
            handoff Value "" -> " handoff" (Key Decisions · Current State · Next Steps · Reasoning)
            --
            researcher Agent "wr" -> "researcher" (openai · gpt-4o-mini)
            writer Agent "wr" -> "writer" (anthropic · claude-sonnet-4-5)
            --
            true Value "" -> "true" (refuse every remote agent)
            false Value "" -> "false" (remote agents may see this document (unless it holds a [privacy] term))
        "###]],
    );
}

#[test]
fn a_new_brief_on_an_empty_line_outside_code() {
    let snippet = items(&fixture("# T @writer\n## Objective\n\n$0\n```\n\n```\n"));
    let expected = "# ${1:Title} @${2:researcher}\n\n## Objective\n\n${3}\n\n## Context\n\n## Constraints\n\n## Expected Output\n";
    assert_eq!(snippet.len(), 1);
    assert_eq!(
        (snippet[0].insert_text.as_str(), snippet[0].is_snippet),
        (expected, true)
    );
    assert!(items(&fixture("# T\n```\n$0\n```\n")).is_empty());

    let handoff = fixture_at("$0", "x.handoff.md", "[defaults]\nagent = \"writer\"\n");
    let expected = "# ${1:Title} @${2:writer}\n\n## Key Decisions\n\n${3}\n\n## Current State\n\n## Next Steps\n\n## Reasoning\n";
    assert_eq!(items(&handoff)[0].insert_text, expected);
}

#[test]
fn other_markdown_gets_nothing() {
    assert!(items(&fixture_at("# Notes @$0\n\n", "notes.md", "")).is_empty());
}
