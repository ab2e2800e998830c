//! The workspaces the user trusts (DESIGN §7): a small TOML file in the user's configuration
//! folder, written by `baton trust` and read wherever an agent that needs trust is about to be
//! honoured. This module is the only code that reads or writes it, and, with `load.rs` and
//! `discover.rs`, the only IO in `config`.
//!
//! The store is `trusted.toml` beside the user's `config.toml` (the folder of `$BATON_CONFIG`
//! if set, else `$XDG_CONFIG_HOME/baton/`, else `~/.config/baton/`), or `$BATON_TRUST_FILE`:
//!
//! ```toml
//! workspaces = ["/home/me/projects/acme"]
//! ```
//!
//! A workspace is named by its root, the folder holding its `baton.toml`, as a canonical
//! absolute path; trusting a folder trusts that workspace only, not the folders below it that
//! have a `baton.toml` of their own. Writes go to a temp file with a random name in the same
//! folder, then a rename (`fs_safe::replace_atomically`), so a crash never leaves half a store;
//! a store that is a symbolic link is refused, not replaced.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;

use super::discover::{find_workspace_config, user_config_path};
use crate::fs_safe::{self, SafeDir, WriteError};

/// The store's file name, in the user's configuration folder.
pub const TRUST_FILE: &str = "trusted.toml";
/// The environment variable that names the store's file instead (tests, unusual setups).
pub const TRUST_FILE_VARIABLE: &str = "BATON_TRUST_FILE";
/// The environment variable that trusts the workspace for one command, store or not.
pub const TRUST_VARIABLE: &str = "BATON_TRUST_WORKSPACE";

/// Why the store could not be read or written.
#[derive(Debug, Error)]
pub enum TrustError {
    /// Neither `$BATON_TRUST_FILE`, `$BATON_CONFIG`, `$XDG_CONFIG_HOME` nor `$HOME` is set.
    #[error("cannot tell where the trust store lives: set HOME, XDG_CONFIG_HOME or {TRUST_FILE_VARIABLE}")]
    NoLocation,
    #[error("cannot {action} the trust store {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    /// Writing refused or failed; the message names the file and why (`fs_safe`).
    #[error("cannot write the trust store {}: {source}", path.display())]
    Write { path: PathBuf, source: WriteError },
    /// The file exists but is not the store's TOML; nothing in it is trusted.
    #[error("the trust store {} is not valid ({reason}); fix it or delete it, then trust your workspaces again", path.display())]
    Corrupt { path: PathBuf, reason: String },
    /// A workspace path TOML cannot hold as text.
    #[error("the path {} is not UTF-8 and cannot be stored", path.display())]
    NotUtf8 { path: PathBuf },
}

/// The file's content.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreFile {
    #[serde(default)]
    workspaces: Vec<String>,
}

/// The trust store at one path. [`TrustStore::user`] finds the user's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustStore {
    path: PathBuf,
}

impl TrustStore {
    /// The store kept in the file `path`, which need not exist yet.
    pub fn at(path: impl Into<PathBuf>) -> TrustStore {
        TrustStore { path: path.into() }
    }

