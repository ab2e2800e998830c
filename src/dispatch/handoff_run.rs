//! Hand off and resume (DESIGN §6), for the terminal (`baton handoff`, `baton resume`) and the
//! editor (`baton.handoff`, `baton.resume`) alike. A handoff sends the agent the thread of the
//! document with it, then the request of [`handoff::request`], through the run lifecycle
//! (journalled like any run); its answer is saved beside the document as a new
//! `<stem>.handoff.md` (never overwriting: `.handoff.2.md`, …). When the agent cannot be
//! reached (or the thread has no turns, or `--offline`), baton writes the handoff itself from
//! the journal ([`handoff::offline`]). Only the chosen agent is asked: its fallbacks are
//! other conversations, and the journal is the fallback here.
//! Resuming from a handoff is `dispatch::resume`.

use std::path::{Path, PathBuf};

use super::handoff::{self, Offline, RunNote, Source};
use super::journal::{Final, Journal};
use super::plan::{self, Ask, Plan, Refusal};
use super::run::queue::Queues;
use super::run::{self, Cancel, Event, Outcome};
use super::run_id;
use super::thread::{Threads, Turn};
use crate::agent::Message;
use crate::brief::kind::{Kind, Kinds};
use crate::brief::lint::Analysis;
use crate::dispatch::budget;
use crate::document::Document;
use crate::fs_safe::SafeDir;
use crate::workspace::Settings;

/// How many numbered names are tried before giving up.
const MAX_NUMBER: usize = 999;

/// What to hand off.
pub struct HandOff<'a> {
    pub path: &'a Path,
    pub document: &'a Document,
    pub analysis: &'a Analysis,
    pub settings: &'a Settings,
    /// The brief whose agent is meant (by title); needed only to pick among several.
    pub brief: Option<&'a str>,
    pub agent: Option<&'a str>,
    /// Write the handoff from the journal, asking no agent.
    pub offline: bool,
    pub trusted: bool,
    /// Whether an environment variable is set (for an agent's key).
    pub key_set: &'a dyn Fn(&str) -> bool,
}

/// Everything decided before the agent is asked.
pub struct Prepared {
    folder: PathBuf,
    name: String,
    source: Source,
    /// The run that asks the agent, or why none is made.
    plan: Result<Plan, String>,
    runs: Vec<RunNote>,
    briefs: Vec<String>,
    carried: Vec<String>,
}

impl Prepared {
    pub fn agent(&self) -> &str {
        &self.source.agent
    }

    /// The plan when an agent is to be asked.
    pub fn plan(&self) -> Option<&Plan> {
        self.plan.as_ref().ok()
    }
}

/// A handoff written.
#[derive(Clone, Debug)]
pub struct Written {
    pub path: PathBuf,
    /// The run of the agent that wrote it; `None` when baton wrote it from the journal.
    pub run: Option<String>,
    /// Why baton wrote it from the journal, when it did.
    pub offline: Option<String>,
}

