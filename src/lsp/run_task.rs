//! One run sent from the editor, from its queue to its last edit: work-done progress, the
//! answer streamed into the document, the outcome shown (message, lens, diagnostics).
//!
//! Two tasks: one carries `dispatch::run::execute` (the agent's stream and the journal), the
//! other (this one) shows it; a channel joins them, so a fast stream never delays its own text.

use std::time::Duration;

use tokio::sync::mpsc;
use tower_lsp_server::ls_types as lsp;

use super::dispatch::Dispatcher;
use super::inject::Injector;
use super::progress::RunProgress;
use crate::brief::output::{Marker, Status};
use crate::dispatch::journal::Journal;
use crate::dispatch::plan::Plan;
use crate::dispatch::run::registry::Phase;
use crate::dispatch::run::{self, Cancel, Event, Outcome};
use crate::dispatch::tokens;

/// How often a streaming run's new text is written into the document, at most.
const FLUSH_EVERY: Duration = Duration::from_millis(50);
/// How often a streaming run's progress (its token count) is reported, at most.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);
/// How long the last edits of a finished run may wait for the document to take them: while
/// the user types, a client written to only when typing pauses takes none.
const FINAL_WRITE_WITHIN: Duration = Duration::from_secs(60);

/// What the run's callback hands to the task that shows it.
enum Signal {
    Queued,
    Started {
        run: String,
        agent: String,
        model: String,
    },
    Text(String),
    Note(String),
}

/// One run, from the queue to its last edit.
pub struct RunTask {
    pub dispatcher: Dispatcher,
    pub uri: lsp::Uri,
    pub plan: Plan,
    pub run: String,
    pub cancel: Cancel,
}

