//! The `baton` command line: the language server and the terminal commands.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "baton",
    version,
    about = "Lint delegation and handoff briefs; send them to agents."
)]
struct Cli {
    /// Serve LSP over stdio (same as `baton lsp`), as editors expect.
    #[arg(long)]
    stdio: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the Language Server Protocol over stdio.
    Lsp,
    /// Lint briefs and handoffs; exit 1 when any error is found.
    Check {
        /// Files and folders to check (default: the current folder).
        paths: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Also report `missing-key`: agents whose key variable is not set here. Off by
        /// default, since a check often runs where no brief is sent (CI).
        #[arg(long)]
        keys: bool,
    },
    /// Write a commented baton.toml, an example brief and handoff, and .baton/.gitignore.
    Init {
        /// The folder to initialise (default: the current folder).
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Send one brief to an agent and write the answer into the file.
    Send {
        /// The document holding the brief.
        file: PathBuf,
        /// The brief's title (case-insensitive); needed when the file holds several.
        #[arg(long)]
        brief: Option<String>,
        /// The agent (default: the brief's @mention, `agent:`, the first matching route, then defaults.agent).
        #[arg(long)]
        agent: Option<String>,
    },
    /// Write a handoff of a document's thread with its agent, beside the document
    /// (`<stem>.handoff.md`), and print its path. The agent writes it; when it cannot be
    /// reached, or with --offline, baton writes it from the journal.
    Handoff {
        /// The document whose thread is handed off.
        file: PathBuf,
        /// The brief whose agent is meant (case-insensitive title); needed when the file holds
        /// several briefs and no --agent is given.
        #[arg(long)]
        brief: Option<String>,
        /// The agent whose thread is handed off (default: the brief's own).
        #[arg(long)]
        agent: Option<String>,
        /// Write the handoff from the journal without asking any agent.
        #[arg(long)]
        offline: bool,
    },
    /// Start a new thread from a handoff file as it is now: the next run of the document it
    /// continues (with its agent) carries the handoff as its first turn. Nothing is sent.
    Resume {
        /// The handoff file.
        file: PathBuf,
        /// The agent whose thread starts from it (default: the handoff's `agent:`).
        #[arg(long)]
        agent: Option<String>,
    },
    /// Run the pipeline of the files: every brief (or the one named) with every brief it
    /// needs, in dependency order and in parallel, skipping those up to date.
    Run {
        /// The documents whose briefs run.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Run this brief (and what it needs) only; needs exactly one FILE.
        #[arg(long)]
        brief: Option<String>,
        /// Print the plan (each brief, its agent and why, what it needs, whether it is up to
        /// date) and send nothing.
        #[arg(long)]
        dry_run: bool,
        /// Send every brief, up to date or not.
        #[arg(long)]
        force: bool,
        /// At most this many runs at once (default: [pipeline] max_parallel, else 4).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        max_parallel: Option<u64>,
        /// Output format: progress for people, or one JSON event per line.
        #[arg(long, value_enum, default_value_t = RunFormat::Human)]
        format: RunFormat,
    },
    /// Print the pipeline of the files as a graph: briefs with their agent and state, links
    /// as edges.
    Graph {
        /// The documents whose briefs are drawn (with every brief they need).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The notation.
        #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
        format: GraphFormat,
    },
    /// List the agents in force for a folder and check that each can be reached.
    Agents {
        /// The folder whose configuration is listed (default: the current folder).
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = baton::cli::agents::Format::Human)]
        format: baton::cli::agents::Format,
    },
    /// Print what a diagnostic code means and what to do about it (from the reference built
    /// into baton); without a code, list the codes.
    Explain {
        /// The code, as `check` prints it (`missing-field`).
        code: Option<String>,
        /// List the codes with their severities.
        #[arg(long, conflicts_with = "code")]
        list: bool,
    },
    /// Trust a workspace: its baton.toml may then run command agents and send keys to its own
    /// base_url.
    Trust {
        /// A folder of the workspace (default: the current folder).
        dir: Option<PathBuf>,
        /// List the trusted workspaces.
        #[arg(long, conflicts_with_all = ["dir", "remove"])]
        list: bool,
        /// Stop trusting the workspace.
        #[arg(long)]
        remove: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Human,
    Json,
    Sarif,
}

#[derive(Clone, Copy, ValueEnum)]
enum RunFormat {
    Human,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum GraphFormat {
    Mermaid,
    Dot,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // clap prints help and version to stdout and usage errors to stderr.
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { 2 } else { 0 });
        }
    };
    match (cli.stdio, cli.command) {
        (_, Some(Command::Lsp)) | (true, None) => baton::lsp::serve(),
        (false, None) => {
            let _ = <Cli as clap::CommandFactory>::command().print_help();
            ExitCode::from(2)
        }
        (
            _,
            Some(Command::Check {
                paths,
                format,
                keys,
            }),
        ) => {
            let format = match format {
                Format::Human => baton::cli::check::Format::Human,
                Format::Json => baton::cli::check::Format::Json,
                Format::Sarif => baton::cli::check::Format::Sarif,
            };
            baton::cli::check::run(&paths, format, keys)
        }
        (_, Some(Command::Init { dir })) => baton::cli::init::run(&dir),
        (_, Some(Command::Send { file, brief, agent })) => {
            baton::cli::send::run(&baton::cli::send::Options { file, brief, agent })
        }
        (
            _,
            Some(Command::Handoff {
                file,
                brief,
                agent,
                offline,
            }),
        ) => baton::cli::handoff::run(&baton::cli::handoff::Options {
            file,
            brief,
            agent,
            offline,
        }),
        (_, Some(Command::Resume { file, agent })) => {
            baton::cli::handoff::resume(&baton::cli::handoff::ResumeOptions { file, agent })
        }
        (
            _,
            Some(Command::Run {
                files,
                brief,
                dry_run,
                force,
                max_parallel,
                format,
            }),
        ) => baton::cli::run::run(&baton::cli::run::Options {
            files,
            brief,
            dry_run,
            force,
            max_parallel: max_parallel.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
            format: match format {
                RunFormat::Human => baton::cli::run::Format::Human,
                RunFormat::Json => baton::cli::run::Format::Json,
            },
        }),
        (_, Some(Command::Graph { files, format })) => baton::cli::graph::run(
            &files,
            match format {
                GraphFormat::Mermaid => baton::cli::graph::Format::Mermaid,
                GraphFormat::Dot => baton::cli::graph::Format::Dot,
            },
        ),
        (_, Some(Command::Agents { dir, format })) => {
            baton::cli::agents::run(&baton::cli::agents::Options { dir, format })
        }
        (_, Some(Command::Explain { code, list })) => {
            baton::cli::explain::run(code.as_deref(), list)
        }
        (_, Some(Command::Trust { dir, list, remove })) => {
            let dir = dir.unwrap_or_else(|| PathBuf::from("."));
            let action = match (list, remove) {
                (true, _) => baton::cli::trust::Action::List,
                (false, true) => baton::cli::trust::Action::Remove(dir),
                (false, false) => baton::cli::trust::Action::Add(dir),
            };
            baton::cli::trust::run(&action)
        }
    }
}
