//! Which files `check` looks at: the files named, and the Markdown files under the folders
//! named, in a stable order (each folder's entries sorted by name).

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::workspace::normalize;

/// Folders a walk never enters: version control and tool state (every hidden folder, such as
/// `.git` and `.baton`), build output, and installed packages. Named explicitly, they are walked.
const SKIPPED_FOLDERS: [&str; 2] = ["target", "node_modules"];

/// The extensions of Markdown files, compared case-insensitively.
const MARKDOWN_EXTENSIONS: [&str; 2] = ["md", "markdown"];

/// A file to consider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// Absolute and free of `.` and `..`, so configuration discovery can walk up from it.
    pub path: PathBuf,
    /// As the user wrote it, or the folder they wrote joined with the path found under it.
    pub display: String,
    /// Named on the command line rather than found in a folder.
    pub explicit: bool,
}

/// What a walk found.
#[derive(Debug, Default)]
pub struct Walk {
    pub files: Vec<Candidate>,
    /// The folders named on the command line; their configuration applies even when they hold
    /// no documents.
    pub folders: Vec<Candidate>,
    /// Folders or files that could not be read, with the reason.
    pub errors: Vec<(Candidate, io::Error)>,
}

/// Collects the files under `paths` (relative ones are taken from `cwd`). `Err` lists the
/// paths that do not exist, a usage error.
pub fn walk(paths: &[PathBuf], cwd: &Path) -> Result<Walk, Vec<PathBuf>> {
    // A path that exists but cannot be read (a link to nothing, no permission) is not a usage
    // error: it is reported as a finding, and the other paths are still checked.
    let missing: Vec<PathBuf> = paths
        .iter()
        .filter(|path| {
            fs::symlink_metadata(cwd.join(path))
                .is_err_and(|error| error.kind() == io::ErrorKind::NotFound)
        })
        .cloned()
        .collect();
    if !missing.is_empty() {
        return Err(missing);
    }
    let mut walk = Walk::default();
    let mut seen = HashSet::new();
    for given in paths {
        let root = Candidate {
            path: normalize(&cwd.join(given)),
            display: display(given),
            explicit: true,
        };
        if root.path.is_dir() {
            walk.folders.push(root.clone());
            walk_folder(&root, &mut walk, &mut seen);
        } else if seen.insert(root.path.clone()) {
            walk.files.push(root);
        }
    }
    Ok(walk)
}

fn walk_folder(folder: &Candidate, walk: &mut Walk, seen: &mut HashSet<PathBuf>) {
    let entries = match fs::read_dir(&folder.path) {
        Ok(entries) => entries,
        Err(error) => return walk.errors.push((folder.clone(), error)),
    };
    let mut entries: Vec<fs::DirEntry> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(fs::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let child = Candidate {
            path: entry.path(),
            display: join_display(&folder.display, &name),
            explicit: false,
        };
        // Symbolic links to files are followed; links to folders are not, so a link cycle
        // cannot make the walk endless.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if !name.starts_with('.') && !SKIPPED_FOLDERS.contains(&name.as_ref()) {
                walk_folder(&child, walk, seen);
            }
        } else if is_markdown(&name)
            && (kind.is_file() || child.path.is_file())
            && seen.insert(child.path.clone())
        {
            walk.files.push(child);
        }
    }
}

fn is_markdown(name: &str) -> bool {
    Path::new(name)
        .extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| {
            MARKDOWN_EXTENSIONS
                .iter()
                .any(|known| extension.eq_ignore_ascii_case(known))
        })
}

/// A path as the user wrote it, without `./` segments and with `/` between segments.
fn display(path: &Path) -> String {
    let parts: Vec<String> = path
        .components()
        .filter(|component| *component != Component::CurDir)
        .map(|component| match component {
            Component::RootDir => String::new(),
            other => other.as_os_str().to_string_lossy().into_owned(),
        })
        .collect();
    match parts.as_slice() {
        [] => ".".to_owned(),
        [root] if root.is_empty() => "/".to_owned(),
        _ => parts.join("/"),
    }
}

fn join_display(folder: &str, name: &str) -> String {
    match folder {
        "." => name.to_owned(),
        _ if folder.ends_with('/') => format!("{folder}{name}"),
        _ => format!("{folder}/{name}"),
    }
}

/// `path` relative to `base`, both absolute and normalized, with `..` where `path` lies
/// outside `base`.
pub fn relative(path: &Path, base: &Path) -> PathBuf {
    let path: Vec<Component> = path.components().collect();
    let base: Vec<Component> = base.components().collect();
    let common = path.iter().zip(&base).take_while(|(a, b)| a == b).count();
    let mut relative = PathBuf::new();
    for _ in common..base.len() {
        relative.push("..");
    }
    for component in &path[common..] {
        relative.push(component);
    }
    relative
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_paths_as_written_without_dot_segments() {
        assert_eq!(display(Path::new(".")), ".");
        assert_eq!(display(Path::new("./examples/")), "examples");
        assert_eq!(display(Path::new("../x/./a.md")), "../x/a.md");
        assert_eq!(display(Path::new("/tmp/a.md")), "/tmp/a.md");
        assert_eq!(join_display(".", "a.md"), "a.md");
        assert_eq!(join_display("/", "a.md"), "/a.md");
        assert_eq!(join_display("docs", "a.md"), "docs/a.md");
    }

    #[test]
    fn relative_paths_climb_with_dot_dot() {
        let rel = |a: &str, b: &str| relative(Path::new(a), Path::new(b));
        assert_eq!(rel("/ws/a/b.md", "/ws"), PathBuf::from("a/b.md"));
        assert_eq!(
            rel("/ws/baton.toml", "/ws/sub"),
            PathBuf::from("../baton.toml")
        );
        assert_eq!(
            rel("/other/x.md", "/ws/sub"),
            PathBuf::from("../../other/x.md")
        );
    }

    #[test]
    fn markdown_extensions_ignore_case() {
        assert!(is_markdown("a.MD"));
        assert!(is_markdown("a.brief.markdown"));
        assert!(!is_markdown("a.txt"));
        assert!(!is_markdown("md"));
    }
}
