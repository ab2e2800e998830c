//! Which workspaces the server trusts (DESIGN §7), decided here and nowhere else: the folders
//! the editor names (`initialize`, then `workspace/didChangeWorkspaceFolders`), which
//! `initializationOptions.trustedWorkspace` covers, and what `baton trust` said of each
//! workspace root, read once per root.

use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use dashmap::DashMap;

use crate::config::trust_store;
use crate::workspace::boundary::{covered, real_path};

/// The editor's folders and the trust known of each workspace root.
pub struct Trust {
    /// The folders the editor names now, as real paths.
    folders: RwLock<Arc<Vec<PathBuf>>>,
    /// Each root met so far (as configuration found it), and whether it holds the
    /// `baton.toml` in force; read from the store once, not once per opened document.
    roots: DashMap<(PathBuf, bool), Root>,
    /// What `baton trust` (or the environment) says of a workspace root:
    /// `trust_store::workspace_trusted`, but for tests.
    by_user: fn(Option<&Path>) -> bool,
}

impl Default for Trust {
    fn default() -> Self {
        Trust {
            folders: RwLock::default(),
            roots: DashMap::new(),
            by_user: trust_store::workspace_trusted,
        }
    }
}

/// A workspace root as trust sees it.
#[derive(Clone)]
struct Root {
    /// Its real path, which one of the editor's folders must hold.
    real: PathBuf,
    /// Whether `baton trust` (or `BATON_TRUST_WORKSPACE=1`) trusts it.
    by_user: bool,
}

impl Trust {
    /// The folders the editor named in `initialize`.
    pub fn set_folders(&self, named: &[PathBuf]) {
        let folders = named.iter().map(|folder| real_path(folder)).collect();
        *self.folders.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(folders);
    }

    /// Applies a `workspace/didChangeWorkspaceFolders`.
    pub fn change_folders(&self, added: &[PathBuf], removed: &[PathBuf]) {
        let removed: Vec<PathBuf> = removed.iter().map(|folder| real_path(folder)).collect();
        let mut folders = self.folders.write().unwrap_or_else(PoisonError::into_inner);
        let mut now: Vec<PathBuf> = folders
            .iter()
            .filter(|folder| !removed.contains(folder))
            .cloned()
            .collect();
        for folder in added.iter().map(|folder| real_path(folder)) {
            if !now.contains(&folder) {
                now.push(folder);
            }
        }
        *folders = Arc::new(now);
    }

    /// The folders the editor names now, as real paths.
    pub fn folders(&self) -> Arc<Vec<PathBuf>> {
        self.folders
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Forgets what the store said, after `baton trust` may have changed it.
    pub fn forget_store(&self) {
        self.roots.clear();
    }

    /// Whether the user trusts a workspace: the folder holding the `baton.toml` in force
    /// (`workspace`), else the document's `folder`. `baton trust` trusts a workspace wherever
    /// it is; the editor's `trustedWorkspace` (`editor_trusts`) only one within a folder the
    /// editor names now, so a document opened from elsewhere is not trusted.
    pub fn trusts(
        &self,
        editor_trusts: bool,
        workspace: Option<&Path>,
        folder: Option<&Path>,
    ) -> bool {
        let Some(root) = workspace.or(folder) else {
            return (self.by_user)(None);
        };
        let key = (root.to_path_buf(), workspace.is_some());
        let known = match self.roots.get(&key) {
            Some(known) => known.clone(),
            None => {
                let known = Root {
                    real: real_path(root),
                    // A folder without a `baton.toml` defines no agent to trust.
                    by_user: (self.by_user)(workspace),
                };
                self.roots.insert(key, known.clone());
                known
            }
        };
        known.by_user || (editor_trusts && covered(&known.real, &self.folders()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_editor_trusts_only_workspaces_within_its_folders_as_they_change() {
        // No store trusts anything here, whatever the machine running the tests holds.
        let trust = Trust {
            by_user: |_| false,
            ..Trust::default()
        };
        trust.set_folders(&[PathBuf::from("/nowhere/a")]);
        let inside = Some(Path::new("/nowhere/a/project"));
        let beside = Some(Path::new("/nowhere/a2"));
        assert!(trust.trusts(true, inside, None));
        assert!(
            !trust.trusts(false, inside, None),
            "the editor did not say so"
        );
        assert!(
            !trust.trusts(true, beside, None),
            "a common prefix is not inside"
        );
        assert!(trust.trusts(true, None, inside), "a bare folder inside");

        trust.change_folders(
            &[PathBuf::from("/nowhere/a2")],
            &[PathBuf::from("/nowhere/a")],
        );
        assert!(trust.trusts(true, beside, None));
        assert!(!trust.trusts(true, inside, None), "its folder was removed");

        let trusted_by_user = Trust {
            by_user: |root| root == Some(Path::new("/nowhere/b")),
            ..Trust::default()
        };
        let b = Some(Path::new("/nowhere/b"));
        assert!(trusted_by_user.trusts(false, b, None), "wherever it is");
        assert!(
            !trusted_by_user.trusts(false, None, b),
            "a bare folder has no agents to trust"
        );
    }
}
