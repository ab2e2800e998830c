//! baton: a language server for delegation and handoff briefs.
//!
//! The core (`document`, `brief`, `config`) is synchronous and knows nothing of LSP; `lsp` is
//! the thin shell that speaks the protocol, and `cli` renders the same results for a terminal.
//! `workspace` joins the two: which configuration applies, what linked documents hold.
//! `fs_safe` is the only code that creates files: inside the workspace, no symlinks.
//! `fuzzing` holds the drivers that the fuzz targets and the property tests share.

pub mod agent;
pub mod brief;
pub mod cli;
pub mod config;
pub mod dispatch;
pub mod document;
pub mod fs_safe;
#[doc(hidden)]
pub mod fuzzing;
pub mod lsp;
pub mod privacy;
pub mod workspace;
