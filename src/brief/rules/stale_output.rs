//! `stale-output`: an output block whose marker's `input` hash is no longer the brief's
//! ([`payload::brief_hash`]): the brief was edited after the answer was written, so the answer
//! may not fit it any more. A run still streaming (`status=running`) is left alone.

use crate::brief::diagnostic::{Code, Diagnostic};
use crate::brief::lint::RuleContext;
use crate::brief::model::OutputBlock;
use crate::brief::output::{Marker, Status};
use crate::brief::payload;
use crate::document::Document;

pub fn check(context: &RuleContext<'_>, diagnostics: &mut Vec<Diagnostic>) {
    let Some(kind) = context.kind else { return };
    for brief in context.briefs {
        // Hashing reads the whole brief: only for briefs with an answer to compare.
        let mut hash = None;
        for block in &brief.outputs {
            let Some(marker) = marker(context.document, block) else {
                continue;
            };
            if marker.status == Status::Running || marker.input.is_empty() {
                continue;
            }
            let hash =
                hash.get_or_insert_with(|| payload::brief_hash(context.document, brief, kind));
            if marker.input == *hash {
                continue;
            }
            let what = if brief.title.is_empty() {
                "this brief".to_owned()
            } else {
                format!("`{}`", brief.title)
            };
            let to = if marker.agent.is_empty() {
                String::new()
            } else {
                format!(" to @{}", marker.agent)
            };
            let message = format!(
                "{what} changed after this output was written (run {}); send it{to} again for an answer to the brief as it is now",
                marker.run
            );
            diagnostics.push(Diagnostic::new(
                Code::StaleOutput,
                block.heading.clone(),
                message,
            ));
        }
    }
}

/// The block's marker: its first line that is not blank, if that is one. Markdown a user
/// wrote under `## Output` by hand has none, and is nobody's run.
fn marker(document: &Document, block: &OutputBlock) -> Option<Marker> {
    let rope = document.rope();
    let mut line = rope.byte_to_line(block.body.start.min(document.len()));
    // The body starts at the end of the heading, on the heading's own line.
    if rope.line_to_byte(line) < block.body.start {
        line += 1;
    }
    while line < rope.len_lines() {
        let start = rope.line_to_byte(line);
        if start >= block.body.end {
            return None;
        }
        let end = rope.try_line_to_byte(line + 1).unwrap_or(document.len());
        let text = document.slice(start..end.min(block.body.end));
        if !text.trim().is_empty() {
            return Marker::parse(&text);
        }
        line += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::brief::rules::fixture::render;

    /// A brief with its current hash in the marker, as `baton send` writes it.
    const FRESH: &str = "# Scan pricing @researcher
## Objective
Find prices.
## Output @researcher
<!-- baton:output run=R1 agent=researcher model=m input=HASH status=done -->
An answer.
<!-- /baton:output -->
";

    fn with_hash(text: &str) -> String {
        let hash = {
            let document = crate::document::Document::new(text);
            let brief = &crate::brief::model::briefs(&document)[0];
            let kinds = crate::brief::kind::Kinds::default();
            crate::brief::payload::brief_hash(&document, brief, kinds.get("brief").unwrap())
        };
        text.replace("HASH", &hash)
    }

    #[test]
    fn an_edited_brief_makes_its_output_stale() {
        let fresh = with_hash(FRESH);
        expect![""].assert_eq(&render(&fresh, "", &["stale-output"]));
        let edited = fresh.replace("Find prices.", "Find prices in euros.");
        expect![[r#"
            4: information[stale-output]: `Scan pricing` changed after this output was written (run R1); send it to @researcher again for an answer to the brief as it is now
              | ## Output @researcher
              | ^^^^^^^^^^^^^^^^^^^^^
        "#]]
        .assert_eq(&render(&edited, "", &["stale-output"]));
    }

    #[test]
    fn running_and_hand_written_outputs_are_not_stale() {
        let edited = with_hash(FRESH).replace("Find prices.", "Find prices in euros.");
        let running = edited.replace("status=done", "status=running");
        expect![""].assert_eq(&render(&running, "", &["stale-output"]));
        let by_hand = "# T @writer\n## Objective\nx\n## Output @writer\n\nWritten by hand.\n";
        expect![""].assert_eq(&render(by_hand, "", &["stale-output"]));
        let crlf = "# T\r\n## Objective\r\nx\r\n## Output\r\n\r\n<!-- baton:output run=R2 status=partial input=00000000 -->\r\nhalf\r\n";
        expect![[r#"
            4: information[stale-output]: `T` changed after this output was written (run R2); send it again for an answer to the brief as it is now
              | ## Output
              | ^^^^^^^^^
        "#]]
        .assert_eq(&render(crlf, "", &["stale-output"]));
    }
}
