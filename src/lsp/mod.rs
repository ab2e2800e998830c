//! The language server: a thin shell between LSP and the core.
//!
//! `serve` runs tower-lsp-server on stdin and stdout, behind a reader that keeps one bad
//! message from ending the session (`stdio`, `frame`, `vet`). Handlers (`server`) convert in
//! (`from_proto`), call the core through the shared state (`state`), and convert out
//! (`to_proto`).

mod actions;
mod budget;
mod capabilities;
mod config_watch;
mod context;
mod counting;
mod diagnostics;
mod dispatch;
mod edit_lane;
mod features;
pub(crate) mod frame;
mod from_proto;
mod guard;
mod inject;
mod lens;
mod linter;
mod logging;
mod openings;
pub mod options;
mod placement;
mod progress;
mod refused;
mod replay;
mod run_task;
mod send_actions;
mod server;
mod state;
mod stdio;
mod to_proto;
mod trust;
pub(crate) mod vet;
mod wire;
mod writing;

use std::process::ExitCode;
use std::sync::{Arc, OnceLock};

use tower_lsp_server::{LspService, Server};

use server::Backend;
use state::State;

/// Serves LSP over stdio until the client exits. Exit code 0 after `shutdown` then `exit`,
/// 1 when the client went away without `shutdown`, as the protocol asks.
pub fn serve() -> ExitCode {
    logging::init();
    // Handlers run in arrival order on this thread (tower-lsp polls them there); the linter
    // and the runs are tasks on the workers, so streaming answers, linting and typing do not
    // wait for one another.
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!("cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let state = Arc::new(State::default());
    runtime.block_on(run(state.clone()));
    // The stdin thread may still be blocked in a read; it ends with the process.
    runtime.shutdown_background();
    if state.is_shut_down() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

async fn run(state: Arc<State>) {
    // The reader thread applies edits itself once the server has made the lane for it.
    let lane = Arc::new(OnceLock::new());
    let backend_lane = lane.clone();
    let (service, socket) =
        LspService::build(move |client| Backend::new(client, state, &backend_lane))
            .custom_method(vet::MALFORMED_METHOD, Backend::malformed)
            .custom_method("window/workDoneProgress/cancel", Backend::cancel_progress)
            .finish();
    let stdin = stdio::checked_frames(std::io::stdin(), lane);
    Server::new(stdin, stdio::DirectStdout, socket)
        .serve(service)
        .await;
}
