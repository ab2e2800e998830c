//! What changed between versions of an open document, for whoever keeps results placed on
//! an earlier version and wants to know which of them still stand where they were (the
//! server's published diagnostics, say).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{Change, Position, Shift};

/// The changes kept: enough for a burst of typing between two publications.
const KEPT: usize = 64;

/// One change: where it fell in the text it was applied to, and how it moved what followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edited {
    /// The version the change produced.
    pub version: i32,
    /// The replaced range, in the positions of the text before the change.
    pub start: Position,
    pub end: Position,
    pub shift: Shift,
}

/// The last changes of a document, oldest first.
#[derive(Clone, Debug)]
pub struct History {
    changes: VecDeque<Edited>,
    /// The oldest version the changes reach back to: earlier ones are forgotten, or were
    /// replaced whole.
    known_from: i32,
    /// Which opening of a document this is: versions start again when it is opened again.
    opening: u64,
}

impl History {
    /// The history of a document just opened at `version`.
    pub fn starting_at(version: i32) -> Self {
        static OPENINGS: AtomicU64 = AtomicU64::new(1);
        History {
            changes: VecDeque::new(),
            known_from: version,
            opening: OPENINGS.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// Tells this opening of the document from any other, earlier or later.
    pub fn opening(&self) -> u64 {
        self.opening
    }

    /// Records the changes that made `version`, with the shifts the document reported.
    pub fn record(&mut self, version: i32, changes: &[Change<'_>], shifts: &[Option<Shift>]) {
        for (change, shift) in changes.iter().zip(shifts) {
            match (change.range, shift) {
                (Some((start, end)), Some(shift)) => {
                    if self.changes.len() == KEPT {
                        if let Some(oldest) = self.changes.pop_front() {
                            self.known_from = oldest.version;
                        }
                    }
                    self.changes.push_back(Edited {
                        version,
                        start,
                        end,
                        shift: *shift,
                    });
                }
                _ => {
                    self.changes.clear();
                    self.known_from = version;
                }
            }
        }
    }

    /// The changes made after `version`, oldest first; `None` when they are not all known.
    pub fn since(&self, version: i32) -> Option<impl Iterator<Item = &Edited>> {
        (version >= self.known_from).then(|| {
            self.changes
                .iter()
                .filter(move |edited| edited.version > version)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(line: u32) -> Change<'static> {
        let at = Position::new(line, 0);
        Change {
            range: Some((at, at)),
            text: "x",
        }
    }

    const ONE_BYTE: Option<Shift> = Some(Shift { bytes: 1, lines: 0 });

    #[test]
    fn the_changes_since_a_version_are_known_until_forgotten() {
        let mut history = History::starting_at(1);
        for version in 2..=4 {
            history.record(version, &[typed(version as u32)], &[ONE_BYTE]);
        }
        let since = |history: &History, version| history.since(version).map(Iterator::count);
        assert_eq!(since(&history, 1), Some(3));
        assert_eq!(since(&history, 3), Some(1));
        assert_eq!(since(&history, 4), Some(0));
        assert_eq!(since(&history, 0), None, "before the document opened");

        for version in 5..5 + KEPT as i32 {
            history.record(version, &[typed(0)], &[ONE_BYTE]);
        }
        assert_eq!(since(&history, 1), None, "forgotten");
        assert_eq!(since(&history, 4 + KEPT as i32 - 1), Some(1));
    }

    #[test]
    fn a_whole_text_change_forgets_what_came_before() {
        let mut history = History::starting_at(1);
        history.record(2, &[typed(0)], &[ONE_BYTE]);
        let whole = Change {
            range: None,
            text: "new",
        };
        history.record(3, &[whole, typed(0)], &[None, ONE_BYTE]);
        assert_eq!(history.since(2).map(|changes| changes.count()), None);
        assert_eq!(history.since(3).map(|changes| changes.count()), Some(0));
    }
}
