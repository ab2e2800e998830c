//! Diagnostics placed in the editor's positions and written as JSON, kept from one
//! publication to the next.
//!
//! A publication carries every diagnostic of a document, each placed by two position
//! lookups in the rope and written as JSON, though a keystroke changes a few of them at most.
//! So each document keeps its last publication, and the next takes over whatever the changes
//! since (the document's [`History`]) left where it was: a diagnostic that ends before a
//! change keeps its place; one that starts on a later line than the change ends moves by the
//! lines the change added, its columns untouched. Only a diagnostic found again, identical
//! at the same place, is taken over; anything else is placed afresh.

use dashmap::DashMap;
use tower_lsp_server::ls_types as lsp;

use super::to_proto;
use super::wire::{self, DiagnosticsJson};
use crate::brief::Diagnostic;
use crate::document::history::{Edited, History};
use crate::document::store::OpenDocument;
use crate::document::Encoding;

/// The last publication of each open document.
#[derive(Default)]
pub struct Placements {
    documents: DashMap<String, Published>,
}

struct Published {
    /// The opening of the document ([`History::opening`]) and its version.
    opening: u64,
    version: i32,
    encoding: Encoding,
    /// The `[docs] base_url` the written diagnostics link to.
    docs: Option<String>,
    /// In the order published: the document's.
    placed: Vec<Placed>,
}

struct Placed {
    diagnostic: Diagnostic,
    range: lsp::Range,
    /// `None` once its line moved: written again when taken over.
    json: Option<Vec<u8>>,
}

impl Placements {
    /// `diagnostics` (of `open`, in document order) placed in `encoding` and written, linking
    /// to their section at `docs` (`[docs] base_url`) if any, reusing what the last
    /// publication placed where nothing changed.
    pub fn place<'a>(
        &self,
        uri: &str,
        open: &OpenDocument,
        diagnostics: impl Iterator<Item = &'a Diagnostic>,
        (encoding, docs): (Encoding, Option<&str>),
    ) -> DiagnosticsJson {
        let last = self.documents.remove(uri).map(|(_, last)| last);
        let mut carried = last
            .filter(|last| last.docs.as_deref() == docs)
            .and_then(|last| carry(last, &open.history, open.version, encoding))
            .unwrap_or_default();
        let mut next = 0;
        let placed: Vec<Placed> = diagnostics
            .map(
                |diagnostic| match take_over(&mut carried, &mut next, diagnostic) {
                    Some(mut placed) => {
                        if placed.json.is_none() {
                            placed.json = Some(wire::diagnostic(diagnostic, placed.range, docs));
                        }
                        placed
                    }
                    None => {
                        let range =
                            to_proto::range(&open.document, diagnostic.range.clone(), encoding);
                        Placed {
                            diagnostic: diagnostic.clone(),
                            range,
                            json: Some(wire::diagnostic(diagnostic, range, docs)),
                        }
                    }
                },
            )
            .collect();
        let json =
            DiagnosticsJson::of_written(placed.iter().filter_map(|placed| placed.json.as_deref()));
        self.documents.insert(
            uri.to_owned(),
            Published {
                opening: open.history.opening(),
                version: open.version,
                encoding,
                docs: docs.map(str::to_owned),
                placed,
            },
        );
        json
    }

    /// Forgets a document that closed.
    pub fn forget(&self, uri: &str) {
        self.documents.remove(uri);
    }
}

/// The diagnostics of `last` that the changes since left in place, moved to where they now
/// stand; `None` when those changes are not all known.
fn carry(
    last: Published,
    history: &History,
    version: i32,
    encoding: Encoding,
) -> Option<Vec<Option<Placed>>> {
    let same_opening = last.opening == history.opening();
    if !same_opening || last.encoding != encoding || last.version > version {
        return None;
    }
    let mut placed = last.placed;
    for edited in history.since(last.version)? {
        placed.retain_mut(|placed| follow(placed, edited));
    }
    Some(placed.into_iter().map(Some).collect())
}

/// Moves a placed diagnostic past a change; false when the change may have moved it within
/// its line, or changed it.
fn follow(placed: &mut Placed, edited: &Edited) -> bool {
    let position = |at: lsp::Position| (at.line, at.character);
    let change_start = (edited.start.line, edited.start.column);
    if position(placed.range.end) <= change_start {
        return true;
    }
    if placed.range.start.line <= edited.end.line {
        return false;
    }
    let moved = |offset: usize| offset.checked_add_signed(edited.shift.bytes);
    let moved_line = |line: u32| u32::try_from(i64::from(line) + edited.shift.lines as i64).ok();
    let range = &placed.diagnostic.range;
    let (Some(start), Some(end), Some(start_line), Some(end_line)) = (
        moved(range.start),
        moved(range.end),
        moved_line(placed.range.start.line),
        moved_line(placed.range.end.line),
    ) else {
        return false;
    };
    placed.diagnostic.range = start..end;
    if edited.shift.lines != 0 {
        placed.range.start.line = start_line;
        placed.range.end.line = end_line;
        placed.json = None;
    }
    true
}

