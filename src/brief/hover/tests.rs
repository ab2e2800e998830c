use expect_test::{expect, Expect};

use super::*;
use crate::brief::symbols::fixture::fixture_at;

const LOCAL: &str = "\n[agents.local]\nprovider = \"ollama\"\nmodel = \"llama3.2\"\ncontext_window = 8192\nrole = \"You summarize.\\nBriefly.\"\n";

fn check(text: &str, expected: Expect) {
    let f = fixture_at(text, "fixture.brief.md", LOCAL);
    let actual = match hover(&f.document, &f.analysis, &f.kinds, &f.config, f.offset) {
        Some(hover) => format!("{:?}\n{}", f.document.slice(hover.range), hover.markdown),
        None => "(none)".to_owned(),
    };
    expected.assert_eq(&actual);
}

#[test]
fn field_headings_say_what_belongs_there() {
    check(
        "# T\n## Go$0al\n",
        expect![[r###"
            "## Goal"
            **Objective** · required in `brief`

            What the agent must achieve, in one or two sentences.

            *Goal* is another name for **Objective**.

            Also written: Goal, Task, Purpose."###]],
    );
    check(
        "# T\n## Not$0es\n",
        expect![[r###"
            "## Notes"
            **Notes** is not a field of `brief`.

            Its fields: Objective, Context, Constraints, Expected Output, Audience, Examples, References, Deadline."###]],
    );
}

#[test]
fn agents_in_headings_and_front_matter() {
    check(
        "# 市场 🎉 @lo$0cal\n",
        expect![[r###"
            "@local"
            **@local**

            - provider: `ollama`
            - model: `llama3.2`
            - base_url: `http://127.0.0.1:11434`
            - locality: local (the text stays on this machine)
            - context window: 8,192 tokens
            - role: You summarize."###]],
    );
    check(
        "---\nagent: wri$0tr\n---\n# T\n",
        expect![[r###"
            "writr"
            **@writr**: unknown agent. baton.toml defines `@local`, `@researcher`, `@writer`."###]],
    );
}

#[test]
fn brief_headings_sum_up_their_fields() {
    check(
        "# Scan 市$0场 @researcher\n## Goal\n## Background\n## Output @researcher\n",
        expect![[r###"
            "# Scan 市场 @researcher"
            **Scan 市场** → @researcher

            `brief` · 2 of 4 required fields · missing: Constraints, Expected Output · 1 output"###]],
    );
    check(
        "# T$0\n",
        expect![[r###"
            "# T"
            **T** → no agent yet: name one with `@agent`

            `brief` · 0 of 4 required fields · missing: Objective, Context, Constraints, Expected Output"###]],
    );
}

#[test]
fn brief_headings_say_which_agent_and_why() {
    let routes = format!(
        "{LOCAL}[defaults]\nagent = \"local\"\n[[routes]]\nwhen = {{ heading = \"(?i)scan*\" }}\nagent = \"researcher\"\n"
    );
    let summary = |text: &str| {
        let f = fixture_at(text, "fixture.brief.md", &routes);
        let hover = hover(&f.document, &f.analysis, &f.kinds, &f.config, f.offset).unwrap();
        hover.markdown.lines().next().unwrap().to_owned()
    };
    assert_eq!(
        summary("# Sc$0an rivals\n"),
        r"**Scan rivals** → @researcher · route 1: heading matches \(?i\)scan\*"
    );
    assert_eq!(
        summary("# Wri$0te\n"),
        "**Write** → @local · `[defaults] agent`"
    );
    assert_eq!(
        summary("---\nagent: writer\n---\n# Sc$0an\n"),
        "**Scan** → @writer · front matter `agent:`"
    );
}

#[test]
fn links_say_where_they_lead() {
    let text = "# Scan 🎉\n# Write\nsee [[Scan 🎉]] and [[Scn]] and [[b.brief.md#Plan]]\n";
    check(
        &text.replacen("[[Scan", "[[$0Scan", 1),
        expect![[r###"
            "[[Scan 🎉]]"
            Uses the latest output of **Scan 🎉**, in this document."###]],
    );
    check(
        &text.replacen("[[Scn", "[[S$0cn", 1),
        expect![[r#"
            "[[Scn]]"
            Broken link: no brief titled `Scn` in this document; link to an existing brief's title (the quick fix offers the closest)."#]],
    );
    check("## Goal\nplain$0 text\n", expect!["(none)"]);
}

#[test]
fn an_answer_has_no_hover() {
    let block = "## Output @local\n<!-- baton:output run=R status=done -->\n";
    let close = "<!-- /baton:output run=R -->\n";
    for inside in ["# Rep$0ort @local\n", "## Obj$0ective\n", "See [[T$0]].\n"] {
        check(&format!("# T\n{block}{inside}{close}"), expect!["(none)"]);
    }
}

#[test]
fn other_markdown_gets_no_hover() {
    let f = fixture_at("# Notes @wri$0ter\n", "notes.md", "");
    assert_eq!(
        hover(&f.document, &f.analysis, &f.kinds, &f.config, f.offset),
        None
    );
}

#[test]
fn an_agent_is_shown_without_the_credentials_written_into_its_urls() {
    let config = "\n[agents.far]\nprovider = \"openai\"\nmodel = \"m\"\nbase_url = \"https://me:hunter2@llm.example.net/v1\"\nproxy = \"http://u:p4ss@proxy.corp:3128\"\n";
    let f = fixture_at("# T @f$0ar\n", "fixture.brief.md", config);
    let hover = hover(&f.document, &f.analysis, &f.kinds, &f.config, f.offset).unwrap();
    assert!(
        hover.markdown.contains(
            "- base_url: `https://llm.example.net/v1`\n- proxy: `http://proxy.corp:3128`\n"
        ),
        "{}",
        hover.markdown
    );
    assert!(!hover.markdown.contains("hunter2") && !hover.markdown.contains("p4ss"));
}
