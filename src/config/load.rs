//! Reading, merging and validating the configuration files; with `discover`, the only part of
//! `config` that does IO.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::brief::diagnostic::Severity;

use super::merge::merge;
use super::parse::{parse, ConfigError, ParsedConfig};
use super::validate::unknown_agents;
use super::{document_glob, Config};
use crate::privacy::parse_terms_file;

/// A problem in one configuration file, with the file's text so that its range can be turned
/// into a line and column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigProblem {
    pub path: PathBuf,
    pub text: String,
    pub error: ConfigError,
    pub severity: Severity,
}

/// The outcome of [`load`]: the configuration built from the files that could be used, and
/// every problem found in them.
#[derive(Clone, Debug, Default)]
pub struct Loaded {
    pub config: Config,
    pub problems: Vec<ConfigProblem>,
    /// Files that could not be read or parsed, and so contributed nothing to `config`.
    pub failed: Vec<PathBuf>,
}

impl Loaded {
    /// Whether every file that exists was read and parsed. When not, `config` lacks the broken
    /// file entirely, and a caller that already has a configuration should keep its last good
    /// one rather than silently lose the agents of the file being edited.
    pub fn is_ok(&self) -> bool {
        self.failed.is_empty()
    }
}

/// Reads, parses, merges and validates the two files. A file that does not exist is skipped
/// silently; one that cannot be read or parsed is a problem, is listed in `failed`, and
/// contributes nothing (see [`Loaded::is_ok`]).
pub fn load(workspace: Option<&Path>, user: Option<&Path>) -> Loaded {
    let mut loaded = Loaded::default();
    let user = user.and_then(|path| read(path, &mut loaded));
    let workspace = workspace.and_then(|path| read(path, &mut loaded));
    let user_layer = user.as_ref().and_then(|file| file.parsed.as_ref());
    let workspace_layer = workspace.as_ref().and_then(|file| file.parsed.as_ref());

    let file = merge(
        user_layer.map(|p| p.file.clone()),
        workspace_layer.map(|p| p.file.clone()),
    );
    // With a file missing from the merge, its agents would look undefined to the other file.
    let complete = loaded.failed.is_empty();
    for layer in [&user, &workspace]
        .into_iter()
        .flatten()
        .filter(|_| complete)
    {
        let Some(parsed) = &layer.parsed else {
            continue;
        };
        for error in unknown_agents(&parsed.agent_refs, &file.agents) {
            loaded.problem(layer, error, Severity::Error);
        }
    }

    let root = workspace
        .as_ref()
        .and_then(|w| w.path.parent().map(Path::to_path_buf));
    let mut config = Config::new(file, root);
    config.workspace_path = workspace.as_ref().map(|w| w.path.clone());
    config.user_path = user.as_ref().map(|u| u.path.clone());
    // The user's first, so that a workspace agent of the same name takes its place.
    for layer in [&user, &workspace].into_iter().flatten() {
        let Some(parsed) = &layer.parsed else {
            continue;
        };
        for (name, range) in &parsed.agent_spans {
            let location = (layer.path.clone(), range.clone());
            config.agent_locations.insert(name.clone(), location);
        }
    }
    if let Some(user) = &user {
        read_terms_file(user, None, &mut config, &mut loaded);
    }
    if let Some(workspace) = &workspace {
        // A cloned repository names its own terms_file: it may not read outside itself.
        let folder = workspace.path.parent();
        read_terms_file(workspace, folder, &mut config, &mut loaded);
    }
    loaded.config = config;
    loaded
}

/// Adds the terms of the layer's `[privacy] terms_file` (relative to the layer's own file) to
/// `config`. A file that cannot be read is an error at `terms_file`, and marks the terms
/// unreadable: every send to a remote agent is refused until it is fixed (fail closed).
/// `inside`: the folder the file must lie in (a workspace's), symbolic links resolved.
fn read_terms_file(layer: &Layer, inside: Option<&Path>, config: &mut Config, loaded: &mut Loaded) {
    let Some(parsed) = &layer.parsed else { return };
    let privacy = parsed.file.privacy.as_ref();
    let Some(name) = privacy.and_then(|privacy| privacy.terms_file.as_deref()) else {
        return;
    };
    let folder = layer.path.parent().unwrap_or(Path::new(""));
    let path = folder.join(name);
    match read_terms_text(&path, inside) {
        Ok(text) => config.terms.extend(parse_terms_file(&text)),
        Err(why) => {
            let why = format!("cannot read {}: {why}", path.display());
            let message = format!(
                "{why}; until it can be read, nothing is sent to a remote agent (its terms are unknown)"
            );
            let range = parsed.terms_file_span.clone().unwrap_or(0..0);
            loaded.problem(layer, ConfigError { range, message }, Severity::Error);
            config.terms.set_unreadable(why);
        }
    }
}

