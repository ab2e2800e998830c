//! Incremental edits must leave a document exactly as a parse from scratch would: the same
//! text, every segment's tree as a fresh parse of its text, and the outline a parse of the
//! whole document in one piece gives; and a lint that keeps what it found in unchanged parts
//! finds what a lint from scratch finds. Random edit sequences, in every encoding, decide.

use baton::document::{Document, Encoding};
use baton::fuzzing::edits::{self, Script, PIECES};
use proptest::prelude::*;

#[derive(Clone, Debug)]
struct Edit {
    start: f64,
    length: usize,
    piece: usize,
}

fn edit() -> impl Strategy<Value = Edit> {
    (0.0..=1.0f64, 0usize..12, 0..PIECES.len()).prop_map(|(start, length, piece)| Edit {
        start,
        length,
        piece,
    })
}

fn encoding() -> impl Strategy<Value = Encoding> {
    prop_oneof![
        Just(Encoding::Utf8),
        Just(Encoding::Utf16),
        Just(Encoding::Utf32)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    #[test]
    fn incremental_edits_match_a_fresh_parse(
        initial in proptest::collection::vec(0..PIECES.len(), 0..12),
        edits in proptest::collection::vec(edit(), 1..25),
        encoding in encoding(),
        batch in 1usize..4,
    ) {
        let script = Script {
            initial: initial.iter().map(|&i| PIECES[i]).collect(),
            edits: (edits.iter())
                .map(|edit| edits::Edit {
                    start: edit.start,
                    length: edit.length,
                    text: PIECES[edit.piece].to_owned(),
                })
                .collect(),
            encoding,
            batch,
        };
        edits::check(&script).map_err(TestCaseError::fail)?;
    }
}

/// Lines near the rules where tree-sitter-md reads a part of a document otherwise than the
/// whole: one-column tables it errs on, link reference definitions, `\r` and `\0`, fences,
/// HTML blocks, front matter, answers.
const LINES: &[&str] = &[
    "",
    "# B",
    "# C @a",
    "## D",
    "Title",
    "text",
    "x|",
    "a | b",
    "|x|",
    "-",
    "--",
    "---",
    "===",
    "-|-",
    "|-",
    ":-",
    "-|",
    "[a]: u",
    "[a]:",
    "u",
    "'t'",
    "  [a]: u",
    "\0",
    "\0# N",
    "x\0",
    "\0---",
    "#\0",
    "\r",
    "a\rb",
    "# R\r",
    "\r# S",
    "x|\r-",
    "\r\r",
    "```",
    "~~~",
    "```\r",
    "<!-- c",
    "-->",
    "<div>",
    "> q",
    "- item",
    "1. one",
    "***",
    " # sp",
    "    code",
    "\t# t",
    "kind: x",
    "+++",
    "<!-- baton:output run=R -->",
    "<!-- /baton:output run=R -->",
];

/// Some of `LINES`, each ended by a line break (or none).
fn lines(count: std::ops::Range<usize>) -> impl Strategy<Value = String> {
    let line_break = prop::sample::select(&["\n", "\n", "\r\n", "\r", ""][..]);
    proptest::collection::vec((prop::sample::select(LINES), line_break), count).prop_map(|lines| {
        (lines.iter())
            .flat_map(|(line, line_break)| [*line, *line_break])
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    #[test]
    fn edits_among_tricky_lines_match_a_fresh_parse(
        initial in lines(0..14),
        edits in proptest::collection::vec((0.0..=1.0f64, 0usize..8, lines(0..3)), 1..8),
        encoding in encoding(),
        batch in 1usize..3,
    ) {
        let script = Script {
            initial,
            edits: (edits.into_iter())
                .map(|(start, length, text)| edits::Edit { start, length, text })
                .collect(),
            encoding,
            batch,
        };
        edits::check(&script).map_err(TestCaseError::fail)?;
    }
}

proptest! {
    // The fuzz target's driver on stable: the same decoding of bytes, so text from outside
    // the pieces too. PROPTEST_CASES sets how many (scripts/fuzz raises it without nightly).
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn fuzzed_edits_match_a_fresh_parse(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        edits::check(&Script::from_bytes(&data)).map_err(TestCaseError::fail)?;
    }
}

/// One edit to `initial`, checked as the fuzz driver checks its cases (the document as read
/// fresh included).
fn check_one_edit(initial: &str, start: f64, length: usize, text: &str) -> Result<(), String> {
    edits::check(&Script {
        initial: initial.to_owned(),
        edits: vec![edits::Edit {
            start,
            length,
            text: text.to_owned(),
        }],
        encoding: Encoding::Utf8,
        batch: 1,
    })
}

/// Found by the fuzz driver: `x|` over `-` is a table row over a bad delimiter row, on which
/// tree-sitter-md errs, and its error recovery swallows the rest of the document, the next
/// H1 included. The segment before that H1 must then not count as closed, or the edit leaves
/// the H1 in the outline that a whole parse no longer has.
#[test]
fn a_parse_error_swallows_the_next_segment() {
    assert_eq!(check_one_edit("x\n-\n\n# B\n", 0.1, 0, "|"), Ok(()));
    assert!(Document::new("x|\n-\n\n# B\n")
        .outline()
        .headings
        .is_empty());
}

/// The same error on a delimiter row the line scanner took for a table's text (`|-` under
/// `x|`, with `\r\n` or `\n`): the scanner must leave it to the parser.
#[test]
fn a_scanned_segment_that_the_parser_errs_on_is_parsed() {
    for text in ["x|\r\n|-\n\n# B\n", "\n\nx|\n:-\n# B\n## C\n"] {
        assert_eq!(check_one_edit(text, 1.0, 0, "x"), Ok(()));
    }
}

/// tree-sitter-md reads `[a]: u\n--\n[a]: u\n` as a setext heading when the text ends there,
/// and as a definition and a paragraph when an H1 follows: a segment that ends in a link
/// reference definition is closed only by a blank line.
#[test]
fn a_segment_ending_in_a_link_reference_definition_is_not_cut_off() {
    assert_eq!(
        check_one_edit("[a]: u\n--\n[a]: u\n\n# H\n", 0.8, 1, ""),
        Ok(())
    );
}

/// Typing prose is taken without a reparse where it cannot change the block structure; next
/// to every construct that it could change, the outline must still be a whole parse's.
#[test]
fn typing_prose_anywhere_matches_a_fresh_parse() {
    let documents = [
        "# Brief @a\n\nabc def\n---\n\nx\n",
        "# B\n\n1.5 is\n\n#abc\n\n-abc\n\n>q\n\n+x\n",
        "# B\n\n[foo]:\nurl\n\ntext here\n",
        "# B\n\na | b\n--|--\nc | d\n\nab\n--|--\n",
        "# B\n\na | b\n--|--\nc d\nmore\n\n> quote\nlazy line\n\n- item\n  next\nlazy\n",
        "# B\n\n```\nabc def\n```\n\n<!-- note\nabc def\n-->\n\n---\nkind: x\n---\n\nText\n",
        "# B\n\nabc\n===\n\nSetext\n------\n",
        "# B\n\n<div>\nabc\n</div>\n\nabc\n<!--\nx\n-->\n",
        "# B\n\n- item abc\n  more text\n\n> quote abc\n> more\n",
        "# B\n\n## Output @a\n<!-- baton:output run=R status=done -->\n# Report abc\n\nabc [[B]]\n```\n<!-- /baton:output -->\n```\n<!-- /baton:output run=R -->\nabc\n# C\n",
        "# B\n\n    code abc\n\nabc\n\n```\nabc\n```\n\n~~~\nx\n",
        "# B\n\nabc\\\n|x\n\nab *c*\n***\n",
        "---\nkind: brief\n---\n# A\nabc\n# B\nline two\n\nTitle\n",
        "# B\n\n🔥 abc\n---\n\n日本 x\n===\n\n🎉\n\n\u{a0}nbsp\n\n- 🎉 item\n",
    ];
    for text in documents {
        for at in (0..=text.len()).filter(|&at| text.is_char_boundary(at)) {
            for piece in [
                "a", " ", "7", "a b", "é", "🎉", ".", "*", "[", "]", "<", ">", "`", "\\", "#", "-",
                "=", ":", "~", "_", "\t", "1. ", "- x", "```", "<!--", "-->", "]: u",
            ] {
                let mut document = Document::new(text);
                let mut expected = text.to_owned();
                // The first insert parses the part and keeps its tree; the second may skip the
                // parse.
                for _ in 0..2 {
                    document.replace(at..at, piece);
                    expected.insert_str(at, piece);
                    let fresh = Document::new(&expected);
                    assert_eq!(document.outline(), fresh.outline(), "{expected:?}");
                }
            }
        }
    }
}
