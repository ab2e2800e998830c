//! `baton handoff FILE [--brief TITLE] [--agent NAME] [--offline]` and `baton resume HANDOFF
//! [--agent NAME]` (DESIGN §6): the handoff of a document's thread with its agent, written
//! beside the document as a new `<stem>.handoff.md` (by the agent, or by baton from the
//! journal when the agent cannot be reached), whose path is printed on stdout; and a new
//! thread started from a handoff file as it is. Progress and findings go to stderr.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::progress::Progress;
use crate::brief::lint::{lint, Analysis, Context};
use crate::brief::Severity;
use crate::config::trust_store;
use crate::dispatch::handoff_run::{self, HandOff, Written};
use crate::dispatch::on_disk::read_text;
use crate::dispatch::run::queue::Queues;
use crate::dispatch::run::{Cancel, Event};
use crate::document::Document;
use crate::workspace::{no_open_documents, Boundary, LinkedDocuments, Machine, Settings};

/// What `baton handoff` was asked to do.
#[derive(Clone, Debug)]
pub struct Options {
    pub file: PathBuf,
    pub brief: Option<String>,
    pub agent: Option<String>,
    pub offline: bool,
}

/// A document read from disk with what it is linted with.
struct Read {
    file: PathBuf,
    document: Document,
    settings: Settings,
    analysis: Analysis,
    trusted: bool,
}

fn read(file: &Path, command: &str) -> Result<Read, ExitCode> {
    let shown = file.display().to_string();
    let usage = |message: String| {
        eprintln!("baton {command}: {message}");
        ExitCode::from(2)
    };
    let file = std::path::absolute(file).map_err(|error| usage(format!("{shown}: {error}")))?;
    let text = read_text(&file, &shown).map_err(usage)?;
    let folder = file.parent().unwrap_or(Path::new("/")).to_path_buf();
    let (settings, problems) = Settings::discover(&folder);
    for problem in &problems {
        let message = &problem.error.message;
        eprintln!("baton {command}: {}: {message}", problem.path.display());
    }
    let document = Document::new(&text);
    let trusted = trust_store::workspace_trusted(settings.config.root.as_deref());
    let analysis = analyse(&document, &file, &settings, trusted);
    Ok(Read {
        file,
        document,
        settings,
        analysis,
        trusted,
    })
}

fn analyse(document: &Document, file: &Path, settings: &Settings, trusted: bool) -> Analysis {
    let folder = file.parent().unwrap_or(Path::new("/"));
    let boundary = Boundary::of_document(settings.config.root.as_deref(), folder, &[]);
    let linked = LinkedDocuments::new(file, boundary, &no_open_documents);
    let machine = Machine::detect(&settings.config, trusted);
    let context = Context {
        config: &settings.config,
        kinds: &settings.kinds,
        path: Some(file),
        others: &linked,
        machine: &machine,
        failed_runs: &[],
        over_budget: &[],
    };
    lint(document, &context)
}

pub fn run(options: &Options) -> ExitCode {
    let read = match read(&options.file, "handoff") {
        Ok(read) => read,
        Err(code) => return code,
    };
    let key_set = |variable: &str| std::env::var_os(variable).is_some_and(|v| !v.is_empty());
    let prepared = handoff_run::prepare(&HandOff {
        path: &read.file,
        document: &read.document,
        analysis: &read.analysis,
        settings: &read.settings,
        brief: options.brief.as_deref(),
        agent: options.agent.as_deref(),
        offline: options.offline,
        trusted: read.trusted,
        key_set: &key_set,
    });
    let prepared = match prepared {
        Ok(prepared) => prepared,
        Err(message) => {
            eprintln!("baton handoff: {}: {message}", options.file.display());
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("baton handoff: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut progress = Progress::new(prepared.agent());
    let cancel = Cancel::new();
    let written = runtime.block_on(async {
        let interrupt = {
            let cancel = cancel.clone();
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    cancel.cancel();
                }
            })
        };
        let mut on_update = |event: Event<'_>| match event {
            Event::FallingBack { .. } => {}
            event => progress.show(event),
        };
        let queues = Queues::default();
        let written = handoff_run::hand_off(prepared, &queues, &mut on_update, &cancel).await;
        interrupt.abort();
        written
    });
    drop(progress);
    match written {
        Ok(written) => report(&written),
        Err(message) => {
            eprintln!("baton handoff: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Prints where the handoff is, and what is left to fill in.
fn report(written: &Written) -> ExitCode {
    if let Some(why) = &written.offline {
        eprintln!("baton handoff: written by baton from the journal: {why}");
    }
    println!("{}", written.path.display());
    if let Ok(read) = read(&written.path, "handoff") {
        let findings = (read.analysis.diagnostics.iter())
            .filter(|d| matches!(d.severity, Severity::Error | Severity::Warning))
            .count();
        if findings > 0 {
            eprintln!(
                "baton handoff: {findings} field(s) to complete: `baton check {}` lists them",
                written.path.display()
            );
        }
    }
    ExitCode::SUCCESS
}

/// What `baton resume` was asked to do.
#[derive(Clone, Debug)]
pub struct ResumeOptions {
    pub file: PathBuf,
    pub agent: Option<String>,
}

pub fn resume(options: &ResumeOptions) -> ExitCode {
    let read = match read(&options.file, "resume") {
        Ok(read) => read,
        Err(code) => return code,
    };
    if read.analysis.kind.as_deref() != Some("handoff") {
        eprintln!(
            "baton resume: {} is not a handoff (give it `kind: handoff` in its front matter)",
            options.file.display()
        );
        return ExitCode::from(2);
    }
    let text = read.document.text();
    match crate::dispatch::resume::resume(
        &read.file,
        &text,
        options.agent.as_deref(),
        &read.settings,
    ) {
        Ok(resumed) => {
            eprintln!(
                "baton resume: the next run of {} with @{} starts from this handoff",
                resumed.document.display(),
                resumed.agent
            );
            println!("{}", resumed.thread_file.display());
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("baton resume: {message}");
            ExitCode::FAILURE
        }
    }
}
