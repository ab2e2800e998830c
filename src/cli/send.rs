//! `baton send FILE [--brief TITLE] [--agent NAME]`: the dispatch flow of DESIGN §4 from a
//! terminal. One brief goes to one agent (then its fallbacks); the run is journalled before
//! anything is sent, every chunk is journalled as it arrives (`dispatch::run`), and the answer
//! is written into the file atomically (a temp file with a random name, then a rename, by
//! `fs_safe`; a brief that is a symbolic link is refused) as an output block under its
//! brief, replacing that agent's earlier block. Progress goes to stderr.
//!
//! Trust (DESIGN §7): an agent that needs trust (`command` agents, keyed agents with a foreign
//! `base_url`) defined by the workspace's `baton.toml` is refused unless the workspace was
//! trusted with `baton trust`, or the environment says `BATON_TRUST_WORKSPACE=1`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::progress::Progress;
use crate::brief::graph::TitleIndex;
use crate::brief::lint::{lint, Analysis, Context};
use crate::brief::output::{Marker, Status};
use crate::config::trust_store;
use crate::dispatch::budget;
use crate::dispatch::inputs;
use crate::dispatch::journal::Journal;
use crate::dispatch::on_disk::{self, read_text};
use crate::dispatch::place;
use crate::dispatch::plan::{self, Ask, Plan, Refusal};
use crate::dispatch::run::queue::Queues;
use crate::dispatch::run::{self, Cancel, Event, Finished, Outcome};
use crate::dispatch::run_id;
use crate::dispatch::thread;
use crate::document::Document;
use crate::fs_safe;
use crate::workspace::{no_open_documents, Boundary, LinkedDocuments, Machine, Settings};

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

/// Everything decided before the run: the file as read, and the plan.
struct Prepared {
    file: PathBuf,
    original: String,
    plan: Plan,
}

fn send(options: &Options) -> Result<ExitCode, Stop> {
    let prepared = prepare(options)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| Stop::Failed(format!("cannot start the runtime: {error}")))?;
    runtime.block_on(dispatch(prepared))
}

fn prepare(options: &Options) -> Result<Prepared, Stop> {
    let shown = options.file.display().to_string();
    let file = std::path::absolute(&options.file)
        .map_err(|error| Stop::Usage(format!("{shown}: {error}")))?;
    // The answer will replace the file; a link is refused before anything is sent, so that
    // neither the link nor the file it names is replaced behind the user's back.
    fs_safe::replaceable(&file).map_err(|error| Stop::Usage(error.to_string()))?;
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
    let document = Document::new(&original);
    let boundary = Boundary::of_document(settings.config.root.as_deref(), &folder, &[]);
    let linked = LinkedDocuments::new(&file, boundary, &no_open_documents);
    let analysis = analyse(&document, &file, &settings, &linked);
    let usage = |refusal: Refusal| Stop::Usage(format!("{shown}: {refusal}"));
    if analysis.kind.is_none() {
        return Err(usage(Refusal::NotBaton));
    }
    let index = plan::pick_brief(&analysis.briefs, options.brief.as_deref()).map_err(usage)?;
    let inputs = inputs::gather(
        &document,
        &analysis.briefs,
        &TitleIndex::new(&analysis.briefs),
        &analysis.briefs[index],
        Some(&linked),
    );
    let trusted = trust_store::workspace_trusted(settings.config.root.as_deref());
    let plan = plan::plan(&Ask {
        path: &file,
        document: &document,
        analysis: &analysis,
        settings: &settings,
        brief: index,
        agent: options.agent.as_deref(),
        selection: None,
        trusted,
        inputs: &inputs,
        turns: &thread::on_disk,
        corrections: &budget::journalled,
    })
    .map_err(|refusal| match refusal {
        Refusal::Untrusted { message } | Refusal::Confidential { message } => Stop::Failed(message),
        over @ Refusal::OverBudget { .. } => Stop::Failed(over.to_string()),
        other => usage(other),
    })?;
    Ok(Prepared {
        file,
        original,
        plan,
    })
}

