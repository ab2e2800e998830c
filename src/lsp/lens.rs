//! Code lenses (DESIGN §4 step 1): above each brief, the send to its own agent in one click,
//! and how its last run went.

use serde_json::json;
use tower_lsp_server::ls_types as lsp;

use super::dispatch::{CANCEL, SEND};
use super::runs::LastRun;
use super::state::{Snapshot, State};
use super::to_proto;
use crate::dispatch::plan;
use crate::dispatch::run::Outcome;

pub fn code_lenses(state: &State, snapshot: &Snapshot, uri: &lsp::Uri) -> Vec<lsp::CodeLens> {
    let analysis = snapshot.analysis();
    if !analysis.is_baton_document() || snapshot.context.path.is_none() {
        return Vec::new();
    }
    let config = &snapshot.settings().config;
    let last = state.runs.last_runs(uri.as_str());
    let encoding = state.encoding();
    let mut lenses = Vec::new();
    for brief in &analysis.briefs {
        let at = brief
            .heading
            .clone()
            .unwrap_or(brief.range.start..brief.range.start);
        let range = to_proto::range(snapshot.document(), at, encoding);
        let target = json!({ "uri": uri.as_str(), "brief": brief.title });
        if let Some(agent) = plan::own_agent(brief, analysis, config) {
            if config.agent(&agent).is_some() {
                lenses.push(lens(
                    range,
                    format!("▶ Send to @{agent}"),
                    SEND,
                    target.clone(),
                ));
            }
        }
        let state_lens = match last.get(&brief.title) {
            Some(LastRun::Running { run, tokens }) => Some(lens(
                range,
                format!("● running · {} tokens (cancel)", tokens),
                CANCEL,
                json!({ "run": run }),
            )),
            Some(LastRun::Ended(outcome)) => {
                let title = match outcome {
                    Outcome::Done => "✓ done".to_owned(),
                    Outcome::Partial(reason) => format!("◐ partial: {}", short(reason)),
                    Outcome::Failed(reason) => format!("✗ failed: {}", short(reason)),
                    Outcome::Cancelled => "○ cancelled".to_owned(),
                };
                Some(lens(range, title, "", json!({})))
            }
            None => None,
        };
        lenses.extend(state_lens);
    }
    lenses
}

fn lens(
    range: lsp::Range,
    title: String,
    command: &str,
    argument: serde_json::Value,
) -> lsp::CodeLens {
    lsp::CodeLens {
        range,
        command: Some(lsp::Command {
            title,
            command: command.to_owned(),
            arguments: Some(vec![argument]),
        }),
        data: None,
    }
}

/// A reason cut to fit a lens.
fn short(reason: &str) -> String {
    const MAX: usize = 60;
    let first = reason.lines().next().unwrap_or("");
    if first.chars().count() <= MAX {
        first.to_owned()
    } else {
        let cut: String = first.chars().take(MAX - 1).collect();
        format!("{cut}…")
    }
}
