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
