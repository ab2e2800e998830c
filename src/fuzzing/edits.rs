//! A document under a sequence of edits, applied incrementally as the server applies an
//! editor's changes, must always be what a parse from scratch makes of its text: every
//! segment's tree, the outline of the whole, and the diagnostics that the lint while typing
//! keeps equal to a lint from scratch. [`check`] is that oracle; [`Script::from_bytes`] makes
//! a case of a fuzzer's bytes, and `tests/incremental.rs` makes cases with proptest.

use std::path::{Path, PathBuf};

use crate::brief::cache::LintCache;
use crate::brief::kind::Kinds;
use crate::brief::lint::{lint, Context, Machine, NoOtherDocuments};
use crate::config::Config;
use crate::document::{answers, parse, position, Change, Document, Encoding, Outline};

/// Pieces of text that stress the parser and the position arithmetic.
pub const PIECES: &[&str] = &[
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
    "---\nconfidential: true\n---\n",
    "## Output @researcher\n<!-- baton:output run=R1 agent=researcher model=m input=0badc0de status=done -->\nold answer\n<!-- /baton:output -->\n",
    "<!-- baton:output run=R2 agent=cli model=m input=0badc0de status=running -->\n",
    // Answers, which are opaque: headings, fences and quoted markers inside them.
    "## Output @cli\n<!-- baton:output run=R3 agent=cli model=m input=0badc0de status=done -->\n# Report [[Brief]]\n## Summary\n```\n<!-- /baton:output -->\n# fenced\n```\n<!-- \\/baton:output -->\n<!-- /baton:output run=R3 -->\n",
    "<!-- /baton:output run=R2 -->\n",
    "<!-- /baton:output -->\n",
    "# Report\n## Summary\n",
    "```\n<!-- /baton:output run=R3 -->\n",
];

/// The most edits a fuzzer's case holds: longer sequences find little more, and cost time.
const MAX_EDITS: usize = 40;

/// A document's first text and the edits made to it.
#[derive(Clone, Debug)]
pub struct Script {
    pub initial: String,
    pub edits: Vec<Edit>,
    /// The encoding the editor's positions are in.
    pub encoding: Encoding,
    /// How many edits each change notification carries.
    pub batch: usize,
}

/// One edit: replace `length` bytes at a fraction of the text's length with `text`. (Placed
/// by fraction, so that an edit means something whatever the text has become.)
#[derive(Clone, Debug)]
pub struct Edit {
    pub start: f64,
    pub length: usize,
    pub text: String,
}

impl Script {
    /// The case a fuzzer's bytes describe; every byte string makes one. Text is either one of
    /// [`PIECES`] or up to 63 bytes of the input, read as UTF-8 (with replacements).
    pub fn from_bytes(data: &[u8]) -> Script {
        let mut bytes = Bytes(data);
        let encoding = match bytes.next() % 3 {
            0 => Encoding::Utf8,
            1 => Encoding::Utf16,
            _ => Encoding::Utf32,
        };
        let batch = usize::from(bytes.next() % 3) + 1;
        let initial = (0..bytes.next() % 12).map(|_| bytes.text()).collect();
        let mut edits = Vec::new();
        while !bytes.0.is_empty() && edits.len() < MAX_EDITS {
            let start = f64::from(u16::from_le_bytes([bytes.next(), bytes.next()]));
            edits.push(Edit {
                start: start / f64::from(u16::MAX),
                length: usize::from(bytes.next() % 16),
                text: bytes.text(),
            });
        }
        Script {
            initial,
            edits,
            encoding,
            batch,
        }
    }
}

/// The fuzzer's bytes, read front to back; zeros once they run out.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn next(&mut self) -> u8 {
        let Some((&first, rest)) = self.0.split_first() else {
            return 0;
        };
        self.0 = rest;
        first
    }

    fn text(&mut self) -> String {
        let choice = self.next();
        if choice < 0xc0 {
            return PIECES[usize::from(choice) % PIECES.len()].to_owned();
        }
        let length = usize::from(choice & 0x3f).min(self.0.len());
        let (text, rest) = self.0.split_at(length);
        self.0 = rest;
        String::from_utf8_lossy(text).into_owned()
    }
}

/// The agents of the lint: a keyed one whose variable the machine lacks (`missing-key`), and,
/// from the untrusted workspace file, a command agent that is also the default
/// (`untrusted-agent` on mentions, front matter and headings); and a `[privacy]` term that
/// the pieces hold, for the remote agent (`confidential-remote`).
fn config() -> Config {
    let mut config = Config::from_toml(
        "[defaults]\nagent = \"cli\"\n\
         [agents.researcher]\nprovider = \"openai\"\napi_key_env = \"BATON_TEST_KEY\"\n\
         [agents.cli]\nprovider = \"command\"\ncommand = [\"llm\"]\n\
         [privacy]\nterms = [\"prices\"]\n",
    )
    .expect("config parses");
    let workspace = PathBuf::from("/ws/baton.toml");
    config
        .agent_locations
        .insert("cli".to_owned(), (workspace.clone(), 0..0));
    config.workspace_path = Some(workspace);
    config
}

