//! An agent's answer is opaque (DESIGN §1): placed into a document as baton places it
//! (`answer::prepare`, `output::block_text`, `output::placement`), whatever Markdown it holds
//! (headings of every level, fences open or closed, markers of both forms, CRLF, emoji), it
//! leaves every brief's title, mention, fields and links exactly as they were, and its block
//! is found back whole by its run id.

use baton::brief::answer::prepare;
use baton::brief::link::Target;
use baton::brief::model::{self, Brief};
use baton::brief::output::{self, Marker, Status};
use baton::document::Document;
use proptest::prelude::*;

/// What a brief means, positions left out: what an answer must not change.
#[derive(Debug, PartialEq, Eq)]
struct Meaning {
    title: String,
    mention: Option<String>,
    fields: Vec<String>,
    links: Vec<Target>,
}

fn meaning(brief: &Brief) -> Meaning {
    Meaning {
        title: brief.title.clone(),
        mention: brief.mention.as_ref().map(|mention| mention.name.clone()),
        fields: brief
            .fields
            .iter()
            .map(|field| field.name.clone())
            .collect(),
        links: brief.links.iter().map(|link| link.target.clone()).collect(),
    }
}

fn meanings(text: &str) -> Vec<Meaning> {
    model::briefs(&Document::new(text))
        .iter()
        .map(meaning)
        .collect()
}

fn outputs(text: &str) -> usize {
    let briefs = model::briefs(&Document::new(text));
    briefs.iter().map(|brief| brief.outputs.len()).sum()
}

/// Pieces of a brief: its Markdown is well formed (fences closed), as a brief's is.
fn brief_text() -> impl Strategy<Value = String> {
    let title = prop_oneof![
        Just("Scan pricing"),
        Just("Write 🎉 report"),
        Just("Review @writer")
    ];
    let piece = prop_oneof![
        Just("## Objective\nFind prices.\n"),
        Just("## Context\nSee [[Scan pricing]] and [x](#write--report).\n"),
        Just("## Expected Output\r\nA table.\r\n"),
        Just("Some prose é.\n"),
        Just("```\n# not a heading\n```\n"),
        Just("> ## quoted\n"),
        Just("- item [[Review]]\n"),
        Just("\n"),
    ];
    (title, proptest::collection::vec(piece, 0..5))
        .prop_map(|(title, pieces)| format!("# {title}\n{}", pieces.concat()))
}

fn document_text() -> impl Strategy<Value = String> {
    let front = prop_oneof![Just(""), Just("---\nkind: brief\n---\n")];
    (front, proptest::collection::vec(brief_text(), 1..4))
        .prop_map(|(front, briefs)| format!("{front}{}", briefs.join("\n")))
}

/// Random Markdown as a model might answer, with what could break a document.
fn answer_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("# Report\n"),
        Just("## Summary\r\n"),
        Just("### Details [[Scan pricing]] @writer\n"),
        Just("#### Four\n##### Five\n###### Six\n"),
        Just("Title\n=====\n"),
        Just("Under\n---\n"),
        Just("Prose 🎉 with [link](#scan-pricing).\n"),
        Just("```md\n# Fenced\n<!-- /baton:output -->\n"),
        Just("```\n"),
        Just("~~~~\n"),
        Just("<!-- /baton:output -->\n"),
        Just("<!-- /baton:output run=R1 -->\n"),
        Just("<!-- baton:output run=Q agent=a model=m input=0 status=done -->\n"),
        Just("---\nkind: handoff\n---\n"),
        Just("\r\n"),
        Just("#"),
        Just("no line break"),
    ];
    proptest::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
}

fn marker(run: &str, agent: &str) -> Marker {
    Marker {
        run: run.to_owned(),
        agent: agent.to_owned(),
        model: "m".to_owned(),
        input: "0badc0de".to_owned(),
        status: Status::Done,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn an_answer_changes_no_brief(
        text in document_text(),
        placements in proptest::collection::vec(
            (0usize..4, 0usize..2, answer_text(), any::<bool>()),
            1..4,
        ),
    ) {
        let before = meanings(&text);
        let mut text = text;
        let mut placed = 0;
        for (n, (which, agent, answer, demote)) in placements.into_iter().enumerate() {
            let briefs = model::briefs(&Document::new(&text));
            let brief = &briefs[which % briefs.len()];
            let agent = ["researcher", "writer"][agent];
            let run = format!("RUN{n}");
            let body = prepare(&answer, true, demote);
            let block = output::block_text(agent, &marker(&run, agent), &body);
            let (range, new_text) = output::placement(&text, brief.range.clone(), agent, &block);
            let replaced = !range.is_empty();
            text.replace_range(range.clone(), &new_text);
            placed += usize::from(!replaced);

            // The block is found back whole: the answer as prepared, between its markers.
            let found = output::find(&text, &run);
            prop_assert!(found.is_some(), "run {run} lost in {text:?}");
            let found = found.unwrap();
            prop_assert_eq!(&text[found.body.clone()], body.as_str());
            prop_assert_eq!(&text[found.range.clone()], block.as_str());
            prop_assert_eq!(found.marker.agent.as_str(), agent);

            // Every brief means what it meant; only the output blocks are new.
            prop_assert_eq!(&meanings(&text), &before, "in {:?}", text);
            prop_assert_eq!(outputs(&text), placed, "in {:?}", text);
        }
    }
}

/// The scenario of the issue, in one piece: the answer's `# Report` stays inside its block,
/// demoted, and the quoted markers are the answer's text.
#[test]
fn a_report_answer_is_demoted_escaped_and_opaque() {
    let text = "# Compare note-taking apps @researcher\n## Objective\nCompare.\n";
    let answer = "# Report\r\n## Summary 🎉\r\n```\r\n<!-- /baton:output -->\r\n```\r\n<!-- /baton:output -->\r\nDone.";
    let body = prepare(answer, true, true);
    assert_eq!(
        body,
        "### Report\r\n#### Summary 🎉\r\n```\r\n<!-- /baton:output -->\r\n```\r\n<!-- \\/baton:output -->\r\nDone."
    );
    let block = output::block_text("researcher", &marker("R1", "researcher"), &body);
    let (range, new_text) = output::placement(text, 0..text.len(), "researcher", &block);
    let mut placed = text.to_owned();
    placed.replace_range(range, &new_text);
    assert_eq!(
        placed,
        format!("{text}\n## Output @researcher\n<!-- baton:output run=R1 agent=researcher model=m input=0badc0de status=done -->\n{body}\n<!-- /baton:output run=R1 -->\n")
    );
    let briefs = model::briefs(&Document::new(&placed));
    assert_eq!(briefs.len(), 1);
    assert_eq!(briefs[0].fields.len(), 1);
    assert_eq!(
        briefs[0].outputs[0].marker.as_ref().map(|m| m.status),
        Some(Status::Done)
    );
    assert_eq!(&placed[output::find(&placed, "R1").unwrap().body], body);
}
