//! The executor loop: runs a [`Pipeline`] with the [`Schedule`], starting each brief as soon
//! as every brief it needs is done, at most `max_parallel` at once (and each agent's
//! `max_concurrent`, through the shared [`Queues`]). Each brief is planned when it starts, with
//! its inputs as the documents are then; each answer is placed into the documents held in
//! memory (so the briefs that need it read it) and handed to the shell's [`Writer`].
//!
//! The loop owns all state; each run is a task of its own (so that one run's journal writes
//! never hold up another's stream), which reports its events and its end to the loop through
//! a channel. Dropping the loop aborts its runs.

use std::collections::VecDeque;
use std::path::Path;

use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};
use tokio::task::JoinHandle;

use super::schedule::{self, Schedule};
use super::texts::Texts;
use super::{answer, resume, Ended, Event, Files, Options, Pipeline, Summary, Writer};
use crate::dispatch::budget;
use crate::dispatch::plan::{self, Ask, Plan};
use crate::dispatch::run::{self, queue::Queues, Cancel, Finished};
use crate::dispatch::run_id;
use crate::dispatch::thread;
use crate::dispatch::tokens;

/// What a run tells the loop.
enum Note {
    Queued,
    Started {
        run: String,
        agent: String,
        host: Option<String>,
    },
    Text {
        tokens: usize,
    },
    Said(String),
    Ended(Box<(Plan, Finished)>),
    /// The run's task ended without a [`Note::Ended`] (it panicked).
    Lost,
}

/// The runs started; dropped, those still going are aborted.
#[derive(Default)]
struct Running(Vec<JoinHandle<()>>);

