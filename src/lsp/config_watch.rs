//! Which `baton.toml` applies where, and keeping it current.
//!
//! The workspace file is found by walking up once per folder and loaded once per file (with
//! the user's file merged under it), so no keystroke ever touches the disk for configuration.
//! When a `baton.toml` changes, every configuration in use is reloaded; a file that no longer
//! parses keeps its last good configuration in force while its problems are shown on it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use tower_lsp_server::ls_types as lsp;
use tower_lsp_server::Client;

use crate::config::{self, ConfigProblem, Loaded, WORKSPACE_FILE};
use crate::workspace::Settings;

/// The problems of one configuration file, to publish on it; empty clears what was shown.
#[derive(Debug)]
pub struct Report {
    pub path: PathBuf,
    pub problems: Vec<ConfigProblem>,
}

/// The configurations in use, by workspace file.
pub struct Configs {
    user: Option<PathBuf>,
    cache: Mutex<Cache>,
}

#[derive(Default)]
struct Cache {
    /// Folder → the `baton.toml` found walking up from it.
    folders: HashMap<PathBuf, Option<PathBuf>>,
    /// Workspace file (`None`: the user's file alone) → its last good settings.
    settings: HashMap<Option<PathBuf>, Settings>,
    /// Configuration files whose problems are on screen, so that fixed ones get cleared.
    reported: HashSet<PathBuf>,
}

impl Default for Configs {
    fn default() -> Self {
        Configs::new(config::user_config_path())
    }
}

impl Configs {
    pub fn new(user: Option<PathBuf>) -> Self {
        Configs {
            user,
            cache: Mutex::default(),
        }
    }

    fn cache(&self) -> MutexGuard<'_, Cache> {
        // A panic while the lock was held leaves plain maps behind, still usable.
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether a changed file is one the configuration is read from.
    pub fn is_config_file(&self, path: &Path) -> bool {
        path.file_name() == Some(WORKSPACE_FILE.as_ref()) || self.user.as_deref() == Some(path)
    }

    /// The settings for documents in `folder` (`None`: no folder known), loading them on first
    /// use; with the problems to show if this was their first load.
    pub fn settings_for(&self, folder: Option<&Path>) -> (Settings, Vec<Report>) {
        let workspace = self.workspace_file(folder);
        if let Some(settings) = self.cache().settings.get(&workspace) {
            return (settings.clone(), Vec::new());
        }
        // Load outside the lock: two handlers racing here both load, and one result wins.
        let loaded = config::load(workspace.as_deref(), self.user.as_deref());
        let problems = problems_by_file([&loaded]);
        let mut cache = self.cache();
        let settings = cache
            .settings
            .entry(workspace.clone())
            .or_insert_with(|| Settings::new(loaded.config))
            .clone();
        let scope = workspace.into_iter().chain(self.user.clone()).collect();
        (settings, cache.reports(problems, scope))
    }

    /// Reloads every configuration in use and forgets which folder uses which file (a
    /// `baton.toml` may have been created or deleted). Returns the problems to show.
    pub fn reload(&self) -> Vec<Report> {
        let workspaces: Vec<Option<PathBuf>> = {
            let mut cache = self.cache();
            cache.folders.clear();
            cache.settings.keys().cloned().collect()
        };
        let loads: Vec<(Option<PathBuf>, Loaded)> = workspaces
            .into_iter()
            .map(|workspace| {
                let loaded = config::load(workspace.as_deref(), self.user.as_deref());
                (workspace, loaded)
            })
            .collect();
        let mut cache = self.cache();
        let mut scope: Vec<PathBuf> = self.user.iter().cloned().collect();
        for (workspace, loaded) in &loads {
            scope.extend(workspace.clone());
            if loaded.is_ok() || !cache.settings.contains_key(workspace) {
                let settings = Settings::new(loaded.config.clone());
                cache.settings.insert(workspace.clone(), settings);
            } else {
                tracing::info!(
                    "keeping the last good configuration: {:?} does not load",
                    loaded.failed
                );
            }
        }
        scope.extend(cache.reported.iter().cloned());
        cache.reports(problems_by_file(loads.iter().map(|(_, l)| l)), scope)
    }