/// Decides the agent, reads the thread, the journal and the earlier handoffs, and plans the
/// request; the error says why nothing can be handed off.
pub fn prepare(ask: &HandOff<'_>) -> Result<Prepared, String> {
    let analysis = ask.analysis;
    if analysis.kind.is_none() {
        return Err(Refusal::NotBaton.to_string());
    }
    let index = match (plan::pick_brief(&analysis.briefs, ask.brief), ask.agent) {
        (Ok(index), _) => Some(index),
        (Err(Refusal::SeveralBriefs { .. } | Refusal::NoBrief), Some(_)) => None,
        (Err(refusal), _) => return Err(refusal.to_string()),
    };
    let config = &ask.settings.config;
    let agent = match (ask.agent, index) {
        (Some(agent), _) => agent.to_owned(),
        (None, Some(index)) => plan::own_agent(&analysis.briefs[index], analysis, config)
            .ok_or_else(|| {
                let known = config.agent_names().map(str::to_owned).collect();
                Refusal::NoAgent { known }.to_string()
            })?,
        (None, None) => return Err(Refusal::NoBrief.to_string()),
    };
    let folder = ask.path.parent().unwrap_or(Path::new("/")).to_path_buf();
    let name = file_name(ask.path);
    let root = plan::journal_root(config, ask.path);
    let key = plan::thread_key(analysis, ask.path, &root, &agent);
    let turns = key.map_or_else(Vec::new, |key| Threads::new(&root).turns(&key));
    let kinds = Kinds::default();
    let kind = (ask.settings.kinds.get("handoff"))
        .or_else(|| kinds.get("handoff"))
        .expect("the handoff kind is built in");
    let carried = carried(&folder, &name, &agent, kind);
    let source = Source {
        document: name.clone(),
        agent: agent.clone(),
    };
    let plan = if ask.offline {
        Err("asked to write it offline".to_owned())
    } else if turns.is_empty() {
        Err(format!("the thread of {name} with @{agent} has no turns"))
    } else {
        let request = handoff::request(kind, &carried);
        plan_request(ask, index.unwrap_or(0), &agent, &turns, request, &folder)
    };
    Ok(Prepared {
        runs: runs(&Journal::new(&root), ask.path, &agent, &turns),
        briefs: analysis.briefs.iter().map(|b| b.title.clone()).collect(),
        folder,
        name,
        source,
        plan,
        carried,
    })
}

fn file_name(path: &Path) -> String {
    let name = path.file_name().unwrap_or_default();
    name.to_string_lossy().into_owned()
}

/// The run that asks `agent` for the handoff: the brief's plan (policy, privacy, model) with
/// the thread's turns and the request as its messages, journalled as a run of the handoff file.
fn plan_request(
    ask: &HandOff<'_>,
    index: usize,
    agent: &str,
    turns: &[Turn],
    request: String,
    folder: &Path,
) -> Result<Plan, String> {
    let mut plan = plan::plan(&Ask {
        path: ask.path,
        document: ask.document,
        analysis: ask.analysis,
        settings: ask.settings,
        brief: index,
        agent: Some(agent),
        selection: None,
        trusted: ask.trusted,
        inputs: &[],
        // The thread's turns are set below, with the request in place of the brief.
        turns: &|_, _| Vec::new(),
        corrections: &budget::journalled,
    })
    .map_err(|refusal| refusal.to_string())?;
    plan.attempts.truncate(1);
    // The handoff is not a turn of the thread it sums up: it seeds a new one on Resume.
    plan.thread = None;
    plan.attempts[0].thread = None;
    if let Some(refusal) = plan::key_refusal(&plan.attempts, ask.key_set) {
        return Err(refusal.to_string());
    }
    let mut messages: Vec<Message> = turns.iter().flat_map(Turn::messages).collect();
    messages.push(Message::user(request.clone()));
    plan.attempts[0].request.messages = messages;
    plan.payload.text = request;
    plan.brief_title = "Handoff".to_owned();
    plan.document = folder.join(free_name(folder, &file_name(ask.path)));
    plan.left_out.clear();
    Ok(plan)
}

/// The first handoff name of `document` not taken in `folder`.
fn free_name(folder: &Path, document: &str) -> String {
    (1..=MAX_NUMBER)
        .map(|n| handoff::file_name(document, n))
        .find(|name| std::fs::symlink_metadata(folder.join(name)).is_err())
        .unwrap_or_else(|| handoff::file_name(document, 1))
}

/// The Key Decisions of the earlier handoffs beside the document made from its thread with
/// `agent`, in the order they were made.
fn carried(folder: &Path, document: &str, agent: &str, kind: &Kind) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| handoff::is_handoff_of(name, document))
        .collect();
    names.sort_by_key(|name| (handoff::number(name), name.clone()));
    names
        .iter()
        .filter_map(|name| std::fs::read_to_string(folder.join(name)).ok())
        .filter(|text| {
            let (continues, named) = handoff::continued(text);
            continues.as_deref() == Some(document) && named.as_deref() == Some(agent)
        })
        .filter_map(|text| handoff::key_decisions(kind, &text))
        .collect()
}

