//! `baton run`'s progress, from the pipeline's events: on a terminal, one line per brief drawn
//! in place (indicatif's `MultiProgress`): waiting, queued, streaming with the characters
//! received, done, up to date, failed with the reason, skipped because of which brief; plain
//! lines elsewhere (a pipe, CI's log), one per change but the text received; or one JSON event
//! per line (`--format json`). Then a summary.

use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

use crate::cli::progress::thousands;
use crate::dispatch::pipeline::{Ended, Event, Pipeline, Summary};

/// How often a streaming line turns while nothing arrives.
const TICK: Duration = Duration::from_millis(120);
/// At most one JSON `text` event per brief this often.
const TEXT_EVERY: Duration = Duration::from_secs(1);

/// How the progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
}

enum Mode {
    Terminal {
        multi: MultiProgress,
        bars: Vec<ProgressBar>,
    },
    Lines,
    Json {
        last_text: Vec<Option<Instant>>,
    },
}

pub(super) struct Show<'a> {
    pipeline: &'a Pipeline,
    names: Vec<String>,
    tokens: Vec<usize>,
    mode: Mode,
}

impl<'a> Show<'a> {
    pub fn new(pipeline: &'a Pipeline, format: Format) -> Show<'a> {
        let names = names(pipeline);
        let count = pipeline.nodes.len();
        let mode = match format {
            Format::Json => Mode::Json {
                last_text: vec![None; count],
            },
            Format::Human if io::stdout().is_terminal() => {
                let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stdout());
                // A fixed template: it always parses.
                let style = ProgressStyle::with_template("{spinner} {prefix}: {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner());
                let bars = (names.iter())
                    .map(|name| {
                        let bar = multi.add(ProgressBar::new_spinner());
                        bar.set_style(style.clone());
                        bar.set_prefix(name.clone());
                        bar
                    })
                    .collect();
                Mode::Terminal { multi, bars }
            }
            Format::Human => Mode::Lines,
        };
        Show {
            pipeline,
            names,
            tokens: vec![0; count],
            mode,
        }
    }

    /// Shows one event.
    pub fn event(&mut self, event: &Event<'_>) {
        if let Mode::Json { last_text } = &mut self.mode {
            let line = json_event(self.pipeline, event, last_text, &self.tokens);
            if let Event::Text { node, tokens } = event {
                self.tokens[*node] = *tokens;
            }
            if let Some(line) = line {
                println!("{line}");
            }
            return;
        }
        if let Event::Finished(summary) = event {
            self.finish(summary);
            return;
        }
        let (node, message, last) = match *event {
            Event::Recovered { node, run } => {
                (node, format!("run {run} put back from the journal"), false)
            }
            Event::Waiting { node } => (node, "waiting".to_owned(), false),
            Event::Queued { node } => (node, "queued".to_owned(), false),
            Event::Started {
                node,
                run,
                agent,
                host,
            } => {
                let host = host.map(|host| format!(" at {host}")).unwrap_or_default();
                (
                    node,
                    format!("sending to @{agent}{host} (run {run})"),
                    false,
                )
            }
            Event::Text { node, tokens } => {
                self.tokens[node] = tokens;
                (
                    node,
                    format!("streaming, {} tokens", thousands(tokens)),
                    false,
                )
            }
            Event::Note { node, message } => (node, message.to_owned(), false),
            Event::Done { node } => (
                node,
                format!("done, {} tokens", thousands(self.tokens[node])),
                true,
            ),
            Event::UpToDate { node } => (node, "up to date".to_owned(), true),
            Event::Failed { node, reason } => (node, format!("failed: {reason}"), true),
            Event::Skipped { node, because } => (
                node,
                format!("skipped: \"{}\" failed", self.names[because]),
                true,
            ),
            Event::Cancelled { node } => (node, "cancelled".to_owned(), true),
            Event::Finished(_) => return,
        };
        match &self.mode {
            Mode::Terminal { bars, .. } => {
                let bar = &bars[node];
                if last {
                    bar.finish_with_message(message);
                } else {
                    if matches!(event, Event::Started { .. }) {
                        bar.enable_steady_tick(TICK);
                    }
                    bar.set_message(message);
                }
            }
            Mode::Lines if matches!(event, Event::Text { .. }) => {}
            Mode::Lines => println!("{}: {message}", self.names[node]),
            Mode::Json { .. } => {}
        }
    }

    fn finish(&mut self, summary: &Summary) {
        if let Mode::Terminal { multi, bars } = &self.mode {
            for bar in bars.iter().filter(|bar| !bar.is_finished()) {
                bar.finish();
            }
            let _ = multi.clear();
            for (bar, name) in bars.iter().zip(&self.names) {
                println!("{name}: {}", bar.message());
            }
        }
        for line in summary_lines(summary, &self.names) {
            println!("{line}");
        }
        let _ = io::stdout().flush();
    }
}

/// The summary: what ran, what was up to date, what failed and why, what was skipped and
/// because of which brief.
fn summary_lines(summary: &Summary, names: &[String]) -> Vec<String> {
    let count = |matching: fn(&Ended) -> bool| summary.count(matching);
    let mut lines = vec![format!(
        "{} done, {} up to date, {} failed, {} skipped, {} cancelled",
        count(|e| *e == Ended::Done),
        count(|e| *e == Ended::UpToDate),
        count(|e| matches!(e, Ended::Failed(_))),
        count(|e| matches!(e, Ended::Skipped { .. })),
        count(|e| matches!(e, Ended::Cancelled { .. })),
    )];
    for (node, ended) in summary.ended.iter().enumerate() {
        match ended {
            Ended::Failed(reason) => lines.push(format!("failed: {}: {reason}", names[node])),
            Ended::Skipped { because } => lines.push(format!(
                "skipped: {} (\"{}\" failed)",
                names[node], names[*because]
            )),
            _ => {}
        }
    }
    lines
}

/// One JSON line for `event`, or none (a `text` event too soon after the last).
fn json_event(
    pipeline: &Pipeline,
    event: &Event<'_>,
    last_text: &mut [Option<Instant>],
    tokens: &[usize],
) -> Option<String> {
    let brief = |node: usize| {
        let node = &pipeline.nodes[node];
        json!({ "brief": node.title, "file": node.file })
    };
    let with = |node: usize, event: &str, mut more: serde_json::Value| {
        let mut line = brief(node);
        line["event"] = json!(event);
        if let (Some(line), Some(more)) = (line.as_object_mut(), more.as_object_mut()) {
            line.append(more);
        }
        line
    };
    let value = match *event {
        Event::Recovered { node, run } => with(node, "recovered", json!({ "run": run })),
        Event::Waiting { node } => with(node, "waiting", json!({})),
        Event::Queued { node } => with(node, "queued", json!({})),
        Event::Started {
            node,
            run,
            agent,
            host,
        } => {
            let mut started = json!({ "run": run, "agent": agent });
            if let Some(host) = host {
                started["host"] = json!(host);
            }
            with(node, "started", started)
        }
        Event::Text { node, tokens } => {
            let now = Instant::now();
            if last_text[node].is_some_and(|last| now - last < TEXT_EVERY) {
                return None;
            }
            last_text[node] = Some(now);
            with(node, "text", json!({ "tokens": tokens }))
        }
        Event::Note { node, message } => with(node, "note", json!({ "message": message })),
        Event::Done { node } => with(node, "done", json!({ "tokens": tokens[node] })),
        Event::UpToDate { node } => with(node, "up_to_date", json!({})),
        Event::Failed { node, reason } => with(node, "failed", json!({ "reason": reason })),
        Event::Skipped { node, because } => {
            with(node, "skipped", json!({ "because": brief(because) }))
        }
        Event::Cancelled { node } => with(node, "cancelled", json!({})),
        Event::Finished(summary) => json!({
            "event": "finished",
            "success": summary.success(),
            "done": summary.count(|e| *e == Ended::Done),
            "up_to_date": summary.count(|e| *e == Ended::UpToDate),
            "failed": summary.count(|e| matches!(e, Ended::Failed(_))),
            "skipped": summary.count(|e| matches!(e, Ended::Skipped { .. })),
            "cancelled": summary.count(|e| matches!(e, Ended::Cancelled { .. })),
        }),
    };
    Some(value.to_string())
}

/// How each brief is named: its title, with its file when another brief has the same title.
pub(super) fn names(pipeline: &Pipeline) -> Vec<String> {
    let nodes = &pipeline.nodes;
    (nodes.iter())
        .map(|node| {
            let shared = nodes
                .iter()
                .filter(|other| other.title == node.title)
                .count()
                > 1;
            match shared {
                true => format!("{}#{}", shown(&node.file), node.title),
                false => node.title.clone(),
            }
        })
        .collect()
}

/// A file as the user reads it: relative to the current folder when under it.
pub(super) fn shown(file: &Path) -> String {
    let relative = std::env::current_dir()
        .ok()
        .and_then(|dir| file.strip_prefix(dir).ok().map(Path::to_path_buf));
    relative
        .unwrap_or_else(|| file.to_path_buf())
        .display()
        .to_string()
}
