//! Sending briefs from the editor (DESIGN §4): the `baton.*` commands of
//! `docs/editor-protocol.md`. A send is planned here and carried out by a `RunTask`.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{json, Value};
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types as lsp;
use tower_lsp_server::Client;

use super::from_proto;
use super::guard::contain;
use super::linter::Linter;
use super::refused::{refused, Failure, Outcome};
use super::run_task::RunTask;
use super::state::{Snapshot, State};
use crate::brief::graph::TitleIndex;
use crate::brief::Analysis;
use crate::config;
use crate::dispatch::budget;
use crate::dispatch::inputs;
use crate::dispatch::plan::{self, Ask, Plan, Refusal};
use crate::dispatch::run::registry::{Phase, RunInfo};
use crate::dispatch::run::Cancel;
use crate::dispatch::run_id;
use crate::dispatch::thread;
use crate::workspace::Settings;

mod handoff;
mod new_thread;
mod pipeline;
mod preview;
mod recovery;
mod runs;

pub use pipeline::{pipeline_action, pipeline_lenses, pipeline_title, RUN_PIPELINE};
pub use recovery::complete_runs;

/// The commands the server executes.
pub const COMMANDS: [&str; 11] = [
    SEND,
    PREVIEW,
    CANCEL,
    RECOVER,
    AGENTS,
    JOURNAL,
    RUNS,
    RUN_PIPELINE,
    NEW_THREAD,
    HANDOFF,
    RESUME,
];
pub const SEND: &str = "baton.send";
pub const PREVIEW: &str = "baton.preview";
pub const CANCEL: &str = "baton.cancel";
pub const RECOVER: &str = "baton.recover";
pub const AGENTS: &str = "baton.agents";
pub const JOURNAL: &str = "baton.journal";
pub const RUNS: &str = "baton.runs";
pub const NEW_THREAD: &str = "baton.newThread";
pub const HANDOFF: &str = "baton.handoff";
pub const RESUME: &str = "baton.resume";

/// The folder of `.baton` that holds "Preview payload" files.
const PREVIEW_DIR: &str = "preview";

/// The arguments of every command: one object, each command reading what it needs.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Args {
    pub uri: Option<String>,
    pub brief: Option<String>,
    pub position: Option<lsp::Position>,
    pub agent: Option<String>,
    pub selection: Option<lsp::Range>,
    pub run: Option<String>,
}

impl Args {
    pub fn from_params(arguments: &[Value]) -> Result<Args> {
        match arguments.first() {
            None => Ok(Args::default()),
            Some(value) => serde_json::from_value(value.clone())
                .map_err(|error| invalid(format!("bad command arguments: {error}"))),
        }
    }

    fn uri(&self) -> Result<&str> {
        self.uri
            .as_deref()
            .ok_or_else(|| invalid("this command needs `uri`".to_owned()))
    }
}

fn invalid(message: String) -> Error {
    Error::invalid_params(message)
}

/// What the commands share: the client to talk to, the state, the linter to re-run.
#[derive(Clone)]
pub struct Dispatcher {
    pub client: Client,
    pub state: Arc<State>,
    pub linter: Linter,
}

impl Dispatcher {
    /// Runs a command. A refusal is shown to the user and answered with `null` (see
    /// `refused.rs`); only a malformed request gets an error response.
    pub async fn execute(&self, command: &str, args: Args) -> Result<Option<Value>> {
        let result = match command {
            SEND => self.send(args).await,
            PREVIEW => self.preview(args).await,
            CANCEL => Ok(self.cancel(&args)),
            RECOVER => self.recover(args).await,
            AGENTS => self.agents(&args),
            JOURNAL => self.journal(&args),
            RUNS => Ok(json!({ "runs": self.active() })),
            RUN_PIPELINE => self.run_pipeline(args).await,
            NEW_THREAD => self.new_thread(&args),
            HANDOFF => self.handoff(args).await,
            RESUME => self.resume(&args),
            other => return Err(invalid(format!("unknown command `{other}`"))),
        };
        match result {
            Ok(value) => Ok(Some(value)),
            Err(Failure::Refused(message)) => {
                tracing::info!("{command} refused: {message}");
                let message = format!("baton: {message}");
                self.client
                    .show_message(lsp::MessageType::ERROR, message)
                    .await;
                Ok(None)
            }
            Err(Failure::Protocol(error)) => Err(error),
        }
    }

