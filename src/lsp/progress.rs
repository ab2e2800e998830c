//! A run's (or a pipeline's, or a handoff's) work-done progress (`$/progress`): begun when the
//! run is sent, reported as it queues and streams, ended with how it went. Cancellable: the
//! client's `window/workDoneProgress/cancel` names the token, which names the run.

use tower_lsp_server::ls_types as lsp;
use tower_lsp_server::Client;

use super::state::Session;

const PREFIX: &str = "baton-run-";
const PIPELINE_PREFIX: &str = "baton-pipeline-";
const HANDOFF_PREFIX: &str = "baton-handoff-";

/// The run a progress token stands for.
pub fn run_of(token: &lsp::ProgressToken) -> Option<String> {
    stripped(token, PREFIX)
}

/// The pipeline a progress token stands for.
pub fn pipeline_of(token: &lsp::ProgressToken) -> Option<String> {
    stripped(token, PIPELINE_PREFIX)
}

/// The handoff a progress token stands for.
pub fn handoff_of(token: &lsp::ProgressToken) -> Option<String> {
    stripped(token, HANDOFF_PREFIX)
}

fn stripped(token: &lsp::ProgressToken, prefix: &str) -> Option<String> {
    match token {
        lsp::ProgressToken::String(token) => token.strip_prefix(prefix).map(str::to_owned),
        lsp::ProgressToken::Number(_) => None,
    }
}

/// A run's progress in the editor; silent when the client cannot show progress.
pub struct RunProgress {
    client: Client,
    token: Option<lsp::ProgressToken>,
}

impl RunProgress {
    /// Creates the progress (`window/workDoneProgress/create`) and begins it.
    pub async fn begin(client: &Client, session: &Session, run: &str, title: &str) -> RunProgress {
        let token = format!("{PREFIX}{run}");
        RunProgress::begin_token(client, session, token, title).await
    }

    /// A pipeline's progress, named by `pipeline`'s id.
    pub async fn begin_pipeline(
        client: &Client,
        session: &Session,
        pipeline: &str,
        title: &str,
    ) -> RunProgress {
        let token = format!("{PIPELINE_PREFIX}{pipeline}");
        RunProgress::begin_token(client, session, token, title).await
    }

    /// A handoff's progress, named by the handoff's id.
    pub async fn begin_handoff(
        client: &Client,
        session: &Session,
        handoff: &str,
        title: &str,
    ) -> RunProgress {
        let token = format!("{HANDOFF_PREFIX}{handoff}");
        RunProgress::begin_token(client, session, token, title).await
    }

    async fn begin_token(
        client: &Client,
        session: &Session,
        token: String,
        title: &str,
    ) -> RunProgress {
        let mut progress = RunProgress {
            client: client.clone(),
            token: None,
        };
        if !session.work_done_progress {
            return progress;
        }
        let token = lsp::ProgressToken::String(token);
        if let Err(error) = client.create_work_done_progress(token.clone()).await {
            tracing::debug!("window/workDoneProgress/create failed: {error}");
            return progress;
        }
        progress.token = Some(token);
        progress
            .send(lsp::WorkDoneProgress::Begin(lsp::WorkDoneProgressBegin {
                title: title.to_owned(),
                cancellable: Some(true),
                message: Some("starting".to_owned()),
                percentage: None,
            }))
            .await;
        progress
    }

    pub async fn report(&self, message: &str) {
        self.send(lsp::WorkDoneProgress::Report(lsp::WorkDoneProgressReport {
            cancellable: Some(true),
            message: Some(message.to_owned()),
            percentage: None,
        }))
        .await;
    }

    pub async fn end(&self, message: &str) {
        self.send(lsp::WorkDoneProgress::End(lsp::WorkDoneProgressEnd {
            message: Some(message.to_owned()),
        }))
        .await;
    }

    async fn send(&self, value: lsp::WorkDoneProgress) {
        let Some(token) = &self.token else {
            return;
        };
        self.client
            .send_notification::<lsp::notification::Progress>(lsp::ProgressParams {
                token: token.clone(),
                value: lsp::ProgressParamsValue::WorkDone(value),
            })
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_token_names_only_what_its_prefix_says() {
        let token = |text: &str| lsp::ProgressToken::String(text.to_owned());
        let handoff = token("baton-handoff-h1");
        assert_eq!(handoff_of(&handoff).as_deref(), Some("h1"));
        assert_eq!(run_of(&handoff), None);
        assert_eq!(pipeline_of(&handoff), None);
        assert_eq!(handoff_of(&token("baton-run-h1")), None);
        assert_eq!(handoff_of(&lsp::ProgressToken::Number(1)), None);
    }
}
