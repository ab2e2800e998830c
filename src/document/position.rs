//! The only code that knows how editors count columns.
//!
//! Inside baton every position is a byte offset. LSP clients count columns in UTF-16 code
//! units unless they negotiated UTF-8; the CLI counts Unicode characters. Line breaks are
//! `\n`, `\r\n` and `\r`, exactly as LSP defines them (ropey is built with `cr_lines` only).

use ropey::Rope;

/// How columns are counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Encoding {
    /// Bytes of UTF-8 (LSP `utf-8`).
    Utf8,
    /// UTF-16 code units (LSP `utf-16`, the protocol's default).
    #[default]
    Utf16,
    /// Unicode scalar values (LSP `utf-32`; the CLI's columns).
    Utf32,
}

/// A zero-based line and column, the column counted in some [`Encoding`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

impl Position {
    pub fn new(line: u32, column: u32) -> Self {
        Position { line, column }
    }
}

/// Up to this many bytes before a position, its column is counted character by character.
const SHORT_LINE: usize = 1024;

/// The position of a byte offset. Offsets past the end, or inside a character, are clamped.
///
/// Diagnostics are placed on every keystroke, hundreds of them in a large brief: the line is
/// read off the rope chunk that holds the offset (one walk of the rope's tree instead of
/// four, two when the line starts in an earlier chunk), and columns are counted a chunk at a
/// time.
pub fn position_of(rope: &Rope, offset: usize, encoding: Encoding) -> Position {
    let offset = offset.min(rope.len_bytes());
    let (chunk, chunk_start, _, chunk_line) = rope.chunk_at_byte(offset);
    let mut local = offset - chunk_start;
    while !chunk.is_char_boundary(local) {
        local -= 1;
    }
    let before = &chunk[..local];
    let inside_crlf = before.ends_with('\r') && chunk.as_bytes().get(local) == Some(&b'\n');
    if inside_crlf {
        return position_by_walks(rope, chunk_start + local, encoding);
    }
    let last_break = (before.as_bytes().iter()).rposition(|&byte| byte == b'\n' || byte == b'\r');
    let Some(last_break) = last_break else {
        // The line starts in an earlier chunk: it is the line this chunk starts on.
        let line_start = rope.line_to_byte(chunk_line);
        if chunk_start + local - line_start > SHORT_LINE {
            return position_by_walks(rope, chunk_start + local, encoding);
        }
        let line_text = rope.byte_slice(line_start..chunk_start + local);
        let column: usize = line_text
            .chunks()
            .map(|text| column_of(text, encoding))
            .sum();
        return Position::new(chunk_line as u32, column as u32);
    };
    let column = column_of(&before[last_break + 1..], encoding);
    let line = chunk_line + str_indices::lines_crlf::count_breaks(before);
    Position::new(line as u32, column as u32)
}

/// The columns a piece of one line spans.
fn column_of(text: &str, encoding: Encoding) -> usize {
    match encoding {
        Encoding::Utf8 => text.len(),
        Encoding::Utf16 => str_indices::utf16::count(text),
        Encoding::Utf32 => str_indices::chars::count(text),
    }
}

/// [`position_of`] for an offset between the two bytes of a `\r\n`, or far into a long line.
fn position_by_walks(rope: &Rope, offset: usize, encoding: Encoding) -> Position {
    let line = rope.byte_to_line(offset);
    let line_start = rope.line_to_byte(line);
    let column = match encoding {
        Encoding::Utf8 => offset - line_start,
        // Counting the characters of the line is cheaper than two walks of the rope's tree,
        // for lines of ordinary length; a very long line takes the walks instead.
        _ if offset - line_start <= SHORT_LINE => {
            let chars = rope.byte_slice(line_start..offset).chars();
            match encoding {
                Encoding::Utf16 => chars.map(char::len_utf16).sum(),
                _ => chars.count(),
            }
        }
        Encoding::Utf32 => rope.byte_to_char(offset) - rope.byte_to_char(line_start),
        Encoding::Utf16 => {
            let (start_char, end_char) = (rope.byte_to_char(line_start), rope.byte_to_char(offset));
            rope.char_to_utf16_cu(end_char) - rope.char_to_utf16_cu(start_char)
        }
    };
    Position::new(line as u32, column as u32)
}

/// The byte offset of a position. A line past the end maps to the end of the text; a column
/// past the end of its line maps to the end of the line (before its line break), as LSP asks;
/// a column inside a character (a surrogate pair, a UTF-8 sequence) rounds down to its start.
///
/// Every edit the editor sends is placed with this: the characters of the line up to the
/// column are counted from the line's start, one walk of the rope's tree in all; a column far
/// into a long line takes the walks instead.
pub fn offset_of(rope: &Rope, position: Position, encoding: Encoding) -> usize {
    let line = position.line as usize;
    let column = position.column as usize;
    if line >= rope.len_lines() {
        return rope.len_bytes();
    }
    if column > SHORT_LINE {
        return offset_by_walks(rope, position, encoding);
    }
    let line_start = rope.line_to_byte(line);
    let (mut at, mut counted) = (line_start, 0);
    for character in rope.byte_slice(line_start..).chars() {
        let width = match encoding {
            Encoding::Utf8 => character.len_utf8(),
            Encoding::Utf16 => character.len_utf16(),
            Encoding::Utf32 => 1,
        };
        if character == '\n' || character == '\r' || counted + width > column {
            return at;
        }
        counted += width;
        at += character.len_utf8();
    }
    rope.len_bytes()
}

