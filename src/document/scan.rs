//! The outline of plain Markdown, read line by line without a parser.
//!
//! tree-sitter-md parses a few megabytes a second, and a workspace of briefs opened at once
//! spends most of its time there. Yet most briefs are plain Markdown: headings, paragraphs,
//! lists of text, quotes of text, tables, fenced code and HTML comments (baton's own output
//! markers), whose block structure a look at each line's start decides. [`scan`] reads
//! those and gives up (`None`) at the first line whose meaning depends on a rule it does not
//! model (indented code, other HTML, link reference definitions, tabs in indentation, an
//! item or quote holding more than text, ...), and wherever tree-sitter-md departs from
//! CommonMark in ways it does not follow; the caller then parses. When it answers, it
//! answers what the parser would: `scan/tests.rs` compares the two on random documents.

use std::borrow::Cow;
use std::ops::Range;

use ropey::Rope;

mod line;
mod list;
#[cfg(test)]
mod tests;

use super::closed::blank_line_ends;
use super::outline::{trim_by, trim_closing_sequence_by, FrontMatterBlock, Heading, Outline};
use line::{
    closes, indentation, item_text, kind, may_err_as_delimiter, starts_paragraph, Fence, Kind,
};
use list::{List, Listed};

/// What a parse of a part of the document gives baton, read without one.
#[derive(Debug, PartialEq, Eq)]
pub struct Scanned {
    /// Offsets relative to the part's start, as [`Outline::build`] gives them.
    pub outline: Outline,
    /// Whether the part's last block has ended (no code fence left open).
    pub closed: bool,
}

/// The outline of `range` of the rope, or `None` when its Markdown needs the parser.
pub fn scan(rope: &Rope, range: Range<usize>) -> Option<Scanned> {
    let text: Cow<'_, str> = rope.byte_slice(range.clone()).into();
    // tree-sitter-md reads past a NUL (`\0# x` is a heading to it, not to CommonMark): the
    // scanner does not model that, so it leaves such text to the parser.
    if has_lone_carriage_return(&text) || text.contains('\0') {
        return None;
    }
    let mut scanner = Scanner {
        text: &text,
        outline: Outline {
            len: rope.len_bytes(),
            ..Outline::default()
        },
        block: Block::Nothing,
        comment_end: None,
    };
    let mut lines = lines(&text).peekable();
    // The parser reads front matter at the start of whatever it parses; the outline holds
    // only the document's own.
    if let Some(first) = lines.peek() {
        let content = &text[first.content.clone()];
        let unindented = content.trim_start_matches(' ');
        let indented = unindented.len() < content.len();
        if unindented.starts_with("+++") || (indented && unindented.starts_with("---")) {
            return None;
        }
        if is_metadata_fence(content) {
            let block = front_matter(&text, &mut lines)?;
            scanner.outline.front_matter = (range.start == 0).then_some(block);
        }
    }
    for line in lines {
        scanner.line(&line)?;
    }
    Some(scanner.finish())
}

/// One line of the text: its bytes without the line break, and where the next one starts.
#[derive(Clone, Debug)]
struct Line {
    content: Range<usize>,
    next: usize,
}

fn lines(text: &str) -> impl Iterator<Item = Line> + '_ {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= text.len() {
            return None;
        }
        let rest = &text[start..];
        let (end, next) = match rest.find('\n') {
            Some(at) => (start + at, start + at + 1),
            None => (text.len(), text.len()),
        };
        let end = if text[..end].ends_with('\r') {
            end - 1
        } else {
            end
        };
        let line = Line {
            content: start..end,
            next,
        };
        start = next;
        Some(line)
    })
}

/// A `\r` that is not part of `\r\n` ends a line for Markdown; the scanner does not split
/// there, so it leaves such text to the parser.
fn has_lone_carriage_return(text: &str) -> bool {
    let bytes = text.as_bytes();
    (bytes.iter().enumerate()).any(|(at, &byte)| byte == b'\r' && bytes.get(at + 1) != Some(&b'\n'))
}

/// Front matter opening on the first line: `---` up to a closing `---` line ended by a line
/// break, as tree-sitter-md reads it; `None` when it does not close.
fn front_matter(
    text: &str,
    lines: &mut std::iter::Peekable<impl Iterator<Item = Line>>,
) -> Option<FrontMatterBlock> {
    let fence = |line: &Line| is_metadata_fence(&text[line.content.clone()]);
    let opening = lines.next().filter(fence)?;
    for line in lines.by_ref() {
        if fence(&line) && line.next > line.content.end {
            return Some(FrontMatterBlock {
                range: 0..line.content.end,
                body: opening.next..line.content.start,
            });
        }
    }
    None
}

