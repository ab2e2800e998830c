//! `baton send FILE [--brief TITLE] [--agent NAME]`: the dispatch flow of DESIGN §4 from a
//! terminal. One brief goes to one agent; the run is journalled before anything is sent, every
//! chunk is journalled as it arrives, and the answer is written into the file atomically
//! (temp file and rename) as an output block under its brief, replacing that agent's earlier
//! block. Progress goes to stderr.
//!
//! Trust (DESIGN §7): an agent that needs trust (`command` agents, keyed agents with a foreign
//! `base_url`) defined by the workspace's `baton.toml` is refused unless the environment says
//! `BATON_TRUST_WORKSPACE=1` for this command. `baton trust` comes later.

use std::fs;
use std::io::{self, IsTerminal, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use tokio_util::sync::CancellationToken;

use crate::agent::{self, AgentError, Event, Message, Request};
use crate::brief::lint::{lint, Analysis, Context};
use crate::brief::model::Brief;
use crate::brief::output::{self, Marker, Status};
use crate::brief::payload::{self, Payload};
use crate::config::{AgentSpec, Config, Provider};
use crate::dispatch::journal::{Final, Journal, RunRecord};
use crate::dispatch::run_id;
use crate::document::Document;
use crate::workspace::{no_open_documents, LinkedDocuments, Settings};

/// The environment variable that trusts the workspace's agents for one command.
pub const TRUST_VARIABLE: &str = "BATON_TRUST_WORKSPACE";

/// What `baton send` was asked to do.
#[derive(Clone, Debug)]
pub struct Options {
    pub file: PathBuf,
    pub brief: Option<String>,
    pub agent: Option<String>,
}

/// Why `send` stopped: a usage problem (exit 2) or a failure (exit 1).
enum Stop {
    Usage(String),
    Failed(String),
}

impl Stop {
    fn exit(self) -> ExitCode {
        let (message, code) = match self {
            Stop::Usage(message) => (message, 2),
            Stop::Failed(message) => (message, 1),
        };
        eprintln!("baton send: {message}");
        ExitCode::from(code)
    }
}

pub fn run(options: &Options) -> ExitCode {
    match send(options) {
        Ok(code) => code,
        Err(stop) => stop.exit(),
    }
}

/// Everything decided before the run: the file, the brief, the agent and the request.
struct Plan {
    file: PathBuf,
    original: String,
    title: String,
    agent: String,
    spec: AgentSpec,
    payload: Payload,
    request: Request,
    journal_root: PathBuf,
}

fn send(options: &Options) -> Result<ExitCode, Stop> {
    let plan = prepare(options)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| Stop::Failed(format!("cannot start the runtime: {error}")))?;
    runtime.block_on(dispatch(plan))
}

fn prepare(options: &Options) -> Result<Plan, Stop> {
    let shown = options.file.display().to_string();
    let file = std::path::absolute(&options.file)
        .map_err(|error| Stop::Usage(format!("{shown}: {error}")))?;
    let original = read_text(&file, &shown).map_err(Stop::Usage)?;
    let folder = file.parent().unwrap_or(Path::new("/")).to_path_buf();
    let (settings, problems) = Settings::discover(&folder);
    for problem in &problems {
        eprintln!(
            "baton send: {}: {}",
            problem.path.display(),
            problem.error.message
        );
    }
    let config = &settings.config;
    let document = Document::new(&original);
    let analysis = analyse(&document, &file, &settings);
    let Some(kind_name) = &analysis.kind else {
        return Err(Stop::Usage(format!(
            "{shown} is not a baton document (name it *.brief.md or give it `kind:` in its front matter)"
        )));
    };
    let Some(kind) = settings.kinds.get(kind_name) else {
        return Err(Stop::Usage(format!("{shown}: unknown kind `{kind_name}`")));
    };
    let index = pick_brief(&analysis.briefs, options.brief.as_deref(), &shown)?;
    let brief = &analysis.briefs[index];
    let agent = pick_agent(options, brief, &analysis, config)?;
    let spec = config.agent(&agent).cloned().ok_or_else(|| {
        Stop::Usage(format!(
            "unknown agent `{agent}`; {}",
            configured_agents(config)
        ))
    })?;
    check_trust(&agent, &spec, config)?;
    let model = match (&spec.model, spec.provider) {
        (Some(model), _) => model.clone(),
        (None, Provider::Command) => String::new(),
        (None, _) => {
            return Err(Stop::Usage(format!(
                "agent `{agent}` has no `model`; set `model = \"...\"` under [agents.{agent}]"
            )))
        }
    };
    // Inputs (outputs of linked briefs) are not gathered yet: the brief is sent alone.
    let payload = payload::render(&document, &analysis, kind, index, &[]);
    let request = Request {
        model,
        system: spec.role.clone(),
        messages: vec![Message::user(payload.text.clone())],
    };
    let journal_root = config.root.clone().unwrap_or(folder);
    Ok(Plan {
        file,
        original,
        title: brief.title.clone(),
        agent,
        spec,
        payload,
        request,
        journal_root,
    })
}

