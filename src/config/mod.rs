//! `baton.toml`: the model, discovery, merging and validation.
//!
//! Pure where it can be: [`parse`] and [`merge`] take values and return values; only [`load`]
//! and [`discover`] touch the filesystem. The result is a [`Config`], the merged configuration
//! plus where each agent was defined, and a list of problems located in the files' text.

pub mod agent;
mod discover;
pub mod key_variable;
mod load;
pub mod merge;

pub mod model;
pub mod parse;
pub mod policy;
pub mod routes;
mod schema;
pub mod trust_store;
pub mod validate;

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

use crate::privacy::Terms;
use routes::Routes;

pub use agent::{
    AgentSpec, Locality, Provider, DEFAULT_CONTEXT_WINDOW, DEFAULT_MAX_CONCURRENT, DEFAULT_RETRIES,
    DEFAULT_TIMEOUT_SECS,
};
pub use discover::{discover, find_workspace_config, user_config_path, WORKSPACE_FILE};
pub use load::{load, ConfigProblem, Loaded};
pub use merge::merge;
pub use model::{
    ConfigFile, Defaults, Docs, KindSpec, Output, Privacy, Route, RouteWhen, DEFAULT_MAX_PARALLEL,
};
pub use parse::{parse, AgentRef, ConfigError, ParsedConfig};
pub use validate::unknown_agents;

/// The configuration in force for a workspace: the merged files and where things came from.
#[derive(Clone, Debug, Default)]
pub struct Config {
    pub file: ConfigFile,
    /// The folder holding the workspace `baton.toml`; `documents` globs are relative to it.
    pub root: Option<PathBuf>,
    pub workspace_path: Option<PathBuf>,
    pub user_path: Option<PathBuf>,
    /// Where each agent in force is defined: the file and its `[agents.NAME]` header, for
    /// go-to-definition from `@NAME`.
    pub agent_locations: BTreeMap<String, (PathBuf, Range<usize>)>,
    /// The `[privacy]` terms, inline and from `terms_file` (which [`load`] reads), compiled.
    pub terms: Terms,
    /// `[[routes]]`, compiled once here (see [`routes`]).
    pub routes: Routes,
    documents: GlobSet,
}

impl Config {
    /// A configuration of `file`, with `documents` globs relative to `root`. Globs that do not
    /// compile are left out; [`load`] reports them.
    pub fn new(file: ConfigFile, root: Option<PathBuf>) -> Config {
        let mut globs = GlobSetBuilder::new();
        for glob in file.documents.iter().filter_map(|g| document_glob(g).ok()) {
            globs.add(glob);
        }
        let inline = file.privacy.iter().flat_map(|privacy| &privacy.terms);
        Config {
            documents: globs.build().unwrap_or_default(),
            terms: Terms::new(inline),
            routes: Routes::new(&file.routes),
            file,
            root,
            ..Config::default()
        }
    }

    /// The configuration of one file's `text`, with no root and no file behind it; warnings
    /// are dropped. Meant for fixtures and tests; editors go through [`load`].
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        Ok(Config::new(parse(text)?.file, None))
    }

    /// Whether `path` matches one of the `documents` globs (false when there are none; what
    /// to lint then is the caller's choice). The path is taken relative to `root` when under it.
    pub fn matches_document(&self, path: &Path) -> bool {
        let relative = self
            .root
            .as_deref()
            .and_then(|root| path.strip_prefix(root).ok())
            .unwrap_or(path);
        self.documents.is_match(relative)
    }

    pub fn agent(&self, name: &str) -> Option<&AgentSpec> {
        self.file.agents.get(name)
    }

    /// Whether an answer's headings are demoted under `## Output` (`[output] demote_headings`,
    /// default true).
    pub fn demote_headings(&self) -> bool {
        self.file.output.demote_headings()
    }

    /// The `[docs] base_url` diagnostics link to, when the user set a valid one.
    pub fn docs_base(&self) -> Option<&str> {
        self.file
            .docs
            .base_url
            .as_deref()
            .filter(|url| is_http_url(url))
    }

    /// How many runs of a pipeline may be in flight at once (`[pipeline] max_parallel`,
    /// default 4, at least 1).
    pub fn max_parallel(&self) -> usize {
        (self.file.pipeline.max_parallel)
            .unwrap_or(DEFAULT_MAX_PARALLEL)
            .max(1)
    }

    pub fn agent_names(&self) -> impl Iterator<Item = &str> {
        self.file.agents.keys().map(String::as_str)
    }
}

/// Whether `url` is an absolute `http://` or `https://` address with a host.
pub(crate) fn is_http_url(url: &str) -> bool {
    let rest = (url.strip_prefix("https://")).or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|rest| {
        let host = rest.split(['/', '#', '?']).next().unwrap_or("");
        !host.is_empty() && !url.contains(char::is_whitespace)
    })
}

/// One `documents` entry as a glob. An entry without a `/` matches the file name in any
/// folder, as `.gitignore` does (`*.task.md`); one with a `/` is anchored at the root, and its
/// `*` stays within one folder (`agents/**/*.md`).
pub(crate) fn document_glob(pattern: &str) -> Result<Glob, globset::Error> {
    let anchored = pattern.trim_start_matches("./").trim_start_matches('/');
    let pattern = if pattern.contains('/') {
        anchored.to_string()
    } else {
        format!("**/{pattern}")
    };
    GlobBuilder::new(&pattern).literal_separator(true).build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_globs_match_relative_to_the_root_or_by_file_name() {
        let file = parse(r#"documents = ["agents/**/*.md", "*.task.md", "[oops"]"#)
            .unwrap()
            .file;
        let config = Config::new(file, Some(PathBuf::from("/ws")));
        let matches = |p: &str| config.matches_document(Path::new(p));
        assert!(matches("/ws/agents/a.md"));
        assert!(matches("/ws/agents/deep/er/b.md"));
        assert!(matches("/ws/x.task.md"));
        assert!(matches("/ws/notes/sub/x.task.md"));
        assert!(matches("/elsewhere/y.task.md"));
        assert!(!matches("/ws/notes/agents/a.md"), "anchored at the root");
        assert!(!matches("/ws/agents/a.txt"));
        assert!(!matches("/ws/readme.md"));
        assert!(!Config::default().matches_document(Path::new("/ws/x.task.md")));
        assert_eq!(config.agent_names().count(), 0);
    }

    #[test]
    fn pipeline_max_parallel_is_known_defaults_to_4_and_the_workspace_wins() {
        let parsed = parse("[pipeline]\nmax_parallel = 2\n").unwrap();
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        let workspace = Config::new(parsed.file.clone(), None);
        assert_eq!(workspace.max_parallel(), 2);
        assert_eq!(Config::default().max_parallel(), DEFAULT_MAX_PARALLEL);
        let zero = parse("[pipeline]\nmax_parallel = 0\n").unwrap().file;
        assert_eq!(
            Config::new(zero.clone(), None).max_parallel(),
            1,
            "at least one"
        );
        let merged = merge::merge(Some(zero), Some(parsed.file));
        assert_eq!(merged.pipeline.max_parallel, Some(2));
        let typo = parse("[pipeline]\nmax_paralel = 2\n").unwrap();
        assert_eq!(typo.warnings.len(), 1);
    }
}
