//! Lists, as the scanner follows them: which item each line belongs to, and when the list
//! ends.

use super::line::{item_text, kind, starts_paragraph, Kind, Marker, MarkerKind};

/// A list in the flow, down to the item the last line belongs to.
pub(super) struct List {
    /// Each open item's content column and marker, outermost first.
    pub items: Vec<(usize, MarkerKind)>,
    pub after_blank: bool,
    /// Whether the innermost item ends in a paragraph a line may lazily continue.
    pub paragraph: bool,
}

/// What a line inside a list did to it.
pub(super) enum Listed {
    Kept,
    /// The line is not part of the list: it belongs to the flow.
    Left,
}

impl List {
    pub(super) fn line(&mut self, indent: usize, rest: &str) -> Option<Listed> {
        if rest.is_empty() {
            self.after_blank = true;
            return Some(Listed::Kept);
        }
        if rest.contains('|') {
            return None;
        }
        let lazy = !self.after_blank && self.paragraph;
        let depth = self
            .items
            .iter()
            .filter(|(column, _)| *column <= indent)
            .count();
        let kind = kind(rest);
        if depth < self.items.len() && !(lazy && kind == Kind::Text) {
            let parent = depth.checked_sub(1).map_or(0, |index| self.items[index].0);
            match kind {
                Kind::Marker(marker) if indent - parent <= 3 => {
                    let (_, previous) = self.items[depth];
                    if previous != marker.kind && lazy && !marker.may_interrupt {
                        return None;
                    }
                    self.items.truncate(depth);
                    self.push(indent, rest, marker)?;
                    return Some(Listed::Kept);
                }
                // An HTML block interrupts the item's paragraph and ends the list.
                Kind::Comment if depth == 0 => return Some(Listed::Left),
                _ if !self.after_blank => return None,
                _ if depth == 0 => return Some(Listed::Left),
                _ => self.items.truncate(depth),
            }
        }
        let (column, _) = *self.items.last().expect("a list has an item");
        if depth == self.items.len() && indent >= column + 4 {
            // Indented code in the item, or its paragraph's continuation (see `flow_line`).
            return None;
        } else if depth == self.items.len() {
            match kind {
                Kind::Marker(marker) => {
                    if lazy && !marker.may_interrupt {
                        return None;
                    }
                    self.push(indent, rest, marker)?;
                }
                Kind::Text if lazy || starts_paragraph(rest) => self.paragraph = true,
                _ => return None,
            }
        }
        // Otherwise a lazy continuation line of the innermost paragraph.
        self.after_blank = false;
        Some(Listed::Kept)
    }

    fn push(&mut self, indent: usize, rest: &str, marker: Marker) -> Option<()> {
        self.paragraph = item_text(rest, marker)?;
        self.items.push((indent + marker.width, marker.kind));
        self.after_blank = false;
        Some(())
    }
}