impl Drop for Running {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// Runs every brief of `pipeline` that is not up to date (all with `options.force`), in
/// dependency order, reporting to `on_event`; [`Event::Finished`] last, with the summary
/// returned. `cancel` cancels the runs in flight (what arrived is written, marked cancelled)
/// and starts nothing new.
pub async fn run(
    pipeline: &Pipeline,
    files: &dyn Files,
    writer: &mut dyn Writer,
    options: &Options,
    queues: &Queues,
    cancel: &Cancel,
    on_event: &mut (dyn FnMut(Event<'_>) + Send),
) -> Summary {
    let mut texts = Texts::default();
    for node in &pipeline.nodes {
        // A document that cannot be read any more fails its briefs when they start.
        let _ = texts.load(&node.file, files);
    }
    resume::recover(pipeline, &mut texts, files, writer, on_event);
    let needs: Vec<Vec<usize>> = pipeline.nodes.iter().map(|n| n.needs.clone()).collect();
    let states: Vec<_> = (pipeline.nodes.iter())
        .map(|node| {
            texts
                .state_of(&node.file, &node.title, files)
                .unwrap_or(node.state)
        })
        .collect();
    let to_run = schedule::to_run(&needs, &states, options.force);
    let mut schedule = Schedule::new(needs, &to_run);
    for (node, &run) in to_run.iter().enumerate() {
        on_event(match run {
            true => Event::Waiting { node },
            false => Event::UpToDate { node },
        });
    }
    let max_parallel = (options.max_parallel)
        .or_else(|| {
            pipeline
                .nodes
                .first()
                .map(|node| max_parallel(files, &node.file))
        })
        .unwrap_or(crate::config::DEFAULT_MAX_PARALLEL)
        .max(1);
    let (notes, mut noted) = unbounded_channel();
    let mut running = Running::default();
    let mut in_flight = 0;
    let mut told_queued = vec![false; pipeline.nodes.len()];
    // The blocks of the runs that ended, placed in memory, to be written once what needs them
    // has started: a write (fsynced) never holds up a start.
    let mut blocks = VecDeque::new();
    loop {
        if cancel.is_cancelled() {
            for node in schedule.cancel_waiting() {
                on_event(Event::Cancelled { node });
            }
        }
        for node in schedule.ready() {
            if in_flight >= max_parallel {
                if !std::mem::replace(&mut told_queued[node], true) {
                    on_event(Event::Queued { node });
                }
                continue;
            }
            schedule.start(node);
            match prepare(pipeline, node, &texts, files) {
                Ok(plan) => {
                    running
                        .0
                        .push(go(node, plan, queues, cancel, notes.clone()));
                    in_flight += 1;
                }
                Err(reason) => end(&mut schedule, node, Ended::Failed(reason), on_event),
            }
        }
        let busy = in_flight > 0;
        let news = || busy && !noted.is_empty();
        answer::write(&mut blocks, writer, &mut schedule, on_event, &news);
        if blocks.is_empty() && (schedule.is_over() || in_flight == 0) {
            break;
        }
        if in_flight == 0 {
            continue;
        }
        // The loop holds a sender: the channel never closes while it waits. Every note
        // already there is taken with the first, so that the runs that ended together are
        // all placed before anything is written.
        let Some(first) = noted.recv().await else {
            break;
        };
        let mut batch = vec![first];
        while let Ok(note) = noted.try_recv() {
            batch.push(note);
        }
        for (node, note) in batch {
            let (plan, finished) = match note {
                Note::Ended(ended) => *ended,
                Note::Lost => {
                    in_flight -= 1;
                    let reason = "the run stopped unexpectedly; see baton's log".to_owned();
                    end(&mut schedule, node, Ended::Failed(reason), on_event);
                    continue;
                }
                note => {
                    tell(node, &note, on_event);
                    continue;
                }
            };
            in_flight -= 1;
            if cancel.is_cancelled() {
                // Before the run that ended is, so that what waited on it is cancelled, not skipped.
                for node in schedule.cancel_waiting() {
                    on_event(Event::Cancelled { node });
                }
            }
            let settled = answer::settle(pipeline, node, &plan, &finished, &mut texts, on_event);
            let (ended, block) = settled;
            blocks.extend(block);
            end(&mut schedule, node, ended, on_event);
        }
    }
    let summary = Summary {
        ended: schedule.ended(),
    };
    on_event(Event::Finished(&summary));
    summary
}

/// Hands on what a run said while it went.
fn tell(node: usize, note: &Note, on_event: &mut (dyn FnMut(Event<'_>) + Send)) {
    on_event(match note {
        Note::Queued => Event::Queued { node },
        Note::Started { run, agent, host } => Event::Started {
            node,
            run,
            agent,
            host: host.as_deref(),
        },
        Note::Text { tokens } => Event::Text {
            node,
            tokens: *tokens,
        },
        Note::Said(message) => Event::Note { node, message },
        Note::Ended(_) | Note::Lost => return,
    });
}

fn max_parallel(files: &dyn Files, file: &Path) -> usize {
    files.settings(file).config.max_parallel()
}

/// Ends `node` in the schedule and tells how, and which briefs are skipped because of it.
fn end(
    schedule: &mut Schedule,
    node: usize,
    ended: Ended,
    on_event: &mut (dyn FnMut(Event<'_>) + Send),
) {
    match &ended {
        // Said once its block is written (`answer::write`).
        Ended::Done => {}
        Ended::Failed(reason) => on_event(Event::Failed { node, reason }),
        Ended::Cancelled { .. } => on_event(Event::Cancelled { node }),
        Ended::UpToDate | Ended::Skipped { .. } => {}
    }
    for skipped in schedule.end(node, ended) {
        on_event(Event::Skipped {
            node: skipped,
            because: node,
        });
    }
}

/// The plan of brief `node` as the documents are now: its inputs are the latest outputs of
/// the briefs it needs, answers of this pipeline included. `Err` says why it cannot be sent.
fn prepare(
    pipeline: &Pipeline,
    node: usize,
    texts: &Texts,
    files: &dyn Files,
) -> Result<Plan, String> {
    let node = &pipeline.nodes[node];
    let shown = node.file.display();
    let doc = texts
        .get(&node.file)
        .ok_or_else(|| format!("cannot read {shown}"))?;
    let index = doc
        .brief(&node.title)
        .ok_or_else(|| format!("the brief \"{}\" is no longer in {shown}", node.title))?;
    let inputs = texts.inputs(&node.file, index, files);
    let plan = plan::plan(&Ask {
        path: &node.file,
        document: &doc.document,
        analysis: &doc.analysis,
        settings: &doc.settings,
        brief: index,
        agent: None,
        selection: None,
        trusted: doc.trusted,
        inputs: &inputs,
        turns: &thread::on_disk,
        corrections: &budget::journalled,
    })
    .map_err(|refusal| refusal.to_string())?;
    match plan::key_refusal(&plan.attempts, &|name| files.key_set(name)) {
        Some(refusal) => Err(refusal.to_string()),
        None => Ok(plan),
    }
}

/// Starts brief `node`'s run as a task of its own, its events and end noted for the loop.
fn go(
    node: usize,
    plan: Plan,
    queues: &Queues,
    cancel: &Cancel,
    notes: UnboundedSender<(usize, Note)>,
) -> JoinHandle<()> {
    let (queues, cancel) = (queues.clone(), cancel.clone());
    tokio::spawn(async move {
        // Says the run is lost if the task ends without its end noted (a panic).
        let mut lost = Lost(Some((node, notes.clone())));
        let mut bytes = 0;
        let mut on_update = |event: run::Event<'_>| {
            let note = match event {
                run::Event::Queued { .. } => Note::Queued,
                run::Event::Started {
                    run, agent, host, ..
                } => Note::Started {
                    run: run.to_owned(),
                    agent: agent.to_owned(),
                    host: host.map(str::to_owned),
                },
                run::Event::Text(chunk) => {
                    bytes += chunk.len();
                    Note::Text {
                        tokens: tokens::streamed(bytes),
                    }
                }
                run::Event::Retrying(retry) => Note::Said(retry.to_string()),
                run::Event::FallingBack { from, to, reason } => {
                    Note::Said(format!("{from} failed ({reason}); trying {to}"))
                }
                run::Event::Finished(_) => return,
            };
            let _ = notes.send((node, note));
        };
        let finished = run::execute(&plan, run_id::new(), &queues, &mut on_update, &cancel).await;
        lost.0 = None;
        let _ = notes.send((node, Note::Ended(Box::new((plan, finished)))));
    })
}

/// Notes a run lost when dropped armed.
struct Lost(Option<(usize, UnboundedSender<(usize, Note)>)>);

impl Drop for Lost {
    fn drop(&mut self) {
        if let Some((node, notes)) = self.0.take() {
            let _ = notes.send((node, Note::Lost));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::brief::output::Marker;

    use crate::workspace::Settings;

    struct Nothing;

    impl Files for Nothing {
        fn text(&self, _: &Path) -> Option<String> {
            None
        }
        fn settings(&self, _: &Path) -> Arc<Settings> {
            Arc::default()
        }
        fn trusted(&self, _: &Path) -> bool {
            false
        }
    }

    struct Refuse;

    impl Writer for Refuse {
        fn write(&mut self, _: &Path, _: &str, _: &Marker, _: &str) -> Result<(), String> {
            Err("read-only".into())
        }
    }

    fn send<T: Send>(value: T) -> T {
        value
    }

    /// The editor spawns a pipeline on its runtime: the future must be `Send`.
    #[tokio::test]
    async fn a_pipeline_is_a_send_future_and_an_empty_one_ends_at_once() {
        let pipeline = Pipeline { nodes: Vec::new() };
        let (queues, cancel) = (Queues::default(), Cancel::new());
        let mut events = Vec::new();
        let mut on_event = |event: Event<'_>| events.push(format!("{event:?}"));
        let summary = send(run(
            &pipeline,
            &Nothing,
            &mut Refuse,
            &Options::default(),
            &queues,
            &cancel,
            &mut on_event,
        ))
        .await;
        assert!(summary.success());
        assert_eq!(events, ["Finished(Summary { ended: [] })"]);
    }
}