fn read_text(file: &Path, shown: &str) -> Result<String, String> {
    let bytes = fs::read(file).map_err(|error| format!("cannot read {shown}: {error}"))?;
    String::from_utf8(bytes)
        .map_err(|_| format!("{shown} is not valid UTF-8; baton reads UTF-8 only"))
}

fn analyse(document: &Document, file: &Path, settings: &Settings) -> Analysis {
    let others = LinkedDocuments::new(file, &no_open_documents);
    let context = Context {
        config: &settings.config,
        kinds: &settings.kinds,
        path: Some(file),
        others: &others,
        machine: &crate::workspace::Machine::default(),
    };
    lint(document, &context)
}

fn titles(briefs: &[Brief]) -> String {
    briefs
        .iter()
        .map(|brief| format!("\"{}\"", brief.title))
        .collect::<Vec<_>>()
        .join(", ")
}

fn pick_brief(briefs: &[Brief], wanted: Option<&str>, shown: &str) -> Result<usize, Stop> {
    match wanted {
        Some(wanted) => {
            let wanted = wanted.trim().to_lowercase();
            briefs
                .iter()
                .position(|brief| brief.title.trim().to_lowercase() == wanted)
                .ok_or_else(|| {
                    Stop::Usage(format!(
                        "{shown} has no brief titled \"{wanted}\"; its briefs: {}",
                        titles(briefs)
                    ))
                })
        }
        None => match briefs.len() {
            0 => Err(Stop::Usage(format!("{shown} holds no brief"))),
            1 => Ok(0),
            _ => Err(Stop::Usage(format!(
                "{shown} holds several briefs; pick one with --brief TITLE: {}",
                titles(briefs)
            ))),
        },
    }
}

fn configured_agents(config: &Config) -> String {
    let names: Vec<&str> = config.agent_names().collect();
    if names.is_empty() {
        "no agents are configured (add [agents.NAME] to baton.toml)".to_owned()
    } else {
        format!("configured agents: {}", names.join(", "))
    }
}

/// `--agent`, else the brief's `@mention`, else the front matter's `agent:`, else
/// `defaults.agent`.
fn pick_agent(
    options: &Options,
    brief: &Brief,
    analysis: &Analysis,
    config: &Config,
) -> Result<String, Stop> {
    options
        .agent
        .clone()
        .or_else(|| brief.mention.as_ref().map(|mention| mention.name.clone()))
        .or_else(|| {
            let agent = analysis.front_matter.agent.as_ref();
            agent.map(|agent| agent.value.clone())
        })
        .or_else(|| config.file.defaults.agent.clone())
        .ok_or_else(|| {
            Stop::Usage(format!(
                "no agent for this brief: pass --agent NAME, mention @NAME in its title, or set `agent:` or defaults.agent; {}",
                configured_agents(config)
            ))
        })
}

/// Refuses an agent that needs trust when the workspace's `baton.toml` defines it.
fn check_trust(agent: &str, spec: &AgentSpec, config: &Config) -> Result<(), Stop> {
    if !spec.needs_trust() {
        return Ok(());
    }
    let defined_in = config.agent_locations.get(agent).map(|(path, _)| path);
    let from_workspace = defined_in.is_some() && defined_in == config.workspace_path.as_ref();
    let trusted = std::env::var(TRUST_VARIABLE).is_ok_and(|value| value == "1");
    if !from_workspace || trusted {
        return Ok(());
    }
    let why = if spec.provider == Provider::Command {
        "it runs a program"
    } else {
        "it sends an API key to a base_url other than its provider's"
    };
    let file = config.workspace_path.as_ref().map_or_else(
        || "baton.toml".to_owned(),
        |path| path.display().to_string(),
    );
    Err(Stop::Failed(format!(
        "refusing agent `{agent}` from the untrusted workspace file {file}: {why}. \
         If you trust this workspace, run the command again with {TRUST_VARIABLE}=1 in the \
         environment (`baton trust` comes later), or define the agent in your user config"
    )))
}

/// How the run ended, for the journal, the marker and the exit status.
enum Outcome {
    Done,
    Partial(String),
    Failed(String),
    Cancelled,
}

