use super::*;
use crate::brief::symbols::fixture::fixture;

fn apply(text: &str, edits: &[TextEdit]) -> String {
    let mut out = text.to_owned();
    for edit in edits.iter().rev() {
        out.replace_range(edit.range.clone(), &edit.new_text);
    }
    out
}

const PIPELINE: &str = "# 市场 scan 🎉 @researcher\n## Objective\nx\n# Write up @writer\nUses [[市场 scan 🎉|the scan]], [y](#市场-scan-) and [[other.brief.md#Plan]].\n";

#[test]
fn definitions_of_agents_and_briefs() {
    let mut f = fixture(&PIPELINE.replacen("@writer", "@wri$0ter", 1));
    f.config
        .agent_locations
        .insert("writer".into(), (PathBuf::from("/ws/baton.toml"), 40..55));
    let agent = definition(&f.document, &f.analysis, &f.config, f.offset);
    let expected = Definition::Agent {
        path: "/ws/baton.toml".into(),
        range: 40..55,
    };
    assert_eq!(agent, Some(expected));

    let f = fixture(&PIPELINE.replacen("|the", "$0|the", 1));
    let Some(Definition::Brief { file, title, range }) =
        definition(&f.document, &f.analysis, &f.config, f.offset)
    else {
        panic!("no brief definition");
    };
    assert_eq!((file, title.as_str()), (None, "市场 scan 🎉"));
    assert_eq!(f.texts(&[range.unwrap()]), ["# 市场 scan 🎉 @researcher"]);

    let f = fixture(&PIPELINE.replacen("#Plan", "#Pl$0an", 1));
    let expected = Definition::Brief {
        file: Some("other.brief.md".into()),
        title: "Plan".into(),
        range: None,
    };
    assert_eq!(
        definition(&f.document, &f.analysis, &f.config, f.offset),
        Some(expected)
    );
}

#[test]
fn references_from_the_title_or_a_link() {
    for marked in [
        PIPELINE.replacen("scan 🎉 @", "sc$0an 🎉 @", 1),
        PIPELINE.replacen("(#", "(#$0", 1),
    ] {
        let f = fixture(&marked);
        let found = references(&f.document, &f.analysis, f.offset, true);
        let expected = [
            "市场 scan 🎉",
            "[[市场 scan 🎉|the scan]]",
            "[y](#市场-scan-)",
        ];
        assert_eq!(f.texts(&found), expected);
    }
    let f = fixture(&PIPELINE.replacen("@researcher", "@resea$0rcher", 1));
    assert!(references(&f.document, &f.analysis, f.offset, true).is_empty());
    let found = links_to(&f.document, &f.analysis, Some("./other.brief.md"), "plan");
    assert_eq!(f.texts(&found), ["[[other.brief.md#Plan]]"]);
}

#[test]
fn rename_rewrites_the_title_and_every_link() {
    let f = fixture(&PIPELINE.replacen("[y]", "[y$0]", 1));
    let (range, title) = prepare_rename(&f.document, &f.analysis, f.offset).unwrap();
    assert_eq!(
        (f.texts(&[range]), title.as_str()),
        (vec!["市场-scan-".into()], "市场 scan 🎉")
    );
    let edits = rename(&f.document, &f.analysis, f.offset, " Market scan 2 ").unwrap();
    let expected = "# Market scan 2 @researcher\n## Objective\nx\n# Write up @writer\nUses [[Market scan 2|the scan]], [y](#market-scan-2) and [[other.brief.md#Plan]].\n";
    assert_eq!(apply(&f.document.text(), &edits), expected);
}

#[test]
fn rename_keeps_mentions_among_the_words_and_cross_file_prefixes() {
    let f = fixture("# Scan @researcher pri$0cing\nsee [[#Scan pricing]]\n");
    let edits = rename(&f.document, &f.analysis, f.offset, "Survey").unwrap();
    assert_eq!(
        apply(&f.document.text(), &edits),
        "# Survey @researcher\nsee [[#Survey]]\n"
    );
    let f = fixture("# Other\n[[plans.brief.md#Plan|p]] [x](plans.brief.md#plan)\n");
    let edits = rename_links(
        &f.document,
        &f.analysis,
        Some("plans.brief.md"),
        "Plan",
        "Big plan",
    );
    let expected = "# Other\n[[plans.brief.md#Big plan|p]] [x](plans.brief.md#big-plan)\n";
    assert_eq!(apply(&f.document.text(), &edits), expected);
}

#[test]
fn rename_refuses_what_would_break_the_document() {
    let f = fixture("# A$0lpha\n# Beta\n");
    let refuse = |new: &str| rename(&f.document, &f.analysis, f.offset, new).unwrap_err();
    assert_eq!(refuse("  "), "a brief's title cannot be empty");
    assert_eq!(refuse("two\nlines"), "a brief's title must fit on one line");
    assert_eq!(
        refuse("BETA"),
        "this document already has a brief titled `Beta`"
    );
    assert!(refuse("a [[b]]").contains("would break the links"));
    assert!(
        rename(&f.document, &f.analysis, f.offset, "alpha").is_ok(),
        "case only"
    );
    let headless = fixture("## Objective\nx$0\n");
    assert!(prepare_rename(&headless.document, &headless.analysis, headless.offset).is_none());
    let error = rename(&headless.document, &headless.analysis, headless.offset, "T");
    assert!(error
        .unwrap_err()
        .starts_with("place the cursor on a brief's title"));
}
