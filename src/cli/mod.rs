//! The terminal commands. The only code allowed to print to stdout besides the LSP transport.
//!
//! `check` runs the same core as the server (`brief::lint` with `workspace::Settings`) over
//! files on disk and renders the findings for a terminal (`render`) or a code-scanning tool
//! (`sarif`); `init` writes a starter workspace; `agents` lists the agents in force and probes
//! them; `handoff` writes a handoff of a document's thread and `resume` starts a thread
//! from one; `trust` keeps the user's trusted workspaces; `explain` prints a diagnostic's reference.

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
