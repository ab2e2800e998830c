use super::*;
use crate::config::Provider;
use crate::dispatch::run_file::Usage;
use std::path::PathBuf;
use std::time::UNIX_EPOCH;

fn budget(total: u64, window: u64) -> Budget {
    Budget {
        agent: "researcher".into(),
        parts: Parts {
            role: 0,
            thread: 0,
            brief: total,
            inputs: 0,
        },
        window,
        handoff_at: 0.8,
        estimate: false,
    }
}

#[test]
fn past_handoff_at_is_over_and_past_the_window_is_past() {
    assert_eq!(budget(80, 100).verdict(), Verdict::Within);
    assert_eq!(budget(81, 100).verdict(), Verdict::Over);
    assert_eq!(budget(100, 100).verdict(), Verdict::Over);
    assert_eq!(budget(101, 100).verdict(), Verdict::Past);
    assert_eq!(
        budget(101, 100).message(),
        "101 tokens for @researcher (101 % of its context window of 100; role 0, thread 0, \
         brief 101, inputs 0): more than the agent can take; hand off to start a fresh \
         thread, or send less"
    );
}

#[test]
fn lens_titles_mark_estimates() {
    let mut b = budget(12_400, 128_000);
    assert_eq!(b.lens_title(), "@researcher · 12.4k / 128k");
    b.estimate = true;
    assert_eq!(b.lens_title(), "@researcher · ≈12.4k / 128k");
}

#[test]
fn each_part_is_counted_and_estimates_are_corrected() {
    // "This is a test         with a lot of spaces" is 10 tokens in both vocabularies
    // (see tokens.rs).
    let ten = "This is a test         with a lot of spaces";
    let texts = Texts {
        role: Some(ten),
        thread: vec![ten, ten],
        brief: ten,
        inputs: vec![ten],
    };
    let openai = {
        let mut spec = AgentSpec::new(Provider::Openai);
        spec.model = Some("gpt-4o".into());
        spec
    };
    let defaults = Defaults::default();
    let b = Budget::count("r", &openai, &defaults, &texts, Some(2.0));
    let want = Parts {
        role: 10,
        thread: 20,
        brief: 10,
        inputs: 10,
    };
    assert_eq!(
        (b.parts, b.estimate),
        (want, false),
        "no correction for OpenAI"
    );
    let local = AgentSpec::new(Provider::Ollama);
    let b = Budget::count("l", &local, &defaults, &texts, Some(1.5));
    assert_eq!((b.total(), b.estimate), (75, true));
}

#[test]
fn texts_too_short_to_be_over_are_known_within_without_counting() {
    let mut spec = AgentSpec::new(Provider::Ollama);
    let defaults = Defaults::default();
    let text = "Find the prices of the three rivals 🎉 顧客 ".repeat(20);
    let texts = |brief| Texts {
        role: Some("Be brief."),
        thread: vec!["earlier"],
        brief,
        inputs: Vec::new(),
    };
    let bytes = "Be brief.".len() + "earlier".len() + text.len();
    // Past handoff_at by bytes, the budget may be over and is counted; short of it, not.
    spec.context_window = Some(bytes as u64);
    assert!(Budget::may_be_over(&spec, &defaults, &texts(&text), None));
    spec.context_window = Some(bytes as u64 * 2);
    assert!(!Budget::may_be_over(&spec, &defaults, &texts(&text), None));
    // An estimate's correction above 1 scales the bound; below 1 never shrinks it.
    assert!(Budget::may_be_over(
        &spec,
        &defaults,
        &texts(&text),
        Some(2.0)
    ));
    assert!(!Budget::may_be_over(
        &spec,
        &defaults,
        &texts(&text),
        Some(0.5)
    ));
    // The bound holds: no text has more tokens than bytes, emoji and CJK included.
    let counted = Budget::count("l", &spec, &defaults, &texts(&text), None);
    assert!(counted.total() <= bytes as u64, "{counted:?}");
}

#[test]
fn the_correction_averages_the_agents_recent_reports() {
    let run = |agent: &str, reported, counted| RunSummary {
        run_id: "R".into(),
        document: PathBuf::from("/w/a.brief.md"),
        brief_title: "T".into(),
        agent: agent.into(),
        model: "m".into(),
        input_hash: "0".into(),
        started_at: UNIX_EPOCH,
        state: None,
        usage: Some(Usage {
            prompt_tokens: Some(reported),
            completion_tokens: None,
            counted: Some(counted),
        }),
    };
    let runs = [
        run("local", 120, 100),
        run("other", 50, 100),
        run("local", 140, 100),
    ];
    let local = correction(&runs, "local").unwrap();
    assert!((local - 1.3).abs() < 1e-9, "{local}");
    assert_eq!(correction(&runs, "nobody"), None);
}
