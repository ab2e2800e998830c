//! `baton run FILE... [--brief TITLE] [--dry-run] [--force] [--max-parallel N]
//! [--format human|json]`: the pipeline of DESIGN §5 from a terminal. Every brief of the
//! files (or the one named), with every brief it needs, runs unless it is up to date, in
//! dependency order and in parallel (`dispatch::pipeline`); each answer is written into its
//! file atomically as its run ends. Ctrl-C cancels the runs in flight (what arrived is
//! written, marked cancelled) and starts nothing new.
//!
//! Exit status: 0 when every brief ended done or up to date; 1 otherwise; 2 when the pipeline
//! cannot be made (usage, unreadable file, no such brief, a cycle).

use std::path::PathBuf;
use std::process::ExitCode;

use super::disk::{DiskFiles, DiskWriter};
use crate::dispatch::pipeline::{self, Options as RunOptions, Pipeline, Selection, State};
use crate::dispatch::run::{queue::Queues, Cancel};

mod show;

pub use show::Format;
use show::{names, shown, Show};

/// Each brief's name as `run` shows it, and its file as the user reads it (for `graph`).
pub(super) fn names_and_files(pipeline: &Pipeline) -> (Vec<String>, Vec<String>) {
    let files = pipeline
        .nodes
        .iter()
        .map(|node| shown(&node.file))
        .collect();
    (names(pipeline), files)
}

/// What `baton run` was asked to do.
#[derive(Clone, Debug)]
pub struct Options {
    pub files: Vec<PathBuf>,
    pub brief: Option<String>,
    pub dry_run: bool,
    pub force: bool,
    pub max_parallel: Option<usize>,
    pub format: Format,
}

pub fn run(options: &Options) -> ExitCode {
    let usage = |message: String| {
        eprintln!("baton run: {message}");
        ExitCode::from(2)
    };
    let selection = match selection(options) {
        Ok(selection) => selection,
        Err(message) => return usage(message),
    };
    let files = DiskFiles::new("run");
    let pipeline = match pipeline::build(&selection, &files) {
        Ok(pipeline) => pipeline,
        Err(message) => return usage(message),
    };
    if options.dry_run {
        print_plan(&pipeline, options);
        return ExitCode::SUCCESS;
    }
    // Several threads: each run is a task, and one run's journal writes (fsynced) must not
    // hold up the others.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("baton run: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let success = runtime.block_on(execute(&pipeline, &files, options));
    match success {
        true => ExitCode::SUCCESS,
        false => ExitCode::FAILURE,
    }
}

fn selection(options: &Options) -> Result<Selection, String> {
    match (&options.brief, options.files.as_slice()) {
        (_, []) => Err("name at least one file".to_owned()),
        (None, files) => Ok(Selection::Files(files.to_vec())),
        (Some(title), [file]) => Ok(Selection::Brief {
            file: file.clone(),
            title: title.clone(),
        }),
        (Some(_), _) => Err("--brief names a brief of one file; give exactly one FILE".to_owned()),
    }
}

async fn execute(pipeline: &Pipeline, files: &DiskFiles, options: &Options) -> bool {
    let cancel = Cancel::new();
    // Ctrl-C cancels the runs in flight; what arrived is kept, in the journal and the file.
    let interrupt = super::cancel_on_ctrl_c(&cancel);
    let mut show = Show::new(pipeline, options.format);
    let mut on_event = |event: pipeline::Event<'_>| show.event(&event);
    let run_options = RunOptions {
        force: options.force,
        max_parallel: options.max_parallel,
    };
    let summary = pipeline::run(
        pipeline,
        files,
        &mut DiskWriter,
        &run_options,
        &Queues::default(),
        &cancel,
        &mut on_event,
    )
    .await;
    interrupt.abort();
    summary.success()
}

/// `--dry-run`: each brief, its agent and why, what it needs, whether it is up to date and
/// whether it would run. Nothing is sent.
fn print_plan(pipeline: &Pipeline, options: &Options) {
    let to_run = pipeline.to_run(options.force);
    let names = names(pipeline);
    let (count, fresh) = pipeline.counts();
    let runs = to_run.iter().filter(|&&run| run).count();
    if options.format == Format::Human {
        println!("{count} briefs, {fresh} up to date, {runs} to run; nothing is sent (--dry-run)");
    }
    for (index, node) in pipeline.nodes.iter().enumerate() {
        let needs: Vec<&str> = node
            .needs
            .iter()
            .map(|&need| names[need].as_str())
            .collect();
        let decision = match (to_run[index], node.state) {
            (false, _) => "will not run",
            (true, State::UpToDate) if options.force => "will run (--force)",
            (true, State::UpToDate) => "will run (a brief it needs runs)",
            (true, _) => "will run",
        };
        if options.format == Format::Json {
            let line = serde_json::json!({
                "event": "plan",
                "brief": node.title,
                "file": node.file,
                "agent": node.agent.as_ref().map(|agent| &agent.name),
                "host": node.host,
                "reason": node.agent.as_ref().map(|agent| agent.reason()),
                "needs": needs,
                "state": node.state.as_str(),
                "run": to_run[index],
            });
            println!("{line}");
            continue;
        }
        let agent = match (&node.agent, &node.host) {
            (Some(agent), None) => format!("@{} ({})", agent.name, agent.reason()),
            (Some(agent), Some(host)) => format!("@{} · {host} ({})", agent.name, agent.reason()),
            (None, _) => "no agent".to_owned(),
        };
        let needs = match needs.is_empty() {
            true => "needs nothing".to_owned(),
            false => format!("needs {}", needs.join(", ")),
        };
        println!(
            "{} [{}] → {agent}; {needs}; {}; {decision}",
            names[index],
            shown(&node.file),
            node.state.as_str(),
        );
    }
}
