//! What a streaming run writes into the document, computed from the text as it is now: the
//! edit that creates its block under its brief, and the edits that bring the block up to
//! everything received. When to send them, and to whom, is `inject`'s business.

use crate::brief::fix::TextEdit;
use crate::brief::model;
use crate::brief::output::{self, Block, Marker, Status};
use crate::document::Document;

/// The edit creating the block of `marker`'s run, holding `received`, under the brief
/// `title` (in place of the agent's earlier block there). `None` when the brief is gone.
pub fn create(
    document: &Document,
    text: &str,
    title: &str,
    marker: &Marker,
    received: &str,
) -> Option<TextEdit> {
    let briefs = model::briefs(document);
    let brief = briefs.iter().find(|brief| brief.title == title)?;
    let block = output::block_text(&marker.agent, marker, received);
    let (range, new_text) = output::placement(text, brief.range.clone(), &marker.agent, &block);
    Some(before_final_line_break(text, TextEdit { range, new_text }))
}

/// What `block` lacks of `received`, appended, and its marker set to `status` when it says
/// otherwise; with how much of `received` the block holds once they are in. `written` is how
/// much it was known to hold: when the user edited inside the block, only what comes after
/// that is appended.
pub fn catch_up(
    text: &str,
    block: &Block,
    received: &str,
    written: usize,
    status: Status,
) -> (Vec<TextEdit>, usize) {
    let body = &text[block.body.clone()];
    let holds = if received.starts_with(body) {
        body.len()
    } else {
        written.min(received.len())
    };
    let mut edits = Vec::new();
    if block.marker.status != status {
        if let Some((range, new_text)) = output::restatus(text, &block.marker.run, status) {
            edits.push(TextEdit { range, new_text });
        }
    }
    let missing = &received[holds..];
    if !missing.is_empty() {
        let (at, new_text) = block.append(missing);
        edits.push(TextEdit {
            range: at..at,
            new_text,
        });
    }
    (edits, holds)
}

/// An insertion at the very end of a text that ends with a line break, moved before that line
/// break: the same text results, but the edit stays inside the document's last line. Neovim
/// appends an edit that starts past the last line as whole lines, which would leave an empty
/// line after the block.
fn before_final_line_break(text: &str, edit: TextEdit) -> TextEdit {
    let at_end = edit.range == (text.len()..text.len());
    let lf_only = text.ends_with('\n') && !text.ends_with("\r\n");
    match edit.new_text.strip_suffix('\n') {
        Some(body) if at_end && lf_only => {
            let at = text.len() - 1;
            TextEdit {
                range: at..at,
                new_text: format!("\n{body}"),
            }
        }
        _ => edit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(text: &str, edits: &[TextEdit]) -> String {
        let mut text = text.to_owned();
        let mut edits = edits.to_vec();
        edits.sort_by_key(|edit| std::cmp::Reverse(edit.range.start));
        for edit in edits {
            text.replace_range(edit.range.clone(), &edit.new_text);
        }
        text
    }

    fn marker(status: Status) -> Marker {
        Marker {
            run: "R1".to_owned(),
            agent: "a".to_owned(),
            model: "m".to_owned(),
            input: "00000000".to_owned(),
            status,
        }
    }

    #[test]
    fn an_insertion_at_the_end_moves_before_the_last_line_break_with_the_same_result() {
        let cases = [
            ("# A\n\nx\n", 7..7, "\n## Output @a\nbody\n", Some(6)),
            ("# A\n\nx", 6..6, "\n\n## Output @a\n", None),
            ("# A\r\n", 5..5, "## Output @a\n", None),
            ("# A\n\nx\n", 4..4, "y\n", None),
            ("# A\n", 4..4, "no line break", None),
        ];
        for (text, range, new_text, moved_to) in cases {
            let edit = TextEdit {
                range: range.clone(),
                new_text: new_text.to_owned(),
            };
            let moved = before_final_line_break(text, edit.clone());
            assert_eq!(
                applied(text, std::slice::from_ref(&moved)),
                applied(text, std::slice::from_ref(&edit))
            );
            match moved_to {
                Some(at) => assert_eq!(moved.range, at..at, "{text:?}"),
                None => assert_eq!(moved, edit, "{text:?}"),
            }
        }
    }

    #[test]
    fn the_block_is_created_under_its_brief_and_caught_up_with_what_arrived() {
        let text = "# A @a\n\nDo it.\n\n# B\n\nLater.\n";
        let document = Document::new(text);
        assert_eq!(
            create(&document, text, "Gone", &marker(Status::Running), "x"),
            None
        );
        let edit = create(&document, text, "A", &marker(Status::Running), "one ").unwrap();
        let created = applied(text, &[edit]);
        let running = marker(Status::Running).format();
        assert_eq!(
            created,
            format!("# A @a\n\nDo it.\n\n## Output @a\n{running}\none \n<!-- /baton:output run=R1 -->\n\n# B\n\nLater.\n")
        );

        let block = output::find(&created, "R1").unwrap();
        let (edits, holds) = catch_up(&created, &block, "one two\n", 4, Status::Done);
        assert_eq!(holds, 4);
        let done = marker(Status::Done).format();
        assert_eq!(
            applied(&created, &edits),
            format!("# A @a\n\nDo it.\n\n## Output @a\n{done}\none two\n\n<!-- /baton:output run=R1 -->\n\n# B\n\nLater.\n")
        );

        // The user edited the body: only what was never written is appended.
        let edited = created.replace("one ", "ONE!");
        let block = output::find(&edited, "R1").unwrap();
        let (edits, holds) = catch_up(&edited, &block, "one two", 4, Status::Running);
        assert_eq!(holds, 4);
        let caught_up = applied(&edited, &edits);
        assert!(
            caught_up.contains("\nONE!two\n<!-- /baton:output run=R1 -->"),
            "{caught_up}"
        );
        let block = output::find(&caught_up, "R1").unwrap();
        let (edits, _) = catch_up(&caught_up, &block, "one two", 7, Status::Running);
        assert!(edits.is_empty(), "nothing left to write: {edits:?}");
    }
}
