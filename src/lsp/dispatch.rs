//! Sending briefs from the editor (DESIGN §4): the `baton.*` commands of
//! `docs/editor-protocol.md`. A send is planned here and carried out by a `RunTask`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types as lsp;
use tower_lsp_server::Client;

use super::from_proto;
use super::guard::contain;
use super::linter::Linter;
use super::refused::{refused, Failure, Outcome};
use super::run_task::RunTask;
use super::runs::{Phase, RunInfo};
use super::state::{Snapshot, State};
use super::to_proto;
use crate::brief::fix::TextEdit;
use crate::brief::output::{self, Marker, Status};
use crate::brief::Analysis;
use crate::dispatch::inputs;
use crate::dispatch::journal::{Final, Journal};
use crate::dispatch::plan::{self, Ask, Plan, Refusal};
use crate::dispatch::run_id;
use crate::fs_safe;

/// The commands the server executes.
pub const COMMANDS: [&str; 7] = [SEND, PREVIEW, CANCEL, RECOVER, AGENTS, JOURNAL, RUNS];
pub const SEND: &str = "baton.send";
pub const PREVIEW: &str = "baton.preview";
pub const CANCEL: &str = "baton.cancel";
pub const RECOVER: &str = "baton.recover";
pub const AGENTS: &str = "baton.agents";
pub const JOURNAL: &str = "baton.journal";
pub const RUNS: &str = "baton.runs";

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
            RUNS => Ok(json!({ "runs": self.state.runs.active() })),
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
            &analysis.briefs[index],
            linked.as_ref(),
        );
        plan::plan(&Ask {
            path,
            document,
            analysis,
            settings: snapshot.settings(),
            brief: index,
            agent: args.agent.as_deref(),
            selection: selection.filter(|range| !range.is_empty()),
            trusted: self.trusted(snapshot),
            inputs: &inputs,
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
        let cancel = CancellationToken::new();
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

    /// `baton.preview`: the exact payload, written under `.baton/preview/` and shown.
    async fn preview(&self, args: Args) -> Outcome<Value> {
        let uri = args.uri()?.to_owned();
        let snapshot = self.snapshot(&uri)?;
        let plan = self.contained_plan(&snapshot, &args)?;
        let stem = snapshot
            .context
            .path
            .as_deref()
            .and_then(Path::file_stem)
            .and_then(|stem| stem.to_str())
            .unwrap_or("brief");
        let name = format!(
            "{}-{}-{}.md",
            slug(stem),
            slug(&plan.brief_title),
            slug(plan.agent())
        );
        let text = plan::preview(&plan);
        // Only inside the workspace's real `.baton/preview/`: a repository may have planted a
        // link at `.baton`, at `preview` or at this very name (`fs_safe`).
        let path = fs_safe::baton_dir(&plan.journal_root)
            .and_then(|baton| baton.subdir(PREVIEW_DIR))
            .and_then(|dir| dir.replace(&name, text.as_bytes()))
            .map_err(|error| refused(format!("baton did not write the preview: {error}")))?;
        let Some(file_uri) = to_proto::file_uri(&path) else {
            return Err(refused(format!("no URI for {}", path.display())));
        };
        if self.state.session().show_document {
            let show = lsp::ShowDocumentParams {
                uri: file_uri.clone(),
                external: Some(false),
                take_focus: Some(true),
                selection: None,
            };
            let client = self.client.clone();
            // Not awaited here: the client may wait for this command's answer first.
            tokio::spawn(async move {
                if let Err(error) = client.show_document(show).await {
                    tracing::warn!("window/showDocument failed: {error}");
                }
            });
        }
        Ok(json!({ "uri": file_uri.as_str() }))
    }

    /// `baton.cancel`: a run, a document's runs, or all of them.
    fn cancel(&self, args: &Args) -> Value {
        let cancelled = self.state.runs.cancel(|info| match (&args.run, &args.uri) {
            (Some(run), _) => info.run == *run,
            (None, Some(uri)) => info.uri == *uri,
            (None, None) => true,
        });
        json!({ "cancelled": cancelled })
    }

    /// Cancels the run a work-done progress stands for.
    pub fn cancel_progress(&self, token: &lsp::ProgressToken) {
        if let Some(run) = super::progress::run_of(token) {
            self.state.runs.cancel(|info| info.run == run);
        }
    }

    /// `baton.recover`: a journalled run's output put back under its brief.
    async fn recover(&self, args: Args) -> Outcome<Value> {
        let uri = args.uri()?.to_owned();
        let Some(run) = args.run.clone() else {
            return Err(invalid("baton.recover needs `run`".to_owned()).into());
        };
        let snapshot = self.snapshot(&uri)?;
        let root = journal_root(&snapshot);
        let journal = Journal::new(&root);
        let saved = journal
            .read(&run)
            .map_err(|error| refused(format!("cannot read run {run}: {error}")))?;
        let status = match &saved.state {
            Some(Final::Done) => Status::Done,
            Some(Final::Cancelled) => Status::Cancelled,
            Some(Final::Partial { .. } | Final::Failed { .. }) | None => Status::Partial,
        };
        let record = &saved.record;
        let marker = Marker {
            run: run.clone(),
            agent: record.agent.clone(),
            model: record.model.clone(),
            input: record.input_hash.clone(),
            status,
        };
        let body = saved.text.trim_end_matches(['\n', '\r']);
        let block = output::block_text(&record.agent, &marker, body);
        let document = snapshot.document();
        let text = document.text();
        let edit = match output::find(&text, &run) {
            Some(existing) => TextEdit {
                range: existing.range,
                new_text: block,
            },
            None => {
                let Some(brief) = snapshot
                    .analysis()
                    .briefs
                    .iter()
                    .find(|brief| brief.title == record.brief_title)
                else {
                    return Err(refused(format!(
                        "the brief \"{}\" of run {run} is no longer in the document; its output is in {}",
                        record.brief_title,
                        journal.dir().join(format!("{run}.jsonl")).display()
                    )));
                };
                let (range, new_text) =
                    output::placement(&text, brief.range.clone(), &record.agent, &block);
                TextEdit { range, new_text }
            }
        };
        let session = self.state.session();
        let lsp_uri = lsp::Uri::from_str(&uri).map_err(|error| invalid(error.to_string()))?;
        let edits = to_proto::text_edits(document, &[edit], session.encoding);
        let edit = to_proto::workspace_edit(
            vec![(lsp_uri, Some(snapshot.open.version), edits)],
            session.document_changes,
        );
        let client = self.client.clone();
        tokio::spawn(async move {
            match client.apply_edit(edit).await {
                Ok(response) if response.applied => {}
                Ok(_) | Err(_) => {
                    client
                        .show_message(
                            lsp::MessageType::WARNING,
                            "baton: the saved output could not be inserted (the document changed); try again",
                        )
                        .await;
                }
            }
        });
        Ok(json!({ "run": run }))
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

    /// `baton.journal`: where the runs are, and the document's newest.
    fn journal(&self, args: &Args) -> Outcome<Value> {
        let (root, document) = match &args.uri {
            Some(uri) => {
                let snapshot = self.snapshot(uri)?;
                (journal_root(&snapshot), snapshot.context.path.clone())
            }
            None => match &self.state.session().root {
                Some(root) => (root.clone(), None),
                None => return Err(invalid("baton.journal needs `uri`".to_owned()).into()),
            },
        };
        let journal = Journal::new(&root);
        let latest = journal
            .runs()
            .into_iter()
            .find(|run| document.as_ref().is_none_or(|path| run.document == *path))
            .map(|run| journal.dir().join(format!("{}.jsonl", run.run_id)));
        Ok(json!({ "dir": journal.dir(), "latest": latest }))
    }

    /// Tells the client the runs changed: the `baton/runs` notification and code lenses.
    pub async fn changed(&self) {
        let runs = self.state.runs.active();
        self.client
            .send_notification::<RunsNotification>(RunsParams { runs })
            .await;
        if self.state.session().code_lens_refresh {
            let client = self.client.clone();
            tokio::spawn(async move {
                if let Err(error) = client.code_lens_refresh().await {
                    tracing::debug!("workspace/codeLens/refresh failed: {error}");
                }
            });
        }
    }

    /// Reads which journalled runs of a just-opened document are missing from it, off the
    /// typing path; code actions then offer them back.
    pub fn scan_journal(&self, uri: &lsp::Uri) {
        let Some(snapshot) = self.state.snapshot(uri.as_str()).and_then(|s| s.ok()) else {
            return;
        };
        // What the lint just found tells; a full analysis of every opened document would
        // cost more than the journal read.
        let is_baton = match self.state.cached_analysis(uri.as_str()) {
            Some(analyzed) => analyzed.findings.kind.is_some(),
            None => snapshot.analysis().is_baton_document(),
        };
        if !is_baton {
            return;
        }
        let Some(path) = snapshot.context.path.clone() else {
            return;
        };
        let root = journal_root(&snapshot);
        let present = complete_runs(&snapshot, &self.state);
        let state = self.state.clone();
        let uri = uri.as_str().to_owned();
        tokio::task::spawn_blocking(move || {
            let runs = Journal::new(&root).unrecovered(&path, &present);
            state.runs.set_recoverable(&uri, runs);
        });
    }
}

/// The runs whose output is whole in the document: its markers, except those still marked
/// running by a run that is not streaming here (a server killed mid-stream left them).
pub fn complete_runs(snapshot: &Snapshot, state: &State) -> HashSet<String> {
    output::markers(&snapshot.document().text())
        .into_iter()
        .filter(|marker| marker.status != Status::Running || state.runs.is_active(&marker.run))
        .map(|marker| marker.run)
        .collect()
}

pub fn journal_root(snapshot: &Snapshot) -> PathBuf {
    let folder = snapshot
        .context
        .path
        .as_deref()
        .and_then(Path::parent)
        .map(Path::to_path_buf);
    snapshot
        .settings()
        .config
        .root
        .clone()
        .or(folder)
        .unwrap_or_default()
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

fn slug(text: &str) -> String {
    let slug: String = text
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let slug = slug.trim_matches('-').to_owned();
    let mut out = String::new();
    for part in slug.split('-').filter(|part| !part.is_empty()) {
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(part);
    }
    if out.is_empty() {
        "brief".to_owned()
    } else {
        out.chars().take(60).collect()
    }
}

/// `baton/runs`: the runs queued or streaming, sent whenever that changes.
pub enum RunsNotification {}

#[derive(Debug, serde::Serialize, Deserialize)]
pub struct RunsParams {
    runs: Vec<RunInfo>,
}

impl lsp::notification::Notification for RunsNotification {
    type Params = RunsParams;
    const METHOD: &'static str = "baton/runs";
}
