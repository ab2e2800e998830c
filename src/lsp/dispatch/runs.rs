//! The runs as editors see them (`docs/editor-protocol.md`): `baton.runs` and the `baton/runs`
//! notification list the runs queued or streaming and the handoffs an agent is writing;
//! `baton.cancel`, or cancelling a run's work-done progress, stops them.

use serde::Deserialize;
use serde_json::{json, Value};
use tower_lsp_server::ls_types as lsp;

use super::{Args, Dispatcher};
use crate::dispatch::run::registry::RunInfo;

impl Dispatcher {
    /// `baton.cancel`: a run or a handoff (by the id `baton.send` or `baton.handoff` answered),
    /// a document's runs and handoffs, or all of them.
    pub(super) fn cancel(&self, args: &Args) -> Value {
        let which = |info: &RunInfo| match (&args.run, &args.uri) {
            (Some(run), _) => info.run == *run,
            (None, Some(uri)) => info.uri == *uri,
            (None, None) => true,
        };
        let mut cancelled = self.state.runs.cancel(which);
        for handoff in self.state.handoffs.iter() {
            let (info, cancel) = handoff.value();
            if which(info) && !cancel.is_cancelled() {
                cancel.cancel();
                cancelled.push(info.run.clone());
            }
        }
        json!({ "cancelled": cancelled })
    }

    /// Cancels the run a work-done progress stands for.
    pub fn cancel_progress(&self, token: &lsp::ProgressToken) {
        if self.cancel_pipeline(token) {
            return;
        }
        if let Some(run) = crate::lsp::progress::run_of(token) {
            self.state.runs.cancel(|info| info.run == run);
        }
    }

    /// The runs queued or streaming, and the handoffs an agent is writing.
    pub(super) fn active(&self) -> Vec<RunInfo> {
        let mut runs = self.state.runs.active();
        runs.extend((self.state.handoffs.iter()).map(|handoff| handoff.value().0.clone()));
        runs.sort_by(|a, b| a.run.cmp(&b.run));
        runs
    }

    /// Tells the client the runs changed: the `baton/runs` notification and code lenses.
    pub async fn changed(&self) {
        let runs = self.active();
        self.client
            .send_notification::<RunsNotification>(RunsParams { runs })
            .await;
        if self.state.session().code_lens_refresh {
            let client = self.client.clone();
            tokio::spawn(async move {
                if let Err(error) = client.code_lens_refresh().await {
                    tracing::debug!("workspace/codeLens/refresh failed: {error}");
                }
            });
        }
    }
}

/// `baton/runs`: the runs queued or streaming, sent whenever that changes.
pub enum RunsNotification {}

#[derive(Debug, serde::Serialize, Deserialize)]
pub struct RunsParams {
    runs: Vec<RunInfo>,
}

impl lsp::notification::Notification for RunsNotification {
    type Params = RunsParams;
    const METHOD: &'static str = "baton/runs";
}
