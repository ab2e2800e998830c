//! The dispatch code actions (DESIGN §4 steps 1 and 6): "Send *Title* to @agent" (the brief's
//! own agent first), "Send selection to @agent", "Preview payload for @agent", "Start a new
//! thread with @agent" for each agent whose thread with the document has turns, "Hand off to a
//! new thread with @agent" when the brief's thread with its own agent has turns, "Resume from
//! handoff with @agent" on a handoff, and "Insert saved output of run …" for journalled runs
//! whose output is missing from the document. An action that sends names the host its text
//! goes to when that is not the provider's own (`Send "Title" to @x · llm.example.net`).
//! Each carries a command; the work happens when the user picks it.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;
use tower_lsp_server::ls_types as lsp;

use super::dispatch::{
    complete_runs, pipeline_action, HANDOFF, NEW_THREAD, PREVIEW, RECOVER, RESUME, SEND,
};
use super::from_proto;
use super::state::{Snapshot, State};
use crate::brief::model::Brief;
use crate::brief::Code;
use crate::config::{AgentSpec, Config};
use crate::dispatch::plan;
use crate::dispatch::thread::Threads;
use crate::document::Encoding;

pub fn send_actions(
    state: &State,
    snapshot: &Snapshot,
    params: &lsp::CodeActionParams,
) -> Vec<lsp::CodeActionOrCommand> {
    let analysis = snapshot.analysis();
    if !analysis.is_baton_document() || snapshot.context.path.is_none() {
        return Vec::new();
    }
    let encoding = state.encoding();
    let document = snapshot.document();
    let start = from_proto::offset(document, params.range.start, encoding);
    let end = from_proto::offset(document, params.range.end, encoding);
    let mut resumes = Vec::new();
    if analysis.kind.as_deref() == Some("handoff") && params.context.only.is_none() {
        resumes = resume_actions(snapshot, params.text_document.uri.as_str());
    }
    let Some(brief) = analysis
        .briefs
        .iter()
        .find(|brief| brief.range.contains(&start) || brief.range.end == start)
    else {
        return resumes;
    };
    let config = &snapshot.settings().config;
    let uri = params.text_document.uri.as_str();
    // The brief's own agent is offered even when the configuration lacks it: the action's
    // title then says so, as sending would.
    let own = plan::own_agent(brief, analysis, config);
    let wants_fixes = params.context.only.as_ref().is_none_or(|only| {
        only.iter().any(|kind| {
            lsp::CodeActionKind::QUICKFIX
                .as_str()
                .starts_with(kind.as_str())
        })
    });
    let mut fixes = Vec::new();
    if wants_fixes {
        fixes = resend_fixes(snapshot, params, brief, own.as_deref(), encoding);
    }
    // The other dispatch actions have no kind; a client asking only for some kinds gets none.
    if params.context.only.is_some() {
        return fixes;
    }
    let mut agents: Vec<&str> = Vec::new();
    if let Some(own) = &own {
        agents.push(own);
    }
    agents.extend(
        config
            .agent_names()
            .filter(|name| Some(*name) != own.as_deref()),
    );
    let obstacles: Vec<Option<plan::Refusal>> = agents
        .iter()
        .map(|agent| obstacle(snapshot, agent))
        .collect();
    let mut actions = fixes;
    actions.extend(resumes);
    for (agent, obstacle) in agents.iter().zip(&obstacles) {
        actions.push(action(
            titled(
                format!("Send \"{}\" to {}", brief.title, to(config, agent)),
                obstacle,
            ),
            SEND,
            json!({ "uri": uri, "brief": brief.title, "agent": agent }),
        ));
    }
    if start < end {
        for (agent, obstacle) in agents.iter().zip(&obstacles) {
            actions.push(action(
                titled(format!("Send selection to {}", to(config, agent)), obstacle),
                SEND,
                json!({ "uri": uri, "brief": brief.title, "agent": agent, "selection": params.range }),
            ));
        }
    }
    // A payload can be shown for an agent without its key, not for one that is refused.
    let previewable = agents
        .iter()
        .zip(&obstacles)
        .find(|(_, obstacle)| matches!(obstacle, None | Some(plan::Refusal::MissingKey { .. })));
    if let Some((agent, _)) = previewable {
        actions.push(action(
            format!("Preview payload for {}", to(config, agent)),
            PREVIEW,
            json!({ "uri": uri, "brief": brief.title, "agent": agent }),
        ));
    }
    if let Some(path) = snapshot.context.path.as_deref() {
        let root = plan::journal_root(config, path);
        let threads = Threads::new(&root);
        for agent in &agents {
            let key = plan::thread_key(analysis, path, &root, agent);
            if !key.is_some_and(|key| threads.has_turns(&key)) {
                continue;
            }
            actions.push(action(
                format!("Start a new thread with @{agent}"),
                NEW_THREAD,
                json!({ "uri": uri, "brief": brief.title, "agent": agent }),
            ));
            if Some(*agent) == own.as_deref() {
                actions.push(action(
                    format!("Hand off to a new thread with {}", to(config, agent)),
                    HANDOFF,
                    json!({ "uri": uri, "brief": brief.title, "agent": agent }),
                ));
            }
        }
    }
    if let Some(command) = pipeline_action(snapshot, brief, uri) {
        actions.push(lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
            title: command.title.clone(),
            command: Some(command),
            ..lsp::CodeAction::default()
        }));
    }
    let recoverable = state.runs.recoverable(uri);
    if !recoverable.is_empty() {
        let present = complete_runs(snapshot, state);
        for run in recoverable
            .iter()
            .filter(|run| !present.contains(&run.run_id))
        {
            actions.push(action(
                format!(
                    "Insert saved output of run {} (@{}, {})",
                    run.run_id,
                    run.agent,
                    clock(run.started_at)
                ),
                RECOVER,
                json!({ "uri": uri, "run": run.run_id }),
            ));
        }
    }
    actions
}

