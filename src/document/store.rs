//! The open documents, shared between concurrent handlers.
//!
//! Each entry is an `Arc` snapshot: readers clone it out and drop the map guard at once, so no
//! guard is ever held across an `.await`. Writers replace the snapshot under the entry lock.

use std::sync::Arc;

use dashmap::DashMap;

use super::{Change, Document, Encoding};

/// An open document at one version, as the editor sent it.
#[derive(Clone, Debug)]
pub struct OpenDocument {
    pub version: i32,
    pub document: Document,
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
    pub fn open(&self, uri: &str, version: i32, text: &str) -> Arc<OpenDocument> {
        let open = Arc::new(OpenDocument {
            version,
            document: Document::new(text),
        });
        self.documents.insert(uri.to_owned(), open.clone());
        open
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
        open.document.apply_changes(changes, encoding);
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
