//! An agent's answer made ready for the document (DESIGN §1): the one function every path
//! that writes an answer into a document calls (the editor's streaming, `baton send`,
//! recovery). The journal keeps the answer exactly as received; only the document's copy is
//! prepared.
//!
//! - Headings are demoted (when asked) so the answer's top level sits under its
//!   `## Output` heading: an ATX heading outside fenced code gets two more `#`, capped at six
//!   (`#` → `###`, `##` → `####`, `#####` and `######` → `######`). Setext headings
//!   (`Title` over `===`) cannot be demoted without rewriting a line already written while
//!   streaming; they stay as they are, and, like everything in an answer, are opaque: they
//!   are no heading of the document's outline.
//! - A line outside fenced code that would read as an output marker, opening or closing, in
//!   any form, is escaped (`<!-- baton\:output ...`, `<!-- \/baton:output -->`): it stays an
//!   invisible HTML comment, and can neither end the block nor start one. Fenced ones are
//!   left as written (an answer explaining baton shows them in code).
//! - A finished answer that leaves a fence open gets a closing fence line, so the closing
//!   marker and the rest of the document stay outside the code block.
//!
//! Streaming: for a prefix `p` of `s`, `prepare(p, false, d)` is a prefix of both
//! `prepare(s, false, d)` and `prepare(s, true, d)`; so a run may write the prepared text of
//! what it received so far, and only append after. Only an undecided last line (one that
//! could still become a heading or a marker) is held back. Line breaks (CRLF included) and
//! every other character pass through unchanged.

use crate::document::answers::{self, Fences, MarkerKind};

/// The text to write into the document for an answer `received` so far. `finished`: the
/// answer is complete (its last line is decided, and an open fence gets closed). `demote`:
/// demote headings (`[output] demote_headings`).
pub fn prepare(received: &str, finished: bool, demote: bool) -> String {
    let mut out = String::with_capacity(received.len() + 16);
    let mut fences = Fences::default();
    for line in received.split_inclusive('\n') {
        let complete = line.ends_with('\n');
        if complete || finished {
            let content = line.trim_end_matches(['\n', '\r']);
            out.push_str(&decided(content, &mut fences, demote));
            out.push_str(&line[content.len()..]);
        } else if fences.is_open() {
            out.push_str(line);
        } else {
            match partial(line) {
                Partial::Plain => out.push_str(line),
                Partial::Heading => out.push_str(&demoted(line, demote)),
                Partial::Undecided => {}
            }
        }
    }
    if let Some(closing) = fences.closing().filter(|_| finished) {
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&closing);
    }
    out
}

/// A whole line (without its line break) as the document gets it.
fn decided(content: &str, fences: &mut Fences, demote: bool) -> String {
    if fences.line(content) {
        return content.to_owned();
    }
    match answers::marker_kind(content) {
        Some(MarkerKind::Open { .. }) => {
            return content.replacen("baton:output", "baton\\:output", 1);
        }
        Some(MarkerKind::Close { .. }) => {
            return content.replacen("/baton:output", "\\/baton:output", 1);
        }
        None => {}
    }
    match heading_level(content) {
        Some(_) => demoted(content, demote),
        None => content.to_owned(),
    }
}

/// What the start of a line, its end not yet received, already says.
enum Partial {
    /// Neither a heading nor a marker, whatever follows: written as is.
    Plain,
    /// An ATX heading, whatever follows: written demoted.
    Heading,
    /// Could still become a heading or a marker: held back.
    Undecided,
}

fn partial(line: &str) -> Partial {
    let text = line.trim_start();
    if text.is_empty() || text.starts_with('<') {
        return Partial::Undecided;
    }
    let unindented = line.trim_start_matches(' ');
    if line.len() - unindented.len() > 3 || !unindented.starts_with('#') {
        return Partial::Plain;
    }
    let run = unindented.bytes().take_while(|&b| b == b'#').count();
    if run > 6 {
        return Partial::Plain;
    }
    match unindented.as_bytes().get(run) {
        None | Some(b'\r') => Partial::Undecided,
        Some(b' ' | b'\t') => Partial::Heading,
        Some(_) => Partial::Plain,
    }
}

/// The level of an ATX heading line: at most three spaces, one to six `#`, then a blank or
/// the line's end.
fn heading_level(content: &str) -> Option<usize> {
    let unindented = content.trim_start_matches(' ');
    if content.len() - unindented.len() > 3 {
        return None;
    }
    let run = unindented.bytes().take_while(|&b| b == b'#').count();
    let blank_or_end = matches!(unindented.as_bytes().get(run), None | Some(b' ' | b'\t'));
    ((1..=6).contains(&run) && blank_or_end).then_some(run)
}

