//! The terminal commands. The only code allowed to print to stdout besides the LSP transport.
//!
//! `check` runs the same core as the server (`brief::lint` with `workspace::Settings`) over
//! files on disk and renders the findings for a terminal (`render`) or a code-scanning tool
//! (`sarif`); `init` writes a starter workspace; `agents` lists the agents in force and probes
//! them; `trust` keeps the user's trusted workspaces; `explain` prints a diagnostic's reference;
//! `send`, `run` and `graph` send briefs and run pipelines; `handoff` writes a handoff of a
//! document's thread and `resume` starts a thread from one.

#![allow(clippy::print_stdout, clippy::print_stderr)]

pub mod agents;
pub mod check;
mod disk;
pub mod explain;
mod finding;
pub mod graph;
pub mod handoff;
pub mod init;
mod progress;
mod render;
pub mod run;
mod sarif;
pub mod send;
pub mod trust;
mod walk;

/// Cancels `cancel` when the user presses Ctrl-C; abort the handle once the work is over.
fn cancel_on_ctrl_c(cancel: &crate::dispatch::run::Cancel) -> tokio::task::JoinHandle<()> {
    let cancel = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            cancel.cancel();
        }
    })
}
