//! The lifecycle of runs (DESIGN §4), one owner per concern, knowing no LSP and no terminal:
//!
//! - [`execute`]: one run, from its turn in the agent's queue to the last byte, reported as
//!   [`Event`]s and ended with a [`Finished`] run and its [`Outcome`].
//! - [`Cancel`]: a run's cancellation, with the reason it ends with.
//! - [`queue`]: per-agent queues (`max_concurrent`).
//! - [`registry`]: the runs queued or streaming, each brief's last outcome, cancellation (and
//!   cancel-and-replace when a brief is sent again to the same agent).
//! - [`recovery`]: a journalled run (whole, or the prefix a crash left) put back as its block.
//!
//! Where an answer goes in a document is `dispatch::place`'s; the server and `baton send` only
//! show what happens.

mod cancel;
mod execute;
pub mod queue;
pub mod recovery;
pub mod registry;

pub use cancel::Cancel;
pub use execute::{execute, Event, Finished, Outcome};
