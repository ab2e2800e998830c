//! Runs, from the code action to the last byte (DESIGN §4). Knows no LSP: the server and the
//! CLI drive it alike.
//!
//! - [`plan`]: which brief, which agents (the chosen one, then its fallbacks), the request.
//! - [`privacy_gate`]: the last check of a plan: nothing confidential reaches a remote agent.
//! - [`inputs`]: the outputs of linked briefs, sent under "Inputs".
//! - [`run`]: the lifecycle: registry, queues, journal, send, fall back, close, recovery;
//!   reported as events.
//! - [`pipeline`]: linked briefs run in dependency order, in parallel, up to date like make.
//! - [`place`]: pure: where an answer goes in a document text as it is now.
//! - [`on_disk`]: a run's block written into a file on disk, atomically.
//! - [`journal`]: `.baton/runs/`, one JSON Lines file per run, written before any byte leaves;
//!   the only code that names run files.
//! - [`run_file`]: the JSON Lines format of one run's file.
//! - [`run_id`]: the ids that name runs in the journal and in output markers.
//! - [`thread`]: `.baton/threads/`, the earlier turns each run of a conversation is sent with.
//! - [`handoff`]: pure: the handoff request, file names, and the offline handoff from the journal.
//! - [`handoff_run`]: a handoff asked of the agent (or written offline) and saved beside the
//!   document; [`resume`]: a new thread seeded with a handoff.
//! - [`budget`]: a brief's tokens against its agent's context window; over budget past `handoff_at`.
//! - [`tokens`]: tokens counted offline with the BPE vocabularies, cached by text.
//! - [`usage`]: the tokens a run used as reported, beside those counted as sent.

pub mod budget;
pub mod budgets;
pub mod handoff;
pub mod handoff_run;
pub mod inputs;
pub mod journal;
pub mod on_disk;
pub mod pipeline;
pub mod place;
pub mod plan;
mod privacy_gate;
pub mod resume;
pub mod run;
pub mod run_file;
pub mod run_id;
pub mod thread;
pub mod tokens;
pub mod usage;