/// The carried placement of a diagnostic identical to `diagnostic`, if there is one. Both
/// lists are in document order: `next` walks `carried` once.
fn take_over(
    carried: &mut [Option<Placed>],
    next: &mut usize,
    diagnostic: &Diagnostic,
) -> Option<Placed> {
    let start = diagnostic.range.start;
    while carried.get(*next).is_some_and(|placed| {
        placed
            .as_ref()
            .is_none_or(|placed| placed.diagnostic.range.start < start)
    }) {
        *next += 1;
    }
    let same_start = carried[*next..].iter_mut().take_while(|placed| {
        placed
            .as_ref()
            .is_none_or(|placed| placed.diagnostic.range.start == start)
    });
    same_start
        .filter(|placed| {
            placed
                .as_ref()
                .is_some_and(|placed| placed.diagnostic == *diagnostic)
        })
        .find_map(Option::take)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::brief::{Code, FixHint};
    use crate::document::store::Store;
    use crate::document::{Change, Document};

    const URI: &str = "file:///ws/a.brief.md";

    /// Diagnostics read off the text: one on each heading line, one on each `TODO`; what
    /// they say depends only on the text they cover, as the linter's do.
    fn found(document: &Document) -> Vec<Diagnostic> {
        let text = document.text();
        let mut found = Vec::new();
        let mut start = 0;
        for line in text.split_inclusive('\n') {
            let content = line.trim_end_matches(['\n', '\r']);
            if content.starts_with('#') {
                let message = format!("heading {content}");
                found.push(
                    Diagnostic::new(Code::MissingField, start..start + content.len(), message)
                        .with_fix(FixHint::InsertFields {
                            fields: vec![content.to_owned()],
                        }),
                );
            }
            for (at, _) in content.match_indices("TODO") {
                let range = start + at..start + at + 4;
                found.push(Diagnostic::new(Code::EmptyField, range, "a TODO"));
            }
            start += line.len();
        }
        found.sort_by(Diagnostic::document_order);
        found
    }

    fn fresh(open: &OpenDocument, encoding: Encoding) -> DiagnosticsJson {
        let diagnostics = found(&open.document);
        Placements::default().place(URI, open, diagnostics.iter(), (encoding, None))
    }

    /// An edit as offsets into the current text (made valid there) and what to insert.
    fn edit() -> impl Strategy<Value = (usize, usize, &'static str)> {
        let text = prop::sample::select(vec![
            "",
            "x",
            "é",
            "🎉",
            "\n",
            "\r\n",
            "# ",
            "TODO",
            "\n# Title\n",
            "TO",
            "DO",
            "\r",
        ]);
        (any::<usize>(), 0..6usize, text)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn what_is_taken_over_is_what_a_fresh_placement_gives(
            edits in prop::collection::vec((edit(), any::<bool>()), 1..30),
            utf8 in any::<bool>(),
        ) {
            let encoding = if utf8 { Encoding::Utf8 } else { Encoding::Utf16 };
            let store = Store::default();
            let placements = Placements::default();
            let text = "# One\nTODO here 🎉\n\n## Two\nsome TODO\r\n# Three\nend\n";
            let mut open = store.open(URI, 1, text);
            let _ = placements.place(URI, &open, found(&open.document).iter(), (encoding, None));
            for (version, ((at, len, insert), publish)) in (2..).zip(edits) {
                let document = open.document.parsed();
                let text = document.text();
                let start = floor_boundary(&text, at % (text.len() + 1));
                let end = floor_boundary(&text, (start + len).min(text.len()));
                let change = Change {
                    range: Some((
                        document.position_of(start, encoding),
                        document.position_of(end, encoding),
                    )),
                    text: insert,
                };
                open = store.change(URI, version, &[change], encoding).unwrap();
                if publish {
                    let diagnostics = found(&open.document);
                    let kept = placements.place(URI, &open, diagnostics.iter(), (encoding, None));
                    prop_assert_eq!(kept, fresh(&open, encoding), "after {:?}", open.document.text());
                }
            }
        }
    }

    #[test]
    fn a_document_opened_again_is_placed_afresh() {
        let (store, placements) = (Store::default(), Placements::default());
        let place = |open: &OpenDocument| {
            let diagnostics = found(&open.document);
            placements.place(URI, open, diagnostics.iter(), (Encoding::Utf16, None))
        };
        // The same heading at the same bytes, on another line.
        place(&store.open(URI, 1, "x\ny\n# Title\n"));
        let reopened = store.open(URI, 1, "xyz\n# Title\n");
        assert_eq!(place(&reopened), fresh(&reopened, Encoding::Utf16));
    }

    fn floor_boundary(text: &str, mut at: usize) -> usize {
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        at
    }
}
