//! Where a run's answer goes in a document, computed from the text as it is now (DESIGN §4
//! step 4): pure, so the editor (which streams it in with `workspace/applyEdit`), `baton send`
//! (which writes the file once) and recovery place an answer alike. When to write, and how,
//! is the caller's business.
//!
//! [`body`] is the one place that decides what of the received text the block holds.

use crate::brief::answer;
use crate::brief::fix::TextEdit;
use crate::brief::model;
use crate::brief::output::{self, Block, Marker, Status};
use crate::document::Document;

/// What the output block of a run holds, given what the agent sent: the one function every
/// writer (the editor, `baton send`, recovery) goes through ([`answer::prepare`]: headings
/// demoted when `demote`, marker lines escaped, a fence left open closed once `finished`).
/// While more may come, each body is a prefix of the next, since a streaming block is written
/// by appending. The journal keeps `received` as it came.
pub fn body(received: &str, finished: bool, demote: bool) -> String {
    answer::prepare(received, finished, demote)
}

/// A run's answer, as far as it arrived, to be placed into a text.
#[derive(Clone, Copy, Debug)]
pub struct Answer<'a> {
    /// The title of the brief the run was sent from.
    pub title: &'a str,
    /// The run's marker, with the status the block should show.
    pub marker: &'a Marker,
    /// What the block should hold: [`body`] of what was received.
    pub body: &'a str,
    /// How much of `body` the block was known to hold: when the user edited inside the
    /// block, only what comes after that is appended.
    pub written: usize,
    /// Whether a missing block may be created: not when the run's block was in the text
    /// before (the user deleted it), nor when a new run of the brief took its place.
    pub may_create: bool,
}

/// What placing an answer into a text comes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placed {
    /// The run's block is in the text: the edits that bring it up to the answer (none when
    /// it is), and how much of the body the block holds once they are in.
    Update { edits: Vec<TextEdit>, holds: usize },
    /// The run has no block yet: the edit creating it under its brief, in place of the same
    /// agent's earlier block there.
    Create(TextEdit),
    /// There is nowhere to put it.
    Gone(Gone),
}

/// Why an answer has nowhere to go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gone {
    /// The run's block was deleted (or may not be created again).
    Block,
    /// The brief is no longer in the document (deleted or renamed).
    Brief,
}

/// Places `answer` into `document` as it is now.
pub fn place(document: &Document, text: &str, answer: &Answer<'_>) -> Placed {
    let marker = answer.marker;
    if let Some(block) = output::find(text, &marker.run) {
        let (edits, holds) = catch_up(text, &block, answer.body, answer.written, marker.status);
        return Placed::Update { edits, holds };
    }
    let has_marker = || output::markers(text).iter().any(|m| m.run == marker.run);
    if !answer.may_create || has_marker() {
        return Placed::Gone(Gone::Block);
    }
    match create(document, text, answer.title, marker, answer.body) {
        Some(edit) => Placed::Create(edit),
        None => Placed::Gone(Gone::Brief),
    }
}

/// The whole block of a finished run written into `document`: in place of the run's own
/// block if it has one (a block left running by a crash, say), else under its brief in place
/// of the agent's earlier block. `Err` when the brief is gone.
pub fn replace(
    document: &Document,
    text: &str,
    title: &str,
    marker: &Marker,
    body: &str,
) -> Result<TextEdit, Gone> {
    let block = output::block_text(&marker.agent, marker, body);
    if let Some(existing) = output::find(text, &marker.run) {
        return Ok(TextEdit {
            range: existing.range,
            new_text: block,
        });
    }
    create(document, text, title, marker, body).ok_or(Gone::Brief)
}

/// `text` with `edit` applied.
pub fn apply(text: &str, edit: &TextEdit) -> String {
    let mut out = String::with_capacity(text.len() + edit.new_text.len());
    out.push_str(&text[..edit.range.start]);
    out.push_str(&edit.new_text);
    out.push_str(&text[edit.range.end..]);
    out
}

