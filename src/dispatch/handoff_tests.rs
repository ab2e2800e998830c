use super::*;
use crate::brief::kind::Kinds;

fn kind() -> Kind {
    Kinds::default().get("handoff").unwrap().clone()
}

fn source() -> Source {
    Source {
        document: "plan.brief.md".to_owned(),
        agent: "researcher".to_owned(),
    }
}

#[test]
fn names_never_repeat_and_are_recognised() {
    assert_eq!(file_name("plan.brief.md", 1), "plan.handoff.md");
    assert_eq!(file_name("plan.brief.md", 3), "plan.handoff.3.md");
    assert_eq!(file_name("notes.md", 2), "notes.handoff.2.md");
    assert!(is_handoff_of("plan.handoff.md", "plan.brief.md"));
    assert!(is_handoff_of("plan.handoff.12.md", "plan.brief.md"));
    assert!(!is_handoff_of("plan.handoff.x.md", "plan.brief.md"));
    assert!(!is_handoff_of("planb.handoff.md", "plan.brief.md"));
    assert_eq!(
        (number("plan.handoff.md"), number("plan.handoff.12.md")),
        (1, 12)
    );
}

#[test]
fn the_request_names_the_fields_and_carries_decisions() {
    let text = request(&kind(), &["- Only free tiers.".to_owned()]);
    for field in [
        "Key Decisions",
        "Current State",
        "Next Steps",
        "Reasoning",
        "Open Questions",
        "Artifacts",
    ] {
        assert!(text.contains(&format!("- {field}: ")), "{field} in {text}");
    }
    assert!(!text.contains("- Context:"));
    assert!(text.contains("- Only free tiers."));
}

#[test]
fn key_decisions_are_read_to_the_next_field() {
    let text = "# H\n\n## Decisions\n\n- one\n\n### detail\n\n```\n## Not a heading\n```\n- two\n\n## Current State\n\nx\n";
    let found = key_decisions(&kind(), text).unwrap();
    assert!(
        found.starts_with("- one") && found.ends_with("- two"),
        "{found}"
    );
    assert_eq!(
        key_decisions(&kind(), "# H\n\n## Key Decisions\n\n## Next Steps\n"),
        None
    );
    let prompt = "## Key Decisions\n\n<!-- fill\nin -->\n\n## Reasoning\n";
    assert_eq!(key_decisions(&kind(), prompt), None);
}

#[test]
fn an_answer_gets_front_matter_and_a_title_unless_it_has_one() {
    let written = document(&source(), "## Key Decisions\n\n- a\n");
    assert!(written.starts_with("---\nkind: handoff\ncontinues: plan.brief.md\nagent: researcher\n---\n\n# Handoff: plan.brief.md with @researcher\n\n## Key Decisions"));
    let odd = Source {
        document: "my plan.md".to_owned(),
        agent: "r".to_owned(),
    };
    assert!(
        document(&odd, "# Own\n").contains("continues: \"my plan.md\"\nagent: r\n---\n\n# Own\n")
    );
}

#[test]
fn the_offline_handoff_lists_runs_and_open_briefs_deterministically() {
    let runs = vec![
        RunNote {
            run: "r1".into(),
            brief: "Scan".into(),
            status: "done".into(),
            answer: "1\n2\n3\n4\n5\n6\n7\n".into(),
        },
        RunNote {
            run: "r2".into(),
            brief: "Table".into(),
            status: "failed: 401".into(),
            answer: String::new(),
        },
    ];
    let briefs = vec!["Scan".to_owned(), "Table".to_owned(), "Report".to_owned()];
    let input = Offline {
        source: source(),
        runs: &runs,
        briefs: &briefs,
        carried: &[],
    };
    let text = offline(&input);
    assert_eq!(text, offline(&input));
    assert!(text.contains("2 runs: 1 done, 1 failed.\n"));
    assert!(text.contains("### Run r1: \"Scan\" (done)\n\n> 1\n> 2\n> 3\n> 4\n> 5\n> 6\n>\n> …\n"));
    assert!(text.contains("### Run r2: \"Table\" (failed: 401)\n\n> (no answer)\n"));
    assert!(text.contains(
        "- Send \"Table\" in plan.brief.md to @researcher (no answer yet).\n- Send \"Report\""
    ));
    assert!(!text.contains("Send \"Scan\""));
}
