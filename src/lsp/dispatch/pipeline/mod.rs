//! "Run pipeline" in the editor (DESIGN §5): the code lens and code action on a brief that has
//! dependencies or dependants, and `baton.runPipeline`, which runs the brief with everything it
//! needs (or every brief of the document) through `dispatch::pipeline`, as `baton run` does.
//! One work-done progress follows the pipeline, says which briefs are running, and cancels it;
//! each answer lands in its document: in the buffer when the editor holds it open, else in the
//! file (`writer`).

use std::sync::Arc;

use serde_json::{json, Value};
use tower_lsp_server::ls_types as lsp;

use super::{Args, Dispatcher};
use crate::dispatch::pipeline::{self, Ended, Event, Options, Pipeline, Selection};
use crate::dispatch::plan::Refusal;
use crate::dispatch::run::Cancel;
use crate::dispatch::run_id;
use crate::lsp::progress::RunProgress;
use crate::lsp::refused::{refused, Outcome};

mod files;
mod lens;
mod writer;

pub use files::EditorFiles;
pub use lens::{pipeline_action, pipeline_lenses, title as pipeline_title};

/// The command that runs a pipeline: `{ uri, brief? }`.
pub const RUN_PIPELINE: &str = "baton.runPipeline";

impl Dispatcher {
    /// `baton.runPipeline`: the brief named, or the one at `position` (with every brief it
    /// needs), else every brief of the document; answered at once with what will run, carried
    /// out by a task.
    pub async fn run_pipeline(&self, args: Args) -> Outcome<Value> {
        let uri = args.uri.clone().ok_or_else(|| {
            refused("baton.runPipeline needs `uri`: the document whose briefs to run".to_owned())
        })?;
        let snapshot = self.snapshot(&uri)?;
        if !snapshot.analysis().is_baton_document() {
            return Err(refused(Refusal::NotBaton.to_string()));
        }
        let Some(path) = snapshot.context.path.clone() else {
            return Err(refused(
                "save the document first: a pipeline reads its briefs from files".to_owned(),
            ));
        };
        let analysis = snapshot.analysis();
        let at = (args.position).map(|position| {
            let encoding = self.state.encoding();
            crate::lsp::from_proto::offset(snapshot.document(), position, encoding)
        });
        let under_cursor = at.and_then(|at| super::brief_at(analysis, at));
        let title = (args.brief.clone())
            .or_else(|| under_cursor.map(|index| analysis.briefs[index].title.clone()));
        let selection = match title {
            Some(title) => Selection::Brief { file: path, title },
            None => Selection::Files(vec![path]),
        };
        let files = Arc::new(EditorFiles::new(self.state.clone()));
        let built = {
            let files = files.clone();
            tokio::task::spawn_blocking(move || pipeline::build(&selection, &*files)).await
        };
        let pipeline = built
            .map_err(|error| refused(format!("the pipeline could not be built: {error}")))?
            .map_err(refused)?;
        let to_run = pipeline.to_run(false).iter().filter(|&&run| run).count();
        let id = run_id::new();
        let cancel = Cancel::new();
        self.state.pipelines.insert(id.clone(), cancel.clone());
        let answer = json!({
            "pipeline": id,
            "briefs": pipeline.nodes.len(),
            "toRun": to_run,
        });
        tokio::spawn(drive(self.clone(), pipeline, files, id, cancel));
        Ok(answer)
    }

    /// Cancels the pipeline a progress token names; `false` if it names none.
    pub fn cancel_pipeline(&self, token: &lsp::ProgressToken) -> bool {
        let Some(id) = crate::lsp::progress::pipeline_of(token) else {
            return false;
        };
        if let Some(cancel) = self.state.pipelines.get(&id) {
            cancel.cancel();
        }
        true
    }
}

/// Runs the pipeline, showing it as one progress, then says how it ended.
async fn drive(
    dispatcher: Dispatcher,
    pipeline: Pipeline,
    files: Arc<EditorFiles>,
    id: String,
    cancel: Cancel,
) {
    let state = dispatcher.state.clone();
    let client = dispatcher.client.clone();
    let (total, fresh) = pipeline.counts();
    let title = format!("baton: pipeline · {total} briefs, {fresh} up to date");
    let progress = RunProgress::begin_pipeline(&client, state.session(), &id, &title).await;
    let (mut writer, written) = writer::start(dispatcher.clone());
    let (reports, mut reported) = tokio::sync::mpsc::unbounded_channel();
    let names: Vec<String> = pipeline.nodes.iter().map(|n| n.title.clone()).collect();
    let runner = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut shown = Shown::default();
            let mut on_event = |event: Event<'_>| {
                if let Some(message) = shown.event(&event, &pipeline) {
                    // The receiver lives until the sender is dropped.
                    let _ = reports.send(message);
                }
            };
            let queues = &state.runs.queues;
            let options = Options::default();
            let summary = pipeline::run(
                &pipeline,
                &*files,
                &mut writer,
                &options,
                queues,
                &cancel,
                &mut on_event,
            )
            .await;
            drop(writer);
            summary
        })
    };
    while let Some(message) = reported.recv().await {
        progress.report(&message).await;
    }
    let summary = runner.await;
    let problems = written.await.unwrap_or_default();
    state.pipelines.remove(&id);
    let Ok(summary) = summary else {
        progress.end("the pipeline ended abnormally").await;
        return;
    };
    progress.end(&summary.tally()).await;
    let mut lines: Vec<String> = (summary.ended.iter().enumerate())
        .filter_map(|(node, ended)| match ended {
            Ended::Failed(reason) => Some(format!("\"{}\" failed: {reason}", names[node])),
            Ended::Skipped { because } => Some(format!(
                "\"{}\" was not sent: \"{}\" failed",
                names[node], names[*because]
            )),
            _ => None,
        })
        .collect();
    lines.extend(problems);
    let (kind, message) = match lines.is_empty() {
        true => (
            lsp::MessageType::INFO,
            format!("baton: pipeline: {}", summary.tally()),
        ),
        false => (
            lsp::MessageType::ERROR,
            format!("baton: pipeline: {}; {}", summary.tally(), lines.join("; ")),
        ),
    };
    client.show_message(kind, message).await;
    dispatcher.changed().await;
}

/// What the progress says: which briefs are running, and how many are done.
#[derive(Default)]
struct Shown {
    running: Vec<usize>,
    ended: usize,
    to_run: usize,
}

impl Shown {
    /// The progress message after `event`, when it changes what is shown.
    fn event(&mut self, event: &Event<'_>, pipeline: &Pipeline) -> Option<String> {
        match *event {
            Event::Waiting { .. } => {
                self.to_run += 1;
                return None;
            }
            Event::Started { node, .. } => {
                if !self.running.contains(&node) {
                    self.running.push(node);
                }
            }
            Event::Done { node }
            | Event::Failed { node, .. }
            | Event::Skipped { node, .. }
            | Event::Cancelled { node } => {
                self.running.retain(|&running| running != node);
                self.ended += 1;
            }
            Event::Recovered { .. }
            | Event::Queued { .. }
            | Event::Text { .. }
            | Event::Note { .. }
            | Event::UpToDate { .. }
            | Event::Finished(_) => return None,
        }
        let running: Vec<&str> = (self.running.iter())
            .map(|&node| pipeline.nodes[node].title.as_str())
            .collect();
        let done = format!("{} of {} ended", self.ended, self.to_run);
        Some(match running.is_empty() {
            true => done,
            false => format!("running: {} · {done}", running.join(", ")),
        })
    }
}