/// The most a terms file may hold: a list of names, not a dump.
const MAX_TERMS_FILE: u64 = 1 << 20;

/// The text of a terms file: a regular file of UTF-8 text, at most [`MAX_TERMS_FILE`] bytes,
/// inside `inside` when given (so a repository cannot make baton read `/dev/zero`, a pipe or a
/// file of the user's elsewhere).
fn read_terms_text(path: &Path, inside: Option<&Path>) -> Result<String, String> {
    let real = path.canonicalize().map_err(|e| e.to_string())?;
    if let Some(folder) = inside {
        let folder = folder.canonicalize().map_err(|e| e.to_string())?;
        if !real.starts_with(&folder) {
            return Err(format!(
                "it is outside the workspace {} (a workspace's terms_file must lie inside it)",
                folder.display()
            ));
        }
    }
    let file = fs::File::open(&real).map_err(|e| e.to_string())?;
    let metadata = file.metadata().map_err(|e| e.to_string())?;
    if !metadata.is_file() {
        return Err("it is not a regular file".to_owned());
    }
    if metadata.len() > MAX_TERMS_FILE {
        return Err(format!("it is larger than {} KiB", MAX_TERMS_FILE / 1024));
    }
    let mut bytes = Vec::new();
    io::Read::read_to_end(&mut io::Read::take(file, MAX_TERMS_FILE), &mut bytes)
        .map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_owned())
}

/// One file that exists; `parsed` is `None` when it could not be read or parsed.
struct Layer {
    path: PathBuf,
    text: String,
    parsed: Option<ParsedConfig>,
}

impl Loaded {
    fn problem(&mut self, layer: &Layer, error: ConfigError, severity: Severity) {
        self.problems.push(ConfigProblem {
            path: layer.path.clone(),
            text: layer.text.clone(),
            error,
            severity,
        });
    }
}

/// Reads and parses one file, recording its problems; `None` when it does not exist.
fn read(path: &Path, loaded: &mut Loaded) -> Option<Layer> {
    let mut layer = Layer {
        path: path.to_path_buf(),
        text: String::new(),
        parsed: None,
    };
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
        Err(e) => {
            return Some(layer.fail(loaded, format!("cannot read {}: {e}", path.display()), 0..0))
        }
    };
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            layer.text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let message = format!(
                "{} is not UTF-8 text (invalid byte at offset {at})",
                path.display()
            );
            return Some(layer.fail(loaded, message, 0..0));
        }
    };
    layer.text = text;
    match parse(&layer.text) {
        Err(error) => Some(layer.fail(loaded, error.message, error.range)),
        Ok(parsed) => {
            for warning in &parsed.warnings {
                loaded.problem(&layer, warning.clone(), Severity::Warning);
            }
            for error in &parsed.errors {
                loaded.problem(&layer, error.clone(), Severity::Error);
            }
            for (i, pattern) in parsed.file.documents.iter().enumerate() {
                if let Err(e) = document_glob(pattern) {
                    let range = parsed.document_spans.get(i).cloned().unwrap_or(0..0);
                    let message = format!("invalid glob `{pattern}`: {}", e.kind());
                    loaded.problem(&layer, ConfigError { range, message }, Severity::Error);
                }
            }
            layer.parsed = Some(parsed);
            Some(layer)
        }
    }
}

