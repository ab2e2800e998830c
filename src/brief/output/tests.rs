//! The output block's markers, reading and placing.

use super::*;

fn marker(run: &str) -> Marker {
    Marker {
        run: run.to_owned(),
        agent: "researcher".to_owned(),
        model: "gpt-4o-mini".to_owned(),
        input: "9f2c41d0".to_owned(),
        status: Status::Done,
    }
}

#[test]
fn markers_round_trip() {
    let line = "<!-- baton:output run=01JDXK3V7Q agent=researcher model=gpt-4o-mini input=9f2c41d0 status=done -->";
    let parsed = Marker::parse(line).unwrap();
    assert_eq!(parsed, marker("01JDXK3V7Q"));
    assert_eq!(parsed.format(), line);
    let odd = Marker {
        model: "my model=<x> 100%".to_owned(),
        status: Status::Partial,
        ..marker("R1")
    };
    assert_eq!(Marker::parse(&odd.format()), Some(odd));
    assert_eq!(
        Marker::parse("  <!-- baton:output run=R status=running future=1 -->\r").map(|m| m.status),
        Some(Status::Running)
    );
    assert_eq!(Marker::parse("<!-- baton:output status=done -->"), None);
    assert_eq!(
        Marker::parse("<!-- baton:output run=R status=odd -->"),
        None
    );
    assert_eq!(Marker::parse("<!-- /baton:output -->"), None);
    for status in [
        Status::Running,
        Status::Done,
        Status::Partial,
        Status::Failed,
        Status::Cancelled,
    ] {
        assert!(answers::STATUSES.contains(&status.as_str()));
    }
}

#[test]
fn the_closing_marker_names_the_run_escaped() {
    let block = block_text("a", &marker("R 1"), "x");
    assert!(block.ends_with("\nx\n<!-- /baton:output run=R%201 -->\n"));
    let text = format!("# B\n{block}");
    assert_eq!(&text[find(&text, "R 1").unwrap().body], "x");
}

#[test]
fn an_answer_cannot_end_or_start_a_block() {
    let quoted = "a\n<!-- /baton:output -->\n```\n<!-- /baton:output run=R9 -->\n```\n<!-- baton:output run=Q status=done -->\nz";
    let text = format!("# B\n{}after\n", block_text("a", &marker("R1"), quoted));
    let block = find(&text, "R1").unwrap();
    assert_eq!(&text[block.body.clone()], quoted);
    assert!(text[block.range].ends_with("<!-- /baton:output run=R1 -->\n"));
    assert_eq!(find(&text, "Q"), None, "a quoted marker opens no block");
    assert_eq!(find(&text, "R9"), None);
    assert_eq!(markers(&text).len(), 1);
}

#[test]
fn old_documents_close_at_the_first_unfenced_old_marker() {
    let text = "## Output @a\n<!-- baton:output run=R status=done -->\n~~~\n<!-- /baton:output -->\n~~~\nend\n<!-- /baton:output -->\nafter\n<!-- /baton:output -->\n";
    let block = find(text, "R").unwrap();
    assert_eq!(&text[block.body], "~~~\n<!-- /baton:output -->\n~~~\nend");
    assert!(text[..block.range.end].ends_with("end\n<!-- /baton:output -->\n"));
}

#[test]
fn blocks_are_found_while_the_user_types_around_them() {
    let block = block_text("researcher", &marker("R1"), "answer\nmore");
    let text = format!("# Brief\ntyped above\n{block}typed below\n");
    let found = find(&text, "R1").unwrap();
    assert_eq!(
        &text[found.range.clone()],
        block,
        "the heading is part of the block"
    );
    assert_eq!(&text[found.body.clone()], "answer\nmore");
    let (at, insert) = found.append(" and on");
    let mut grown = text.clone();
    grown.insert_str(at, &insert);
    assert!(grown.contains("more and on\n<!-- /baton:output run=R1 -->\ntyped below"));
    assert_eq!(find_block(&text, "R2"), None);
}

#[test]
fn an_empty_block_grows_between_its_markers() {
    let mut text = format!("# B\n{}", block_text("a", &marker("R"), ""));
    for chunk in ["Hel", "lo\n", "world"] {
        let (at, insert) = find(&text, "R").unwrap().append(chunk);
        text.insert_str(at, &insert);
    }
    let block = find(&text, "R").unwrap();
    assert_eq!(&text[block.body], "Hello\nworld");
    assert!(text.ends_with("world\n<!-- /baton:output run=R -->\n"));
}

#[test]
fn adjacent_markers_crlf_and_a_lost_heading() {
    let text =
        "## Notes\r\n<!-- baton:output run=R status=done -->\r\n<!-- /baton:output -->\r\nafter";
    let block = find(text, "R").unwrap();
    assert_eq!(&text[block.range.clone()], &text[10..text.len() - 5]);
    assert!(block.body.is_empty());
    let (at, insert) = block.append("x");
    assert_eq!((at, insert.as_str()), (block.close, "x\n"));
    let unclosed = "## Output @a\n<!-- baton:output run=R status=running -->\ntext\n";
    assert_eq!(find(unclosed, "R"), None);
    assert_eq!(markers(unclosed).len(), 1);
}

fn apply(text: &str, (range, new_text): (Range<usize>, String)) -> String {
    format!("{}{new_text}{}", &text[..range.start], &text[range.end..])
}

#[test]
fn a_block_goes_at_the_brief_end_or_replaces_the_agents_block() {
    let text = "# One @a\n\nGo.\n# Two\n\nStay.\n";
    let mut first = marker("r1");
    first.agent = "a".into();
    let block = block_text("a", &first, "Hi");
    let placed = apply(text, placement(text, 0..14, "a", &block));
    assert_eq!(
        placed,
        format!("# One @a\n\nGo.\n\n{block}\n# Two\n\nStay.\n")
    );
    let mut second = marker("r2");
    second.agent = "a".into();
    let again = block_text("a", &second, "Again");
    let end = placed.find("# Two").unwrap();
    let replaced = apply(&placed, placement(&placed, 0..end, "a", &again));
    assert_eq!(
        replaced,
        format!("# One @a\n\nGo.\n\n{again}\n# Two\n\nStay.\n")
    );
    // At the end of a document without a final line break.
    let bare = "# One @a\n\nGo.";
    let placed = apply(bare, placement(bare, 0..bare.len(), "a", &block));
    assert_eq!(placed, format!("# One @a\n\nGo.\n\n{block}"));
}

#[test]
fn a_marker_changes_status_in_place() {
    let text = format!(
        "# One\n\n{}",
        block_text(
            "researcher",
            &Marker {
                status: Status::Running,
                ..marker("r1")
            },
            "Half"
        )
    );
    let edit = restatus(&text, "r1", Status::Cancelled).unwrap();
    let changed = apply(&text, edit);
    assert_eq!(
        find(&changed, "r1").unwrap().marker.status,
        Status::Cancelled
    );
    assert!(changed.contains("\nHalf\n<!-- /baton:output run=r1 -->"));
    assert_eq!(restatus(&text, "nope", Status::Done), None);
}
