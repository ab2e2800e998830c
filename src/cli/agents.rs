//! `baton agents [DIR] [--format human|json]`: the agents of the configuration in force for
//! `DIR` (its workspace `baton.toml` over the user's file), where each is defined, whether its
//! key is set, and whether it can be reached (`agent::probe`), all probed at once.
//!
//! An agent that needs trust (DESIGN §7) and comes from an untrusted workspace file is not
//! contacted, and its key variable is not even looked up: a probe would send the key to the
//! workspace's endpoint or proxy, which is what trust guards against. It is reported as refused,
//! with the policy's reasons. Keys are never printed, only whether they are set; a value of
//! `api_key_env` that is not a variable name (a pasted key) is not printed either.
//!
//! Exit status: 0 when every agent is ready (answered with a success status, or its program
//! exists), 1 when any is not (unreachable, key rejected, refused, program missing) or a
//! configuration file could not be used, 2 on a usage error.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::agent::probe::{probe, Reach, PROBE_TIMEOUT};
use crate::config::trust_store::workspace_trusted;
use crate::config::{self, AgentSpec, Config, Locality, Provider};
use crate::config::{key_variable, policy};

/// How `baton agents` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}

/// What `baton agents` was asked to do.
#[derive(Clone, Debug)]
pub struct Options {
    pub dir: PathBuf,
    pub format: Format,
}

/// One agent as reported.
#[derive(Clone, Debug, Serialize)]
struct Row {
    name: String,
    provider: Provider,
    model: Option<String>,
    locality: Locality,
    defined_in: Option<Location>,
    key: Key,
    trust: Trust,
    /// `None` when the agent was refused and not contacted.
    reach: Option<Reach>,
    /// Why the agent was refused, the policy's reasons; `None` when it was not.
    refused: Option<String>,
    ok: bool,
}

#[derive(Clone, Debug, Serialize)]
struct Location {
    file: PathBuf,
    line: usize,
}

