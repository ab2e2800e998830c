//! Runs, from the code action to the last byte (DESIGN §4). Knows no LSP: the server and the
//! CLI drive it alike.
//!
//! - [`journal`]: `.baton/runs/`, one JSON Lines file per run, written before any byte leaves.
//! - [`run_file`]: the JSON Lines format of one run's file.
//! - [`run_id`]: the ids that name runs in the journal and in output markers.

pub mod journal;
pub mod run_file;
pub mod run_id;
