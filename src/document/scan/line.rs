//! What a line of Markdown is, judged by its start: the scanner's one look at each line.

/// A code fence: its byte (`` ` `` or `~`) and how many of it open the block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Fence {
    pub byte: u8,
    pub len: usize,
}

/// What a line is, judged by its start (after its indentation).
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Blank,
    Heading(u8),
    Fence(Fence),
    /// `<!--`: an HTML block that ends on the line holding `-->`.
    Comment,
    /// `>`: a block quote.
    Quote,
    /// `=` or `-` only: a setext underline after a paragraph.
    Underline {
        byte: u8,
        len: usize,
    },
    Break,
    Marker(Marker),
    /// Text as a paragraph's first line (it cannot open a link reference definition).
    Text,
    /// Anything the scanner does not model.
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum MarkerKind {
    Bullet(u8),
    Ordered(u8),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Marker {
    pub kind: MarkerKind,
    /// An ordered marker numbered 1, or a bullet: either may interrupt a paragraph.
    pub may_interrupt: bool,
    /// From the marker's first byte to its content's.
    pub width: usize,
}

/// Whether a list item's first line holds plain text after its marker (the scanner's only
/// kind of item start); `None` otherwise.
pub(super) fn item_text(rest: &str, marker: Marker) -> Option<bool> {
    let text = &rest[marker.width..];
    (kind(text) == Kind::Text && starts_paragraph(text)).then_some(true)
}

/// The column of a line's first non-space byte and its byte offset; `None` when a tab
/// comes first (its width depends on the column).
pub(super) fn indentation(content: &str) -> Option<(usize, usize)> {
    let spaces = content.bytes().take_while(|&byte| byte == b' ').count();
    if content.as_bytes().get(spaces) == Some(&b'\t') {
        return None;
    }
    Some((spaces, spaces))
}

pub(super) fn kind(rest: &str) -> Kind {
    let bytes = rest.as_bytes();
    let Some(&first) = bytes.first() else {
        return Kind::Blank;
    };
    let run = bytes.iter().take_while(|&&byte| byte == first).count();
    // The run is of one byte, ASCII or not, so it ends on a character boundary.
    let after_run = &bytes[run..];
    let blank_after = after_run.iter().all(|&byte| byte == b' ' || byte == b'\t');
    match first {
        b'#' if run <= 6 && matches!(after_run.first(), None | Some(b' ' | b'\t')) => {
            Kind::Heading(run as u8)
        }
        b'`' if run >= 3 && !after_run.contains(&b'`') => Kind::Fence(Fence {
            byte: first,
            len: run,
        }),
        b'~' if run >= 3 => Kind::Fence(Fence {
            byte: first,
            len: run,
        }),
        b'=' | b'-' if blank_after => Kind::Underline {
            byte: first,
            len: run,
        },
        b'*' | b'-' | b'_' if is_break(rest, first) => Kind::Break,
        b'-' | b'*' | b'+' if !ends_marker(rest, 1) => Kind::Text,
        b'-' | b'*' | b'+' => marker_width(rest, 1).map_or(Kind::Other, |width| {
            Kind::Marker(Marker {
                kind: MarkerKind::Bullet(first),
                may_interrupt: true,
                width,
            })
        }),
        b'0'..=b'9' => ordered_marker(rest),
        b'<' if rest.starts_with("<!--") => Kind::Comment,
        b'>' => Kind::Quote,
        b'<' | b'\t' | b'\\' => Kind::Other,
        _ => Kind::Text,
    }
}

/// A thematic break: three or more of one of `*`, `-`, `_`, spaces and tabs between.
pub(super) fn is_break(rest: &str, byte: u8) -> bool {
    let mut count = 0;
    for current in rest.bytes() {
        match current {
            _ if current == byte => count += 1,
            b' ' | b'\t' => {}
            _ => return false,
        }
    }
    count >= 3
}

/// The width of a list marker of `len` bytes with the spaces that follow it, when one to
/// four spaces and then text follow; `None` otherwise (no space, a tab, an empty item, or
/// indented code after the marker).
pub(super) fn marker_width(rest: &str, len: usize) -> Option<usize> {
    let after = &rest[len..];
    let spaces = after.bytes().take_while(|&byte| byte == b' ').count();
    let next = after.as_bytes().get(spaces);
    if !(1..=4).contains(&spaces) || matches!(next, None | Some(b'\t')) {
        return None;
    }
    Some(len + spaces)
}

/// Whether `len` bytes of marker are followed by a space, a tab or the line's end.
pub(super) fn ends_marker(rest: &str, len: usize) -> bool {
    matches!(rest.as_bytes().get(len), None | Some(b' ' | b'\t'))
}

pub(super) fn ordered_marker(rest: &str) -> Kind {
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let delimiter = rest.as_bytes().get(digits);
    if !matches!(delimiter, Some(b'.' | b')')) || !ends_marker(rest, digits + 1) {
        return Kind::Text;
    }
    match marker_width(rest, digits + 1) {
        Some(width) if digits <= 9 => Kind::Marker(Marker {
            kind: MarkerKind::Ordered(rest.as_bytes()[digits]),
            may_interrupt: rest[..digits].trim_start_matches('0') == "1",
            width,
        }),
        _ => Kind::Other,
    }
}

/// Whether text may open a paragraph here: not a possible link reference definition
/// (`[label]: ...`), whose rules the scanner does not model.
pub(super) fn starts_paragraph(rest: &str) -> bool {
    let Some(label) = rest.strip_prefix('[') else {
        return true;
    };
    match label.find([']', '[', '\\']) {
        Some(at) if label.as_bytes()[at] == b']' => !label[at + 1..].starts_with(':'),
        _ => false,
    }
}

/// Whether a line that follows a table row may be what tree-sitter-md takes for a one-column
/// table's delimiter row and then errs on (`|-`, `:-` under `x|`): only `|`, `-`, `:`, spaces
/// and tabs, a `-`, and no `|` after the first cell. Its error recovery swallows the rest
/// of the document, headings included.
pub(super) fn may_err_as_delimiter(rest: &str) -> bool {
    let delimiter_bytes =
        (rest.bytes()).all(|byte| matches!(byte, b'|' | b'-' | b':' | b' ' | b'\t'));
    let trimmed = rest.trim_end_matches([' ', '\t']);
    let cells = trimmed.strip_prefix('|').unwrap_or(trimmed);
    delimiter_bytes && rest.contains('-') && !cells.contains('|')
}

/// Whether a line closes a code fence: the fence's byte, at least as many, indented at
/// most three spaces, nothing but spaces and tabs after.
pub(super) fn closes(content: &str, fence: Fence) -> bool {
    let spaces = content.bytes().take_while(|&byte| byte == b' ').count();
    if spaces > 3 {
        return false;
    }
    let rest = &content[spaces..];
    let run = rest.bytes().take_while(|&byte| byte == fence.byte).count();
    run >= fence.len
        && rest[run..]
            .bytes()
            .all(|byte| byte == b' ' || byte == b'\t')
}
