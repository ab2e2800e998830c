//! The linter's view of the folder a document lives in: which configuration applies, what
//! the other documents its links name contain, and what the machine says about sending (which
//! key variables are set). Shared by `baton check` and the server.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::brief::kind::Kinds;
pub use crate::brief::lint::Machine;
use crate::brief::lint::OtherDocuments;
use crate::brief::model;
use crate::config::{self, key_variable, policy, Config, ConfigProblem};
use crate::document::{Document, MAX_LINTED_BYTES};

/// A configuration with the kinds it defines, ready to lint with. Cheap to clone.
#[derive(Clone, Default)]
pub struct Settings {
    pub config: Arc<Config>,
    pub kinds: Arc<Kinds>,
}

impl Settings {
    pub fn new(config: Config) -> Self {
        let kinds = Kinds::from_config(&config.file.kinds);
        Settings {
            config: Arc::new(config),
            kinds: Arc::new(kinds),
        }
    }

    /// The configuration for a document or folder: the nearest `baton.toml` above it, over
    /// the user's configuration. Problems in either file come back beside it.
    pub fn discover(start: &Path) -> (Settings, Vec<ConfigProblem>) {
        let loaded = config::discover(start);
        (Settings::new(loaded.config), loaded.problems)
    }
}

impl Machine {
    /// The machine as this process sees it: which of the variables the agents of `config`
    /// name in `api_key_env` are set (to something not empty), and whether the caller found
    /// the workspace `trusted`. Only the variables' presence is read into it, never a value, and
    /// only for agents the trust policy allows.
    pub fn detect(config: &Config, trusted_workspace: bool) -> Machine {
        // A refused agent's variable is not looked at: nothing of its key is read.
        let set_variables = config
            .file
            .agents
            .iter()
            .filter(|(name, _)| policy::refusal(config, name, trusted_workspace).is_none())
            .filter_map(|(_, agent)| agent.api_key_env.as_deref())
            .filter(|name| key_variable::is_name(name) && is_set(name))
            .map(str::to_owned)
            .collect();
        Machine {
            trusted_workspace,
            set_variables,
        }
    }
}

/// Whether the environment variable `name` is set and not empty. A name the environment
/// cannot hold (empty, with `=` or NUL) is never set.
fn is_set(name: &str) -> bool {
    let valid = !name.is_empty() && !name.contains(['=', '\0']);
    valid && std::env::var_os(name).is_some_and(|value| !value.is_empty())
}

/// Reads the documents that links name, relative to the linted document, preferring what the
/// editor holds open (`open`) over the disk. Each document is read at most once per lint.
pub struct LinkedDocuments<'a> {
    dir: PathBuf,
    open: &'a dyn Fn(&Path) -> Option<Document>,
    cache: RefCell<HashMap<PathBuf, Option<Vec<String>>>>,
}

impl<'a> LinkedDocuments<'a> {
    /// `document` is the linted document's path; `open` looks up editor buffers by path.
    pub fn new(document: &Path, open: &'a dyn Fn(&Path) -> Option<Document>) -> Self {
        let dir = document.parent().map(Path::to_path_buf).unwrap_or_default();
        LinkedDocuments {
            dir,
            open,
            cache: RefCell::default(),
        }
    }

    fn read(&self, path: &Path) -> Option<Vec<String>> {
        let document = match (self.open)(path) {
            Some(document) => document,
            None => {
                let metadata = std::fs::metadata(path).ok()?;
                if !metadata.is_file() || metadata.len() > MAX_LINTED_BYTES as u64 {
                    return None;
                }
                let bytes = std::fs::read(path).ok()?;
                Document::new(&String::from_utf8_lossy(&bytes))
            }
        };
        Some(
            model::briefs(&document)
                .into_iter()
                .map(|brief| brief.title)
                .collect(),
        )
    }
}

/// Documents open nowhere: every linked document is read from disk.
pub fn no_open_documents(_: &Path) -> Option<Document> {
    None
}

impl OtherDocuments for LinkedDocuments<'_> {
    fn titles(&self, file: &str) -> Option<Vec<String>> {
        let path = resolve_link(&self.dir, file);
        if let Some(cached) = self.cache.borrow().get(&path) {
            return cached.clone();
        }
        let titles = self.read(&path);
        self.cache.borrow_mut().insert(path, titles.clone());
        titles
    }
}

/// The path a link's `file` names, relative to the folder `dir` of the linking document.
pub fn resolve_link(dir: &Path, file: &str) -> PathBuf {
    normalize(&dir.join(percent_decode(file)))
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
fn percent_decode(text: &str) -> String {
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

    #[test]
    fn resolves_relative_links_and_prefers_open_buffers() {
        let open = |path: &Path| {
            (path == Path::new("/ws/plans/b.brief.md")).then(|| Document::new("# Plan @x\n"))
        };
        let linked = LinkedDocuments::new(Path::new("/ws/notes/a.brief.md"), &open);
        assert_eq!(
            linked.titles("../plans/./b.brief.md"),
            Some(vec!["Plan".to_owned()])
        );
        assert_eq!(linked.titles("../plans/missing%20file.brief.md"), None);
    }

    #[test]
    fn the_machine_knows_which_key_variables_are_set() {
        let config = Config::from_toml(
            "[agents.a]\nprovider = \"openai\"\napi_key_env = \"PATH\"\n\
             [agents.b]\nprovider = \"openai\"\napi_key_env = \"BATON_TEST_SURELY_UNSET_9F2C\"\n\
             [agents.c]\nprovider = \"openai\"\napi_key_env = \"\"\n",
        )
        .unwrap();
        let machine = Machine::detect(&config, true);
        assert!(machine.trusted_workspace);
        let path_set = std::env::var_os("PATH").is_some_and(|path| !path.is_empty());
        assert_eq!(machine.is_set("PATH"), path_set);
        assert!(!machine.is_set("BATON_TEST_SURELY_UNSET_9F2C"));
        assert!(!machine.is_set(""));
    }
}