/// A heading line (or its start) with two more `#`, at most six; as it is unless `demote`.
fn demoted(line: &str, demote: bool) -> String {
    if !demote {
        return line.to_owned();
    }
    let indent = line.len() - line.trim_start_matches(' ').len();
    let run = line[indent..].bytes().take_while(|&b| b == b'#').count();
    let level = (run + 2).min(6);
    format!(
        "{}{}{}",
        &line[..indent],
        "#".repeat(level),
        &line[indent + run..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn headings_go_two_levels_down_outside_fences_only() {
        let answer = "# Report\n## Summary\n##### Five\n###### Six\n   # Three spaces\n    # code\n#hashtag\n####### seven\n```md\n# fenced\n```\n~~~\n## tilde\n~~~\nTitle\n===\n#\n";
        let expected = "### Report\n#### Summary\n###### Five\n###### Six\n   ### Three spaces\n    # code\n#hashtag\n####### seven\n```md\n# fenced\n```\n~~~\n## tilde\n~~~\nTitle\n===\n###\n";
        assert_eq!(prepare(answer, true, true), expected);
        assert_eq!(prepare(answer, true, false), answer);
    }

    #[test]
    fn markers_are_escaped_unless_fenced() {
        let answer = "<!-- /baton:output -->\n  <!-- /baton:output run=R -->\r\n<!-- baton:output run=X status=done -->\n```\n<!-- /baton:output -->\n```\n<!-- note -->\n";
        let prepared = prepare(answer, true, true);
        assert_eq!(
            prepared,
            "<!-- \\/baton:output -->\n  <!-- \\/baton:output run=R -->\r\n<!-- baton\\:output run=X status=done -->\n```\n<!-- /baton:output -->\n```\n<!-- note -->\n"
        );
        let escaped = prepared.lines().take(3);
        assert!(escaped
            .clone()
            .all(|line| answers::marker_kind(line).is_none()));
        assert!(escaped.clone().all(|line| line.trim().starts_with("<!--")));
    }

    #[test]
    fn a_finished_answer_closes_its_open_fence() {
        assert_eq!(
            prepare("Code:\n````rust\nfn x", true, true),
            "Code:\n````rust\nfn x\n````"
        );
        assert_eq!(prepare("~~~\nx\n", true, true), "~~~\nx\n~~~");
        assert_eq!(prepare("```\nx\n", false, true), "```\nx\n");
        assert_eq!(prepare("```", true, true), "```\n```");
    }

    #[test]
    fn crlf_and_emoji_pass_through() {
        let answer = "# 🎉 Été\r\nLigne é 🎉\r\n";
        assert_eq!(prepare(answer, true, true), "### 🎉 Été\r\nLigne é 🎉\r\n");
    }

    #[test]
    fn an_undecided_last_line_is_held_back_until_decided() {
        assert_eq!(prepare("a\n#", false, true), "a\n");
        assert_eq!(prepare("a\n# Ti", false, true), "a\n### Ti");
        assert_eq!(prepare("a\n#x", false, true), "a\n#x");
        assert_eq!(prepare("a\n<!-- /baton", false, true), "a\n");
        assert_eq!(prepare("a\n   ", false, true), "a\n");
        assert_eq!(prepare("a\nplain", false, true), "a\nplain");
        assert_eq!(prepare("a\n#", true, true), "a\n###");
    }

    fn answer_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("# H\n"),
            Just("## Sub\r\n"),
            Just("#"),
            Just(" "),
            Just("###### six\n"),
            Just("```"),
            Just("~~~~"),
            Just("\n"),
            Just("\r\n"),
            Just("<!-- /baton:output -->"),
            Just("<!-- /baton:output run=R -->\n"),
            Just("<!-- baton:output run=R status=done -->"),
            Just("<"),
            Just("word 🎉"),
            Just("Title\n==="),
            Just("\t"),
        ];
        proptest::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #[test]
        fn streaming_only_ever_appends(
            answer in answer_text(),
            cut in 0usize..400,
            demote in any::<bool>(),
        ) {
            let mut cut = cut.min(answer.len());
            while !answer.is_char_boundary(cut) {
                cut -= 1;
            }
            let early = prepare(&answer[..cut], false, demote);
            let later = prepare(&answer, false, demote);
            let done = prepare(&answer, true, demote);
            prop_assert!(later.starts_with(&early), "{early:?} / {later:?}");
            prop_assert!(done.starts_with(&early), "{early:?} / {done:?}");
            prop_assert!(done.starts_with(&later));
            // Nothing in a prepared answer reads as a marker outside fenced code.
            let mut fences = Fences::default();
            for line in done.lines() {
                let fenced = fences.line(line);
                prop_assert!(fenced || answers::marker_kind(line).is_none(), "{line:?}");
            }
            prop_assert!(!fences.is_open());
        }
    }
}
