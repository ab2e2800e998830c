//! Code lenses (DESIGN §4 step 1, §5, §6): above each brief, the send to its own agent in one
//! click, its budget (`@researcher · 12.4k / 128k`, a handoff when over), "Run pipeline" when
//! it has dependencies or dependants, and how its last run went.

use std::ops::Range;
use std::path::Path;

use serde_json::json;
use tower_lsp_server::ls_types as lsp;

use std::sync::Arc;

use super::budget;
use super::dispatch::{pipeline_lenses, pipeline_title, CANCEL, HANDOFF, RUN_PIPELINE, SEND};
use super::send_actions::{obstacle, titled, to};
use super::state::{Snapshot, State};
use super::to_proto;
use crate::brief::model::Brief;
use crate::brief::target::{Source, Target};
use crate::config::Config;
use crate::dispatch::budget::{Budget, Verdict};
use crate::dispatch::plan;
use crate::dispatch::run::registry::LastRun;
use crate::dispatch::run::Outcome;

/// The lenses of the document at `uri`. A budget counted before (by the background count,
/// [`super::counting`], or an earlier lens) is shown at once; one that was not is left for
/// `codeLens/resolve` ([`resolve`]), which editors ask only for the lenses in view: the
/// request itself never waits for the tokenizer.
pub fn code_lenses(state: &Arc<State>, snapshot: &Snapshot, uri: &lsp::Uri) -> Vec<lsp::CodeLens> {
    let analysis = snapshot.analysis();
    if !analysis.is_baton_document() || snapshot.context.path.is_none() {
        return Vec::new();
    }
    let config = &snapshot.settings().config;
    let last = state.runs.last_runs(uri.as_str());
    let encoding = state.encoding();
    let mut lenses = Vec::new();
    let pipelines = pipeline_lenses(state, snapshot);
    let open_at = |path: &Path| state.open_document_at(path);
    let mut budgets = budget::budgets(snapshot, &open_at);
    for (brief, pipeline) in analysis.briefs.iter().zip(pipelines) {
        let range = to_proto::range(snapshot.document(), anchor(snapshot, brief), encoding);
        let target = json!({ "uri": uri.as_str(), "brief": brief.title });
        if let Some(own) = plan::own_target(brief, analysis, config) {
            let obstacle = obstacle(snapshot, &own.name);
            lenses.push(lens(
                range,
                titled(send_title(&own, config), &obstacle),
                SEND,
                target.clone(),
            ));
        }
        match budgets.as_mut().and_then(|budgets| budgets.counted(brief)) {
            Some(Some(budget)) => lenses.push(budget_lens(range, &budget, uri, &brief.title)),
            Some(None) => lenses.push(lsp::CodeLens {
                range,
                command: None,
                data: Some(target.clone()),
            }),
            None => {}
        }
        if let Some(counts) = pipeline {
            lenses.push(lens(
                range,
                pipeline_title(counts),
                RUN_PIPELINE,
                target.clone(),
            ));
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
                    Outcome::Cancelled(None) => "○ cancelled".to_owned(),
                    Outcome::Cancelled(Some(reason)) => format!("○ cancelled: {}", short(reason)),
                };
                Some(lens(range, title, "", json!({})))
            }
            None => None,
        };
        lenses.extend(state_lens);
    }
    lenses
}

/// `codeLens/resolve`: the budget lens of the brief named in `lens.data`, counted now. A brief
/// that is gone (renamed since the lenses were made) resolves to an empty title; the editor
/// asks for lenses again after the edit that renamed it.
pub fn resolve(state: &Arc<State>, mut lens: lsp::CodeLens) -> lsp::CodeLens {
    let data = lens.data.take().unwrap_or_default();
    let counted = data["uri"].as_str().and_then(|uri| {
        let snapshot = state.snapshot(uri)?.ok()?;
        let title = data["brief"].as_str()?;
        let brief = (snapshot.analysis().briefs.iter()).find(|brief| brief.title == title)?;
        let open_at = |path: &Path| state.open_document_at(path);
        let budget = budget::budgets(&snapshot, &open_at)?.of(brief)?;
        let uri = uri.parse::<lsp::Uri>().ok()?;
        Some(budget_lens(lens.range, &budget, &uri, title))
    });
    counted.unwrap_or_else(|| {
        lens.command = Some(lsp::Command {
            title: String::new(),
            command: String::new(),
            arguments: None,
        });
        lens
    })
}

/// `▶ Send to @agent`, with the host its text goes to when that is not its provider's own
/// (`· llm.example.net`), and why that agent when the heading does not say it
/// (`▶ Send to @researcher · route 2: heading matches (?i)research`).
fn send_title(own: &Target, config: &Config) -> String {
    let to = to(config, &own.name);
    match own.source {
        Source::Mention(_) => format!("▶ Send to {to}"),
        _ => format!("▶ Send to {to} · {}", own.reason()),
    }
}

/// `@researcher · 12.4k / 128k`; over budget, `⚠` and a click hands off.
fn budget_lens(range: lsp::Range, budget: &Budget, uri: &lsp::Uri, title: &str) -> lsp::CodeLens {
    let target = json!({ "uri": uri.as_str(), "brief": title, "agent": budget.agent });
    match budget.verdict() {
        Verdict::Within => lens(range, budget.lens_title(), "", json!({})),
        Verdict::Over | Verdict::Past => lens(
            range,
            format!("⚠ {} · hand off", budget.lens_title()),
            HANDOFF,
            target,
        ),
    }
}

/// Where a brief's lenses sit: on its heading, from the title (after the `#`) to the end of
/// the line. Not from the line's first column: VS Code keeps a lens where an edit at the very
/// start of its range leaves the range's start, so a lens from column 0 would stay on that
/// line while the user types lines above the heading (and VS Code asks for lenses again only
/// once the document stops changing, which a streaming answer never lets happen).
fn anchor(snapshot: &Snapshot, brief: &Brief) -> Range<usize> {
    let Some(heading) = brief.heading.clone() else {
        return brief.range.start..brief.range.start;
    };
    let text = snapshot.document().slice(heading.clone());
    let line_end = heading.start + text.find(['\n', '\r']).unwrap_or(text.len());
    let start = if brief.title_range.start > heading.start && brief.title_range.start <= line_end {
        brief.title_range.start
    } else {
        // A setext heading, or one without a title: one character in.
        heading.start + text.chars().next().map_or(0, char::len_utf8)
    };
    start.min(line_end)..line_end
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