    fn snapshot(&self, uri: &str) -> Result<Snapshot> {
        match self.state.snapshot(uri) {
            Some(Ok(snapshot)) => Ok(snapshot),
            Some(Err(panicked)) => Err(panicked.to_jsonrpc()),
            None => Err(invalid(format!("{uri} is not open"))),
        }
    }

    /// Whether the user trusts the workspace of `snapshot`, as its diagnostics were linted
    /// with (`lsp/trust.rs`), so a send and its `untrusted-agent` diagnostic always agree.
    fn trusted(&self, snapshot: &Snapshot) -> bool {
        snapshot.context.machine.trusted_workspace
    }

    /// The brief the arguments name: by title, by position, or the only one.
    fn brief_index(&self, snapshot: &Snapshot, args: &Args) -> Outcome<usize> {
        let analysis = snapshot.analysis();
        if args.brief.is_none() {
            if let Some(position) = args.position {
                let encoding = self.state.encoding();
                let at = from_proto::offset(snapshot.document(), position, encoding);
                if let Some(index) = brief_at(analysis, at) {
                    return Ok(index);
                }
            }
        }
        plan::pick_brief(&analysis.briefs, args.brief.as_deref())
            .map_err(|refusal| refused(refusal.to_string()))
    }

    fn plan(&self, snapshot: &Snapshot, args: &Args) -> Outcome<Plan> {
        let Some(path) = snapshot.context.path.as_deref() else {
            return Err(refused(
                "save the document first: runs are journalled beside it",
            ));
        };
        let index = self.brief_index(snapshot, args)?;
        let analysis = snapshot.analysis();
        let document = snapshot.document();
        let selection = args.selection.map(|range| {
            let encoding = self.state.encoding();
            from_proto::offset(document, range.start, encoding)
                ..from_proto::offset(document, range.end, encoding)
        });
        let open_at = |path: &Path| self.state.open_document_at(path);
        let linked = snapshot.context.linked(&open_at);
        let inputs = inputs::gather(
            document,
            &analysis.briefs,
            &TitleIndex::new(&analysis.briefs),
            &analysis.briefs[index],
            linked.as_ref(),
        );
        let settings = settings_for_send(snapshot);
        plan::plan(&Ask {
            path,
            document,
            analysis,
            settings: &settings,
            brief: index,
            agent: args.agent.as_deref(),
            selection: selection.filter(|range| !range.is_empty()),
            trusted: self.trusted(snapshot),
            inputs: &inputs,
            turns: &thread::on_disk,
            corrections: &budget::journalled,
        })
        .map_err(|refusal: Refusal| refused(refusal.to_string()))
    }

    /// [`Dispatcher::plan`], a panic in the core becoming an error response.
    fn contained_plan(&self, snapshot: &Snapshot, args: &Args) -> Outcome<Plan> {
        contain("planning a run", || self.plan(snapshot, args))
            .map_err(|panicked| Failure::Protocol(panicked.to_jsonrpc()))?
    }

    /// `"Title" to @agent`, as far as the arguments name them, for saying what was not sent.
    fn what_is_sent(&self, snapshot: &Snapshot, args: &Args) -> String {
        let analysis = snapshot.analysis();
        let brief = self
            .brief_index(snapshot, args)
            .ok()
            .map(|index| &analysis.briefs[index]);
        let agent = args.agent.clone().or_else(|| {
            brief.and_then(|brief| plan::own_agent(brief, analysis, &snapshot.settings().config))
        });
        match (brief, agent) {
            (Some(brief), Some(agent)) => format!("\"{}\" to @{agent}", brief.title),
            (Some(brief), None) => format!("\"{}\"", brief.title),
            (None, Some(agent)) => format!("the brief to @{agent}"),
            (None, None) => "the brief".to_owned(),
        }
    }

