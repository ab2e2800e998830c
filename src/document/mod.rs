//! A document as the editor holds it: its text (a rope), its Markdown tree, kept in step by
//! incremental edits, and the outline baton reads from them.

pub mod outline;
pub mod parse;
pub mod position;
pub mod store;

use std::borrow::Cow;
use std::ops::Range;

use ropey::Rope;
use tree_sitter::Tree;

pub use outline::{FrontMatterBlock, Heading, Outline};
pub use position::{Encoding, Position};

/// Documents larger than this are not parsed or linted: the cost would be felt on every
/// keystroke, and no brief is that long.
pub const MAX_LINTED_BYTES: usize = 8 * 1024 * 1024;

/// One change from the editor: a range in the editor's encoding (or the whole text).
#[derive(Clone, Debug)]
pub struct Change<'a> {
    pub range: Option<(Position, Position)>,
    pub text: &'a str,
}

/// The text of a document and its parse tree. Cloning is cheap (both share structure).
#[derive(Clone)]
pub struct Document {
    rope: Rope,
    tree: Option<Tree>,
    outline: Outline,
}

impl Document {
    pub fn new(text: &str) -> Self {
        let rope = Rope::from_str(text);
        let tree = (rope.len_bytes() <= MAX_LINTED_BYTES).then(|| parse::parse(&rope, None));
        let outline = Outline::build(&rope, tree.as_ref());
        Document {
            rope,
            tree,
            outline,
        }
    }

    pub fn rope(&self) -> &Rope {
        &self.rope
    }

    pub fn tree(&self) -> Option<&Tree> {
        self.tree.as_ref()
    }

    pub fn outline(&self) -> &Outline {
        &self.outline
    }

    pub fn len(&self) -> usize {
        self.rope.len_bytes()
    }

    pub fn is_empty(&self) -> bool {
        self.rope.len_bytes() == 0
    }

    /// Whether the document is too large to lint (see [`MAX_LINTED_BYTES`]).
    pub fn is_too_large(&self) -> bool {
        self.tree.is_none()
    }

    /// The text of a byte range, borrowed when it lies in one chunk of the rope.
    pub fn slice(&self, range: Range<usize>) -> Cow<'_, str> {
        let end = range.end.min(self.rope.len_bytes());
        let start = range.start.min(end);
        self.rope.byte_slice(start..end).into()
    }

    /// The whole text. Allocates; the hot path uses [`Document::slice`].
    pub fn text(&self) -> String {
        self.rope.to_string()
    }

    pub fn position_of(&self, offset: usize, encoding: Encoding) -> Position {
        position::position_of(&self.rope, offset, encoding)
    }

    pub fn offset_of(&self, position: Position, encoding: Encoding) -> usize {
        position::offset_of(&self.rope, position, encoding)
    }

    /// Applies the editor's changes in order, reparsing incrementally once at the end.
    pub fn apply_changes(&mut self, changes: &[Change<'_>], encoding: Encoding) {
        for change in changes {
            match change.range {
                None => {
                    self.rope = Rope::from_str(change.text);
                    self.tree = None;
                }
                Some((start, end)) => {
                    let start = self.offset_of(start, encoding);
                    let end = self.offset_of(end, encoding).max(start);
                    self.replace(start..end, change.text);
                }
            }
        }
        self.reparse();
    }

    /// Replaces a byte range with new text, editing the old tree so the next parse reuses it.
    pub fn replace(&mut self, range: Range<usize>, text: &str) {
        let before = self.rope.clone();
        let (start_char, end_char) = (
            self.rope.byte_to_char(range.start),
            self.rope.byte_to_char(range.end),
        );
        self.rope.remove(start_char..end_char);
        self.rope.insert(start_char, text);
        if let Some(tree) = self.tree.as_mut() {
            tree.edit(&parse::input_edit(
                &before,
                &self.rope,
                range.start,
                range.end,
                text.len(),
            ));
        }
    }

    fn reparse(&mut self) {
        self.tree = if self.rope.len_bytes() > MAX_LINTED_BYTES {
            None
        } else {
            Some(parse::parse(&self.rope, self.tree.as_ref()))
        };
        self.outline = Outline::build(&self.rope, self.tree.as_ref());
    }
}

impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document")
            .field("len", &self.rope.len_bytes())
            .finish_non_exhaustive()
    }
}
