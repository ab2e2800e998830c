//! Panics contained: a bug in the core becomes an error response or a message to the user,
//! never a dead server (as ruff and rust-analyzer do it).

use std::panic::{catch_unwind, AssertUnwindSafe};

use tower_lsp_server::jsonrpc;

/// A panic caught while doing `what`.
#[derive(Clone, Debug)]
pub struct Panicked {
    pub what: &'static str,
    pub message: String,
}

impl Panicked {
    /// What the user is told.
    pub fn user_message(&self) -> String {
        format!(
            "baton hit an internal error while {}: {}. Please report it; the server keeps running.",
            self.what, self.message
        )
    }

    /// The error response for a request whose work panicked.
    pub fn to_jsonrpc(&self) -> jsonrpc::Error {
        jsonrpc::Error {
            message: self.user_message().into(),
            ..jsonrpc::Error::internal_error()
        }
    }
}

/// Runs `work`, turning a panic into [`Panicked`] (logged here; the panic hook has already
/// printed it to stderr). The shared state is only ever replaced whole, by `Arc` snapshots,
/// so nothing is left half-updated by an unwind.
pub fn contain<T>(what: &'static str, work: impl FnOnce() -> T) -> Result<T, Panicked> {
    catch_unwind(AssertUnwindSafe(work)).map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        tracing::error!("panic while {what}: {message}");
        Panicked { what, message }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_value() {
        assert_eq!(contain("adding", || 1 + 1).unwrap(), 2);
        let caught = contain("linting", || -> () { panic!("boom {}", 1) }).unwrap_err();
        assert_eq!(caught.message, "boom 1");
        assert!(caught
            .to_jsonrpc()
            .message
            .contains("while linting: boom 1"));
    }
}
