//! The open documents, shared between concurrent handlers.
//!
//! Each entry is an `Arc` snapshot: readers clone it out and drop the map guard at once, so no
//! guard is ever held across an `.await`. Writers replace the snapshot under the entry lock.
//!
//! A document is stored unparsed when it opens, so that opening many costs the reader of the
//! messages only their text. Whoever parses it installs the parse ([`Store::install_parsed`]);
//! a change parses it in full first.

use std::sync::Arc;

use dashmap::DashMap;

use super::history::History;
use super::{Change, Document, Encoding};

/// An open document at one version, as the editor sent it.
#[derive(Clone, Debug)]
pub struct OpenDocument {
    pub version: i32,
    pub document: Document,
    /// The last changes that led to this version.
    pub history: History,
}

/// Open documents by URI (as a string, so the store knows nothing of LSP types).
#[derive(Default)]
pub struct Store {
    documents: DashMap<String, Arc<OpenDocument>>,
}

/// Why a change was not applied.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    #[error("document {0} is not open")]
    NotOpen(String),
    #[error("version {new} of {uri} does not follow version {current}")]
    StaleVersion { uri: String, current: i32, new: i32 },
}

impl Store {
    /// Stores a newly opened document, unparsed ([`Document::unparsed`]).
    pub fn open(&self, uri: &str, version: i32, text: &str) -> Arc<OpenDocument> {
        let open = Arc::new(OpenDocument {
            version,
            document: Document::unparsed(text),
            history: History::starting_at(version),
        });
        self.documents.insert(uri.to_owned(), open.clone());
        open
    }

    /// Puts `document`, the parse of `unparsed`, in its place, if the entry for `uri` is still
    /// that very snapshot (so still at its version, and still unparsed). Otherwise a change
    /// has parsed a later version, the document was closed or opened again, or another reader
    /// installed the same parse first: the work is dropped. Returns whether it was installed.
    pub fn install_parsed(
        &self,
        uri: &str,
        unparsed: &Arc<OpenDocument>,
        document: Document,
    ) -> bool {
        let Some(mut entry) = self.documents.get_mut(uri) else {
            return false;
        };
        // `unparsed` is alive, so its address cannot name a newer entry; and an entry never
        // changes in place while another `Arc` to it exists (`change` copies it first).
        if !Arc::ptr_eq(&entry, unparsed) {
            return false;
        }
        *entry = Arc::new(OpenDocument {
            version: unparsed.version,
            document,
            history: unparsed.history.clone(),
        });
        true
    }

    /// Applies changes in place. Versions must rise; a stale change is refused untouched.
    pub fn change(
        &self,
        uri: &str,
        version: i32,
        changes: &[Change<'_>],
        encoding: Encoding,
    ) -> Result<Arc<OpenDocument>, ChangeError> {
        let mut entry = self
            .documents
            .get_mut(uri)
            .ok_or_else(|| ChangeError::NotOpen(uri.to_owned()))?;
        if version <= entry.version {
            return Err(ChangeError::StaleVersion {
                uri: uri.to_owned(),
                current: entry.version,
                new: version,
            });
        }
        // In place when no reader holds this version (the usual case while typing); a
        // reader that does keeps its snapshot, and the edit goes to a cheap copy.
        let open = Arc::make_mut(&mut entry);
        open.version = version;
        let shifts = open.document.apply_changes(changes, encoding);
        open.history.record(version, changes, &shifts);
        Ok(entry.clone())
    }

    pub fn close(&self, uri: &str) {
        self.documents.remove(uri);
    }

    pub fn get(&self, uri: &str) -> Option<Arc<OpenDocument>> {
        self.documents.get(uri).map(|entry| entry.clone())
    }

    /// Every open document, for re-linting after a configuration change.
    pub fn snapshot(&self) -> Vec<(String, Arc<OpenDocument>)> {
        self.documents
            .iter()
            .map(|entry| (entry.key().clone(), entry.value().clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URI: &str = "file:///ws/a.brief.md";
    const TEXT: &str = "# One\n## Goal\nText.\n";

    #[test]
    fn an_opened_document_is_stored_unparsed_and_its_parse_installed() {
        let store = Store::default();
        let opened = store.open(URI, 1, TEXT);
        assert!(!store.get(URI).unwrap().document.is_parsed());
        assert!(store.install_parsed(URI, &opened, opened.document.parsed()));
        let stored = store.get(URI).unwrap();
        assert_eq!((stored.version, stored.document.is_parsed()), (1, true));
        assert_eq!(stored.document.outline(), Document::new(TEXT).outline());
        // A second parse of the same opening finds it done.
        assert!(!store.install_parsed(URI, &opened, opened.document.parsed()));
    }

    #[test]
    fn a_parse_is_dropped_when_the_document_changed_closed_or_opened_again() {
        let store = Store::default();
        let opened = store.open(URI, 1, TEXT);
        let change = Change {
            range: None,
            text: "# Changed\n",
        };
        store.change(URI, 2, &[change], Encoding::Utf8).unwrap();
        assert!(!store.install_parsed(URI, &opened, opened.document.parsed()));
        let stored = store.get(URI).unwrap();
        assert_eq!(
            (stored.version, stored.document.text()),
            (2, "# Changed\n".to_owned())
        );
        assert!(stored.document.is_parsed(), "the change parsed it");

        let opened = store.open(URI, 1, TEXT);
        store.close(URI);
        assert!(!store.install_parsed(URI, &opened, opened.document.parsed()));
        assert!(store.get(URI).is_none());

        // Opened again at the same version with other text: the old parse is not its parse.
        let opened = store.open(URI, 1, TEXT);
        store.open(URI, 1, "# Other\n");
        assert!(!store.install_parsed(URI, &opened, opened.document.parsed()));
        let stored = store.get(URI).unwrap();
        assert_eq!(stored.document.text(), "# Other\n");
        assert!(!stored.document.is_parsed());
    }
}
