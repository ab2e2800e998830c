//! The background count's work (DESIGN §6, `lsp/counting.rs`): every brief of a 1 MiB document
//! with 200 briefs rendered as its agent gets it and counted, first with nothing cached (after
//! the document opens), then after one keystroke in one brief (the counts of the others come
//! from the cache). And the memory the tokenizer takes: the resident set before and after
//! `o200k_base` loads. Run with `cargo bench --bench budget`. What a lens request costs through
//! the real server is `cargo bench --bench budget_lens`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use baton::brief::kind::Kinds;
use baton::brief::model::{self, Brief};
use baton::brief::payload;
use baton::config::model::Defaults;
use baton::config::Config;
use baton::dispatch::budget::{Budget, Texts};
use baton::dispatch::tokens::{self, Encoding};
use baton::document::Document;

#[path = "briefs/mod.rs"]
mod briefs;

/// Every brief's budget, as the background count computes them; the briefs come parsed, from the
/// analysis the server already holds.
fn budgets(document: &Document, briefs: &[Brief], config: &Config, kinds: &Kinds) -> u64 {
    let kind = kinds.get("brief").expect("the built-in kind");
    let spec = config.agent("researcher").expect("the bench agent");
    let defaults = Defaults::default();
    let mut total = 0;
    for brief in briefs {
        let own = payload::own_part(document, brief, kind);
        let texts = Texts {
            role: spec.role.as_deref(),
            thread: Vec::new(),
            brief: &own,
            inputs: Vec::new(),
        };
        total += Budget::count("researcher", spec, &defaults, &texts, None).total();
    }
    total
}

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let config =
        Config::from_toml(&briefs::agents("http://127.0.0.1:9")).expect("bench config parses");
    let kinds = Kinds::from_config(&config.file.kinds);
    let text = briefs::document();
    println!("document: {} bytes", text.len());

    let before = rss_kib();
    let started = Instant::now();
    black_box(tokens::count(Encoding::O200k, "load the vocabulary"));
    let load = started.elapsed();
    let after = rss_kib();
    println!("o200k_base loaded in {load:?}; RSS {before:?} KiB before, {after:?} KiB after");

    let document = Document::new(&text);
    let briefs = model::briefs(&document);
    let started = Instant::now();
    let total = black_box(budgets(&document, &briefs, &config, &kinds));
    println!(
        "whole document counted (nothing cached): {:?}, {total} tokens",
        started.elapsed()
    );

    let mut timings: Vec<Duration> = Vec::new();
    for round in 0..20 {
        // One keystroke in the middle brief: only its count is new.
        let at = text.find("segment 100 want").expect("the middle brief");
        let mut typed = text.clone();
        typed.insert_str(at, &"x".repeat(round + 1));
        let document = Document::new(&typed);
        let briefs = model::briefs(&document);
        let started = Instant::now();
        black_box(budgets(&document, &briefs, &config, &kinds));
        timings.push(started.elapsed());
    }
    timings.sort();
    println!(
        "counted again after one keystroke: p50 {:?}  max {:?}",
        timings[timings.len() / 2],
        timings.last().expect("timed")
    );
}
