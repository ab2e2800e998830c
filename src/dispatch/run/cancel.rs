//! Cancelling a run, and saying why: the reason travels with the cancellation, so the run's
//! [`Outcome::Cancelled`](super::Outcome) carries it to whoever shows the end (the editor's
//! progress and lens, `baton send`'s last line). A run the user cancelled has no reason to
//! give; one cancelled by baton (a new send of the same brief replaced it) says so.

use std::sync::{Arc, OnceLock};

use tokio_util::sync::CancellationToken;

/// A run's cancellation: clone it to hand it out; the first reason given wins.
#[derive(Clone, Debug, Default)]
pub struct Cancel {
    token: CancellationToken,
    reason: Arc<OnceLock<String>>,
}

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Cancels the run at the user's request.
    pub fn cancel(&self) {
        self.token.cancel();
    }

    /// Cancels the run for another reason than the user's asking, `reason` saying which in the
    /// user's words ("sent again as run X").
    pub fn cancel_because(&self, reason: impl Into<String>) {
        let _ = self.reason.set(reason.into());
        self.token.cancel();
    }

    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Why the run was cancelled, unless the user asked for it.
    pub fn reason(&self) -> Option<String> {
        self.reason.get().cloned()
    }

    /// The token the agent clients watch.
    pub fn token(&self) -> &CancellationToken {
        &self.token
    }

    /// Resolves once the run is cancelled.
    pub async fn cancelled(&self) {
        self.token.cancelled().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_reason_wins_and_clones_share_it() {
        let cancel = Cancel::new();
        let shared = cancel.clone();
        assert!(!shared.is_cancelled());
        cancel.cancel_because("sent again as run R2");
        shared.cancel_because("sent again as run R3");
        shared.cancel();
        assert!(shared.is_cancelled() && shared.token().is_cancelled());
        assert_eq!(shared.reason().as_deref(), Some("sent again as run R2"));
        let asked = Cancel::new();
        asked.cancel();
        assert!(asked.is_cancelled());
        assert_eq!(asked.reason(), None);
    }
}