/// [`offset_of`] by walks of the rope's tree, whatever the column.
fn offset_by_walks(rope: &Rope, position: Position, encoding: Encoding) -> usize {
    let line = position.line as usize;
    if line >= rope.len_lines() {
        return rope.len_bytes();
    }
    let line_start = rope.line_to_byte(line);
    let line_end = line_start + line_content_len(rope, line);
    let column = position.column as usize;
    let offset = match encoding {
        Encoding::Utf8 => floor_char_boundary(rope, (line_start + column).min(line_end)),
        Encoding::Utf32 => {
            let start_char = rope.byte_to_char(line_start);
            let end_char = rope.byte_to_char(line_end);
            rope.char_to_byte((start_char + column).min(end_char))
        }
        Encoding::Utf16 => {
            let start_char = rope.byte_to_char(line_start);
            let end_char = rope.byte_to_char(line_end);
            let start_cu = rope.char_to_utf16_cu(start_char);
            let end_cu = rope.char_to_utf16_cu(end_char);
            // A column inside a surrogate pair rounds down to the character's start.
            let char_index = rope.utf16_cu_to_char((start_cu + column).min(end_cu));
            rope.char_to_byte(char_index)
        }
    };
    offset.min(line_end)
}

/// The length in bytes of a line without its line break.
fn line_content_len(rope: &Rope, line: usize) -> usize {
    let slice = rope.line(line);
    let len = slice.len_bytes();
    let mut trailing = 0;
    for byte in [b'\n', b'\r'] {
        if len > trailing && slice.byte(len - trailing - 1) == byte {
            trailing += 1;
        }
    }
    len - trailing
}

fn floor_char_boundary(rope: &Rope, offset: usize) -> usize {
    rope.char_to_byte(rope.byte_to_char(offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(text: &str, offset: usize, encoding: Encoding, expected: (u32, u32)) {
        let rope = Rope::from_str(text);
        let position = position_of(&rope, offset, encoding);
        assert_eq!(
            (position.line, position.column),
            expected,
            "{text:?} @ {offset}"
        );
        assert_eq!(
            offset_of(&rope, position, encoding),
            offset,
            "{text:?} back from {position:?}"
        );
    }

    #[test]
    fn emoji_counts_two_utf16_units_four_bytes_one_char() {
        let text = "a🎉b";
        roundtrip(text, 5, Encoding::Utf16, (0, 3));
        roundtrip(text, 5, Encoding::Utf8, (0, 5));
        roundtrip(text, 5, Encoding::Utf32, (0, 2));
    }

    #[test]
    fn cjk_and_crlf() {
        let text = "x\r\n日本語 y\rz";
        roundtrip(text, 3 + 9 + 1, Encoding::Utf16, (1, 4));
        roundtrip(text, 3 + 9 + 1, Encoding::Utf8, (1, 10));
        roundtrip(text, text.len() - 1, Encoding::Utf16, (2, 0));
    }

    #[test]
    fn columns_past_the_end_clamp_to_the_line_end() {
        let rope = Rope::from_str("ab\r\ncd");
        assert_eq!(offset_of(&rope, Position::new(0, 99), Encoding::Utf16), 2);
        assert_eq!(offset_of(&rope, Position::new(7, 0), Encoding::Utf16), 6);
    }

    #[test]
    fn long_lines_count_columns_the_same_way() {
        let text = format!("x\n{}🎉y", "é".repeat(1500));
        let offset = text.len() - 1;
        roundtrip(&text, offset, Encoding::Utf16, (1, 1502));
        roundtrip(&text, offset, Encoding::Utf32, (1, 1501));
        roundtrip(&text, 2 + 20, Encoding::Utf16, (1, 10));
    }

    /// Texts of every kind of character and line break, large enough to span many chunks of
    /// the rope.
    fn text() -> impl proptest::strategy::Strategy<Value = String> {
        let pieces = proptest::sample::select(vec![
            "a",
            "é",
            "🎉",
            "日本",
            "\n",
            "\r\n",
            "\r",
            " ",
            // Lines long enough to start in one chunk of the rope and go on in another.
            "the quick brown fox jumps over the lazy dog",
            "ééééééééééé🎉🎉🎉🎉",
        ]);
        proptest::strategy::Strategy::prop_map(
            proptest::collection::vec(pieces, 0..3000),
            |pieces| pieces.concat(),
        )
    }

    proptest::proptest! {
        /// Reading the position off one chunk gives what walking the rope gives, wherever
        /// the chunks of a large text happen to split it.
        #[test]
        fn chunk_reading_agrees_with_walks(
            text in text(),
            picks in proptest::collection::vec(0usize..20_000, 1..50),
        ) {
            let rope = Rope::from_str(&text);
            for pick in picks {
                let offset = floor_char_boundary(&rope, pick.min(text.len()));
                for encoding in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32] {
                    proptest::prop_assert_eq!(
                        position_of(&rope, offset, encoding),
                        position_by_walks(&rope, offset, encoding),
                        "offset {}", offset
                    );
                }
            }
        }

        /// Counting a line's characters places a position where the walks do, columns past
        /// the line's end and inside characters included.
        #[test]
        fn counting_columns_agrees_with_walks(
            text in text(),
            picks in proptest::collection::vec((0u32..400, 0u32..1100), 1..50),
        ) {
            let rope = Rope::from_str(&text);
            for (line, column) in picks {
                let position = Position::new(line, column);
                for encoding in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32] {
                    proptest::prop_assert_eq!(
                        offset_of(&rope, position, encoding),
                        offset_by_walks(&rope, position, encoding),
                        "{:?} in {:?}", position, encoding
                    );
                }
            }
        }
    }

    #[test]
    fn a_column_inside_a_surrogate_pair_rounds_down() {
        let rope = Rope::from_str("🎉x");
        assert_eq!(offset_of(&rope, Position::new(0, 1), Encoding::Utf16), 0);
    }
}
