//! Handoffs (DESIGN §6): a conversation's key decisions, state, next steps and reasoning,
//! carried to a fresh one in a Markdown file beside the document. Pure: the request an agent
//! is sent to write one, the file it is saved as, the Key Decisions carried forward from the
//! thread's earlier handoffs, and the handoff baton writes itself from the journal when no
//! agent can be reached (deterministic: the same runs give the same bytes).
//!
//! A handoff names the thread it continues in its front matter: `continues:` (the document,
//! relative to the handoff's folder) and `agent:`. Resuming from it seeds that document's
//! thread with that agent; a handoff without `continues:` (written by hand) seeds its own.

use crate::brief::front_matter;
use crate::brief::kind::{normalize, Kind};
use crate::document::Document;

/// How many lines of each answer the offline handoff quotes.
const ANSWER_LINES: usize = 6;

/// The front-matter key naming the document whose thread a handoff continues.
pub const CONTINUES: &str = "continues";

/// The conversation a handoff is made from: the document (as the handoff names it, relative
/// to its folder) and the agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub document: String,
    pub agent: String,
}

/// The name of the `attempt`th handoff of a document named `document` (1: `plan.handoff.md`,
/// 2: `plan.handoff.2.md`, …); `.brief.md`, `.handoff.md` and `.md` are taken off the stem.
pub fn file_name(document: &str, attempt: usize) -> String {
    let stem = stem(document);
    match attempt {
        0 | 1 => format!("{stem}.handoff.md"),
        n => format!("{stem}.handoff.{n}.md"),
    }
}

fn stem(document: &str) -> &str {
    [".brief.md", ".handoff.md", ".md", ".markdown"]
        .iter()
        .find_map(|suffix| document.strip_suffix(suffix))
        .unwrap_or(document)
}

/// Whether `name` is a handoff file of the document named `document` (any number).
pub fn is_handoff_of(name: &str, document: &str) -> bool {
    let Some(rest) = name.strip_prefix(stem(document)) else {
        return false;
    };
    let Some(rest) = rest.strip_prefix(".handoff.") else {
        return false;
    };
    rest == "md"
        || rest
            .strip_suffix(".md")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The order handoff files were made in: by their number (none is 1).
pub fn number(name: &str) -> usize {
    let Some(rest) = name.strip_suffix(".md") else {
        return 0;
    };
    rest.rsplit('.')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

/// What the agent is asked, after the thread's turns: a handoff in the fields of `kind` (its
/// required ones, then Open Questions and Artifacts), keeping `carried`, the Key Decisions of
/// the thread's earlier handoffs.
pub fn request(kind: &Kind, carried: &[String]) -> String {
    let mut out = String::from(
        "Write a handoff of this conversation: a Markdown document from which a fresh \
         conversation, which has not seen this one, can carry on the work. Keep every \
         decision and constraint the user gave; do not invent any. Use exactly these \
         sections, each as a `## ` heading, in this order:\n\n",
    );
    for field in asked_fields(kind) {
        out.push_str(&format!("- {}: {}\n", field.name, field.prompt));
    }
    if !carried.is_empty() {
        out.push_str(
            "\nThe earlier handoffs of this thread took these Key Decisions; carry each \
             forward unless this conversation reversed it (then say so):\n",
        );
        for decisions in carried {
            out.push('\n');
            out.push_str(decisions.trim());
            out.push('\n');
        }
    }
    out.push_str("\nAnswer with the handoff only, without a title.\n");
    out
}

fn asked_fields(kind: &Kind) -> impl Iterator<Item = &crate::brief::kind::FieldSpec> {
    let optional = ["open questions", "artifacts"];
    kind.fields
        .iter()
        .filter(move |field| field.required || optional.contains(&normalize(&field.name).as_str()))
}

/// The handoff file for an agent's `answer`: front matter naming the thread it continues, a
/// title, and the answer (its own title kept when it has one).
pub fn document(source: &Source, answer: &str) -> String {
    let mut out = front_matter(source);
    let answer = answer.trim();
    if !answer.starts_with("# ") {
        out.push_str(&title(source));
    }
    out.push_str(answer);
    out.push('\n');
    out
}

fn front_matter(source: &Source) -> String {
    format!(
        "---\nkind: handoff\n{CONTINUES}: {}\nagent: {}\n---\n\n",
        yaml_string(&source.document),
        yaml_string(&source.agent)
    )
}

fn title(source: &Source) -> String {
    format!("# Handoff: {} with @{}\n\n", source.document, source.agent)
}

/// A YAML scalar for `text`: as is when plain, else double-quoted.
fn yaml_string(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '/'));
    if plain && !text.starts_with(['-', '.']) {
        text.to_owned()
    } else {
        serde_json::to_string(text).unwrap_or_default()
    }
}

/// The Key Decisions section of a handoff's text (without its heading), `None` when it has
/// none or it is empty. Headings inside code blocks are not read.
pub fn key_decisions(kind: &Kind, text: &str) -> Option<String> {
    let mut inside: Option<(usize, Vec<&str>)> = None;
    let mut fence: Option<&str> = None;
    let mut found = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if let Some(open) = fence {
            if trimmed.starts_with(open) {
                fence = None;
            }
        } else if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fence = Some(&trimmed[..3]);
        } else if let Some((level, heading)) = heading(line) {
            if let Some((open, lines)) = inside.take() {
                if level > open {
                    inside = Some((open, lines));
                } else {
                    found = Some(lines);
                    break;
                }
            } else if kind
                .field(heading)
                .is_some_and(|f| f.name == "Key Decisions")
            {
                inside = Some((level, Vec::new()));
                continue;
            }
        }
        if let Some((_, lines)) = &mut inside {
            lines.push(line);
        }
    }
    let lines = found.or(inside.map(|(_, lines)| lines))?;
    let text = without_comments(&lines.join("\n")).trim().to_owned();
    (!text.is_empty()).then_some(text)
}

