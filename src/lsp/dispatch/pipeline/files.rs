//! A pipeline's documents as the editor sees them: an open document's text is its buffer's
//! (what the user sees, saved or not), any other is read from the disk; each folder's
//! configuration, link boundary and trust are the ones an open document there would get.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use crate::brief::Analysis;
use crate::dispatch::on_disk::read_text;
use crate::dispatch::pipeline::Files;
use crate::document::Document;
use crate::lsp::state::State;
use crate::workspace::{Boundary, Settings};

/// What a document in one folder is read with.
struct Folder {
    settings: Arc<Settings>,
    boundary: Boundary,
    trusted: bool,
}

pub struct EditorFiles {
    state: Arc<State>,
    folders: Mutex<HashMap<PathBuf, Arc<Folder>>>,
}

impl EditorFiles {
    pub fn new(state: Arc<State>) -> EditorFiles {
        EditorFiles {
            state,
            folders: Mutex::default(),
        }
    }

    fn folder(&self, file: &Path) -> Arc<Folder> {
        let dir = file.parent().unwrap_or(Path::new("/")).to_path_buf();
        let mut folders = self.folders.lock().unwrap_or_else(PoisonError::into_inner);
        folders
            .entry(dir)
            .or_insert_with(|| {
                let context = self.state.context_at(file);
                Arc::new(Folder {
                    trusted: context.machine.trusted_workspace,
                    // A context made for a path always has a boundary.
                    boundary: (context.boundary.clone())
                        .unwrap_or_else(|| Boundary::at(file.parent().unwrap_or(file))),
                    settings: Arc::new(context.settings),
                })
            })
            .clone()
    }
}

impl Files for EditorFiles {
    fn text(&self, file: &Path) -> Option<String> {
        match self.state.open_document_at(file) {
            Some(document) => Some(document.text().to_string()),
            None => read_text(file, &file.display().to_string()).ok(),
        }
    }

    fn analysed(&self, file: &Path) -> Option<(Document, Arc<Analysis>)> {
        let uri = self.state.uri_at(file)?;
        let snapshot = self.state.snapshot(&uri)?.ok()?;
        Some((snapshot.document().clone(), snapshot.shared_analysis()))
    }

    fn settings(&self, file: &Path) -> Arc<Settings> {
        self.folder(file).settings.clone()
    }

    fn trusted(&self, file: &Path) -> bool {
        self.folder(file).trusted
    }

    fn boundary(&self, file: &Path) -> Boundary {
        self.folder(file).boundary.clone()
    }
}