async fn dispatch(plan: Plan) -> Result<ExitCode, Stop> {
    let run = run_id::new();
    let journal = Journal::new(&plan.journal_root);
    let sent = serde_json::json!({
        "system": plan.request.system,
        "messages": plan.request.messages.iter().map(|message| serde_json::json!({
            "role": message.role.as_str(),
            "content": message.content,
        })).collect::<Vec<_>>(),
    });
    let record = RunRecord {
        run_id: run.clone(),
        document: plan.file.clone(),
        brief_title: plan.title.clone(),
        agent: plan.agent.clone(),
        model: plan.request.model.clone(),
        provider: format!("{:?}", plan.spec.provider).to_lowercase(),
        input_hash: plan.payload.input_hash.clone(),
        payload: sent.to_string(),
        started_at: SystemTime::now(),
    };
    let mut writer = journal
        .start(record)
        .map_err(|error| Stop::Failed(format!("cannot write the run journal: {error}")))?;
    let journal_file = journal.dir().join(format!("{run}.jsonl"));

    let mut progress = Progress::new(&plan.agent);
    progress.start(&plan.request.model, &run);
    let mut text = String::new();
    let mut journal_error: Option<io::Error> = None;
    let cancel = CancellationToken::new();
    // Ctrl-C cancels the request; what arrived stays in the journal, closed as cancelled.
    let interrupt = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.cancel();
            }
        })
    };
    let mut received_chars = 0;
    let result = {
        let mut on_event = |event: Event<'_>| match event {
            Event::Text(chunk) => {
                if let Err(error) = writer.append(chunk) {
                    journal_error.get_or_insert(error);
                }
                text.push_str(chunk);
                received_chars += chunk.chars().count();
                progress.chars(received_chars);
            }
            Event::Retrying(retry) => progress.line(&retry.to_string()),
        };
        agent::send(
            &plan.agent,
            &plan.spec,
            &plan.request,
            &mut on_event,
            &cancel,
        )
        .await
    };
    interrupt.abort();
    progress.end();

    let outcome = match result {
        Ok(_) => Outcome::Done,
        Err(AgentError::Cancelled) => Outcome::Cancelled,
        Err(
            error @ (AgentError::Timeout { .. }
            | AgentError::BrokenStream { .. }
            | AgentError::TooLarge { .. }),
        ) if !text.is_empty() => Outcome::Partial(error.to_string()),
        Err(error) => Outcome::Failed(error.to_string()),
    };
    let state = match &outcome {
        Outcome::Done => Final::Done,
        Outcome::Partial(reason) => Final::Partial {
            reason: reason.clone(),
        },
        Outcome::Failed(reason) => Final::Failed {
            reason: reason.clone(),
        },
        Outcome::Cancelled => Final::Cancelled,
    };
    if let Err(error) = writer.finish(state) {
        journal_error.get_or_insert(error);
    }
    if let Some(error) = journal_error {
        eprintln!("baton send: warning: could not journal the whole run: {error}");
    }

    let status = match outcome {
        Outcome::Done => Status::Done,
        Outcome::Partial(_) => Status::Partial,
        Outcome::Failed(reason) => {
            return Err(Stop::Failed(format!(
                "agent `{}` failed: {reason}; the file is unchanged (run {run} in {})",
                plan.agent,
                journal_file.display()
            )))
        }
        Outcome::Cancelled => {
            return Err(Stop::Failed(format!(
                "cancelled; the file is unchanged (run {run} in {})",
                journal_file.display()
            )))
        }
    };
    let marker = Marker {
        run: run.clone(),
        agent: plan.agent.clone(),
        model: plan.request.model.clone(),
        input: plan.payload.input_hash.clone(),
        status,
    };
    let body = text.trim_end_matches(['\n', '\r']);
    let block = output::block_text(&plan.agent, &marker, body);
    write_block(&plan, &block, &journal_file)?;
    match status {
        Status::Partial => Err(Stop::Failed(format!(
            "the answer of `{}` broke off; the partial output is in the file, marked status=partial",
            plan.agent
        ))),
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// Places the block under its brief in the file as it is now and writes the file atomically.
fn write_block(plan: &Plan, block: &str, journal_file: &Path) -> Result<(), Stop> {
    let shown = plan.file.display().to_string();
    let kept = || {
        format!(
            "the output is kept in the journal: {}",
            journal_file.display()
        )
    };
    let current = read_text(&plan.file, &shown)
        .map_err(|message| Stop::Failed(format!("{message}; {}", kept())))?;
    if current != plan.original {
        eprintln!("baton send: {shown} changed during the run; placing the output in the new text");
    }
    let folder = plan.file.parent().unwrap_or(Path::new("/"));
    let (settings, _) = Settings::discover(folder);
    let document = Document::new(&current);
    let analysis = analyse(&document, &plan.file, &settings);
    let Some(brief) = analysis
        .briefs
        .iter()
        .find(|brief| brief.title == plan.title)
    else {
        return Err(Stop::Failed(format!(
            "the brief \"{}\" is no longer in {shown}; {}",
            plan.title,
            kept()
        )));
    };
    let updated = place(&current, brief.range.clone(), &plan.agent, block);
    write_atomically(&plan.file, &updated)
        .map_err(|error| Stop::Failed(format!("cannot write {shown}: {error}; {}", kept())))
}

/// `text` with `block` in the brief spanning `brief`: in place of the agent's existing block
/// there, else at the brief's end, set off by blank lines.
fn place(text: &str, brief: Range<usize>, agent: &str, block: &str) -> String {
    let section = &text[brief.clone()];
    let existing = output::markers(section)
        .into_iter()
        .filter(|marker| marker.agent == agent)
        .find_map(|marker| output::find(section, &marker.run));
    if let Some(existing) = existing {
        let range = brief.start + existing.range.start..brief.start + existing.range.end;
        return format!("{}{block}{}", &text[..range.start], &text[range.end..]);
    }
    let before = &text[..brief.end];
    let after = &text[brief.end..];
    let mut out = before.to_owned();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    if !out.is_empty() && !out.ends_with("\n\n") {
        out.push('\n');
    }
    out.push_str(block);
    if !after.is_empty() && !after.starts_with('\n') {
        out.push('\n');
    }
    out.push_str(after);
    out
}

/// Writes `text` to a temp file beside `file`, with its permissions, and renames it over.
fn write_atomically(file: &Path, text: &str) -> io::Result<()> {
    let folder = file.parent().unwrap_or(Path::new("/"));
    let name = file
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("brief");
    let temp = folder.join(format!(".{name}.baton-{}.tmp", std::process::id()));
    let result = (|| {
        let mut out = fs::File::create(&temp)?;
        out.write_all(text.as_bytes())?;
        out.sync_all()?;
        if let Ok(metadata) = fs::metadata(file) {
            fs::set_permissions(&temp, metadata.permissions())?;
        }
        fs::rename(&temp, file)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// The progress line on stderr: updated in place on a terminal, plain lines otherwise.
struct Progress {
    agent: String,
    terminal: bool,
    /// Whether the in-place line is showing and needs a line break before anything else.
    open: bool,
    chars: usize,
}

impl Progress {
    fn new(agent: &str) -> Progress {
        Progress {
            agent: agent.to_owned(),
            terminal: io::stderr().is_terminal(),
            open: false,
            chars: 0,
        }
    }

    fn start(&mut self, model: &str, run: &str) {
        let model = if model.is_empty() {
            String::new()
        } else {
            format!(" ({model})")
        };
        self.line(&format!("sending to {}{model}, run {run}", self.agent));
    }

    fn chars(&mut self, chars: usize) {
        self.chars = chars;
        if self.terminal {
            eprint!("\r{}: {} chars", self.agent, thousands(chars));
            self.open = true;
        }
    }

    fn line(&mut self, message: &str) {
        if self.open {
            eprintln!();
            self.open = false;
        }
        eprintln!("{}: {message}", self.agent);
    }

    fn end(&mut self) {
        if self.open {
            eprintln!();
            self.open = false;
        } else {
            eprintln!("{}: {} chars", self.agent, thousands(self.chars));
        }
    }
}

/// `1234567` as `1,234,567`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_with_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1234), "1,234");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn a_block_goes_at_the_brief_end_or_replaces_the_agents_block() {
        let marker = |run: &str| Marker {
            run: run.into(),
            agent: "a".into(),
            model: "m".into(),
            input: "00000000".into(),
            status: Status::Done,
        };
        let text = "# One @a\n\nGo.\n# Two\n\nStay.\n";
        let first = output::block_text("a", &marker("r1"), "Hi");
        let placed = place(text, 0..14, "a", &first);
        assert_eq!(
            placed,
            format!("# One @a\n\nGo.\n\n{first}\n# Two\n\nStay.\n")
        );
        let second = output::block_text("a", &marker("r2"), "Again");
        let end = placed.find("# Two").unwrap();
        let replaced = place(&placed, 0..end, "a", &second);
        assert_eq!(
            replaced,
            format!("# One @a\n\nGo.\n\n{second}\n# Two\n\nStay.\n")
        );
    }
}
