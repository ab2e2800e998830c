//! The budgets of a 1 MiB document with 200 briefs (DESIGN §6), through the code the server
//! and `baton check` run (`dispatch::budgets`), without transport: what a code lens request
//! spends on its budget lenses (cache lookups only), what the background count spends (every
//! brief counted), each with nothing cached and after one keystroke in one brief. And the
//! memory the tokenizer takes: the resident set before and after `o200k_base` loads. Run with
//! `cargo bench --bench budget`; the whole request through the real server is
//! `cargo bench --bench budget_lens`.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use baton::brief::{lint, Analysis, Context, Machine, NoOtherDocuments};
use baton::config::Config;
use baton::dispatch::budgets::Budgets;
use baton::dispatch::tokens::{self, Encoding};
use baton::document::Document;
use baton::workspace::Settings;

#[path = "briefs/mod.rs"]
mod briefs;

/// Where the document is saved: nowhere (no journal, no thread), so only the briefs count.
const PATH: &str = "/nonexistent/bench.brief.md";

fn analyse(document: &Document, settings: &Settings) -> Analysis {
    let machine = Machine::default();
    let context = Context {
        config: &settings.config,
        kinds: &settings.kinds,
        path: Some(Path::new(PATH)),
        others: &NoOtherDocuments,
        machine: &machine,
        failed_runs: &[],
        over_budget: &[],
    };
    lint(document, &context)
}

/// The lens request's share: every brief's budget from the cache; how many were there.
fn looked_up(document: &Document, analysis: &Analysis, settings: &Settings) -> usize {
    let mut budgets = Budgets::new(document, analysis, settings, Path::new(PATH), None)
        .expect("a baton document");
    (analysis.briefs.iter())
        .filter(|brief| budgets.counted(brief).flatten().is_some())
        .count()
}

/// The background count's work: every brief counted; the tokens.
fn counted(document: &Document, analysis: &Analysis, settings: &Settings) -> u64 {
    let mut budgets = Budgets::new(document, analysis, settings, Path::new(PATH), None)
        .expect("a baton document");
    (analysis.briefs.iter())
        .filter_map(|brief| budgets.of(brief))
        .map(|budget| budget.total())
        .sum()
}

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn timed<T>(work: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let done = black_box(work());
    (done, started.elapsed())
}

fn p50_max(mut timings: Vec<Duration>) -> String {
    timings.sort();
    let p50 = timings[timings.len() / 2];
    format!("p50 {p50:?}  max {:?}", timings.last().expect("timed"))
}

fn main() {
    let config =
        Config::from_toml(&briefs::agents("http://127.0.0.1:9")).expect("bench config parses");
    let settings = Settings::new(config);
    let text = briefs::document();
    println!("document: {} bytes", text.len());

    let before = rss_kib();
    let (_, load) = timed(|| tokens::count(Encoding::O200k, "load the vocabulary"));
    let after = rss_kib();
    println!("o200k_base loaded in {load:?}; RSS {before:?} KiB before, {after:?} KiB after");

    let document = Document::new(&text);
    let analysis = analyse(&document, &settings);
    let (found, took) = timed(|| looked_up(&document, &analysis, &settings));
    println!("lens request's budgets, nothing counted: {took:?} ({found} of 200 known)");
    let (total, took) = timed(|| counted(&document, &analysis, &settings));
    println!("whole document counted, nothing cached: {took:?}, {total} tokens");
    let (found, took) = timed(|| looked_up(&document, &analysis, &settings));
    println!("lens request's budgets, all counted: {took:?} ({found} of 200 known)");

    let (mut lookups, mut counts) = (Vec::new(), Vec::new());
    for round in 0..20 {
        // One keystroke in the middle brief: only its count is new.
        let at = text.find("segment 100 want").expect("the middle brief");
        let mut typed = text.clone();
        typed.insert_str(at, &"x".repeat(round + 1));
        let document = Document::new(&typed);
        let analysis = analyse(&document, &settings);
        let (found, took) = timed(|| looked_up(&document, &analysis, &settings));
        assert_eq!(found, 199, "only the brief typed in is left to resolve");
        lookups.push(took);
        counts.push(timed(|| counted(&document, &analysis, &settings)).1);
    }
    println!(
        "after one keystroke, the lens request's budgets: {}",
        p50_max(lookups)
    );
    println!(
        "after one keystroke, the background count: {}",
        p50_max(counts)
    );
}