/// The edit creating the block of `marker`'s run, holding `received`, under the brief
/// `title` (in place of the agent's earlier block there). `None` when the brief is gone.
fn create(
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
fn catch_up(
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

    /// Places `body` for run R1 of brief "A" into `text`, as a streaming writer would, and
    /// applies what it says; the text after, or why there is nowhere to put it.
    fn stream(text: &str, body: &str, written: usize, may_create: bool) -> Result<String, Gone> {
        let document = Document::new(text);
        let marker = marker(Status::Running);
        let answer = Answer {
            title: "A",
            marker: &marker,
            body,
            written,
            may_create,
        };
        match place(&document, text, &answer) {
            Placed::Update { edits, .. } => Ok(applied(text, &edits)),
            Placed::Create(edit) => Ok(applied(text, &[edit])),
            Placed::Gone(gone) => Err(gone),
        }
    }

    #[test]
    fn an_answer_keeps_its_place_in_a_text_changed_above_inside_and_below() {
        let text = "# A @a\n\nDo it.\n\n# B\n\nLater.\n";
        let created = stream(text, "one ", 0, true).unwrap();
        let running = marker(Status::Running).format();
        let block = |body: &str| {
            format!("## Output @a\n{running}\n{body}\n<!-- /baton:output run=R1 -->\n")
        };
        assert_eq!(
            created,
            format!("# A @a\n\nDo it.\n\n{}\n# B\n\nLater.\n", block("one "))
        );

        // Typed above the block, in the brief, and below it.
        let typed = created
            .replacen("# A @a", "Intro.\n\n# A @a", 1)
            .replacen("Do it.", "Do it now.", 1)
            .replacen("Later.", "Later, maybe.", 1);
        let grown = stream(&typed, "one two", 4, true).unwrap();
        assert_eq!(
            grown,
            format!(
                "Intro.\n\n# A @a\n\nDo it now.\n\n{}\n# B\n\nLater, maybe.\n",
                block("one two")
            )
        );

        // Typed inside the block: only what was never written is appended.
        let edited = grown.replacen("one two", "ONE two", 1);
        let caught_up = stream(&edited, "one two three", 7, true).unwrap();
        assert!(
            caught_up.contains("\nONE two three\n<!-- /baton:output run=R1 -->"),
            "{caught_up}"
        );

        // The run's block deleted: nowhere to put the rest, even where a block may be created.
        let deleted = caught_up.replacen(&block("ONE two three"), "", 1);
        assert_eq!(
            stream(&deleted, "one two three four", 13, false),
            Err(Gone::Block)
        );
        let marker_left = deleted.replacen("Do it now.", &format!("Do it now.\n\n{running}"), 1);
        assert_eq!(stream(&marker_left, "x", 0, true), Err(Gone::Block));
        // The brief renamed: nowhere to create it.
        let renamed = text.replacen("# A @a", "# Z @a", 1);
        assert_eq!(stream(&renamed, "one", 0, true), Err(Gone::Brief));
    }

    #[test]
    fn a_finished_answer_replaces_the_agents_earlier_block_or_its_own() {
        let text = "# A @a\n\nDo it.\n";
        let earlier = Marker {
            run: "R0".to_owned(),
            ..marker(Status::Done)
        };
        let with_earlier = format!("{text}\n{}", output::block_text("a", &earlier, "Old."));
        let document = Document::new(&with_earlier);
        let done = marker(Status::Done);
        let edit = replace(&document, &with_earlier, "A", &done, "New.").unwrap();
        let replaced = apply(&with_earlier, &edit);
        assert_eq!(
            replaced,
            format!("{text}\n{}", output::block_text("a", &done, "New."))
        );

        // Its own block (left running by a crash) is replaced whole, wherever it is.
        let document = Document::new(&replaced);
        let again = Marker {
            status: Status::Partial,
            ..done.clone()
        };
        let edit = replace(&document, &replaced, "Gone", &again, "Newer.").unwrap();
        assert_eq!(
            apply(&replaced, &edit),
            format!("{text}\n{}", output::block_text("a", &again, "Newer."))
        );
        assert_eq!(
            replace(&Document::new(text), text, "Gone", &done, "x"),
            Err(Gone::Brief)
        );
        assert_eq!(body("as received\n", false, true), "as received\n");
    }
}