/// `---` and nothing but spaces or tabs after it.
fn is_metadata_fence(content: &str) -> bool {
    content.strip_prefix("---").is_some_and(|rest| {
        !rest.starts_with('-') && rest.trim_start_matches([' ', '\t']).is_empty()
    })
}

/// The block the scanner is in, in the document's flow.
enum Block {
    /// Nothing open: after a blank line, a heading, a break or a closed fence.
    Nothing,
    Paragraph(Paragraph),
    Fence {
        fence: Fence,
        start: usize,
    },
    /// An HTML comment (`<!--` up to the line holding `-->`), as baton's output markers are.
    Comment {
        start: usize,
    },
    /// A block quote of text lines; `true` while it ends in a paragraph that a line may
    /// lazily continue.
    Quote(bool),
    List(List),
}

struct Paragraph {
    /// Where its first line starts.
    start: usize,
    /// Where its last line's content ends.
    end: usize,
    /// Whether a line of it holds a `|`: it may be a table, which the scanner never lets
    /// anything but text or a blank line follow.
    table: bool,
}

struct Scanner<'a> {
    text: &'a str,
    outline: Outline,
    block: Block,
    /// Where the last block in the flow ended, when it was an HTML comment: whether it
    /// closes the part depends on what follows it.
    comment_end: Option<usize>,
}