/// The agent's key variable and whether it is set; never the key. `env` is `None` when
/// `api_key_env` holds no variable name (it may be a pasted key); `valid` says so.
#[derive(Clone, Debug, Serialize)]
struct Key {
    env: Option<String>,
    valid: bool,
    set: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Trust {
    /// The agent can neither run a program nor send a key somewhere unexpected.
    NotNeeded,
    /// Defined in the user's own file, which is always trusted.
    UserConfig,
    /// From a workspace the user trusted (`baton trust` or `BATON_TRUST_WORKSPACE=1`).
    Trusted,
    /// From an untrusted workspace file: not contacted.
    Refused,
}

pub fn run(options: &Options) -> ExitCode {
    if !options.dir.exists() {
        eprintln!("baton agents: {} does not exist", options.dir.display());
        return ExitCode::from(2);
    }
    let loaded = config::discover(&options.dir);
    for problem in &loaded.problems {
        eprintln!(
            "baton agents: {}: {}",
            problem.path.display(),
            problem.error.message
        );
    }
    let config = &loaded.config;
    let rows = match check_all(config) {
        Ok(rows) => rows,
        Err(message) => {
            eprintln!("baton agents: {message}");
            return ExitCode::from(1);
        }
    };
    match options.format {
        Format::Json => match serde_json::to_string_pretty(&rows) {
            Ok(json) => println!("{json}"),
            Err(error) => eprintln!("baton agents: cannot encode the report: {error}"),
        },
        Format::Human if rows.is_empty() => {
            eprintln!("baton agents: no agents are configured (add [agents.NAME] to baton.toml)");
        }
        Format::Human => {
            print!("{}", table(&rows, config));
            let ready = rows.iter().filter(|row| row.ok).count();
            eprintln!("{ready} of {} agents ready", rows.len());
        }
    }
    let all_ok = rows.iter().all(|row| row.ok) && loaded.is_ok();
    ExitCode::from(if all_ok { 0 } else { 1 })
}

/// Every agent's row, the allowed ones probed concurrently.
fn check_all(config: &Config) -> Result<Vec<Row>, String> {
    let needs_trust = config
        .file
        .agents
        .values()
        .any(|spec| !policy::trust_needed(spec).is_empty());
    let workspace_trusted = needs_trust && workspace_trusted(config.root.as_deref());
    let mut texts = HashMap::new();
    let mut rows: Vec<Row> = config
        .file
        .agents
        .iter()
        .map(|(name, spec)| row(name, spec, config, workspace_trusted, &mut texts))
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start the runtime: {error}"))?;
    let reaches = runtime.block_on(async {
        let cancel = CancellationToken::new();
        let mut probes = tokio::task::JoinSet::new();
        for (index, row) in rows.iter().enumerate() {
            if row.trust == Trust::Refused {
                continue;
            }
            let (name, spec) = (row.name.clone(), config.file.agents[&row.name].clone());
            let cancel = cancel.clone();
            probes.spawn(async move { (index, probe(&name, &spec, PROBE_TIMEOUT, &cancel).await) });
        }
        probes.join_all().await
    });
    for (index, reach) in reaches {
        rows[index].ok = reach.is_ok();
        rows[index].reach = Some(reach);
    }
    Ok(rows)
}

/// The row of one agent, before any probe.
fn row(
    name: &str,
    spec: &AgentSpec,
    config: &Config,
    workspace_trusted: bool,
    texts: &mut HashMap<PathBuf, String>,
) -> Row {
    let location = config.agent_locations.get(name);
    // The one trust rule, shared with the linter and the dispatcher.
    let refusal = policy::refusal(config, name, workspace_trusted);
    let trust = if policy::trust_needed(spec).is_empty() {
        Trust::NotNeeded
    } else if !policy::defined_by_workspace(config, name) {
        Trust::UserConfig
    } else if refusal.is_some() {
        Trust::Refused
    } else {
        Trust::Trusted
    };
    let defined_in = location.map(|(file, range)| {
        let text = texts
            .entry(file.clone())
            .or_insert_with(|| fs::read_to_string(file).unwrap_or_default());
        let before = text.get(..range.start).unwrap_or_default();
        Location {
            file: file.clone(),
            line: before.matches('\n').count() + 1,
        }
    });
    let variable = spec.api_key_env.as_deref();
    let valid = variable.is_none_or(key_variable::is_name);
    // A refused agent's variable is not looked up: nothing of its key is read.
    let key = Key {
        env: variable.filter(|_| valid).map(str::to_owned),
        valid,
        set: valid
            && trust != Trust::Refused
            && variable
                .is_some_and(|env| std::env::var(env).is_ok_and(|key| !key.trim().is_empty())),
    };
    Row {
        name: name.to_owned(),
        provider: spec.provider,
        model: spec.model.clone(),
        locality: spec.locality(),
        defined_in,
        key,
        trust,
        reach: None,
        refused: refusal.map(|refusal| refusal.why()),
        ok: false,
    }
}

/// The rows as an aligned table, with a header line.
fn table(rows: &[Row], config: &Config) -> String {
    let here = std::env::current_dir().ok();
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|row| {
            [
                row.name.clone(),
                format!("{:?}", row.provider).to_lowercase(),
                row.model.clone().unwrap_or_else(|| "-".into()),
                format!("{:?}", row.locality).to_lowercase(),
                row.defined_in
                    .as_ref()
                    .map_or_else(|| "-".into(), |at| shown(at, here.as_deref())),
                key_cell(&row.key, row.trust),
                status(row, config),
            ]
        })
        .collect();
    let header = [
        "AGENT", "PROVIDER", "MODEL", "LOCALITY", "DEFINED", "KEY", "STATUS",
    ]
    .map(String::from);
    let mut widths = [0; 7];
    for line in std::iter::once(&header).chain(&cells) {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for line in std::iter::once(&header).chain(&cells) {
        let mut text = String::new();
        for (column, cell) in line.iter().enumerate() {
            if column + 1 == line.len() {
                text.push_str(cell);
            } else {
                let pad = widths[column] - cell.chars().count() + 2;
                text.push_str(cell);
                text.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    }
    out
}

/// `baton.toml:12`, relative to the current folder when under it.
fn shown(location: &Location, here: Option<&Path>) -> String {
    let file = here
        .and_then(|here| location.file.strip_prefix(here).ok())
        .unwrap_or(&location.file);
    format!("{}:{}", file.display(), location.line)
}

fn key_cell(key: &Key, trust: Trust) -> String {
    match (&key.env, key.set) {
        (None, _) if !key.valid => "not a variable name".into(),
        (None, _) => "-".into(),
        (Some(env), _) if trust == Trust::Refused => format!("{env} not read"),
        (Some(env), true) => format!("{env} set"),
        (Some(env), false) => format!("{env} missing"),
    }
}

/// What became of the agent, in words the user can act on.
fn status(row: &Row, config: &Config) -> String {
    let Some(reach) = &row.reach else {
        let why = row.refused.as_deref().unwrap_or_default();
        let root = config
            .root
            .as_ref()
            .map_or_else(|| ".".into(), |root| root.display().to_string());
        return format!(
            "refused, not contacted: the workspace is not trusted and {why}; \
             `baton trust {root}` if you trust it"
        );
    };
    let message = |message: &str| {
        if message.trim().is_empty() {
            String::new()
        } else {
            format!(" ({})", message.trim())
        }
    };
    match reach {
        Reach::Reachable { status, millis, .. } => {
            format!("reachable (HTTP {status}, {millis} ms)")
        }
        Reach::KeyRejected {
            status, message: m, ..
        } => match (&row.key.env, row.key.set) {
            (Some(env), true) => {
                format!(
                    "reachable, but the key was rejected: HTTP {status}{}; check {env}",
                    message(m)
                )
            }
            (Some(env), false) => {
                format!("reachable, but it wants a key: HTTP {status}; set {env}")
            }
            (None, _) => format!(
                "reachable, but it wants a key: HTTP {status}; name its variable in api_key_env"
            ),
        },
        Reach::Failed {
            url,
            status,
            message: m,
        } => format!(
            "answered HTTP {status}{} at {url}; check base_url",
            message(m)
        ),
        Reach::ModelMissing {
            model, listed: 0, ..
        } if row.provider == Provider::Ollama => {
            format!("reachable, but model `{model}` not installed (none is; `ollama pull {model}`)")
        }
        Reach::ModelMissing { model, .. } if row.provider == Provider::Ollama => {
            format!("reachable, but model `{model}` not installed (`ollama pull {model}`)")
        }
        Reach::ModelMissing { model, listed, .. } => format!(
            "reachable, but model `{model}` is not among the {listed} it serves; check model"
        ),
        Reach::Unreachable { url, reason } => format!("unreachable: {url}: {reason}"),
        Reach::ProgramFound { path } => format!("found: {}", path.display()),
        Reach::ProgramMissing { reason, .. } => format!("not found: {reason}"),
        Reach::Invalid { reason } => format!("cannot be checked: {reason}"),
    }
}
