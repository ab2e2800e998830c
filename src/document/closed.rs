//! Whether a part of the document has ended: whether its last block in the flow is over, so
//! that nothing after it can belong to it. A segment boundary stands only after a closed
//! segment (`segments.rs`); the line scanner answers the same question without a tree.

use std::ops::Range;

use ropey::Rope;
use tree_sitter::{Node, Tree};

/// Whether a segment's last block in the flow has ended, so nothing after it can belong to it.
/// Never when tree-sitter-md met an error (a one-column table row over a bad delimiter row,
/// `x|` then `-`): its recovery swallows whatever follows, H1s included.
pub(super) fn is_closed(rope: &Rope, range: Range<usize>, tree: &Tree) -> bool {
    let mut node = tree.root_node();
    if node.has_error() {
        return false;
    }
    while let Some(last) = node.child(node.child_count().saturating_sub(1)) {
        if last.kind() != "section" {
            return block_is_closed(rope, range, last);
        }
        node = last;
    }
    true
}

fn block_is_closed(rope: &Rope, range: Range<usize>, block: Node<'_>) -> bool {
    match block.kind() {
        "fenced_code_block" => {
            let mut cursor = block.walk();
            block
                .children(&mut cursor)
                .filter(|child| child.kind() == "fenced_code_block_delimiter")
                .count()
                >= 2
        }
        // The parser ended the block inside the segment, and a blank line follows it: no
        // kind of HTML block can reach past that into the next segment.
        "html_block" => block.end_byte() < range.len() && ends_with_blank_line(rope, range.end),
        // tree-sitter-md reads the lines above a link reference definition that ends its
        // text otherwise than when more follows (`[a]: u\n--\n[a]: u\n` is a setext heading
        // to it only then); a blank line settles it.
        "link_reference_definition" => ends_with_blank_line(rope, range.end),
        _ => true,
    }
}

/// Whether the text before `at` ends with a blank line (or there is none).
pub(super) fn ends_with_blank_line(rope: &Rope, at: usize) -> bool {
    blank_line_ends(rope.bytes_at(at).reversed()) || at == 0
}

/// Whether bytes read backwards from some offset hold two line breaks before anything but
/// spaces: the text up to there ends with a blank line.
pub(super) fn blank_line_ends(backwards: impl Iterator<Item = u8>) -> bool {
    let mut breaks = 0;
    for byte in backwards {
        match byte {
            b'\n' => breaks += 1,
            b'\r' | b' ' | b'\t' => {}
            _ => return false,
        }
        if breaks >= 2 {
            return true;
        }
    }
    false
}
