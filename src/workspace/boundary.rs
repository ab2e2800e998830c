//! Where a workspace ends (DESIGN §7): the folder whose documents a brief's links may read and
//! send as inputs, and whether the folders the editor named reach a workspace, for trust.
//!
//! Paths are compared after resolving symbolic links (`fs::canonicalize`), component by
//! component, so neither `..`, an absolute path, a link planted inside pointing out, nor a
//! sibling whose name merely starts the same (`/ws` and `/ws2`) leads out. The comparisons
//! themselves ([`within`], [`covered`]) are pure; only [`real_path`] and [`Boundary::locate`]
//! ask the disk.

use std::fs;
use std::path::{Component, Path, PathBuf};

/// The folder a document's links may not leave, held as its real (canonical) path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Boundary {
    root: PathBuf,
}

/// Where a link leads, as far as the boundary is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Located {
    /// Inside: `named` is the path as the link names it (open buffers are found by it),
    /// `real` the file it is on disk after every symbolic link, when it exists. Read `real`,
    /// never `named`, so that the file read is the one that was checked.
    Inside {
        named: PathBuf,
        real: Option<PathBuf>,
    },
    /// Outside the boundary (perhaps only once symbolic links are followed): never read.
    Outside,
}

impl Boundary {
    /// The boundary of the folder `root` (resolved here).
    pub fn at(root: &Path) -> Boundary {
        Boundary {
            root: real_path(root),
        }
    }

    /// The boundary of a document in the folder `document_dir`: the folder holding the
    /// `baton.toml` in force (`workspace`), else the innermost of the editor's `folders` that
    /// holds the document, else the document's own folder (so a bare folder still reaches
    /// its siblings). `folders` are real paths.
    pub fn of_document(
        workspace: Option<&Path>,
        document_dir: &Path,
        folders: &[PathBuf],
    ) -> Boundary {
        if let Some(root) = workspace {
            return Boundary::at(root);
        }
        let dir = real_path(document_dir);
        let folder = folders
            .iter()
            .filter(|folder| within(&dir, folder))
            .max_by_key(|folder| folder.components().count());
        Boundary {
            root: folder.cloned().unwrap_or(dir),
        }
    }

    /// The folder, as a real path.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the link `file` (percent-encoded as Markdown allows, relative to the folder
    /// `dir` of the linking document, or absolute) leads. A missing file inside is `Inside`
    /// with no `real` path; a missing file outside is `Outside`, so the answer never tells
    /// whether something exists outside.
    pub fn locate(&self, dir: &Path, file: &str) -> Located {
        let file = percent_decode(file);
        let named = normalize(&dir.join(&file));
        // From the real folder, so that a link from a workspace reached through a symbolic
        // link is compared with the workspace's real path.
        let lexical = normalize(&real_path(dir).join(&file));
        if !within(&lexical, &self.root) {
            return Located::Outside;
        }
        match fs::canonicalize(&lexical) {
            Ok(real) if within(&real, &self.root) => Located::Inside {
                named,
                real: Some(real),
            },
            Ok(_) => Located::Outside,
            Err(_) => Located::Inside { named, real: None },
        }
    }
}

/// Whether `path` is `folder` or lies below it, compared by whole components (`/ws2` is not
/// within `/ws`). Both should be real paths; this reads no disk.
pub fn within(path: &Path, folder: &Path) -> bool {
    path.starts_with(folder)
}

/// Whether the editor's trust, given for the real `folders` it named, reaches the workspace
/// whose real root is `root`: the root lies within one of them. Pure.
pub fn covered(root: &Path, folders: &[PathBuf]) -> bool {
    folders.iter().any(|folder| within(root, folder))
}

/// `path` with every symbolic link resolved when it exists, else made absolute and
/// normalised (a folder deleted since is still compared sensibly, and never widened).
pub fn real_path(path: &Path) -> PathBuf {
    fs::canonicalize(path).unwrap_or_else(|_| {
        normalize(&std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()))
    })
}

/// Resolves `.` and `..` without touching the disk, so a link to a missing file still has a
/// stable path to report.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Links in Markdown may percent-encode spaces (`my%20brief.brief.md`).
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(value)) => {
                out.push(value);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("baton-boundary-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn folders_cover_what_lies_below_them_and_nothing_beside() {
        let folders = [PathBuf::from("/ws"), PathBuf::from("/other/a")];
        assert!(covered(Path::new("/ws"), &folders));
        assert!(covered(Path::new("/ws/sub/deeper"), &folders));
        assert!(covered(Path::new("/other/a/b"), &folders));
        assert!(!covered(Path::new("/ws2"), &folders), "a common prefix");
        assert!(!covered(Path::new("/other"), &folders), "above a folder");
        assert!(!covered(Path::new("/"), &folders));
        assert!(!covered(Path::new("/ws"), &[]), "no folder named");
    }

    #[test]
    fn links_that_leave_the_workspace_are_outside_however_they_leave() {
        let dir = scratch("boundary");
        let ws = dir.join("ws");
        fs::create_dir_all(ws.join("notes")).unwrap();
        fs::create_dir_all(dir.join("outside")).unwrap();
        fs::create_dir_all(dir.join("ws2")).unwrap();
        fs::write(dir.join("outside/secret.brief.md"), "# Payroll plan\n").unwrap();
        fs::write(dir.join("ws2/x.brief.md"), "# X\n").unwrap();
        fs::write(ws.join("inside.brief.md"), "# In\n").unwrap();
        std::os::unix::fs::symlink(dir.join("outside/secret.brief.md"), ws.join("planted.md"))
            .unwrap();
        std::os::unix::fs::symlink(dir.join("outside"), ws.join("door")).unwrap();
        let boundary = Boundary::at(&ws);
        let notes = ws.join("notes");
        let real_ws = fs::canonicalize(&ws).unwrap();

        let inside = boundary.locate(&notes, "../inside.brief.md");
        assert_eq!(
            inside,
            Located::Inside {
                named: ws.join("inside.brief.md"),
                real: Some(real_ws.join("inside.brief.md")),
            }
        );
        let missing = boundary.locate(&notes, "gone%20file.brief.md");
        assert_eq!(
            missing,
            Located::Inside {
                named: notes.join("gone file.brief.md"),
                real: None
            }
        );
        let secret = dir.join("outside/secret.brief.md");
        for link in [
            "../../outside/secret.brief.md",
            secret.to_str().unwrap(),
            "../planted.md",
            "../door/secret.brief.md",
            "../../ws2/x.brief.md",
            "../../outside/missing.brief.md",
            "/etc/passwd",
        ] {
            assert_eq!(boundary.locate(&notes, link), Located::Outside, "{link}");
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn without_a_workspace_file_the_editor_folder_or_the_document_folder_bounds() {
        let dir = scratch("boundary-bare");
        fs::create_dir_all(dir.join("editor/bare/deep")).unwrap();
        let real = |p: &str| fs::canonicalize(dir.join(p)).unwrap();
        let folders = [real("editor"), real("editor/bare")];
        let deep = dir.join("editor/bare/deep");
        let found = Boundary::of_document(None, &deep, &folders);
        assert_eq!(found.root(), real("editor/bare"), "the innermost folder");
        let alone = Boundary::of_document(None, &deep, &[]);
        assert_eq!(alone.root(), real("editor/bare/deep"));
        let workspace = Boundary::of_document(Some(&dir.join("editor")), &deep, &[]);
        assert_eq!(workspace.root(), real("editor"));
        fs::remove_dir_all(&dir).unwrap();
    }
}
