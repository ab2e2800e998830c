//! A finished run's answer in a pipeline: how it ends its brief, its block placed at once into
//! the document in memory (so the briefs that need it read it when they start), then written
//! by the shell's [`Writer`] once those have started. A brief whose block cannot be written
//! ends failed; what arrived stays in the journal.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use super::schedule::Schedule;
use super::texts::Texts;
use super::{Ended, Event, Pipeline, Writer};
use crate::brief::output::Marker;
use crate::dispatch::place::{self, Gone};
use crate::dispatch::plan::Plan;
use crate::dispatch::run::{Finished, Outcome};

/// A block placed in memory, to be written.
pub(super) struct Block {
    node: usize,
    file: PathBuf,
    title: String,
    marker: Marker,
    body: String,
    /// Whether the run ended done: the brief is done once this is written.
    done: bool,
}

/// How a finished run ends brief `node`, and the block to write: its answer (done, or what
/// arrived of a broken-off or cancelled one), already placed into the document in memory.
pub(super) fn settle(
    pipeline: &Pipeline,
    node: usize,
    plan: &Plan,
    finished: &Finished,
    texts: &mut Texts,
    on_event: &mut (dyn FnMut(Event<'_>) + Send),
) -> (Ended, Option<Block>) {
    if let Some(problem) = &finished.journal_error {
        on_event(Event::Note {
            node,
            message: problem,
        });
    }
    if let Some(cut) = finished.truncation() {
        on_event(Event::Note {
            node,
            message: &cut,
        });
    }
    let agent = &finished.agent;
    let ended = match &finished.outcome {
        Outcome::Done => Ended::Done,
        Outcome::Partial(reason) => Ended::Failed(format!(
            "the answer of `{agent}` broke off ({reason}); what arrived is written, marked partial"
        )),
        Outcome::Failed(reason) => {
            return (Ended::Failed(format!("`{agent}` failed: {reason}")), None)
        }
        Outcome::Cancelled(_) => Ended::Cancelled { started: true },
    };
    if finished.text.is_empty() && ended != Ended::Done {
        return (ended, None);
    }
    let file = &pipeline.nodes[node].file;
    match place(node, file, plan, finished, texts) {
        Ok(block) => (ended, Some(block)),
        Err(reason) => (Ended::Failed(reason), None),
    }
}

/// Places the run's block into the document in memory.
fn place(
    node: usize,
    file: &Path,
    plan: &Plan,
    finished: &Finished,
    texts: &mut Texts,
) -> Result<Block, String> {
    let marker = Marker {
        run: finished.run.clone(),
        agent: finished.agent.clone(),
        model: finished.model.clone(),
        input: plan.payload.input_hash.clone(),
        status: finished.outcome.status(),
    };
    let body = place::body(&finished.text, true, plan.demote_headings);
    let title = &plan.brief_title;
    let shown = file.display();
    let kept = format!("the output is kept in the journal (run {})", finished.run);
    let doc = texts
        .get(file)
        .ok_or_else(|| format!("cannot read {shown}; {kept}"))?;
    let edit =
        place::replace(&doc.document, &doc.text, title, &marker, &body).map_err(
            |gone| match gone {
                Gone::Brief | Gone::Block => {
                    format!("the brief \"{title}\" is no longer in {shown}; {kept}")
                }
            },
        )?;
    let updated = place::apply(&doc.text, &edit);
    texts.set(file, updated);
    Ok(Block {
        node,
        file: file.to_path_buf(),
        title: title.clone(),
        marker,
        body,
        done: finished.outcome == Outcome::Done,
    })
}

/// Has the shell write `blocks`, in order, until `news` says a run has ended or spoken (what
/// needs the run that ended starts first; the blocks left are written next time). A done brief
/// is said done once its block is written, and failed when it cannot be (the briefs that
/// needed it have its answer already).
pub(super) fn write(
    blocks: &mut VecDeque<Block>,
    writer: &mut dyn Writer,
    schedule: &mut Schedule,
    on_event: &mut (dyn FnMut(Event<'_>) + Send),
    news: &dyn Fn() -> bool,
) {
    while !news() {
        let Some(block) = blocks.pop_front() else {
            return;
        };
        let node = block.node;
        match writer.write(&block.file, &block.title, &block.marker, &block.body) {
            Ok(()) if block.done => on_event(Event::Done { node }),
            Ok(()) => {}
            Err(reason) if block.done => {
                on_event(Event::Failed {
                    node,
                    reason: &reason,
                });
                schedule.amend(node, Ended::Failed(reason));
            }
            Err(reason) => on_event(Event::Note {
                node,
                message: &reason,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::brief::output::Status;

    struct Refuse;

    impl Writer for Refuse {
        fn write(&mut self, file: &Path, _: &str, _: &Marker, _: &str) -> Result<(), String> {
            Err(format!("{} is read-only", file.display()))
        }
    }

    fn block(node: usize, done: bool) -> Block {
        Block {
            node,
            file: "/ws/a.brief.md".into(),
            title: "Scan".into(),
            marker: Marker {
                run: "R".into(),
                agent: "w".into(),
                model: "m".into(),
                input: "00000000".into(),
                status: if done {
                    Status::Done
                } else {
                    Status::Cancelled
                },
            },
            body: "Answer.".into(),
            done,
        }
    }

    #[test]
    fn a_done_brief_whose_block_cannot_be_written_ends_failed() {
        let mut schedule = Schedule::new(vec![vec![], vec![0], vec![]], &[true; 3]);
        schedule.start(0);
        schedule.start(2);
        schedule.end(0, Ended::Done);
        schedule.end(2, Ended::Cancelled { started: true });
        assert_eq!(
            schedule.ready(),
            [1],
            "what needs it starts before the write"
        );
        let mut events = Vec::new();
        let mut on_event = |event: Event<'_>| events.push(format!("{event:?}"));
        let mut blocks = VecDeque::from([block(0, true), block(2, false)]);
        write(
            &mut blocks,
            &mut Refuse,
            &mut schedule,
            &mut on_event,
            &|| false,
        );
        assert!(blocks.is_empty());
        assert_eq!(
            events,
            [
                "Failed { node: 0, reason: \"/ws/a.brief.md is read-only\" }",
                "Note { node: 2, message: \"/ws/a.brief.md is read-only\" }",
            ]
        );
        let ended = schedule.ended();
        assert_eq!(
            ended[0],
            Ended::Failed("/ws/a.brief.md is read-only".into())
        );
        assert_eq!(ended[2], Ended::Cancelled { started: true });
    }
}