    /// The user's store: `$BATON_TRUST_FILE`, else `trusted.toml` beside the user config.
    pub fn user() -> Result<TrustStore, TrustError> {
        let explicit = std::env::var_os(TRUST_FILE_VARIABLE).filter(|value| !value.is_empty());
        let path = match explicit {
            Some(path) => PathBuf::from(path),
            None => user_config_path()
                .and_then(|config| config.parent().map(|dir| dir.join(TRUST_FILE)))
                .ok_or(TrustError::NoLocation)?,
        };
        Ok(TrustStore::at(path))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The trusted workspace roots, in the order they were trusted; none when the file does
    /// not exist.
    pub fn workspaces(&self) -> Result<Vec<PathBuf>, TrustError> {
        let text = match fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) if error.kind() == io::ErrorKind::InvalidData => {
                return Err(self.corrupt("it is not UTF-8 text".into()))
            }
            Err(source) => return Err(self.io("read", source)),
        };
        let file: StoreFile =
            toml::from_str(&text).map_err(|error| self.corrupt(error.message().to_owned()))?;
        Ok(file.workspaces.into_iter().map(PathBuf::from).collect())
    }

    /// Whether the workspace rooted at `root` (canonicalised here) is in the store.
    pub fn contains(&self, root: &Path) -> Result<bool, TrustError> {
        let root = canonical_or_absolute(root);
        Ok(self.workspaces()?.contains(&root))
    }

    /// Adds the workspace rooted at `root`; false when it was already there.
    pub fn add(&self, root: &Path) -> Result<bool, TrustError> {
        let root = canonical_or_absolute(root);
        let mut workspaces = self.workspaces()?;
        if workspaces.contains(&root) {
            return Ok(false);
        }
        workspaces.push(root);
        self.write(&workspaces)?;
        Ok(true)
    }

    /// Removes the workspace rooted at `root`; false when it was not there. A root that no
    /// longer exists is matched by its absolute path as given.
    pub fn remove(&self, root: &Path) -> Result<bool, TrustError> {
        let root = canonical_or_absolute(root);
        let mut workspaces = self.workspaces()?;
        let before = workspaces.len();
        workspaces.retain(|trusted| *trusted != root);
        if workspaces.len() == before {
            return Ok(false);
        }
        self.write(&workspaces)?;
        Ok(true)
    }

    fn write(&self, workspaces: &[PathBuf]) -> Result<(), TrustError> {
        let mut text = String::from(
            "# Workspaces trusted with `baton trust`: their baton.toml may run `command` agents\n\
             # and send API keys to their own base_url. Remove one with `baton trust --remove DIR`.\n\
             workspaces = [\n",
        );
        for path in workspaces {
            let Some(path_text) = path.to_str() else {
                return Err(TrustError::NotUtf8 { path: path.clone() });
            };
            // A JSON string is a valid TOML basic string: the same quotes and escapes.
            let quoted = serde_json::to_string(path_text).unwrap_or_default();
            text.push_str(&format!("    {quoted},\n"));
        }
        text.push_str("]\n");
        let folder = match self.path.parent() {
            Some(folder) if !folder.as_os_str().is_empty() => folder,
            _ => Path::new("."),
        };
        SafeDir::chosen(folder)
            .and_then(|_| fs_safe::replace_atomically(&self.path, text.as_bytes()))
            .map_err(|source| TrustError::Write {
                path: self.path.clone(),
                source,
            })
    }

    fn io(&self, action: &'static str, source: io::Error) -> TrustError {
        TrustError::Io {
            action,
            path: self.path.clone(),
            source,
        }
    }

    fn corrupt(&self, reason: String) -> TrustError {
        TrustError::Corrupt {
            path: self.path.clone(),
            reason: reason.trim().to_owned(),
        }
    }
}

/// Whether the user's store lists the workspace rooted at `workspace_root`. Any problem
/// reading the store (missing location, unreadable or corrupt file) counts as "not trusted",
/// with a warning in the log: trust is never granted by accident.
pub fn is_trusted(workspace_root: &Path) -> bool {
    match TrustStore::user().and_then(|store| store.contains(workspace_root)) {
        Ok(trusted) => trusted,
        Err(error) => {
            tracing::warn!(%error, "treating the workspace as untrusted");
            false
        }
    }
}

/// Whether this process may honour the agents of the workspace rooted at `workspace_root`
/// that need trust: `BATON_TRUST_WORKSPACE=1` in the environment, or [`is_trusted`]. A
/// configuration without a workspace file (`None`) has nothing to trust.
pub fn workspace_trusted(workspace_root: Option<&Path>) -> bool {
    let by_environment = std::env::var(TRUST_VARIABLE).is_ok_and(|value| value == "1");
    by_environment || workspace_root.is_some_and(is_trusted)
}

/// The workspace of the folder `dir`: the folder holding the `baton.toml` found walking up
/// from it, else `dir` itself; canonical. Fails when `dir` does not exist.
pub fn workspace_root(dir: &Path) -> io::Result<PathBuf> {
    let dir = fs::canonicalize(dir)?;
    let root = find_workspace_config(&dir)
        .and_then(|config| config.parent().map(Path::to_path_buf))
        .unwrap_or(dir);
    Ok(root)
}