impl RunTask {
    pub async fn run(self) {
        let RunTask {
            dispatcher,
            uri,
            plan,
            run,
            cancel,
        } = self;
        let state = dispatcher.state.clone();
        let client = dispatcher.client.clone();
        let first = &plan.attempts[0];
        let title = format!("@{}: {}", first.agent, plan.brief_title);
        let progress = RunProgress::begin(&client, state.session(), &run, &title).await;
        let marker = Marker {
            run: run.clone(),
            agent: first.agent.clone(),
            model: first.request.model.clone(),
            input: plan.payload.input_hash.clone(),
            status: Status::Running,
        };
        let mut injector = Injector::new(
            client.clone(),
            state.clone(),
            uri.clone(),
            plan.brief_title.clone(),
            marker,
            plan.demote_headings,
        );
        let (signals, mut received) = mpsc::unbounded_channel();
        // The run goes on a task of its own, so that decoding a fast stream never keeps its
        // text from being shown (the two share no lock; the channel joins them).
        let execute = {
            let plan = plan.clone();
            let (run, state, cancel) = (run.clone(), state.clone(), cancel.clone());
            tokio::spawn(async move {
                let mut on_update = |event: Event<'_>| {
                    let signal = match event {
                        Event::Queued { .. } => Signal::Queued,
                        Event::Started {
                            run, agent, model, ..
                        } => Signal::Started {
                            run: run.to_owned(),
                            agent: agent.to_owned(),
                            model: model.to_owned(),
                        },
                        Event::Text(text) => Signal::Text(text.to_owned()),
                        Event::Retrying(retry) => Signal::Note(retry.to_string()),
                        Event::FallingBack { from, to, reason } => {
                            Signal::Note(format!("{from} failed ({reason}); trying {to}"))
                        }
                        // The task's result says how it went, once the channel closes.
                        Event::Finished(_) => return,
                    };
                    // The receiver lives until the channel closes.
                    let _ = signals.send(signal);
                };
                let queues = &state.runs.queues;
                run::execute(&plan, run, queues, &mut on_update, &cancel).await
            })
        };
        let show = async {
            let mut ticks = tokio::time::interval(FLUSH_EVERY);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut shown_tokens = 0;
            let mut shown_at = tokio::time::Instant::now();
            loop {
                tokio::select! {
                    signal = received.recv() => match signal {
                        Some(Signal::Queued) => {
                            progress.report("queued").await;
                        }
                        Some(Signal::Started { run: started, agent, model }) => {
                            if started != run {
                                injector.retarget(&started, &agent, &model);
                            }
                            state.runs.set_phase(&run, Phase::Streaming);
                            progress.report("streaming").await;
                            dispatcher.changed().await;
                        }
                        Some(Signal::Text(text)) => {
                            if state.runs.replaced_by(&run).is_some() {
                                injector.replaced();
                            }
                            let first = injector.received().is_empty();
                            injector.push(&text);
                            if first {
                                // The block appears with the first text, not a tick later.
                                injector.flush(Status::Running).await;
                            }
                        }
                        Some(Signal::Note(note)) => progress.report(&note).await,
                        None => break,
                    },
                    _ = ticks.tick() => {
                        if state.runs.replaced_by(&run).is_some() {
                            injector.replaced();
                        }
                        if injector.behind() {
                            injector.flush(Status::Running).await;
                        }
                        let tokens = tokens::streamed(injector.received().len());
                        if tokens != shown_tokens && shown_at.elapsed() >= PROGRESS_EVERY {
                            shown_at = tokio::time::Instant::now();
                            shown_tokens = tokens;
                            state.runs.set_tokens(&run, tokens);
                            progress.report(&format!("streaming · {} tokens", tokens)).await;
                        }
                    }
                }
            }
        };
        show.await;
        let finished = execute.await.unwrap_or_else(|error| {
            tracing::error!("run {run} ended abnormally: {error}");
            let first = &plan.attempts[0];
            run::Finished {
                run: run.clone(),
                agent: first.agent.clone(),
                model: first.request.model.clone(),
                outcome: Outcome::Failed(format!("internal error: {error}")),
                text: injector.received().to_owned(),
                journal_error: None,
                usage: None,
            }
        });
        // Sent again meanwhile: the new run owns the block; this one only closes its own.
        let replaced_by = state.runs.replaced_by(&run);
        if replaced_by.is_some() {
            injector.replaced();
        }
        // The last edits: all the text, and the marker's final status.
        let status = finished.outcome.status();
        if !injector.received().is_empty() {
            let deadline = tokio::time::Instant::now() + FINAL_WRITE_WITHIN;
            while !injector.flush(status).await {
                if tokio::time::Instant::now() >= deadline {
                    injector.give_up();
                    break;
                }
                tokio::time::sleep(FLUSH_EVERY).await;
            }
        }
        let ending = finished.outcome.summary();
        // Recorded before the progress ends: a client that asks for lenses when it sees the
        // end must be told how the run went, not that it is running.
        state.runs.finish(&run, finished.outcome.clone());
        progress.end(&ending).await;
        let journal_file = Journal::new(&plan.journal_root).file(&finished.run);
        let mut messages = Vec::new();
        match &finished.outcome {
            Outcome::Failed(reason) => messages.push((
                lsp::MessageType::ERROR,
                format!("baton: @{} failed on \"{}\": {reason}", finished.agent, plan.brief_title),
            )),
            Outcome::Partial(reason) => messages.push((
                lsp::MessageType::WARNING,
                format!(
                    "baton: the answer of @{} broke off ({reason}); the partial output is kept, marked status=partial",
                    finished.agent
                ),
            )),
            Outcome::Done | Outcome::Cancelled(_) => {}
        }
        if let Some(stopped) = injector.stopped().filter(|_| replaced_by.is_none()) {
            messages.push((
                lsp::MessageType::INFO,
                format!(
                    "baton: run {} stopped writing into the document ({}); its whole output is in {}",
                    finished.run,
                    stopped.describe(),
                    journal_file.display()
                ),
            ));
        }
        if let Some(problem) = &finished.journal_error {
            messages.push((lsp::MessageType::WARNING, format!("baton: {problem}")));
        }
        if let Some(cut) = finished.truncation() {
            messages.push((
                lsp::MessageType::WARNING,
                format!("baton: run {} of `{}`: {cut}", finished.run, finished.agent),
            ));
        }
        for (kind, message) in messages {
            client.show_message(kind, message).await;
        }
        dispatcher.linter.lint(uri.clone());
        dispatcher.changed().await;
        if let Some(stopped) = injector.stopped().filter(|_| replaced_by.is_none()) {
            tracing::info!(
                "run {} stopped injecting: {}",
                finished.run,
                stopped.describe()
            );
            dispatcher.scan_journal(&uri);
        }
    }
}
