//! Runs, from the code action to the last byte (DESIGN §4). Knows no LSP: the server and the
//! CLI drive it alike.
//!
//! - [`plan`]: which brief, which agents (the chosen one, then its fallbacks), the request.
//! - [`privacy_gate`]: the last check of a plan: nothing confidential reaches a remote agent.
//! - [`inputs`]: the outputs of linked briefs, sent under "Inputs".
//! - [`queue`]: per-agent queues (`max_concurrent`).
//! - [`run`]: the lifecycle: queue, journal, send, fall back, close; reported as updates.
//! - [`journal`]: `.baton/runs/`, one JSON Lines file per run, written before any byte leaves.
//! - [`run_file`]: the JSON Lines format of one run's file.
//! - [`run_id`]: the ids that name runs in the journal and in output markers.

pub mod inputs;
pub mod journal;
pub mod plan;
mod privacy_gate;
pub mod queue;
pub mod run;
pub mod run_file;
pub mod run_id;
