//! The core's share of a keystroke: apply one edit to a large brief, reparse incrementally,
//! and lint it as the server does while typing (keeping what unchanged briefs found). Run with `cargo bench --bench keystroke`; the server adds only transport. The third document
//! holds 50 briefs, each answered with a 2 KB answer full of headings (which are opaque).

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use baton::brief::cache::LintCache;
use baton::brief::kind::Kinds;
use baton::brief::lint::{Context, Machine, NoOtherDocuments};
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

/// Briefs that were answered: `blocks` of them, each with an output block of a 2 KB answer
/// holding headings (an `# Report` among them), a fence and a quoted marker, as models write.
fn answered(blocks: usize) -> String {
    let mut answer = String::new();
    while answer.len() < 2048 {
        answer.push_str(
            "### Report\n\n#### Summary\n\nPrices rose 🎉 by a third; see the table.\n\n",
        );
        answer.push_str("```md\n# Fenced heading\n<!-- /baton:output -->\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n");
    }
    let mut text = String::from("---\nkind: brief\n---\n\n");
    for n in 1..=blocks {
        text.push_str(&format!(
            "# Answered brief {n} @researcher\n\n## Objective\n\nFind out what the 顧客 want and why, with sources for every claim made.\n\n## Context\n\nSee [[Answered brief {}]].\n\n## Constraints\n\nNone.\n\n## Expected Output\n\nA table.\n\n",
            n.max(2) - 1
        ));
        text.push_str(&format!(
            "## Output @researcher\n<!-- baton:output run=R{n} agent=researcher model=m input=00000000 status=done -->\n# Report\n\n{answer}<!-- /baton:output run=R{n} -->\n\n"
        ));
    }
    text
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
    };
    // `BATON_BENCH_DOCS=a.md,b.md` measures those documents (lspbench's, say) instead.
    let texts: Vec<String> = match std::env::var("BATON_BENCH_DOCS") {
        Ok(paths) => (paths.split(','))
            .map(|path| std::fs::read_to_string(path).expect("a readable document"))
            .collect(),
        Err(_) => vec![briefs(100 * 1024), briefs(1024 * 1024), answered(50)],
    };
    for text in texts {
        let size = text.len();
        let mut document = Document::new(&text);
        let mut cache = LintCache::default();
        cache.lint(&document, &context);
        // A line of prose near the middle, as a user types.
        let rope = document.rope();
        let prose = |line: &usize| {
            let text = rope.line(*line).to_string();
            // Outside answers: the line of a brief's objective.
            text.trim().len() > 20
                && text.chars().next().is_some_and(char::is_alphabetic)
                && !text.starts_with("Prices")
        };
        let line = (rope.len_lines() / 2..rope.len_lines())
            .find(prose)
            .unwrap_or(rope.len_lines() / 2) as u32;
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
            let findings = cache.lint(&document, &context);
            black_box(findings.diagnostics.len());
            timings.push(started.elapsed());
        }
        timings.sort();
        edit_only.sort();
        println!(
            "{:>5} KiB: edit and reparse alone, p50 {:?}",
            size / 1024,
            edit_only[edit_only.len() / 2]
        );
        let percentile =
            |p: f64| timings[((timings.len() as f64 * p) as usize).min(timings.len() - 1)];
        println!(
            "{:>5} KiB: p50 {:?}  p99 {:?}  max {:?}",
            size / 1024,
            percentile(0.5),
            percentile(0.99),
            timings.last().expect("timed at least one keystroke")
        );
    }
}