fn analyse(
    document: &Document,
    file: &Path,
    settings: &Settings,
    others: &LinkedDocuments<'_>,
) -> Analysis {
    let machine = Machine::detect(
        &settings.config,
        trust_store::workspace_trusted(settings.config.root.as_deref()),
    );
    let context = Context {
        config: &settings.config,
        kinds: &settings.kinds,
        path: Some(file),
        others,
        machine: &machine,
        failed_runs: &[],
        over_budget: &[],
    };
    lint(document, &context)
}

async fn dispatch(prepared: Prepared) -> Result<ExitCode, Stop> {
    let plan = &prepared.plan;
    let mut progress = Progress::new(plan.agent());
    let cancel = Cancel::new();
    // Ctrl-C cancels the request; what arrived stays in the journal, closed as cancelled.
    let interrupt = super::cancel_on_ctrl_c(&cancel);
    let queues = Queues::default();
    let finished = {
        let mut on_update = |event: Event<'_>| progress.show(event);
        run::execute(plan, run_id::new(), &queues, &mut on_update, &cancel).await
    };
    interrupt.abort();
    if let Some(problem) = &finished.journal_error {
        eprintln!("baton send: warning: {problem}");
    }
    if let Some(usage) = &finished.usage {
        let side = |n: Option<u64>| n.map_or("?".to_owned(), |n| n.to_string());
        eprintln!(
            "baton send: tokens: {} in, {} out",
            side(usage.prompt_tokens),
            side(usage.completion_tokens)
        );
    }
    if let Some(cut) = finished.truncation() {
        eprintln!("baton send: warning: {cut}");
    }
    let journal_file = Journal::new(&plan.journal_root).file(&finished.run);
    let status = match &finished.outcome {
        Outcome::Done => Status::Done,
        Outcome::Partial(_) => Status::Partial,
        // A run refused its journal (a planted link, say) has no run file to point to.
        Outcome::Failed(reason) if !journal_file.is_file() => {
            return Err(Stop::Failed(format!(
                "agent `{}` was not sent the brief: {reason}; the file is unchanged",
                finished.agent
            )))
        }
        Outcome::Failed(reason) => {
            return Err(Stop::Failed(format!(
                "agent `{}` failed: {reason}; the file is unchanged (run {} in {})",
                finished.agent,
                finished.run,
                journal_file.display()
            )))
        }
        Outcome::Cancelled(_) => {
            return Err(Stop::Failed(format!(
                "{}; the file is unchanged (run {} in {})",
                finished.outcome.summary(),
                finished.run,
                journal_file.display()
            )))
        }
    };
    let marker = Marker {
        run: finished.run.clone(),
        agent: finished.agent.clone(),
        model: finished.model.clone(),
        input: plan.payload.input_hash.clone(),
        status,
    };
    write_block(&prepared, &finished, &marker, &journal_file)?;
    match status {
        Status::Partial => Err(Stop::Failed(format!(
            "the answer of `{}` broke off; the partial output is in the file, marked status=partial",
            finished.agent
        ))),
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// Places the run's block under its brief in the file as it is now (`on_disk::write_block`)
/// and writes the file atomically.
fn write_block(
    prepared: &Prepared,
    finished: &Finished,
    marker: &Marker,
    journal_file: &Path,
) -> Result<(), Stop> {
    let title = &prepared.plan.brief_title;
    let body = place::body(&finished.text, true, prepared.plan.demote_headings);
    let before = on_disk::write_block(&prepared.file, title, marker, &body).map_err(|message| {
        Stop::Failed(format!(
            "{message}; the output is kept in the journal: {}",
            journal_file.display()
        ))
    })?;
    if before != prepared.original {
        let shown = prepared.file.display();
        eprintln!(
            "baton send: {shown} changed during the run; the output was placed in the new text"
        );
    }
    Ok(())
}