/// The runs of the thread, oldest first: those its turns name, else the journal's runs of the
/// document with `agent`.
fn runs(journal: &Journal, document: &Path, agent: &str, turns: &[Turn]) -> Vec<RunNote> {
    let named: Vec<&str> = turns
        .iter()
        .filter_map(|turn| turn.run.as_deref())
        .collect();
    let ids: Vec<String> = if named.is_empty() {
        let mut runs = journal.runs();
        runs.retain(|run| run.document == document && run.agent == agent);
        runs.reverse();
        runs.into_iter().map(|run| run.run_id).collect()
    } else {
        named.into_iter().map(str::to_owned).collect()
    };
    ids.into_iter()
        .map(|id| match journal.read(&id) {
            Ok(run) => RunNote {
                run: id,
                brief: run.record.brief_title,
                status: status(run.state.as_ref()),
                answer: run.text,
            },
            Err(_) => RunNote {
                brief: String::new(),
                status: "not in the journal".to_owned(),
                answer: String::new(),
                run: id,
            },
        })
        .collect()
}

fn status(state: Option<&Final>) -> String {
    match state {
        Some(Final::Done) => "done".to_owned(),
        Some(Final::Failed { reason }) => format!("failed: {reason}"),
        Some(Final::Partial { reason }) => format!("partial: {reason}"),
        Some(Final::Cancelled) => "cancelled".to_owned(),
        None => "interrupted".to_owned(),
    }
}

/// Asks the agent (when planned) and writes the handoff: the agent's answer, or, when it
/// cannot answer, baton's own from the journal.
pub async fn hand_off(
    prepared: Prepared,
    queues: &Queues,
    on_update: &mut (dyn FnMut(Event<'_>) + Send),
    cancel: &Cancel,
) -> Result<Written, String> {
    let (text, run, offline) = match &prepared.plan {
        Ok(plan) => {
            let finished = run::execute(plan, run_id::new(), queues, on_update, cancel).await;
            match finished.outcome {
                Outcome::Done if !finished.text.trim().is_empty() => (
                    handoff::document(&prepared.source, &finished.text),
                    Some(finished.run),
                    None,
                ),
                Outcome::Cancelled(_) => {
                    return Err(format!(
                        "{}; no handoff was written",
                        finished.outcome.summary()
                    ))
                }
                other => {
                    let why = format!(
                        "@{} did not write it ({}, run {})",
                        finished.agent,
                        other.summary(),
                        finished.run
                    );
                    (written_offline(&prepared), None, Some(why))
                }
            }
        }
        Err(why) => (written_offline(&prepared), None, Some(why.clone())),
    };
    let path = write_new(&prepared.folder, &prepared.name, &text)?;
    Ok(Written { path, run, offline })
}

fn written_offline(prepared: &Prepared) -> String {
    handoff::offline(&Offline {
        source: prepared.source.clone(),
        runs: &prepared.runs,
        briefs: &prepared.briefs,
        carried: &prepared.carried,
    })
}

/// Writes `text` as the first handoff name of `document` that nothing in `folder` holds
/// (created new, no link followed).
fn write_new(folder: &Path, document: &str, text: &str) -> Result<PathBuf, String> {
    let dir = SafeDir::chosen(folder).map_err(|error| error.to_string())?;
    for n in 1..=MAX_NUMBER {
        let name = handoff::file_name(document, n);
        match dir.write_new(&name, text.as_bytes()) {
            Ok(()) => return Ok(folder.join(name)),
            Err(error) if error.already_exists() => continue,
            Err(error) => return Err(error.to_string()),
        }
    }
    Err(format!(
        "{MAX_NUMBER} handoffs of {document} exist already in {}",
        folder.display()
    ))
}
