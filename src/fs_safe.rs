//! The only code that creates files (DESIGN §7, §10): inside the workspace's real `.baton/`
//! folder, or beside a document the user named, with no symbolic link followed.
//!
//! A cloned repository can ship anything in `.baton/`: a link at `.baton` itself, at
//! `.baton/runs`, at the `.gitignore` or at a preview's name, dangling or not, pointing at
//! `~/.bashrc` or a Python `.pth` file. Writing through one would let the repository choose
//! what baton overwrites. So every folder baton writes into under the workspace is checked
//! with `lstat` (a real folder, not a link, and on unix owned by the user), every new file is
//! opened with `O_EXCL` (which never follows a link at the file's own name) and `O_NOFOLLOW`,
//! and a file replaced is written to a fresh temp file with a random name (`tempfile`, also
//! `O_EXCL`) and renamed over it, a rename replacing a name and never following it.
//!
//! What is refused is said plainly, naming the path and what to do; [`WriteError`]'s
//! `Display` is that message. The folder the user names (`baton init DIR`, the folder of the
//! brief `baton send` rewrites, the user's own configuration folder) is the user's layout:
//! links above it are followed, as the user set them up.

use std::fs::{self, File, Metadata, OpenOptions, Permissions};
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use thiserror::Error;

/// The folder, in a workspace's root, that holds what baton writes there.
pub const BATON_DIR: &str = ".baton";

/// What `.baton/.gitignore` holds: runs and previews hold prompts and answers, which stay
/// out of git. The same text `baton init` writes (its template is the one copy).
const GITIGNORE: &str = include_str!("cli/templates/gitignore");

/// Why baton did not write a file.
#[derive(Debug, Error)]
pub enum WriteError {
    /// A folder baton writes into (`.baton` or one below it) is a symbolic link.
    #[error("`{}` is a symbolic link; baton writes only into a real folder inside the workspace: remove it", path.display())]
    LinkedFolder { path: PathBuf },
    /// Something other than a folder stands where baton keeps a folder.
    #[error("`{}` is not a folder; baton keeps its runs and previews in a real folder of that name: move it away", path.display())]
    NotAFolder { path: PathBuf },
    /// A folder baton writes into belongs to someone else, who could swap what is in it.
    #[error("`{}` belongs to another user (uid {owner}; you are uid {user}); baton writes only into folders you own: remove it, or make it yours", path.display())]
    NotYours {
        path: PathBuf,
        owner: u32,
        user: u32,
    },
    /// The file to write is a symbolic link, which baton neither writes through nor replaces.
    #[error("`{}` is a symbolic link; baton does not write through links or replace them: use the file it points to, or remove the link", path.display())]
    LinkedFile { path: PathBuf },
    /// The file to write is a folder, a socket or the like.
    #[error("`{}` is not a regular file; baton writes only regular files: move it away", path.display())]
    NotAFile { path: PathBuf },
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
}

impl WriteError {
    pub fn io(action: &'static str, path: &Path, source: io::Error) -> WriteError {
        WriteError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }

    /// A new file was asked for and a regular file of that name is there already.
    pub fn already_exists(&self) -> bool {
        matches!(self, WriteError::Io { source, .. } if source.kind() == io::ErrorKind::AlreadyExists)
    }
}

/// A folder that baton has checked it may write into. Files are named inside it by plain
/// names (no `/`, no `..`), so nothing written through it lands elsewhere.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SafeDir {
    path: PathBuf,
}

/// The workspace's `.baton` folder, made if missing, with its `.gitignore`: refused when it is
/// a link, not a folder, or not the user's, or when its `.gitignore` is a link.
pub fn baton_dir(workspace_root: &Path) -> Result<SafeDir, WriteError> {
    let dir = SafeDir::checked(workspace_root.join(BATON_DIR), current_user())?;
    dir.ensure_gitignore()?;
    Ok(dir)
}