    fn workspace_file(&self, folder: Option<&Path>) -> Option<PathBuf> {
        let folder = folder?;
        if let Some(found) = self.cache().folders.get(folder) {
            return found.clone();
        }
        let found = config::find_workspace_config(folder);
        self.cache()
            .folders
            .insert(folder.to_path_buf(), found.clone());
        found
    }
}

impl Cache {
    /// One report per file in `scope`: its problems, or none (to clear what was shown).
    fn reports(
        &mut self,
        mut problems: BTreeMap<PathBuf, Vec<ConfigProblem>>,
        scope: Vec<PathBuf>,
    ) -> Vec<Report> {
        for path in scope {
            problems.entry(path).or_default();
        }
        let mut reports = Vec::new();
        for (path, problems) in problems {
            let shown_before = if problems.is_empty() {
                self.reported.remove(&path)
            } else {
                !self.reported.insert(path.clone())
            };
            // Nothing to show and nothing shown: nothing to say.
            if !problems.is_empty() || shown_before {
                reports.push(Report { path, problems });
            }
        }
        reports
    }
}

/// Problems grouped by the file they are in; a file read by several loads counts once.
fn problems_by_file<'a>(
    loads: impl IntoIterator<Item = &'a Loaded>,
) -> BTreeMap<PathBuf, Vec<ConfigProblem>> {
    let mut by_file: BTreeMap<PathBuf, Vec<ConfigProblem>> = BTreeMap::new();
    for loaded in loads {
        let mut this_load: BTreeMap<PathBuf, Vec<ConfigProblem>> = BTreeMap::new();
        for problem in &loaded.problems {
            this_load
                .entry(problem.path.clone())
                .or_default()
                .push(problem.clone());
        }
        by_file.extend(this_load);
    }
    by_file
}

/// Asks the client to tell the server about `baton.toml` changes. Spawned, never awaited in a
/// handler: a client that answers late must not stall the server's message loop.
pub fn register_watcher(client: Client) {
    tokio::spawn(async move {
        let options = lsp::DidChangeWatchedFilesRegistrationOptions {
            watchers: vec![lsp::FileSystemWatcher {
                glob_pattern: lsp::GlobPattern::String(format!("**/{WORKSPACE_FILE}")),
                kind: None,
            }],
        };
        let registration = lsp::Registration {
            id: "baton-config-watcher".to_owned(),
            method: "workspace/didChangeWatchedFiles".to_owned(),
            register_options: serde_json::to_value(options).ok(),
        };
        if let Err(error) = client.register_capability(vec![registration]).await {
            tracing::warn!("the client refused the baton.toml watcher: {error}");
        }
    });
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("baton-lsp-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("ws/notes")).unwrap();
        dir
    }

    #[test]
    fn loads_once_keeps_the_last_good_config_and_clears_fixed_problems() {
        let dir = scratch("configs");
        let file = dir.join("ws/baton.toml");
        fs::write(&file, "[agents.a]\nprovider = \"ollama\"\n").unwrap();
        let configs = Configs::new(Some(dir.join("missing-user.toml")));
        let folder = dir.join("ws/notes");

        let (settings, reports) = configs.settings_for(Some(&folder));
        assert!(settings.config.agent("a").is_some());
        assert!(reports.is_empty());

        fs::write(&file, "[agents.a\n").unwrap();
        let reports = configs.reload();
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0].path, file);
        assert_eq!(reports[0].problems.len(), 1);
        let (settings, _) = configs.settings_for(Some(&folder));
        assert!(
            settings.config.agent("a").is_some(),
            "last good config kept"
        );

        fs::write(&file, "[agents.b]\nprovider = \"ollama\"\n").unwrap();
        let reports = configs.reload();
        assert_eq!(
            (reports.len(), reports[0].problems.len()),
            (1, 0),
            "cleared"
        );
        let (settings, _) = configs.settings_for(Some(&folder));
        assert!(settings.config.agent("b").is_some());
        assert!(
            configs.reload().is_empty(),
            "nothing shown, nothing to clear"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