impl Scanner<'_> {
    fn line(&mut self, line: &Line) -> Option<()> {
        if let Block::Fence { fence, start } = self.block {
            if closes(&self.text[line.content.clone()], fence) {
                self.outline.verbatim.push(start..line.next);
                self.block = Block::Nothing;
            }
            return Some(());
        }
        if let Block::Comment { start } = self.block {
            if self.text[line.content.clone()].contains("-->") {
                self.end_comment(start, line);
            }
            return Some(());
        }
        let content = &self.text[line.content.clone()];
        let (indent, at) = indentation(content)?;
        let rest = &content[at..];
        if rest.is_empty() && line.next == line.content.end && at > 0 {
            // Trailing spaces without a line break: tree-sitter-md may read them as a block.
            return None;
        }
        if let Block::List(list) = &mut self.block {
            match list.line(indent, rest)? {
                Listed::Kept => return Some(()),
                Listed::Left => self.block = Block::Nothing,
            }
        }
        if let Block::Quote(paragraph) = self.block {
            // Only a quote's own lines, a blank line, or text continuing its paragraph.
            match kind(rest) {
                Kind::Quote if indent < 4 => return self.quote_line(rest),
                Kind::Text if paragraph && indent < 4 && !rest.contains('|') => return Some(()),
                Kind::Blank => self.block = Block::Nothing,
                _ => return None,
            }
        }
        self.flow_line(line, indent, at)
    }

    /// A line in the document's flow, outside any list or fence.
    fn flow_line(&mut self, line: &Line, indent: usize, at: usize) -> Option<()> {
        let text = self.text;
        let rest = &text[line.content.start + at..line.content.end];
        let (in_paragraph, table) = match &self.block {
            Block::Paragraph(paragraph) => (true, paragraph.table),
            _ => (false, false),
        };
        if rest.is_empty() {
            self.block = Block::Nothing;
            return Some(());
        }
        if indent >= 4 {
            // Indented code, or a paragraph's continuation: tree-sitter-md does not always
            // tell them apart as CommonMark does.
            return None;
        }
        let kind = kind(rest);
        if table && !matches!(kind, Kind::Text | Kind::Comment) {
            return None;
        }
        // tree-sitter-md reads most blocks' starts only when a line break ends the line.
        let unterminated = line.next == line.content.end;
        if unterminated && !matches!(kind, Kind::Text | Kind::Marker(_)) {
            return None;
        }
        self.comment_end = None;
        match kind {
            Kind::Heading(level) => {
                let heading = atx_heading(text, line, at, level);
                self.outline.headings.push(heading);
                self.block = Block::Nothing;
            }
            // tree-sitter-md does not always let a fence interrupt a paragraph.
            Kind::Fence(_) if in_paragraph => return None,
            // Whether an indented block's node holds its indentation varies with what
            // precedes it.
            Kind::Fence(_) | Kind::Comment if indent > 0 => return None,
            Kind::Fence(fence) => {
                let start = line.content.start;
                self.block = Block::Fence { fence, start };
            }
            Kind::Comment => {
                let start = line.content.start;
                self.block = Block::Comment { start };
                if rest.contains("-->") {
                    self.end_comment(start, line);
                }
            }
            Kind::Underline { byte, .. } if in_paragraph => {
                if let Block::Paragraph(paragraph) = &self.block {
                    let heading = setext_heading(text, paragraph, line, byte);
                    self.outline.headings.push(heading);
                }
                self.block = Block::Nothing;
            }
            Kind::Underline { byte: b'-', len: 1 } | Kind::Other | Kind::Blank => return None,
            Kind::Underline { byte: b'-', len: 2 } => return self.text_line(line, rest),
            Kind::Underline { byte: b'-', .. } | Kind::Break => self.block = Block::Nothing,
            Kind::Underline { .. } | Kind::Text => return self.text_line(line, rest),
            Kind::Quote => return self.quote_line(rest),
            Kind::Marker(marker) => {
                if in_paragraph && !marker.may_interrupt {
                    return None;
                }
                let paragraph = item_text(rest, marker)?;
                self.block = Block::List(List {
                    items: vec![(indent + marker.width, marker.kind)],
                    after_blank: false,
                    paragraph,
                });
            }
        }
        Some(())
    }

    /// A line of text in the flow: it continues the open paragraph or starts one.
    fn text_line(&mut self, line: &Line, rest: &str) -> Option<()> {
        if let Block::Paragraph(paragraph) = &mut self.block {
            if paragraph.table && may_err_as_delimiter(rest) {
                return None;
            }
            paragraph.end = line.content.end;
            paragraph.table |= rest.contains('|');
            return Some(());
        }
        if !starts_paragraph(rest) {
            return None;
        }
        self.block = Block::Paragraph(Paragraph {
            start: line.content.start,
            end: line.content.end,
            table: rest.contains('|'),
        });
        Some(())
    }

    /// A line of a block quote: `>`, then text or nothing.
    fn quote_line(&mut self, rest: &str) -> Option<()> {
        let inner = rest[1..].strip_prefix(' ').unwrap_or(&rest[1..]);
        let (indent, at) = indentation(inner)?;
        if indent >= 4 {
            return None;
        }
        let inner = &inner[at..];
        let paragraph = match kind(inner) {
            Kind::Blank => false,
            Kind::Text if !inner.contains('|') && starts_paragraph(inner) => true,
            _ => return None,
        };
        self.block = Block::Quote(paragraph);
        Some(())
    }

    fn end_comment(&mut self, start: usize, line: &Line) {
        self.outline.verbatim.push(start..line.next);
        self.comment_end = Some(line.next);
        self.block = Block::Nothing;
    }

    fn finish(mut self) -> Scanned {
        let len = self.text.len();
        let closed = match self.block {
            Block::Fence { start, .. } | Block::Comment { start } => {
                self.outline.verbatim.push(start..len);
                false
            }
            // An HTML block closes the part only when a blank line ends it (see
            // `closed::is_closed`).
            _ => self
                .comment_end
                .is_none_or(|end| end < len && blank_line_ends(self.text.bytes().rev())),
        };
        Scanned {
            outline: self.outline,
            closed,
        }
    }
}

fn atx_heading(text: &str, line: &Line, at: usize, level: u8) -> Heading {
    let start = line.content.start + at;
    let range = trim(text, start..line.content.end);
    let after_marker = start + level as usize;
    let content =
        trim_closing_sequence_by(|offset| text.as_bytes()[offset], after_marker..range.end);
    Heading {
        level,
        range,
        content,
        setext: false,
    }
}

fn setext_heading(text: &str, paragraph: &Paragraph, underline: &Line, byte: u8) -> Heading {
    Heading {
        level: if byte == b'=' { 1 } else { 2 },
        range: trim(text, paragraph.start..underline.content.end),
        content: trim(text, paragraph.start..paragraph.end),
        setext: true,
    }
}

fn trim(text: &str, range: Range<usize>) -> Range<usize> {
    trim_by(|offset| text.as_bytes()[offset], range)
}