    /// `baton.send`: plans the run, starts it, and answers at once with its id. A run of the
    /// same brief and agent still going in the document is cancelled: this one replaces it.
    async fn send(&self, args: Args) -> Outcome<Value> {
        let uri = args.uri()?.to_owned();
        let snapshot = self.snapshot(&uri)?;
        let key_set = |variable: &str| snapshot.context.machine.is_set(variable);
        let plan = self.contained_plan(&snapshot, &args).and_then(|plan| {
            match plan::key_refusal(&plan.attempts, &key_set) {
                Some(refusal) => Err(refused(refusal.to_string())),
                None => Ok(plan),
            }
        });
        let plan = plan.map_err(|failure| match failure {
            Failure::Refused(reason) => refused(format!(
                "cannot send {}: {reason}",
                self.what_is_sent(&snapshot, &args)
            )),
            protocol => protocol,
        })?;
        let run = run_id::new();
        let agent = plan.agent().to_owned();
        let cancel = Cancel::new();
        let replaced = self.state.runs.start(
            RunInfo {
                run: run.clone(),
                uri: uri.clone(),
                brief: plan.brief_title.clone(),
                agent: agent.clone(),
                state: Phase::Queued,
                tokens: 0,
            },
            cancel.clone(),
        );
        if !replaced.is_empty() {
            tracing::info!("run {run} replaces {}", replaced.join(", "));
        }
        let lsp_uri = lsp::Uri::from_str(&uri).map_err(|error| invalid(error.to_string()))?;
        // The brief is being sent again: its last failure no longer stands.
        self.linter.lint(lsp_uri.clone());
        let task = RunTask {
            dispatcher: self.clone(),
            uri: lsp_uri,
            plan,
            run: run.clone(),
            cancel,
        };
        tokio::spawn(task.run());
        self.changed().await;
        Ok(json!({ "run": run, "agent": agent }))
    }

    /// `baton.agents`: the agents of the document's configuration, its brief's own first.
    fn agents(&self, args: &Args) -> Outcome<Value> {
        let uri = args.uri()?.to_owned();
        let snapshot = self.snapshot(&uri)?;
        let config = &snapshot.settings().config;
        let own = self.brief_index(&snapshot, args).ok().and_then(|index| {
            plan::own_agent(
                &snapshot.analysis().briefs[index],
                snapshot.analysis(),
                config,
            )
        });
        let trusted = self.trusted(&snapshot);
        let mut agents: Vec<Value> = config
            .agent_names()
            .filter_map(|name| {
                let spec = config.agent(name)?;
                let problem = crate::config::policy::refusal(config, name, trusted)
                    .map(|refusal| refusal.to_string())
                    .or_else(|| {
                        let variable = spec.api_key_env.as_deref()?;
                        if !crate::config::key_variable::is_name(variable) {
                            // Never quoted: it may be a key pasted in place of the name.
                            return Some("its api_key_env does not name an environment variable (the value is not shown)".to_owned());
                        }
                        let set = std::env::var_os(variable).is_some_and(|value| !value.is_empty());
                        (!set).then(|| format!("{variable} is not set in the server's environment"))
                    });
                Some(json!({
                    "name": name,
                    "provider": format!("{:?}", spec.provider).to_lowercase(),
                    "model": spec.model,
                    "locality": format!("{:?}", spec.locality()).to_lowercase(),
                    "target": own.as_deref() == Some(name),
                    "problem": problem,
                }))
            })
            .collect();
        agents.sort_by_key(|agent| !agent["target"].as_bool().unwrap_or(false));
        Ok(json!({ "agents": agents }))
    }
}

fn brief_at(analysis: &Analysis, at: usize) -> Option<usize> {
    analysis
        .briefs
        .iter()
        .position(|brief| brief.range.contains(&at))
        .or_else(|| {
            // At the very end of the document: the last brief.
            let last = analysis.briefs.len().checked_sub(1)?;
            (analysis.briefs[last].range.end == at).then_some(last)
        })
}

/// The settings a send is planned with: those in force, unless they read a `[privacy]
/// terms_file`, which the editor does not watch (only `baton.toml`): then the configuration is
/// loaded again, so that a term added to the file protects the very next send. A load that
/// fails keeps the settings in force, terms included (fail closed).
fn settings_for_send(snapshot: &Snapshot) -> std::borrow::Cow<'_, Settings> {
    let settings = snapshot.settings();
    let config = &settings.config;
    let reads_terms_file = (config.file.privacy.as_ref()).is_some_and(|p| p.terms_file.is_some());
    if !reads_terms_file {
        return std::borrow::Cow::Borrowed(settings);
    }
    let loaded = config::load(
        config.workspace_path.as_deref(),
        config.user_path.as_deref(),
    );
    if !loaded.is_ok() {
        return std::borrow::Cow::Borrowed(settings);
    }
    std::borrow::Cow::Owned(Settings::new(loaded.config))
}
