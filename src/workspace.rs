//! The linter's view of the folder a document lives in: which configuration applies, what
//! the other documents its links name contain, and what the machine says about sending (which
//! key variables are set). Shared by `baton check` and the server. Links read nothing outside
//! the workspace ([`boundary`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub mod boundary;

use crate::brief::input::{self, Input};
use crate::brief::kind::Kinds;
use crate::brief::link::Target;
pub use crate::brief::lint::Machine;
use crate::brief::lint::{LinkedDocument, OtherDocuments};
use crate::brief::model;
use crate::config::{self, key_variable, policy, Config, ConfigProblem};
use crate::document::{Document, MAX_LINTED_BYTES};
use boundary::percent_decode;
pub use boundary::{normalize, Boundary, Located};

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
            check_keys: true,
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
/// editor holds open (`open`) over the disk, and only inside the document's [`Boundary`]: a
/// link that leaves it is answered `Outside` and nothing there is read. Each document's titles
/// are read at most once per lint.
pub struct LinkedDocuments<'a> {
    dir: PathBuf,
    boundary: Boundary,
    open: &'a dyn Fn(&Path) -> Option<Document>,
    cache: RefCell<HashMap<String, LinkedDocument>>,
}

impl<'a> LinkedDocuments<'a> {
    /// `document` is the linted document's path, `boundary` the folder its links may reach;
    /// `open` looks up editor buffers by path.
    pub fn new(
        document: &Path,
        boundary: Boundary,
        open: &'a dyn Fn(&Path) -> Option<Document>,
    ) -> Self {
        let dir = document.parent().map(Path::to_path_buf).unwrap_or_default();
        LinkedDocuments {
            dir,
            boundary,
            open,
            cache: RefCell::default(),
        }
    }

    /// The document the link `file` names, if it is inside the boundary and can be read.
    pub fn document(&self, file: &str) -> Option<Document> {
        match self.boundary.locate(&self.dir, file) {
            Located::Inside { named, real } => self.read(&named, real.as_deref()),
            Located::Outside => None,
        }
    }

    /// The editor's buffer at `named`, else the file at `real` (the checked path, every
    /// symbolic link resolved), if it is a file small enough to lint.
    fn read(&self, named: &Path, real: Option<&Path>) -> Option<Document> {
        if let Some(document) = (self.open)(named) {
            return Some(document);
        }
        let real = real?;
        let metadata = std::fs::metadata(real).ok()?;
        if !metadata.is_file() || metadata.len() > MAX_LINTED_BYTES as u64 {
            return None;
        }
        let bytes = std::fs::read(real).ok()?;
        Some(Document::new(&String::from_utf8_lossy(&bytes)))
    }
}

/// Documents open nowhere: every linked document is read from disk.
pub fn no_open_documents(_: &Path) -> Option<Document> {
    None
}

impl OtherDocuments for LinkedDocuments<'_> {
    fn find(&self, file: &str) -> LinkedDocument {
        if let Some(cached) = self.cache.borrow().get(file) {
            return cached.clone();
        }
        let found = match self.boundary.locate(&self.dir, file) {
            Located::Outside => LinkedDocument::Outside {
                workspace: self.boundary.root().display().to_string(),
            },
            Located::Inside { named, real } => match self.read(&named, real.as_deref()) {
                Some(document) => LinkedDocument::Found(
                    model::briefs(&document)
                        .into_iter()
                        .map(|brief| brief.title)
                        .collect(),
                ),
                None => LinkedDocument::Missing,
            },
        };
        self.cache
            .borrow_mut()
            .insert(file.to_owned(), found.clone());
        found
    }

    fn latest_output(&self, file: &str, target: &Target) -> Option<Input> {
        let other = self.document(file)?;
        let found = model::briefs(&other)
            .into_iter()
            .find(|brief| !brief.title.is_empty() && target.matches_title(&brief.title))?;
        input::latest_output(&other, &found)
    }
}

/// The path a link's `file` names, relative to the folder `dir` of the linking document, as
/// written (no symbolic link resolved): for matching links against each other and against
/// open documents. What may be read goes through [`Boundary::locate`].
pub fn resolve_link(dir: &Path, file: &str) -> PathBuf {
    normalize(&dir.join(percent_decode(file)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_relative_links_and_prefers_open_buffers() {
        let open = |path: &Path| {
            (path == Path::new("/ws/plans/b.brief.md")).then(|| Document::new("# Plan @x\n"))
        };
        let boundary = Boundary::at(Path::new("/ws"));
        let linked = LinkedDocuments::new(Path::new("/ws/notes/a.brief.md"), boundary, &open);
        assert_eq!(
            linked.find("../plans/./b.brief.md"),
            LinkedDocument::Found(vec!["Plan".to_owned()])
        );
        assert_eq!(
            linked.find("../plans/missing%20file.brief.md"),
            LinkedDocument::Missing
        );
        assert_eq!(
            linked.find("../../elsewhere/b.brief.md"),
            LinkedDocument::Outside {
                workspace: "/ws".into()
            }
        );
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
