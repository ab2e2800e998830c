//! Where an open document lives and what it is linted and sent with: its configuration, the
//! folder its links may read, and the machine's facts (trust, key variables). Made when the
//! document opens and again when the configuration or the editor's folders change.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::brief::cache::LintCache;
use crate::document::Document;
use crate::workspace::{Boundary, LinkedDocuments, Machine, Settings};

/// Where an open document lives and the configuration it is linted with; set when it opens
/// and when the configuration or the editor's folders change, never per keystroke.
pub struct DocumentContext {
    /// `None` for a document that is not a file (an untitled buffer).
    pub path: Option<PathBuf>,
    pub settings: Settings,
    /// The folder its links may read (DESIGN §7); `None` when `path` is.
    pub boundary: Option<Boundary>,
    /// Trust and the agents' key variables, read when the context is made.
    pub machine: Machine,
    /// What the lints while typing kept; new with every context, so a configuration
    /// change never reuses findings made under the old one.
    pub cache: Mutex<LintCache>,
}

impl DocumentContext {
    /// The documents its links name, inside its boundary; `None` for an untitled buffer.
    pub fn linked<'a>(
        &self,
        open: &'a dyn Fn(&Path) -> Option<Document>,
    ) -> Option<LinkedDocuments<'a>> {
        let path = self.path.as_deref()?;
        let boundary = self.boundary.clone()?;
        Some(LinkedDocuments::new(path, boundary, open))
    }

    /// `trusted`: whether the user trusts the workspace (see [`super::trust::Trust::trusts`]).
    pub fn new(
        path: Option<PathBuf>,
        settings: Settings,
        boundary: Option<Boundary>,
        trusted: bool,
    ) -> Self {
        let machine = Machine::detect(&settings.config, trusted);
        DocumentContext {
            path,
            settings,
            boundary,
            machine,
            cache: Mutex::default(),
        }
    }
}