/// `text` without its HTML comments (the prompts of a handoff left to fill in).
fn without_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        rest = rest[start..]
            .find("-->")
            .map_or("", |end| &rest[start + end + 3..]);
    }
    out.push_str(rest);
    out
}

fn heading(line: &str) -> Option<(usize, &str)> {
    let level = line.bytes().take_while(|&b| b == b'#').count();
    let rest = line.get(level..)?;
    ((1..=6).contains(&level) && (rest.is_empty() || rest.starts_with(' ')))
        .then(|| (level, rest.trim().trim_end_matches('#').trim()))
}

/// The `continues:` and `agent:` of a handoff's front matter.
pub fn continued(text: &str) -> (Option<String>, Option<String>) {
    let document = Document::new(text);
    let (front_matter, _) = front_matter::read(&document);
    let agent = front_matter.agent.map(|agent| agent.value);
    let continues = document.outline().front_matter.as_ref().and_then(|block| {
        let body = document.slice(block.body.clone());
        let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(&body).ok()?;
        Some(value.get(CONTINUES)?.as_str()?.trim().to_owned())
    });
    (continues.filter(|c| !c.is_empty()), agent)
}

/// One run of the thread, as the journal keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunNote {
    pub run: String,
    pub brief: String,
    /// `done`, `partial: why`, `failed: why`, `cancelled`, `interrupted`.
    pub status: String,
    pub answer: String,
}

/// What the offline handoff is made of.
#[derive(Clone, Debug)]
pub struct Offline<'a> {
    pub source: Source,
    /// The runs of the thread, oldest first.
    pub runs: &'a [RunNote],
    /// The titles of the document's briefs, in document order.
    pub briefs: &'a [String],
    /// The Key Decisions of the thread's earlier handoffs, oldest first.
    pub carried: &'a [String],
}

/// The handoff baton writes without an agent: each run with its id, status and the first
/// lines of its answer; the briefs without an answer as Next Steps; Key Decisions and
/// Reasoning left as prompts for the user (so `empty-field` points at them).
pub fn offline(offline: &Offline<'_>) -> String {
    let source = &offline.source;
    let mut out = front_matter(source);
    out.push_str(&title(source));
    out.push_str(
        "<!-- Written by baton from the journal, without an agent. Fill in Key Decisions and \
         Reasoning from the runs below, then choose \"Resume from handoff\". -->\n\n",
    );
    out.push_str("## Key Decisions\n\n");
    for decisions in offline.carried {
        out.push_str(decisions.trim());
        out.push_str("\n\n");
    }
    out.push_str(
        "<!-- The decisions and constraints that stand, and who took them (see the runs \
         under Current State). -->\n\n",
    );
    out.push_str("## Current State\n\n");
    out.push_str(&state_line(offline.runs));
    for run in offline.runs {
        out.push_str(&format!(
            "\n### Run {}: \"{}\" ({})\n\n",
            run.run, run.brief, run.status
        ));
        let lines: Vec<&str> = run.answer.trim().lines().take(ANSWER_LINES).collect();
        if lines.is_empty() {
            out.push_str("> (no answer)\n");
        }
        for line in &lines {
            out.push_str(format!("> {line}").trim_end());
            out.push('\n');
        }
        if run.answer.trim().lines().count() > ANSWER_LINES {
            out.push_str(">\n> …\n");
        }
    }
    out.push_str("\n## Next Steps\n\n");
    let open: Vec<&String> = (offline.briefs.iter())
        .filter(|brief| !answered(offline.runs, brief))
        .collect();
    if open.is_empty() {
        out.push_str("- Every brief of the document has an answer: decide what comes next.\n");
    }
    for brief in open {
        out.push_str(&format!(
            "- Send \"{brief}\" in {} to @{} (no answer yet).\n",
            source.document, source.agent
        ));
    }
    out.push_str("\n## Reasoning\n\n");
    out.push_str(
        "<!-- Why the decisions were taken, so the next conversation does not argue them \
         again. -->\n",
    );
    out
}

fn answered(runs: &[RunNote], brief: &str) -> bool {
    let brief = normalize(brief);
    runs.iter()
        .any(|run| run.status == "done" && normalize(&run.brief) == brief)
}

fn state_line(runs: &[RunNote]) -> String {
    if runs.is_empty() {
        return "No run of this thread is in the journal.\n".to_owned();
    }
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for run in runs {
        let word = run.status.split(':').next().unwrap_or_default();
        match counts.iter_mut().find(|(seen, _)| *seen == word) {
            Some((_, count)) => *count += 1,
            None => counts.push((word, 1)),
        }
    }
    let counts: Vec<String> = (counts.iter())
        .map(|(word, count)| format!("{count} {word}"))
        .collect();
    let plural = if runs.len() == 1 { "" } else { "s" };
    format!("{} run{plural}: {}.\n", runs.len(), counts.join(", "))
}

#[cfg(test)]
#[path = "handoff_tests.rs"]
mod tests;