impl SafeDir {
    /// A folder the user named (the one `baton init` fills, the user's configuration folder),
    /// made with its parents when missing. Links on the way are the user's own layout and are
    /// followed; the files written into it are still created without following any.
    pub fn chosen(path: &Path) -> Result<SafeDir, WriteError> {
        fs::create_dir_all(path)
            .map_err(|error| WriteError::io("create the folder", path, error))?;
        Ok(SafeDir {
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The folder `name` inside this one, made if missing, checked as `.baton` is.
    pub fn subdir(&self, name: &str) -> Result<SafeDir, WriteError> {
        SafeDir::checked(self.child(name)?, current_user())
    }

    /// Creates the file `name`, which must not exist (not even as a dangling link), opened
    /// for appending.
    pub fn create_new(&self, name: &str) -> Result<File, WriteError> {
        let path = self.child(name)?;
        let mut options = OpenOptions::new();
        options.append(true).create_new(true);
        no_follow(&mut options)
            .open(&path)
            .map_err(|error| explain("create", &path, error))
    }

    /// Writes a new file `name` with `bytes`; fails if anything of that name exists.
    pub fn write_new(&self, name: &str, bytes: &[u8]) -> Result<(), WriteError> {
        let path = self.child(name)?;
        self.create_new(name)?
            .write_all(bytes)
            .map_err(|error| WriteError::io("write", &path, error))
    }

    /// Opens the file `name` for appending, creating it if missing; refused when it is a link
    /// or not a regular file.
    pub fn append(&self, name: &str) -> Result<File, WriteError> {
        let path = self.child(name)?;
        if cfg!(not(unix)) {
            // Without O_NOFOLLOW, look first: a narrower guarantee, but no link is opened
            // knowingly.
            replaceable(&path)?;
        }
        let mut options = OpenOptions::new();
        options.append(true).create(true);
        let file = no_follow(&mut options)
            .open(&path)
            .map_err(|error| explain("open", &path, error))?;
        let metadata = file
            .metadata()
            .map_err(|error| WriteError::io("inspect", &path, error))?;
        if !metadata.is_file() {
            return Err(WriteError::NotAFile { path });
        }
        Ok(file)
    }

    /// Replaces the file `name` with `bytes` at once (see [`replace_atomically`]).
    pub fn replace(&self, name: &str, bytes: &[u8]) -> Result<PathBuf, WriteError> {
        let path = self.child(name)?;
        replace_atomically(&path, bytes)?;
        Ok(path)
    }

    /// Makes the names of files created here durable, not only their bytes. A no-op where
    /// folders cannot be opened (Windows).
    pub fn sync(&self) -> Result<(), WriteError> {
        sync_folder(&self.path)
    }

    /// The folder at `path`, made if missing, then looked at without following a link.
    fn checked(path: PathBuf, user: Option<u32>) -> Result<SafeDir, WriteError> {
        // `create_dir` does not follow a link at its own name: a link, dangling or not, makes
        // it fail with "exists", and the look below says what is there.
        match fs::create_dir(&path) {
            Ok(()) => {
                if let Some(parent) = path.parent() {
                    sync_folder(parent)?;
                }
            }
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
            Err(error) => return Err(WriteError::io("create the folder", &path, error)),
        }
        let metadata =
            fs::symlink_metadata(&path).map_err(|error| WriteError::io("inspect", &path, error))?;
        check_folder(&path, Found::of(&metadata), user)?;
        Ok(SafeDir { path })
    }

    /// `self/name` when `name` is one plain file name.
    fn child(&self, name: &str) -> Result<PathBuf, WriteError> {
        let mut components = Path::new(name).components();
        match (components.next(), components.next()) {
            (Some(Component::Normal(_)), None) => Ok(self.path.join(name)),
            _ => Err(WriteError::io(
                "name a file in",
                &self.path,
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{name:?} is not a plain file name"),
                ),
            )),
        }
    }

    /// Writes `.gitignore` when it is missing; leaves the user's own; refuses a link.
    fn ensure_gitignore(&self) -> Result<(), WriteError> {
        match self.write_new(".gitignore", GITIGNORE.as_bytes()) {
            Err(error) if error.already_exists() => {
                replaceable(&self.path.join(".gitignore"))?;
                Ok(())
            }
            other => other,
        }
    }
}

/// Replaces the file at `path` with `bytes` at once: a crash leaves the old file or the new,
/// never half of one. The bytes go to a temp file with a random name beside it (created with
/// `O_EXCL`, so a link planted at a guessable name is never written through), keeping the
/// old file's permissions, and the temp file is renamed over `path`. A `path` that is a link
/// is refused, not replaced: the link may be the user's, and the file it names is not ours to
/// move. The folder of `path` must exist.
pub fn replace_atomically(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let permissions = replaceable(path)?;
    let folder = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".baton.tmp")
        .tempfile_in(folder)
        .map_err(|error| WriteError::io("create a temporary file in", folder, error))?;
    let written = (|| {
        temp.write_all(bytes)?;
        if let Some(permissions) = permissions {
            temp.as_file().set_permissions(permissions)?;
        }
        temp.as_file().sync_all()
    })();
    written.map_err(|error| WriteError::io("write", temp.path(), error))?;
    // On failure the temp file is removed when `PersistError` drops it.
    temp.persist(path)
        .map_err(|error| WriteError::io("replace", path, error.error))?;
    sync_folder(folder)
}

/// Whether `path` may be replaced: missing (`None`), or a regular file (its permissions).
/// A link is refused even when it points at a regular file.
pub fn replaceable(path: &Path) -> Result<Option<Permissions>, WriteError> {
    match fs::symlink_metadata(path) {
        Ok(metadata) if metadata.file_type().is_symlink() => Err(WriteError::LinkedFile {
            path: path.to_path_buf(),
        }),
        Ok(metadata) if !metadata.is_file() => Err(WriteError::NotAFile {
            path: path.to_path_buf(),
        }),
        Ok(metadata) => Ok(Some(metadata.permissions())),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(WriteError::io("inspect", path, error)),
    }
}

/// What stands at a folder's path, as far as writing into it goes.
#[derive(Clone, Copy, Debug)]
struct Found {
    link: bool,
    folder: bool,
    /// The owner's uid, where the system has one.
    owner: Option<u32>,
}

impl Found {
    fn of(metadata: &Metadata) -> Found {
        Found {
            link: metadata.file_type().is_symlink(),
            folder: metadata.is_dir(),
            owner: owner(metadata),
        }
    }
}

/// The rule for a folder baton writes into, given what is there and who the user is.
fn check_folder(path: &Path, found: Found, user: Option<u32>) -> Result<(), WriteError> {
    let path = path.to_path_buf();
    if found.link {
        return Err(WriteError::LinkedFolder { path });
    }
    if !found.folder {
        return Err(WriteError::NotAFolder { path });
    }
    match (found.owner, user) {
        (Some(owner), Some(user)) if owner != user => {
            Err(WriteError::NotYours { path, owner, user })
        }
        _ => Ok(()),
    }
}

/// A failed open explained: a link at the name says so, rather than "exists" or "too many
/// levels of symbolic links".
fn explain(action: &'static str, path: &Path, error: io::Error) -> WriteError {
    match fs::symlink_metadata(path) {
        Ok(metadata) if metadata.file_type().is_symlink() => WriteError::LinkedFile {
            path: path.to_path_buf(),
        },
        _ => WriteError::io(action, path, error),
    }
}

#[cfg(unix)]
fn no_follow(options: &mut OpenOptions) -> &mut OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    options.custom_flags(libc::O_NOFOLLOW)
}

#[cfg(not(unix))]
fn no_follow(options: &mut OpenOptions) -> &mut OpenOptions {
    options
}

#[cfg(unix)]
fn owner(metadata: &Metadata) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    Some(metadata.uid())
}

#[cfg(not(unix))]
fn owner(_: &Metadata) -> Option<u32> {
    None
}

/// The user baton runs as: the effective uid, the one files are created with.
#[cfg(unix)]
fn current_user() -> Option<u32> {
    // SAFETY: geteuid has no preconditions, touches no memory of ours and cannot fail.
    Some(unsafe { libc::geteuid() })
}

#[cfg(not(unix))]
fn current_user() -> Option<u32> {
    None
}

fn sync_folder(folder: &Path) -> Result<(), WriteError> {
    if cfg!(unix) {
        File::open(folder)
            .and_then(|dir| dir.sync_all())
            .map_err(|error| WriteError::io("sync the folder", folder, error))?;
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests;
