//! How a `baton.*` command fails. A refusal is for the user to read (the brief cannot be sent
//! to that agent, the run is not in the journal): it is shown with `window/showMessage` and
//! the request is answered with `null`, because editors show a failed `executeCommand` only as
//! "Request workspace/executeCommand failed." A request the client got wrong (no `uri`, a
//! document that is not open) stays a JSON-RPC error.

use tower_lsp_server::jsonrpc::Error;

/// Why a command was not carried out.
#[derive(Debug)]
pub enum Failure {
    /// Said to the user, with what to do.
    Refused(String),
    /// Answered to the client.
    Protocol(Error),
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure::Protocol(error)
    }
}

/// A command's result.
pub type Outcome<T> = std::result::Result<T, Failure>;

/// A refusal the user reads.
pub fn refused(message: impl Into<String>) -> Failure {
    Failure::Refused(message.into())
}
