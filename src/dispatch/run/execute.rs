//! The life of a run (DESIGN §4 steps 3–5), from its turn in the agent's queue to the last
//! byte: journalled before anything leaves, every chunk journalled as it arrives, retried by
//! the agent client, handed to the `fallback` agents when the chosen one cannot answer, and
//! closed as done, partial, failed or cancelled. Knows no LSP and no terminal: it reports
//! [`Event`]s to its caller, which shows them.
//!
//! Each agent tried is a run of its own in the journal (its own id, payload and model), so the
//! journal always says exactly what went where. A run that ends done joins the thread of the
//! agent that answered (DESIGN §6): its payload as sent and its answer as received become the
//! thread's next turn, here, for every caller (editor, `baton send`, `baton run`).

use std::io;
use std::time::SystemTime;

use super::queue::Queues;
use super::Cancel;
use crate::agent::{self, AgentError, Retry};
use crate::brief::output::Status;
use crate::dispatch::journal::{Final, Journal, RunRecord};
use crate::dispatch::plan::{payload_json, Attempt, Plan};
use crate::dispatch::run_file::Usage;
use crate::dispatch::run_id;
use crate::dispatch::thread::{Threads, Turn};
use crate::dispatch::tokens::Counter;

/// What a run reports while it goes, in order; [`Event::Finished`] last.
#[derive(Debug)]
pub enum Event<'a> {
    /// The agent's queue is full: the run waits for a turn.
    Queued { agent: &'a str },
    /// A request is about to leave for `agent`; `run` names it in the journal. `host` is
    /// where it goes when that is not the provider's own endpoint (DESIGN §7).
    Started {
        run: &'a str,
        agent: &'a str,
        model: &'a str,
        host: Option<&'a str>,
    },
    /// A piece of the answer, as received.
    Text(&'a str),
    /// The agent client retries after a pause.
    Retrying(&'a Retry<'a>),
    /// `from` could not answer; `to` is tried next.
    FallingBack {
        from: &'a str,
        to: &'a str,
        reason: &'a str,
    },
    /// The run is over: how it went, and the answer.
    Finished(&'a Finished),
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// The answer broke off (timeout, broken stream, size bound); what arrived is kept.
    Partial(String),
    Failed(String),
    /// Cancelled: by the user (`None`), or for the reason given (`Cancel::reason`).
    Cancelled(Option<String>),
}

impl Outcome {
    /// The output marker's status for this outcome.
    pub fn status(&self) -> Status {
        match self {
            Outcome::Done => Status::Done,
            Outcome::Partial(_) => Status::Partial,
            Outcome::Failed(_) => Status::Failed,
            Outcome::Cancelled(_) => Status::Cancelled,
        }
    }

    /// How the run ended, in a few words: `done`, `partial: why`, `failed: why`, `cancelled`,
    /// `cancelled: why`.
    pub fn summary(&self) -> String {
        match self {
            Outcome::Done => "done".to_owned(),
            Outcome::Partial(reason) => format!("partial: {reason}"),
            Outcome::Failed(reason) => format!("failed: {reason}"),
            Outcome::Cancelled(None) => "cancelled".to_owned(),
            Outcome::Cancelled(Some(reason)) => format!("cancelled: {reason}"),
        }
    }

    fn journal_state(&self) -> Final {
        match self {
            Outcome::Done => Final::Done,
            Outcome::Partial(reason) => Final::Partial {
                reason: reason.clone(),
            },
            Outcome::Failed(reason) => Final::Failed {
                reason: reason.clone(),
            },
            Outcome::Cancelled(_) => Final::Cancelled,
        }
    }
}

/// A finished run.
#[derive(Debug)]
pub struct Finished {
    /// The run of the last agent tried: the one whose answer (if any) is the output.
    pub run: String,
    pub agent: String,
    pub model: String,
    pub outcome: Outcome,
    /// The answer, as received.
    pub text: String,
    /// When the journal could not be written to after the run started (disk full…): the run
    /// went on, and this says what could not be kept.
    pub journal_error: Option<String>,
    /// The tokens the provider reported, beside those counted as sent; `None` when it
    /// reported none.
    pub usage: Option<Usage>,
}

impl Finished {
    /// The warning when the agent saw only part of the payload (see [`Usage::truncation`]).
    pub fn truncation(&self) -> Option<String> {
        self.usage.as_ref()?.truncation()
    }
}

/// Runs `plan`: each attempt in turn until one answers. `first_run` is the id of the first
/// attempt's run (the caller may have shown it already). `on_update` is called in order, from
/// this task, [`Event::Finished`] last; it must not block.
pub async fn execute(
    plan: &Plan,
    first_run: String,
    queues: &Queues,
    on_update: &mut (dyn FnMut(Event<'_>) + Send),
    cancel: &Cancel,
) -> Finished {
    let finished = attempts(plan, first_run, queues, on_update, cancel).await;
    on_update(Event::Finished(&finished));
    finished
}

/// Each attempt in turn until one answers, or none is left.
async fn attempts(
    plan: &Plan,
    first_run: String,
    queues: &Queues,
    on_update: &mut (dyn FnMut(Event<'_>) + Send),
    cancel: &Cancel,
) -> Finished {
    let journal = Journal::new(&plan.journal_root);
    let mut run = first_run;
    let mut index = 0;
    loop {
        let attempt = &plan.attempts[index];
        let (finished, fall_back) =
            execute_attempt(plan, attempt, &run, &journal, queues, on_update, cancel).await;
        let next = plan.attempts.get(index + 1);
        match (fall_back, next) {
            (true, Some(next)) => {
                let reason = match &finished.outcome {
                    Outcome::Failed(reason) => reason.clone(),
                    other => format!("{other:?}"),
                };
                on_update(Event::FallingBack {
                    from: &attempt.agent,
                    to: &next.agent,
                    reason: &reason,
                });
                index += 1;
                run = run_id::new();
            }
            (true, None) => return with_left_out(plan, finished),
            (false, _) => return finished,
        }
    }
}

/// A run that failed where a fallback would have been tried: its reason names the fallbacks
/// the plan left out (refused by policy, say), so the user learns why none answered.
fn with_left_out(plan: &Plan, mut finished: Finished) -> Finished {
    if let Outcome::Failed(reason) = &mut finished.outcome {
        for left_out in &plan.left_out {
            reason.push_str("; ");
            reason.push_str(left_out);
        }
    }
    finished
}

/// One agent's run; and whether its failure calls for the next agent.
async fn execute_attempt(
    plan: &Plan,
    attempt: &Attempt,
    run: &str,
    journal: &Journal,
    queues: &Queues,
    on_update: &mut (dyn FnMut(Event<'_>) + Send),
    cancel: &Cancel,
) -> (Finished, bool) {
    let model = attempt.request.model.clone();
    let ended = |outcome: Outcome, text: String, journal_error: Option<String>| Finished {
        run: run.to_owned(),
        agent: attempt.agent.clone(),
        model: model.clone(),
        outcome,
        text,
        journal_error,
        usage: None,
    };
    let max_concurrent = attempt.spec.max_concurrent();
    let turn = match queues.try_turn(&attempt.agent, max_concurrent) {
        Some(turn) => turn,
        None => {
            on_update(Event::Queued {
                agent: &attempt.agent,
            });
            tokio::select! {
                turn = queues.turn(&attempt.agent, max_concurrent) => turn,
                () = cancel.cancelled() => return (ended(Outcome::Cancelled(cancel.reason()), String::new(), None), false),
            }
        }
    };
    let record = RunRecord {
        run_id: run.to_owned(),
        document: plan.document.clone(),
        brief_title: plan.brief_title.clone(),
        agent: attempt.agent.clone(),
        model: model.clone(),
        provider: format!("{:?}", attempt.spec.provider).to_lowercase(),
        input_hash: plan.payload.input_hash.clone(),
        payload: payload_json(&attempt.request).to_string(),
        started_at: SystemTime::now(),
    };
    // Nothing leaves before the run is on disk.
    let mut writer = match journal.start(record) {
        Ok(writer) => writer,
        Err(error) => {
            let reason = format!(
                "cannot write the run journal in {}: {error}; nothing was sent",
                journal.dir().display()
            );
            return (ended(Outcome::Failed(reason), String::new(), None), false);
        }
    };
    let host = attempt.spec.shown_host();
    on_update(Event::Started {
        run,
        agent: &attempt.agent,
        model: &model,
        host: host.as_deref(),
    });
    let mut text = String::new();
    let mut journal_error: Option<io::Error> = None;
    let result = {
        let mut on_event = |event: agent::Event<'_>| match event {
            agent::Event::Text(chunk) => {
                if let Err(error) = writer.append(chunk) {
                    journal_error.get_or_insert(error);
                }
                text.push_str(chunk);
                on_update(Event::Text(chunk));
            }
            agent::Event::Retrying(retry) => on_update(Event::Retrying(&retry)),
        };
        agent::send(
            &attempt.agent,
            &attempt.spec,
            &attempt.request,
            &mut on_event,
            cancel.token(),
        )
        .await
    };
    drop(turn);
    let usage = result
        .as_ref()
        .ok()
        .and_then(|finish| usage(attempt, finish));
    if let Some(usage) = usage {
        let cut = usage.truncation();
        let written = writer
            .usage(usage)
            .and_then(|()| cut.map_or(Ok(()), |cut| writer.warning(&cut)));
        if let Err(error) = written {
            journal_error.get_or_insert(error);
        }
    }
    let fall_back = matches!(&result, Err(error) if error.calls_for_fallback()) && text.is_empty();
    let outcome = match result {
        Ok(_) => Outcome::Done,
        Err(AgentError::Cancelled) => Outcome::Cancelled(cancel.reason()),
        Err(
            error @ (AgentError::Timeout { .. }
            | AgentError::BrokenStream { .. }
            | AgentError::TooLarge { .. }),
        ) if !text.is_empty() => Outcome::Partial(error.to_string()),
        Err(error) => Outcome::Failed(error.to_string()),
    };
    if let Err(error) = writer.finish(outcome.journal_state()) {
        journal_error.get_or_insert(error);
    }
    let mut journal_error = journal_error.map(|error| {
        format!(
            "could not journal the whole run {run} in {}: {error}",
            journal.dir().display()
        )
    });
    if outcome == Outcome::Done {
        if let Err(error) = join_thread(plan, attempt, run, &text) {
            let error = format!(
                "could not add run {run} to its thread: {error}; the next run is sent without it"
            );
            journal_error = Some(match journal_error {
                Some(earlier) => format!("{earlier}; {error}"),
                None => error,
            });
        }
    }
    let mut finished = ended(outcome, text, journal_error);
    finished.usage = usage;
    (finished, fall_back)
}

/// What the provider reported, beside the prompt tokens counted in what was sent. The payload
/// is counted only when the provider reported its prompt tokens (there is nothing to compare
/// otherwise), once the answer is in: never before the request leaves.
fn usage(attempt: &Attempt, finish: &agent::Finish) -> Option<Usage> {
    if finish.input_tokens.is_none() && finish.output_tokens.is_none() {
        return None;
    }
    let counted = finish.input_tokens.map(|_| {
        let counter = Counter::for_agent(&attempt.spec);
        let request = &attempt.request;
        let system = request.system.as_deref().map_or(0, |s| counter.count(s));
        system
            + request
                .messages
                .iter()
                .map(|m| counter.count(&m.content))
                .sum::<u64>()
    });
    Some(Usage {
        prompt_tokens: finish.input_tokens,
        completion_tokens: finish.output_tokens,
        counted,
    })
}

/// Adds a done run to the thread of the agent that answered: the payload as it was sent (the
/// request's last message) and the answer as received. Nothing for `thread: none`.
fn join_thread(
    plan: &Plan,
    attempt: &Attempt,
    run: &str,
    answer: &str,
) -> Result<(), crate::fs_safe::WriteError> {
    let (Some(key), Some(sent)) = (&attempt.thread, attempt.request.messages.last()) else {
        return Ok(());
    };
    Threads::new(&plan.journal_root).append(
        key,
        Turn {
            run: Some(run.to_owned()),
            user: sent.content.clone(),
            assistant: Some(answer.to_owned()),
        },
    )
}
