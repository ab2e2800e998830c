//! The block structure baton reads from a Markdown tree: front matter, the headings that
//! structure the document, and the code blocks whose text is not prose.
//!
//! Only headings that sit directly in the document's flow count; a heading inside a block
//! quote, a list or a code block is content (DESIGN §1). ATX and setext headings count alike.
//! Nor does a heading inside an agent's answer: answers are opaque (`answers.rs`).

use std::ops::Range;

use ropey::Rope;
use tree_sitter::{Node, Tree};

use super::answers::{self, Answer, MarkerLine};

/// A structural heading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heading {
    pub level: u8,
    /// The whole heading, markers and setext underline included, without the line break.
    pub range: Range<usize>,
    /// The heading's text, trimmed, without `#` markers or a closing sequence.
    pub content: Range<usize>,
    /// Underlined (`===`, `---`) rather than `#`-marked.
    pub setext: bool,
}

/// YAML front matter between `---` lines at the very start of the document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrontMatterBlock {
    /// From the opening `---` to the end of the closing line.
    pub range: Range<usize>,
    /// The YAML between the delimiters.
    pub body: Range<usize>,
}

/// What baton needs of a document's block structure.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outline {
    pub front_matter: Option<FrontMatterBlock>,
    pub headings: Vec<Heading>,
    /// Code blocks and raw HTML blocks: no links or mentions are read from them.
    pub verbatim: Vec<Range<usize>>,
    /// The `baton:output` marker lines, wherever they lie (see `answers.rs`).
    pub markers: Vec<MarkerLine>,
    /// The agents' answers, paired from `markers` (the document's outline only; a segment's
    /// is empty): opaque, so `headings` holds none that lie in one.
    pub answers: Vec<Answer>,
    /// The document's length in bytes.
    pub len: usize,
}

impl Outline {
    /// The outline of a tree parsed from the text of `rope` starting at byte `base`; the
    /// ranges are offsets into the rope.
    pub fn build(rope: &Rope, tree: &Tree, base: usize) -> Outline {
        let mut outline = Outline {
            len: rope.len_bytes(),
            ..Outline::default()
        };
        visit(&Reader { rope, base }, tree.root_node(), true, &mut outline);
        outline
    }

    /// Appends another outline's entries (of a later part of the document).
    pub fn extend(&mut self, other: &Outline, shift: usize) {
        let moved = |range: &Range<usize>| range.start + shift..range.end + shift;
        self.headings
            .extend(other.headings.iter().map(|heading| Heading {
                level: heading.level,
                range: moved(&heading.range),
                content: moved(&heading.content),
                setext: heading.setext,
            }));
        self.verbatim.extend(other.verbatim.iter().map(moved));
        self.markers
            .extend(other.markers.iter().map(|line| MarkerLine {
                range: moved(&line.range),
                kind: line.kind.clone(),
            }));
        if self.front_matter.is_none() {
            self.front_matter = other.front_matter.as_ref().map(|block| FrontMatterBlock {
                range: moved(&block.range),
                body: moved(&block.body),
            });
        }
    }

    /// Moves what lies at or after `at` by `len` bytes, for text inserted where nothing of
    /// the outline begins or ends.
    pub fn insert_at(&mut self, at: usize, len: usize) {
        let moved = |range: &mut Range<usize>| {
            if range.start >= at {
                *range = range.start + len..range.end + len;
            }
        };
        for heading in &mut self.headings {
            moved(&mut heading.range);
            moved(&mut heading.content);
        }
        self.verbatim.iter_mut().for_each(moved);
        for line in &mut self.markers {
            moved(&mut line.range);
        }
        for answer in &mut self.answers {
            moved(&mut answer.open);
            moved(&mut answer.close);
        }
        if let Some(block) = &mut self.front_matter {
            moved(&mut block.range);
            moved(&mut block.body);
        }
        self.len += len;
    }

    /// Pairs the marker lines into answers and drops the headings that lie in one: an
    /// answer is opaque. The rope is read only for blocks closed the old way (see
    /// [`answers::pair`]).
    pub fn pair_answers(&mut self, rope: &Rope) {
        let in_fence = |open: &MarkerLine, close: &MarkerLine| {
            let between = rope.byte_slice(open.range.end..close.range.start);
            answers::ends_in_fence(&std::borrow::Cow::<str>::from(between))
        };
        self.answers = answers::pair(&self.markers, in_fence)
            .into_iter()
            .filter_map(|(open, close)| {
                Some(Answer {
                    open: self.markers[open].range.clone(),
                    close: self.markers[close?].range.clone(),
                })
            })
            .collect();
        if !self.answers.is_empty() {
            let answers = &self.answers;
            self.headings
                .retain(|heading| answer_at(answers, heading.range.start).is_none());
        }
    }

    /// The answer that holds a byte offset (its marker lines included), if one does.
    pub fn answer_at(&self, offset: usize) -> Option<&Answer> {
        answer_at(&self.answers, offset)
    }

    /// Whether a byte offset lies inside a code or HTML block.
    pub fn is_verbatim(&self, offset: usize) -> bool {
        let index = self.verbatim.partition_point(|range| range.end <= offset);
        self.verbatim
            .get(index)
            .is_some_and(|range| range.start <= offset)
    }
}

fn answer_at(answers: &[Answer], offset: usize) -> Option<&Answer> {
    let index = answers.partition_point(|answer| answer.close.end < offset);
    answers
        .get(index)
        .filter(|answer| answer.open.start <= offset)
}

/// Reads the rope at tree offsets: a tree may cover only part of the rope, from `base`.
struct Reader<'a> {
    rope: &'a Rope,
    base: usize,
}

