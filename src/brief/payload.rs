//! A brief rendered as the message an agent receives (DESIGN §4 step 2): the title, the fields
//! in the kind's canonical order under their canonical names, and the latest outputs of the
//! briefs it links to under "Inputs". Output blocks are the agent's answers, never its
//! question, so they are left out. The input hash is [`input::input_hash`]'s. The agent's role (the system prompt), the thread's earlier
//! turns and privacy are the dispatcher's business; this is the user message alone.

use std::borrow::Cow;

use super::input;
pub use super::input::Input;
use super::kind::Kind;
use super::lint::Analysis;
use super::model::Brief;
use crate::document::Document;

/// The user message for one brief.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payload {
    pub title: String,
    pub text: String,
    /// [`input::input_hash`] of the brief's own part of [`Payload::text`] and the inputs,
    /// written into the output marker; when the brief or an input changes, the output is
    /// stale.
    pub input_hash: String,
}

/// Renders brief `brief_index` of the analysis: the title, the text before the first field,
/// then the fields. Known fields come first in canonical order, then the fields the kind does
/// not know, in document order; a field written twice keeps both bodies, in document order. Empty fields and fields holding only comments (the prompts the
/// quick fix writes) are left out.
pub fn render(
    document: &Document,
    analysis: &Analysis,
    kind: &Kind,
    brief_index: usize,
    inputs: &[Input],
) -> Payload {
    let Some(brief) = analysis.briefs.get(brief_index) else {
        return Payload {
            title: String::new(),
            text: String::new(),
            input_hash: input::input_hash("", &[]),
        };
    };
    let own = own_text(document, brief, kind);
    let mut text = own.clone();
    if !inputs.is_empty() {
        text.push_str("\n## Inputs\n");
        for input in inputs {
            let from = match &input.agent {
                Some(agent) => format!("### From \"{}\" (@{agent})", input.title),
                None => format!("### From \"{}\"", input.title),
            };
            text.push_str(&format!("\n{from}\n\n{}\n", input.text.trim()));
        }
    }
    Payload {
        title: brief.title.clone(),
        text,
        input_hash: input::input_hash(&own, inputs),
    }
}

/// The hash [`render`] puts in [`Payload::input_hash`], for the `stale-output` check: the
/// brief (without its output blocks) and `inputs`, the latest outputs of the briefs it links
/// to ([`input::gather`]).
pub fn input_hash(document: &Document, brief: &Brief, kind: &Kind, inputs: &[Input]) -> String {
    input::input_hash(&own_text(document, brief, kind), inputs)
}

/// The brief's own part of what its payload sends (title, preamble, fields; no output block,
/// no comment line): what the privacy check reads for the brief itself.
pub fn own_part(document: &Document, brief: &Brief, kind: &Kind) -> String {
    own_text(document, brief, kind)
}

/// A selection sent as is.
pub fn render_selection(text: &str) -> String {
    text.trim().to_owned()
}

/// The title, the text before the first field, and the fields: the part of the payload the
/// document alone decides, separated by blank lines.
fn own_text(document: &Document, brief: &Brief, kind: &Kind) -> String {
    let mut fields: Vec<(usize, String, String)> = brief
        .fields
        .iter()
        .filter_map(|field| {
            let body = document.slice(field.body.clone());
            let body = without_comment_lines(&body);
            let body = body.trim();
            if body.is_empty() {
                return None;
            }
            let (order, name) = match kind.field_index(&field.name) {
                Some(index) => (index, kind.fields[index].name.clone()),
                None => (usize::MAX, field.name.trim().to_owned()),
            };
            Some((order, name, body.to_owned()))
        })
        .collect();
    // Stable: duplicates and unknown fields keep their document order.
    fields.sort_by_key(|(order, _, _)| *order);
    // Sections separated by blank lines, each ending in a newline.
    let mut text = String::with_capacity(brief.range.len() + 16);
    let mut section = |parts: &[&str]| {
        if !text.is_empty() {
            text.push('\n');
        }
        parts.iter().for_each(|part| text.push_str(part));
    };
    if !brief.title.is_empty() {
        section(&["# ", &brief.title, "\n"]);
    }
    // Text between the title and the first field is part of the question too.
    let preamble_start = brief.heading.as_ref().map_or(brief.range.start, |h| h.end);
    let first_section = brief.fields.iter().map(|f| f.heading.start);
    let preamble_end = first_section
        .chain(brief.outputs.iter().map(|o| o.heading.start))
        .min()
        .unwrap_or(brief.range.end);
    let preamble = document.slice(preamble_start..preamble_end);
    let preamble = without_comment_lines(&preamble);
    if !preamble.trim().is_empty() {
        section(&[preamble.trim(), "\n"]);
    }
    for (_, name, body) in &fields {
        section(&["## ", name, "\n\n", body, "\n"]);
    }
    text
}

/// The body without lines that hold only an HTML comment (prompts and notes to self, which
/// Markdown does not show either), except inside fenced code, where they are content.
fn without_comment_lines(body: &str) -> Cow<'_, str> {
    // Most bodies hold no comment: nothing to take out, nothing to copy.
    if !body.contains("<!--") {
        return Cow::Borrowed(body);
    }
    let mut out = String::with_capacity(body.len());
    let mut fence: Option<(char, usize)> = None;
    let mut in_comment = false;
    for line in body.split_inclusive('\n') {
        let trimmed = line.trim();
        if in_comment {
            in_comment = !trimmed.contains("-->");
            continue;
        }
        let this_fence = fence_marker(trimmed);
        match (fence, this_fence) {
            // A fence closes with a bare run of its character, at least as long.
            (Some((c, len)), Some((d, run))) if c == d && run >= len => {
                let bare = trimmed.trim_start_matches(c).trim().is_empty();
                fence = (!bare).then_some((c, len));
            }
            (None, Some(opened)) => fence = Some(opened),
            _ => {}
        }
        if fence.is_some() || this_fence.is_some() {
            out.push_str(line);
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix("<!--") {
            match rest.find("-->") {
                // A comment with text after it on the same line is content.
                Some(end) if !rest[end + 3..].trim().is_empty() => out.push_str(line),
                Some(_) => {}
                None => in_comment = true,
            }
            continue;
        }
        out.push_str(line);
    }
    Cow::Owned(out)
}

