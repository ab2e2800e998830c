//! The pipeline's documents on disk, for `baton run` and `baton graph`: each file read as it
//! is, each folder's configuration discovered once (its problems printed once), trust as
//! `baton trust` or `BATON_TRUST_WORKSPACE=1` says; and answers written into their files
//! atomically (`dispatch::on_disk::write_block`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use crate::brief::output::Marker;
use crate::config::trust_store;
use crate::dispatch::on_disk::{read_text, write_block};
use crate::dispatch::pipeline::{Files, Writer};
use crate::workspace::Settings;

/// Documents and settings from the disk. `command` names the command in messages.
pub(super) struct DiskFiles {
    command: &'static str,
    settings: Mutex<HashMap<PathBuf, Arc<Settings>>>,
}

impl DiskFiles {
    pub fn new(command: &'static str) -> DiskFiles {
        DiskFiles {
            command,
            settings: Mutex::default(),
        }
    }
}

impl Files for DiskFiles {
    fn text(&self, file: &Path) -> Option<String> {
        read_text(file, &file.display().to_string()).ok()
    }

    fn settings(&self, file: &Path) -> Arc<Settings> {
        let folder = file.parent().unwrap_or(Path::new("/")).to_path_buf();
        let mut known = self.settings.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(settings) = known.get(&folder) {
            return settings.clone();
        }
        let (settings, problems) = Settings::discover(&folder);
        let reported = |path: &Path| {
            known
                .values()
                .any(|s| s.config.workspace_path.as_deref() == Some(path))
        };
        for problem in problems.iter().filter(|problem| !reported(&problem.path)) {
            let (path, message) = (problem.path.display(), &problem.error.message);
            eprintln!("baton {}: {path}: {message}", self.command);
        }
        let settings = Arc::new(settings);
        known.insert(folder, settings.clone());
        settings
    }

    fn trusted(&self, file: &Path) -> bool {
        trust_store::workspace_trusted(self.settings(file).config.root.as_deref())
    }
}

/// Writes each answer into its file on disk.
pub(super) struct DiskWriter;

impl Writer for DiskWriter {
    fn write(
        &mut self,
        file: &Path,
        title: &str,
        marker: &Marker,
        body: &str,
    ) -> Result<(), String> {
        write_block(file, title, marker, body)
            .map(drop)
            .map_err(|message| {
                format!(
                    "{message}; the output is kept in the journal (run {})",
                    marker.run
                )
            })
    }
}
