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
pub fn position_of(rope: &Rope, offset: usize, encoding: Encoding) -> Position {
    let offset = floor_char_boundary(rope, offset.min(rope.len_bytes()));
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
/// past the end of its line maps to the end of the line (before its line break), as LSP asks.
pub fn offset_of(rope: &Rope, position: Position, encoding: Encoding) -> usize {
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

    #[test]
    fn a_column_inside_a_surrogate_pair_rounds_down() {
        let rope = Rope::from_str("🎉x");
        assert_eq!(offset_of(&rope, Position::new(0, 1), Encoding::Utf16), 0);
    }
}