/// The character and length of a line's leading run of three or more backticks or tildes: a
/// code fence.
fn fence_marker(line: &str) -> Option<(char, usize)> {
    let c = line.chars().next().filter(|c| matches!(c, '`' | '~'))?;
    let run = line.chars().take_while(|&x| x == c).count();
    (run >= 3).then_some((c, run))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use expect_test::{expect, Expect};

    use super::*;
    use crate::brief::kind::Kinds;
    use crate::brief::lint::{lint, Context, Machine, NoOtherDocuments};
    use crate::config::Config;

    fn check(text: &str, inputs: &[Input], expected: Expect) -> Payload {
        let config = Config::default();
        let kinds = Kinds::default();
        let context = Context {
            config: &config,
            kinds: &kinds,
            path: Some(Path::new("fixture.brief.md")),
            others: &NoOtherDocuments,
            machine: &Machine::default(),
            failed_runs: &[],
            over_budget: &[],
        };
        let document = Document::new(text);
        let analysis = lint(&document, &context);
        let kind = kinds.get(analysis.kind.as_deref().unwrap()).unwrap();
        let payload = render(&document, &analysis, kind, 0, inputs);
        expected.assert_eq(&payload.text);
        payload
    }

    const BRIEF: &str = "# Scan pricing @researcher
intro text before the fields
## Deliverable:
A table.
## Notes
Ask before paying for reports.
## Goal
Find **Acme's** prices. See [[Market scan]].
### Details
Plans and tiers.
## Context
<!-- What the agent needs to know that it cannot find out itself. -->
## Constraints
<!-- What the agent must not do. -->
Public sources only.
```html
<!-- kept: this is code -->
```
## Output @researcher
<!-- baton:output run=R1 agent=researcher model=m input=00000000 status=done -->
An old answer.
<!-- /baton:output -->
## Audience
Sales.
# Market scan
## Objective
Other brief.
";

    #[test]
    fn fields_in_canonical_order_under_canonical_names() {
        let payload = check(
            BRIEF,
            &[],
            expect![[r#"
                # Scan pricing

                intro text before the fields

                ## Objective

                Find **Acme's** prices. See [[Market scan]].
                ### Details
                Plans and tiers.

                ## Constraints

                Public sources only.
                ```html
                <!-- kept: this is code -->
                ```

                ## Expected Output

                A table.

                ## Audience

                Sales.

                ## Notes

                Ask before paying for reports.
            "#]],
        );
        assert_eq!(payload.title, "Scan pricing");
        assert_eq!(payload.input_hash.len(), 8);
    }

    #[test]
    fn inputs_follow_and_count_in_the_hash() {
        let inputs = [
            Input {
                title: "Market scan".to_owned(),
                agent: Some("researcher".to_owned()),
                text: "\nThree competitors.\n\n".to_owned(),
            },
            Input {
                title: "Notes".to_owned(),
                agent: None,
                text: "None.".to_owned(),
            },
        ];
        let with_inputs = check(
            "# T\n## Objective\nDo it.\n",
            &inputs,
            expect![[r#"
                # T

                ## Objective

                Do it.

                ## Inputs

                ### From "Market scan" (@researcher)

                Three competitors.

                ### From "Notes"

                None.
            "#]],
        );
        let without = check(
            "# T\n\n## Goal\n\nDo it.\n\n",
            &[],
            expect!["# T\n\n## Objective\n\nDo it.\n"],
        );
        assert_ne!(with_inputs.input_hash, without.input_hash);
        let hash = input::input_hash("# T\n\n## Objective\n\nDo it.\n", &inputs);
        assert_eq!(with_inputs.input_hash, hash, "the one function");
        let edited = check(
            "# T\n## Objective\nDo it now.\n",
            &[],
            expect![[r#"
            # T

            ## Objective

            Do it now.
        "#]],
        );
        assert_ne!(edited.input_hash, without.input_hash);
    }

    #[test]
    fn output_blocks_do_not_change_the_hash() {
        let bare = check(
            "# T\n## Objective\nx\n",
            &[],
            expect!["# T\n\n## Objective\n\nx\n"],
        );
        let answered = check(
            "# T\n## Objective\nx\n## Output @a\n<!-- baton:output run=R status=running -->\nhalf\n",
            &[],
            expect!["# T\n\n## Objective\n\nx\n"],
        );
        assert_eq!(bare.input_hash, answered.input_hash);
    }

    #[test]
    fn selections_are_sent_as_written() {
        assert_eq!(render_selection("\n  ## Raw *text*\n\n"), "## Raw *text*");
        let fenced = "~~~\n<!-- a -->\n~~~~\n<!-- b\nstill b -->\nc <!-- d -->\n";
        assert_eq!(
            without_comment_lines(fenced),
            "~~~\n<!-- a -->\n~~~~\nc <!-- d -->\n"
        );
    }
}