/// Applies an edit to a reference string and returns the change the editor would send.
fn to_change(
    text: &mut String,
    edit: &Edit,
    encoding: Encoding,
) -> (position::Position, position::Position) {
    let boundary = |mut offset: usize| {
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    };
    let start = boundary(((edit.start * text.len() as f64) as usize).min(text.len()));
    let end = boundary((start + edit.length).min(text.len())).max(start);
    let rope = ropey::Rope::from_str(text);
    let range = (
        position::position_of(&rope, start, encoding),
        position::position_of(&rope, end, encoding),
    );
    // Positions address lines as LSP does, so an edit splitting "\r\n" is expressed the same way.
    let (start_back, end_back) = (
        position::offset_of(&rope, range.0, encoding),
        position::offset_of(&rope, range.1, encoding),
    );
    text.replace_range(start_back..end_back, &edit.text);
    range
}

/// Runs `script` and compares, after each notification, the document with the text the editor
/// holds and the lint while typing with a lint from scratch; at the end, every segment's tree
/// with a fresh parse of its text, and the outline with a parse of the whole text. The first
/// difference is the error.
pub fn check(script: &Script) -> Result<(), String> {
    let mut text = script.initial.clone();
    let mut document = Document::new(&text);
    let config = config();
    let kinds = Kinds::from_config(&config.file.kinds);
    let machine = Machine::default();
    let context = Context {
        config: &config,
        kinds: &kinds,
        path: Some(Path::new("a.brief.md")),
        others: &NoOtherDocuments,
        machine: &machine,
        failed_runs: &[],
        over_budget: &[],
    };
    let mut cache = LintCache::default();
    for chunk in script.edits.chunks(script.batch.max(1)) {
        // Several changes in one notification apply in order, each against the text the
        // previous one left, as LSP specifies.
        let mut ranges = Vec::new();
        for edit in chunk {
            ranges.push(to_change(&mut text, edit, script.encoding));
        }
        let changes: Vec<Change<'_>> = (ranges.iter().zip(chunk))
            .map(|(&(start, end), edit)| Change {
                range: Some((start, end)),
                text: &edit.text,
            })
            .collect();
        document.apply_changes(&changes, script.encoding);
        same("text", &document.text(), &text, &text)?;
        // Linting while typing, with what was kept from before, finds what a lint from
        // scratch finds.
        let kept = cache.lint(&document, &context);
        let fresh = lint(&document, &context);
        same("diagnostics", &kept.diagnostics, &fresh.diagnostics, &text)?;
        // And the features' analysis made from what it kept is the same as a fresh one.
        same("analysis", &kept.analysis(), &fresh, &text)?;
    }
    let rope = document.rope();
    for (range, tree) in document.trees() {
        let fresh = parse::parse(rope, range.clone(), None);
        let what = format!("the tree of segment {range:?}");
        same(
            &what,
            &tree.root_node().to_sexp(),
            &fresh.root_node().to_sexp(),
            &text,
        )?;
    }
    let mut whole = Outline::build(rope, &parse::parse(rope, 0..rope.len_bytes(), None), 0);
    whole.markers = answers::scan(rope, 0..rope.len_bytes());
    whole.pair_answers(rope);
    same("outline", document.outline(), &whole, &text)?;
    same(
        "fresh outline",
        Document::new(&text).outline(),
        &whole,
        &text,
    )
}

fn same<T: PartialEq + std::fmt::Debug + ?Sized>(
    what: &str,
    incremental: &T,
    fresh: &T,
    text: &str,
) -> Result<(), String> {
    if incremental == fresh {
        return Ok(());
    }
    Err(format!(
        "{what} differs after the edits\n  incremental: {incremental:?}\n  fresh: {fresh:?}\n  text: {text:?}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by this driver: tree-sitter-md reads `\0#` as a heading, which the line scanner
    /// did not model, so the outline after the edit lost the heading a fresh parse has.
    #[test]
    fn a_nul_typed_before_a_heading_is_left_to_the_parser() {
        let script = Script {
            initial: "#\n".to_owned(),
            edits: vec![Edit {
                start: 0.0,
                length: 0,
                text: "\0".to_owned(),
            }],
            encoding: Encoding::Utf8,
            batch: 1,
        };
        assert_eq!(check(&script), Ok(()));
    }
}