impl Reader<'_> {
    fn byte(&self, offset: usize) -> u8 {
        self.rope.byte(self.base + offset)
    }

    fn range(&self, node: Node<'_>) -> Range<usize> {
        node.start_byte()..node.end_byte()
    }
}

fn visit(reader: &Reader<'_>, node: Node<'_>, in_flow: bool, outline: &mut Outline) {
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        match child.kind() {
            "minus_metadata" if child.start_byte() == 0 && reader.base == 0 => {
                outline.front_matter = Some(front_matter(reader, reader.range(child)));
            }
            "atx_heading" if in_flow => outline.headings.push(atx_heading(reader, child)),
            "setext_heading" if in_flow => {
                if let Some(heading) = setext_heading(reader, child) {
                    outline.headings.push(heading);
                }
            }
            "fenced_code_block" | "indented_code_block" | "html_block" => {
                outline.verbatim.push(reader.range(child));
            }
            "section" => visit(reader, child, in_flow, outline),
            "block_quote" | "list" | "list_item" => visit(reader, child, false, outline),
            _ => {}
        }
    }
}

fn atx_heading(reader: &Reader<'_>, node: Node<'_>) -> Heading {
    let marker = node
        .child(0)
        .map_or("atx_h1_marker", |marker| marker.kind());
    let level = marker
        .as_bytes()
        .get(5)
        .map_or(1, |digit| digit.saturating_sub(b'0'))
        .clamp(1, 6);
    // Whether a heading's indentation belongs to its node varies with what precedes it;
    // the heading starts at its first `#`.
    let range = trim(reader, trim_line_break(reader, reader.range(node)));
    let content = match node.child_by_field_name("heading_content") {
        Some(content) => trim_closing_sequence(reader, reader.range(content)),
        None => range.end..range.end,
    };
    Heading {
        level,
        range,
        content,
        setext: false,
    }
}

fn setext_heading(reader: &Reader<'_>, node: Node<'_>) -> Option<Heading> {
    let underline = node.child(node.child_count().checked_sub(1)?)?;
    let level = if underline.kind() == "setext_h1_underline" {
        1
    } else {
        2
    };
    let content = reader.range(node.child_by_field_name("heading_content")?);
    let range = trim(reader, trim_line_break(reader, reader.range(node)));
    Some(Heading {
        level,
        range,
        content: trim(reader, content),
        setext: true,
    })
}

fn front_matter(reader: &Reader<'_>, range: Range<usize>) -> FrontMatterBlock {
    let range = trim_line_break(reader, range);
    let rope = reader.rope;
    let first_line_end = rope.line_to_byte(1).min(range.end);
    let last_line = rope.byte_to_line(range.end);
    let body_end = rope.line_to_byte(last_line).max(first_line_end);
    FrontMatterBlock {
        range,
        body: first_line_end..body_end,
    }
}

fn trim_line_break(reader: &Reader<'_>, range: Range<usize>) -> Range<usize> {
    let mut end = range.end;
    while end > range.start && matches!(reader.byte(end - 1), b'\n' | b'\r') {
        end -= 1;
    }
    range.start..end
}

fn trim(reader: &Reader<'_>, range: Range<usize>) -> Range<usize> {
    trim_by(|offset| reader.byte(offset), range)
}

fn trim_closing_sequence(reader: &Reader<'_>, range: Range<usize>) -> Range<usize> {
    trim_closing_sequence_by(|offset| reader.byte(offset), range)
}

/// The range without ASCII whitespace at either end, reading bytes with `byte`.
pub(super) fn trim_by(byte: impl Fn(usize) -> u8, range: Range<usize>) -> Range<usize> {
    let (mut start, mut end) = (range.start, range.end);
    while start < end && byte(start).is_ascii_whitespace() {
        start += 1;
    }
    while end > start && byte(end - 1).is_ascii_whitespace() {
        end -= 1;
    }
    start..end
}

/// A heading's text, trimmed, without an ATX closing sequence (`## Title ##`): trailing
/// `#`s preceded by a space.
pub(super) fn trim_closing_sequence_by(
    byte: impl Fn(usize) -> u8,
    range: Range<usize>,
) -> Range<usize> {
    let trimmed = trim_by(&byte, range);
    let mut end = trimmed.end;
    while end > trimmed.start && byte(end - 1) == b'#' {
        end -= 1;
    }
    if end == trimmed.start {
        return trimmed.start..trimmed.start;
    }
    if end < trimmed.end && byte(end - 1).is_ascii_whitespace() {
        return trim_by(&byte, trimmed.start..end);
    }
    trimmed
}

#[cfg(test)]
mod tests {
    use crate::document::Document;

    fn headings(text: &str) -> Vec<(u8, String)> {
        let document = Document::new(text);
        document
            .outline()
            .headings
            .iter()
            .map(|heading| {
                (
                    heading.level,
                    document.slice(heading.content.clone()).into_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn only_headings_in_the_flow_count() {
        let text = "# Brief @a\n\n## Objective ##\nx\n\n> ## quoted\n\n- ## listed\n\n```\n## code\n```\n\nSetext\n------\n";
        let expected = vec![
            (1, "Brief @a".into()),
            (2, "Objective".into()),
            (2, "Setext".into()),
        ];
        assert_eq!(headings(text), expected);
    }

    #[test]
    fn front_matter_body_is_between_the_fences() {
        let document = Document::new("---\nkind: brief\n---\n# T\n");
        let block = document.outline().front_matter.clone().unwrap();
        assert_eq!(document.slice(block.body), "kind: brief\n");
        assert_eq!(document.slice(block.range), "---\nkind: brief\n---");
    }
}
