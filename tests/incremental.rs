//! Incremental edits must leave a document exactly as a parse from scratch would: the same
//! text, every segment's tree as a fresh parse of its text, and the outline a parse of the
//! whole document in one piece gives; and a lint that keeps what it found in unchanged parts
//! finds what a lint from scratch finds. Random edit sequences, in every encoding, decide.

use std::path::{Path, PathBuf};

use baton::brief::cache::LintCache;
use baton::brief::kind::Kinds;
use baton::brief::lint::{lint, Context, Machine, NoOtherDocuments};
use baton::config::Config;
use baton::document::{parse, position, Change, Document, Encoding, Outline};
use proptest::prelude::*;

/// Pieces of text that stress the parser and the position arithmetic.
const PIECES: &[&str] = &[
    "# Brief @researcher\n",
    "## Objective\n",
    "Find 🎉 prices.\n",
    "日本語のテキスト",
    "\r\n",
    "\n",
    "\r",
    "```\n## code\n```\n",
    "> ## quoted\n",
    "- item\n",
    "Setext\n---\n",
    "---\nkind: brief\n---\n",
    "[[Market scan]]",
    "# Second brief\n",
    "# Market scan @reseacher\n",
    "[[Brief]]",
    "## Goal\nTBD\n",
    "## Context\nx\n",
    "Title\n===\n",
    "<div>\n",
    "<!-- note\n",
    "-->\n",
    "~~~\n",
    "    # indented\n",
    "é",
    "x",
    "",
    "# Run it @cli\n",
    "---\nagent: researcher\n---\n",
    "## Output @researcher\n<!-- baton:output run=R1 agent=researcher model=m input=0badc0de status=done -->\nold answer\n<!-- /baton:output -->\n",
    "<!-- baton:output run=R2 agent=cli model=m input=0badc0de status=running -->\n",
];

/// The agents of the lint: a keyed one whose variable the machine lacks (`missing-key`), and,
/// from the untrusted workspace file, a command agent that is also the default
/// (`untrusted-agent` on mentions, front matter and headings).
fn config() -> Config {
    let mut config = Config::from_toml(
        "[defaults]\nagent = \"cli\"\n\
         [agents.researcher]\nprovider = \"openai\"\napi_key_env = \"BATON_TEST_KEY\"\n\
         [agents.cli]\nprovider = \"command\"\ncommand = [\"llm\"]\n",
    )
    .expect("config parses");
    let workspace = PathBuf::from("/ws/baton.toml");
    config
        .agent_locations
        .insert("cli".to_owned(), (workspace.clone(), 0..0));
    config.workspace_path = Some(workspace);
    config
}

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

/// Applies an edit to a reference string and returns the change the editor would send.
fn to_change(
    text: &mut String,
    edit: &Edit,
    encoding: Encoding,
) -> (position::Position, position::Position, &'static str) {
    let boundary = |mut offset: usize| {
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    };
    let start = boundary((edit.start * text.len() as f64) as usize);
    let end = boundary((start + edit.length).min(text.len())).max(start);
    let rope = ropey::Rope::from_str(text);
    let range = (
        position::position_of(&rope, start, encoding),
        position::position_of(&rope, end, encoding),
    );
    let piece = PIECES[edit.piece];
    // Positions address lines as LSP does, so an edit splitting "\r\n" is expressed the same way.
    let (start_back, end_back) = (
        position::offset_of(&rope, range.0, encoding),
        position::offset_of(&rope, range.1, encoding),
    );
    text.replace_range(start_back..end_back, piece);
    (range.0, range.1, piece)
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
        let mut text: String = initial.iter().map(|&i| PIECES[i]).collect();
        let mut document = Document::new(&text);
        let config = config();
        let kinds = Kinds::from_config(&config.file.kinds);
        let machine = Machine::default();
        let context = Context { config: &config, kinds: &kinds, path: Some(Path::new("a.brief.md")), others: &NoOtherDocuments, machine: &machine };
        let mut cache = LintCache::default();
        for chunk in edits.chunks(batch) {
            // Several changes in one notification apply in order, each against the text the
            // previous one left, as LSP specifies.
            let mut pending = Vec::new();
            for edit in chunk {
                let (start, end, piece) = to_change(&mut text, edit, encoding);
                pending.push(Change { range: Some((start, end)), text: piece });
            }
            document.apply_changes(&pending, encoding);
            prop_assert_eq!(document.text(), text.clone());
            // Linting while typing, with what was kept from before, finds what a lint from
            // scratch finds.
            let kept = cache.lint(&document, &context);
            prop_assert_eq!(kept.diagnostics, lint(&document, &context).diagnostics, "text {:?}", text);
        }
        let rope = document.rope();
        for (range, tree) in document.trees() {
            let fresh = parse::parse(rope, range.clone(), None);
            prop_assert_eq!(tree.root_node().to_sexp(), fresh.root_node().to_sexp(), "segment {:?}", range);
        }
        let whole = parse::parse(rope, 0..rope.len_bytes(), None);
        prop_assert_eq!(document.outline(), &Outline::build(rope, &whole, 0), "text {:?} segments {:?}", text, document.parts().map(|(range, _)| range.start).collect::<Vec<_>>());
        let fresh = Document::new(&text);
        prop_assert_eq!(fresh.outline(), &Outline::build(rope, &whole, 0), "fresh: {:?}", text);
    }
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
