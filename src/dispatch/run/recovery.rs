//! Recovery (DESIGN §4 step 6), the pure part: a run read back from the journal, whole or a
//! prefix a crash left, becomes its output block placed in the document as it is now. Which
//! runs are missing from a document is `Journal::unrecovered`'s to say; writing the edit is
//! the caller's.

use crate::brief::fix::TextEdit;
use crate::brief::output::{Marker, Status};
use crate::dispatch::journal::{Final, Run};
use crate::dispatch::place::{self, Gone};
use crate::document::Document;

/// The marker a journalled run's block carries: a run the journal does not show finished
/// (the process died) or that broke off or failed is partial.
pub fn marker(saved: &Run) -> Marker {
    let status = match &saved.state {
        Some(Final::Done) => Status::Done,
        Some(Final::Cancelled) => Status::Cancelled,
        Some(Final::Partial { .. } | Final::Failed { .. }) | None => Status::Partial,
    };
    let record = &saved.record;
    Marker {
        run: record.run_id.clone(),
        agent: record.agent.clone(),
        model: record.model.clone(),
        input: record.input_hash.clone(),
        status,
    }
}

/// The edit that puts a journalled run's output back into `document`: in place of its own
/// block when one is left (a crash mid-stream leaves it marked running), else under its
/// brief, in place of the agent's earlier block; its answer prepared as a run writes it
/// (`demote`: `[output] demote_headings`). `Err` when the brief is gone.
pub fn edit(document: &Document, saved: &Run, demote: bool) -> Result<TextEdit, Gone> {
    let text = document.text();
    let body = place::body(&saved.text, true, demote);
    let title = &saved.record.brief_title;
    place::replace(document, &text, title, &marker(saved), &body)
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::dispatch::run_file::tests::record;
    use crate::dispatch::run_file::{self, Event};

    fn line(event: &Event<'_>) -> String {
        serde_json::to_string(event).unwrap() + "\n"
    }

    /// A run file as a crash leaves it: the start event, the chunks, no end, a torn last line.
    fn prefix(chunks: &[&str]) -> Run {
        let mut bytes = line(&Event::Start(Cow::Owned(record("R1", "Scan", 1))));
        for chunk in chunks {
            bytes += &line(&Event::Chunk {
                text: Cow::Borrowed(chunk),
            });
        }
        bytes += r#"{"type":"chunk","te"#;
        run_file::parse(bytes.as_bytes()).unwrap()
    }

    #[test]
    fn a_journal_prefix_is_put_back_as_a_partial_block_under_its_brief() {
        let text = "# Scan @researcher\n\nLook.\n\n# Later\n\nNotes.\n";
        let document = Document::new(text);
        let saved = prefix(&["Hel", "lo 🌍"]);
        let edit = edit(&document, &saved, true).unwrap();
        let marker = marker(&saved).format();
        assert!(marker.contains("run=R1") && marker.contains("status=partial"));
        assert_eq!(
            place::apply(text, &edit),
            format!("# Scan @researcher\n\nLook.\n\n## Output @researcher\n{marker}\nHello 🌍\n<!-- /baton:output run=R1 -->\n\n# Later\n\nNotes.\n")
        );
    }

    #[test]
    fn a_block_left_running_is_replaced_whole_and_a_gone_brief_is_said() {
        let saved = prefix(&["Whole answer."]);
        let running = Marker {
            status: Status::Running,
            ..marker(&saved)
        };
        let text = format!(
            "# Scan\n\n## Output @researcher\n{}\nWho\n<!-- /baton:output -->\n",
            running.format()
        );
        let edit = edit(&Document::new(&text), &saved, true).unwrap();
        let recovered = place::apply(&text, &edit);
        assert!(recovered
            .contains("status=partial -->\nWhole answer.\n<!-- /baton:output run=R1 -->\n"));
        assert_eq!(recovered.matches("## Output").count(), 1, "{recovered}");

        let elsewhere = Document::new("# Another\n\nText.\n");
        assert_eq!(super::edit(&elsewhere, &saved, true), Err(Gone::Brief));
    }
}