/// `path` resolved through symbolic links when it exists, else made absolute and normalised
/// (so that a workspace deleted since can still be removed from the store).
fn canonical_or_absolute(path: &Path) -> PathBuf {
    fs::canonicalize(path).unwrap_or_else(|_| {
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let mut normal = PathBuf::new();
        for component in absolute.components() {
            match component {
                Component::CurDir => {}
                Component::ParentDir => {
                    normal.pop();
                }
                other => normal.push(other),
            }
        }
        normal
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load::tests::scratch;

    #[test]
    fn workspaces_are_added_listed_and_removed() {
        let dir = scratch("trust-store");
        let ws = dir.join("ws");
        fs::create_dir_all(ws.join("sub")).unwrap();
        let store = TrustStore::at(dir.join("conf/trusted.toml"));
        assert_eq!(store.workspaces().unwrap(), Vec::<PathBuf>::new());
        assert!(!store.contains(&ws).unwrap());

        assert!(store.add(&ws).unwrap(), "the folder is created too");
        assert!(!store.add(&ws.join("sub/..")).unwrap(), "the same root");
        let canonical = fs::canonicalize(&ws).unwrap();
        assert_eq!(
            store.workspaces().unwrap(),
            std::slice::from_ref(&canonical)
        );
        assert!(store.contains(&ws).unwrap());
        assert!(
            !store.contains(&ws.join("sub")).unwrap(),
            "not its subfolders"
        );
        fs::create_dir_all(dir.join("ws2")).unwrap();
        assert!(
            !store.contains(&dir.join("ws2")).unwrap(),
            "not a sibling whose name starts the same"
        );
        assert!(!store.contains(&dir).unwrap(), "not the folder above");
        let text = fs::read_to_string(store.path()).unwrap();
        assert!(text.starts_with("# Workspaces trusted"), "{text}");

        assert!(store.remove(&ws).unwrap());
        assert!(!store.remove(&ws).unwrap());
        assert!(!store.contains(&ws).unwrap());

        // A workspace deleted since it was trusted can still be removed.
        store.add(&ws.join("sub")).unwrap();
        fs::remove_dir_all(ws.join("sub")).unwrap();
        assert!(store.remove(&canonical.join("sub")).unwrap());
        assert_eq!(store.workspaces().unwrap(), Vec::<PathBuf>::new());
        let leftovers: Vec<_> = fs::read_dir(dir.join("conf")).unwrap().flatten().collect();
        assert_eq!(leftovers.len(), 1, "no temp file is left behind");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_corrupt_store_is_an_error_and_trusts_nothing() {
        let dir = scratch("trust-corrupt");
        let store = TrustStore::at(dir.join("trusted.toml"));
        fs::write(store.path(), "workspaces = [\"/a\"\n").unwrap();
        let error = store.contains(&dir).unwrap_err();
        assert!(matches!(error, TrustError::Corrupt { .. }), "{error}");
        assert!(error.to_string().contains("fix it or delete it"), "{error}");
        assert!(
            store.add(&dir).is_err(),
            "a corrupt store is not overwritten"
        );
        fs::write(store.path(), "trusted = [\"/a\"]\n").unwrap();
        assert!(matches!(
            store.workspaces(),
            Err(TrustError::Corrupt { .. })
        ));
        fs::write(store.path(), [0xff, 0xfe]).unwrap();
        assert!(matches!(
            store.workspaces(),
            Err(TrustError::Corrupt { .. })
        ));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_root_is_the_folder_of_the_nearest_baton_toml_else_the_folder() {
        let dir = scratch("trust-root");
        fs::create_dir_all(dir.join("ws/a/b")).unwrap();
        fs::create_dir_all(dir.join("bare")).unwrap();
        fs::write(dir.join("ws/baton.toml"), "").unwrap();
        let canonical = |p: &str| fs::canonicalize(dir.join(p)).unwrap();
        assert_eq!(
            workspace_root(&dir.join("ws/a/b")).unwrap(),
            canonical("ws")
        );
        assert_eq!(
            workspace_root(&dir.join("bare")).unwrap(),
            canonical("bare")
        );
        assert!(workspace_root(&dir.join("missing")).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }
}
