//! The core's share of a keystroke: apply one edit to a large brief, reparse incrementally,
//! and lint it as the server does while typing (keeping what unchanged briefs found). Run with
//! `cargo bench --bench keystroke`; the server adds only transport. Three documents: 100 KiB
//! and 1 MiB of briefs, and 50 answered briefs (an output block of 2 KiB each, with headings,
//! fences and tables), typed into in a brief's field and then inside an answer.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use baton::brief::cache::LintCache;
use baton::brief::kind::Kinds;
use baton::brief::lint::{Context, Machine, NoOtherDocuments};
use baton::brief::output::{self, Marker, Status};
use baton::config::Config;
use baton::document::{Change, Document, Encoding, Position};

const AGENTS: &str =
    "[agents.researcher]\nprovider = \"openai\"\n[agents.writer]\nprovider = \"anthropic\"\n";

/// Briefs like a user writes them, with emoji, CJK, links and the odd missing field.
fn briefs(size: usize) -> String {
    let mut text = String::from("---\nkind: brief\n---\n\n");
    let mut n = 0;
    while text.len() < size {
        n += 1;
        text.push_str(&format!(
            "# Study the roadmap {n} @researcher\n\nA short intro 🎉.\n\n## Objective\n\n"
        ));
        text.push_str(
            "Find out what the 顧客 want and why, with sources for every claim made.\n\n",
        );
        text.push_str(
            "## Context\n\nThe team shipped the café dashboard last week; feedback is mixed.\n\n",
        );
        if n % 16 != 0 {
            text.push_str("## Constraints\n\nNo more than two pages. No speculation.\n\n");
        }
        text.push_str(&format!(
            "## Expected Output\n\nA table, then a summary. Uses [[Study the roadmap {}]].\n\n",
            n.max(2) - 1
        ));
    }
    text
}

/// An answer as agents write them, about 2 KiB: headings (demoted under `## Output`), a list,
/// a table, fenced code with a `#` line, a link and a mention, which are all the agent's.
fn answer(n: usize) -> String {
    let mut text = format!(
        "### Report {n}\n\nPrices rose 🎉 across the 顧客 segments we looked at.\n\n#### Summary\n\n"
    );
    while text.len() < 2048 {
        text.push_str(
            "- Acme raised its list price by 8% in March; see [[Study the roadmap 1]] and @researcher.\n\
             - Globex kept its price but cut the free tier, which the café owners noticed.\n\n\
             | Vendor | Before | After |\n|---|---|---|\n| Acme | 10 | 10.8 |\n\n\
             ```sh\n# not a heading\ncurl example.invalid\n```\n\n#### Details\n\n",
        );
    }
    text
}

/// Fifty briefs, each answered by a run whose output block holds [`answer`].
fn answered(blocks: usize) -> String {
    let mut text = String::new();
    for n in 1..=blocks {
        text.push_str(&format!(
            "# Study the roadmap {n} @researcher\n\n## Objective\n\nFind out what the 顧客 want and why.\n\n\
             ## Context\n\nThe café dashboard shipped last week.\n\n## Constraints\n\nTwo pages.\n\n\
             ## Expected Output\n\nA table, then a summary.\n\n"
        ));
        let marker = Marker {
            run: format!("01JDXK3V7Q{n:06}"),
            agent: "researcher".to_owned(),
            model: "gpt-4o-mini".to_owned(),
            input: "9f2c41d0".to_owned(),
            status: Status::Done,
        };
        text.push_str(&output::block_text("researcher", &marker, &answer(n)));
        text.push('\n');
    }
    text
}

/// The first line at or after `from` that holds prose (a letter first, over 20 bytes).
fn prose_line(document: &Document, from: usize) -> u32 {
    let rope = document.rope();
    let prose = |line: &usize| {
        let text = rope.line(*line).to_string();
        text.trim().len() > 20 && text.chars().next().is_some_and(char::is_alphabetic)
    };
    (from..rope.len_lines()).find(prose).unwrap_or(from) as u32
}

fn main() {
    let config = Config::from_toml(AGENTS).expect("bench config parses");
    let kinds = Kinds::from_config(&config.file.kinds);
    let context = Context {
        config: &config,
        kinds: &kinds,
        path: Some(Path::new("bench.brief.md")),
        others: &NoOtherDocuments,
        machine: &Machine::default(),
        failed_runs: &[],
        over_budget: &[],
    };
    // `BATON_BENCH_DOCS=a.md,b.md` measures those documents (lspbench's, say) instead.
    let texts: Vec<(&str, String)> = match std::env::var("BATON_BENCH_DOCS") {
        Ok(paths) => (paths.split(','))
            .map(|path| {
                (
                    "file",
                    std::fs::read_to_string(path).expect("a readable document"),
                )
            })
            .collect(),
        Err(_) => vec![
            ("briefs", briefs(100 * 1024)),
            ("briefs", briefs(1024 * 1024)),
            ("answered", answered(50)),
        ],
    };
    for (what, text) in texts {
        let document = Document::new(&text);
        let middle = document.rope().len_lines() / 2;
        if what == "answered" {
            let field = line_of(&document, middle, "Find out what");
            let answer = line_of(&document, middle, "Prices rose");
            type_into(
                document.clone(),
                &context,
                field,
                "50 answers, into a field",
            );
            type_into(document, &context, answer, "50 answers, into an answer");
        } else {
            let line = prose_line(&document, middle);
            let label = format!("{:>5} KiB", text.len() / 1024);
            type_into(document, &context, line, &label);
        }
    }
}

/// The first line at or after `from` that starts with `start`.
fn line_of(document: &Document, from: usize, start: &str) -> u32 {
    let rope = document.rope();
    (from..rope.len_lines())
        .find(|&line| rope.line(line).to_string().starts_with(start))
        .expect("the bench document holds the line") as u32
}

/// Types 300 characters at the start of `line`, a keystroke at a time, linting after each as
/// the server does; prints the timings.
fn type_into(mut document: Document, context: &Context<'_>, line: u32, label: &str) {
    let mut cache = LintCache::default();
    cache.lint(&document, context);
    let mut timings: Vec<Duration> = Vec::new();
    let mut edit_only: Vec<Duration> = Vec::new();
    // `BATON_BENCH_PAUSE_MS=50` waits between keystrokes, as a typist does: caches go cold.
    let pause = std::env::var("BATON_BENCH_PAUSE_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map(Duration::from_millis);
    for column in 0..300u32 {
        if let Some(pause) = pause {
            std::thread::sleep(pause);
        }
        let at = Position::new(line, column);
        let started = Instant::now();
        document.apply_changes(
            &[Change {
                range: Some((at, at)),
                text: "x",
            }],
            Encoding::Utf16,
        );
        edit_only.push(started.elapsed());
        let findings = cache.lint(&document, context);
        black_box(findings.diagnostics.len());
        timings.push(started.elapsed());
    }
    timings.sort();
    edit_only.sort();
    println!(
        "{label}: edit and reparse alone, p50 {:?}",
        edit_only[edit_only.len() / 2]
    );
    let percentile = |p: f64| timings[((timings.len() as f64 * p) as usize).min(timings.len() - 1)];
    println!(
        "{label}: p50 {:?}  p99 {:?}  max {:?}",
        percentile(0.5),
        percentile(0.99),
        timings.last().expect("timed at least one keystroke")
    );
}