/// "Resume from handoff with @agent", on a handoff: for its `agent:`, else for every agent.
fn resume_actions(snapshot: &Snapshot, uri: &str) -> Vec<lsp::CodeActionOrCommand> {
    let config = &snapshot.settings().config;
    let named = snapshot.analysis().front_matter.agent.as_ref();
    let agents: Vec<&str> = match named {
        Some(agent) => vec![agent.value.as_str()],
        None => config.agent_names().collect(),
    };
    (agents.into_iter())
        .map(|agent| {
            action(
                format!("Resume from handoff with @{agent}"),
                RESUME,
                json!({ "uri": uri, "agent": agent }),
            )
        })
        .collect()
}

/// Why sending the snapshot's briefs to `agent` would be refused, if it would.
pub fn obstacle(snapshot: &Snapshot, agent: &str) -> Option<plan::Refusal> {
    let machine = &snapshot.context.machine;
    let key_set = |variable: &str| machine.is_set(variable);
    plan::obstacle(
        &snapshot.settings().config,
        agent,
        machine.trusted_workspace,
        &key_set,
    )
}

/// `@agent`, and where its text goes when that is not its provider's own endpoint
/// (`@x · llm.example.net`, DESIGN §7), for every title of an action that sends.
pub fn to(config: &Config, agent: &str) -> String {
    match config.agent(agent).and_then(AgentSpec::shown_host) {
        Some(host) => format!("@{agent} · {host}"),
        None => format!("@{agent}"),
    }
}

/// A send's title, with why it would be refused after a dash: `Send "Title" to @x — needs
/// trust`. Choosing it still runs the command, which says why and what to do.
pub fn titled(title: String, obstacle: &Option<plan::Refusal>) -> String {
    match obstacle.as_ref().and_then(plan::Refusal::short) {
        Some(why) => format!("{title} — {why}"),
        None => title,
    }
}

/// The quick fixes of DESIGN §3 that send again: "retry" for `dispatch-failed` (to the brief's
/// agent), "re-send" for `stale-output` (to the agent of that output block); and "Hand off"
/// for `over-budget` (DESIGN §6: `baton.handoff`, to the brief's agent).
fn resend_fixes(
    snapshot: &Snapshot,
    params: &lsp::CodeActionParams,
    brief: &Brief,
    own: Option<&str>,
    encoding: Encoding,
) -> Vec<lsp::CodeActionOrCommand> {
    let uri = params.text_document.uri.as_str();
    let config = &snapshot.settings().config;
    let mut fixes = Vec::new();
    for shown in &params.context.diagnostics {
        let mut command = SEND;
        let (title, agent) = match from_proto::code(shown) {
            Some(Code::OverBudget) => match own {
                Some(agent) => {
                    command = HANDOFF;
                    (
                        format!("Hand off \"{}\" ({})", brief.title, to(config, agent)),
                        agent.to_owned(),
                    )
                }
                None => continue,
            },
            Some(Code::DispatchFailed) => match own {
                Some(agent) => (
                    format!("Retry: send \"{}\" to {}", brief.title, to(config, agent)),
                    agent.to_owned(),
                ),
                None => continue,
            },
            Some(Code::StaleOutput) => {
                let at = from_proto::offset(snapshot.document(), shown.range.start, encoding);
                let block = brief
                    .outputs
                    .iter()
                    .find(|block| block.heading.contains(&at) || block.heading.start == at);
                let Some(agent) = block
                    .and_then(|block| block.mention.as_ref())
                    .map(|mention| mention.name.clone())
                else {
                    continue;
                };
                let title = format!("Send \"{}\" to {} again", brief.title, to(config, &agent));
                (title, agent)
            }
            _ => continue,
        };
        fixes.push(lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
            title: title.clone(),
            kind: Some(lsp::CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![shown.clone()]),
            command: Some(lsp::Command {
                title,
                command: command.to_owned(),
                arguments: Some(vec![
                    json!({ "uri": uri, "brief": brief.title, "agent": agent }),
                ]),
            }),
            ..lsp::CodeAction::default()
        }));
    }
    fixes
}

fn action(title: String, command: &str, argument: serde_json::Value) -> lsp::CodeActionOrCommand {
    lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
        title: title.clone(),
        command: Some(lsp::Command {
            title,
            command: command.to_owned(),
            arguments: Some(vec![argument]),
        }),
        ..lsp::CodeAction::default()
    })
}

/// `2026-11-24 10:31 UTC`, for naming a run to the user.
fn clock(time: SystemTime) -> String {
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let days = (seconds / 86_400) as i64;
    let (hour, minute) = ((seconds % 86_400) / 3600, (seconds % 3600) / 60);
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02} UTC")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn run_times_read_as_utc_dates() {
        assert_eq!(clock(UNIX_EPOCH), "1970-01-01 00:00 UTC");
        let time = UNIX_EPOCH + Duration::from_secs(1_795_516_260);
        assert_eq!(clock(time), "2026-11-24 10:31 UTC");
    }
}