impl Layer {
    fn fail(self, loaded: &mut Loaded, message: String, range: std::ops::Range<usize>) -> Layer {
        loaded.problem(&self, ConfigError { range, message }, Severity::Error);
        loaded.failed.push(self.path.clone());
        self
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A fresh folder under the system's temp dir, unique to this test and process.
    pub(crate) fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("baton-config-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn files_are_merged_and_problems_located_in_the_file_at_fault() {
        let dir = scratch("load");
        let user = dir.join("config.toml");
        let workspace = dir.join("ws/baton.toml");
        fs::create_dir_all(dir.join("ws")).unwrap();
        fs::write(
            &user,
            "[agents.local]\nprovider = \"ollama\"\nmodle = \"x\"\n",
        )
        .unwrap();
        let ws_text = "documents = [\"*.task.md\", \"[x\"]\n[agents.r]\nprovider = \"openai\"\n\
                       fallback = [\"local\", \"gone\"]\n";
        fs::write(&workspace, ws_text).unwrap();

        let loaded = load(Some(&workspace), Some(&user));
        assert!(loaded.is_ok());
        let config = &loaded.config;
        assert_eq!(config.agent_names().collect::<Vec<_>>(), ["local", "r"]);
        assert_eq!(config.root.as_deref(), Some(dir.join("ws").as_path()));
        assert!(config.matches_document(&dir.join("ws/sub/a.task.md")));
        let (file, range) = &config.agent_locations["local"];
        assert_eq!(
            (file, &fs::read_to_string(&user).unwrap()[range.clone()]),
            (&user, "[agents.local]")
        );

        let problems: Vec<_> = loaded
            .problems
            .iter()
            .map(|p| {
                (
                    p.path.file_name().unwrap(),
                    &p.text[p.error.range.clone()],
                    p.severity,
                )
            })
            .collect();
        assert_eq!(
            problems,
            [
                ("config.toml".as_ref(), "modle", Severity::Warning),
                ("baton.toml".as_ref(), "\"[x\"", Severity::Error),
                ("baton.toml".as_ref(), "\"gone\"", Severity::Error),
            ]
        );

        // A broken file contributes nothing; a missing one is no problem at all.
        fs::write(&workspace, "[agents.r\n").unwrap();
        let loaded = load(Some(&workspace), Some(&dir.join("missing.toml")));
        assert!(!loaded.is_ok());
        assert_eq!(loaded.failed, [workspace]);
        assert_eq!(loaded.problems.len(), 1);
        assert_eq!(loaded.config.agent_names().count(), 0);
        assert_eq!(loaded.config.user_path, None);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn terms_files_are_read_beside_their_config_and_a_missing_one_fails_closed() {
        let dir = scratch("terms");
        let user = dir.join("config.toml");
        let workspace = dir.join("ws/baton.toml");
        fs::create_dir_all(dir.join("ws/.baton")).unwrap();
        fs::write(
            &user,
            "[privacy]\nterms = [\"Initech\"]\nterms_file = \"mine.txt\"\n",
        )
        .unwrap();
        fs::write(dir.join("mine.txt"), "# mine\nGlobex\n").unwrap();
        let ws_text = "[privacy]\nterms_file = \".baton/terms.txt\"\n";
        fs::write(&workspace, ws_text).unwrap();
        fs::write(dir.join("ws/.baton/terms.txt"), "Acme Corp\n\n").unwrap();

        let loaded = load(Some(&workspace), Some(&user));
        assert_eq!(loaded.problems, []);
        let terms = &loaded.config.terms;
        assert_eq!(terms.terms(), ["Initech", "Globex", "Acme Corp"]);
        assert_eq!(terms.unreadable(), None);

        fs::remove_file(dir.join("ws/.baton/terms.txt")).unwrap();
        let loaded = load(Some(&workspace), Some(&user));
        assert_eq!(loaded.problems.len(), 1);
        let problem = &loaded.problems[0];
        assert_eq!(
            &problem.text[problem.error.range.clone()],
            "\".baton/terms.txt\""
        );
        assert_eq!(problem.severity, Severity::Error);
        assert!(problem
            .error
            .message
            .contains("nothing is sent to a remote agent"));
        assert!(loaded
            .config
            .terms
            .unreadable()
            .unwrap()
            .contains("terms.txt"));
        // A workspace may not name a file outside itself, nor a device.
        for outside in ["../mine.txt", "/dev/zero"] {
            fs::write(
                &workspace,
                format!("[privacy]\nterms_file = \"{outside}\"\n"),
            )
            .unwrap();
            let loaded = load(Some(&workspace), Some(&user));
            let unreadable = loaded.config.terms.unreadable().unwrap();
            assert!(unreadable.contains("outside the workspace"), "{unreadable}");
        }
        fs::write(&workspace, "[privacy]\nterms_file = \"big.txt\"\n").unwrap();
        fs::write(dir.join("ws/big.txt"), "x".repeat(2 << 20)).unwrap();
        let loaded = load(Some(&workspace), Some(&user));
        let unreadable = loaded.config.terms.unreadable().unwrap();
        assert!(unreadable.contains("larger than 1024 KiB"), "{unreadable}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
