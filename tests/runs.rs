//! The life of a run (`dispatch::run::execute`) against loopback servers that speak each
//! provider's wire format, faults included: what the user is told (the outcome and the
//! updates) and what the journal holds, which must be everything that arrived.

#[allow(dead_code)]
#[path = "agents/server.rs"]
mod server;
#[allow(dead_code)]
#[path = "agents/streams.rs"]
mod streams;

use std::path::{Path, PathBuf};

use baton::agent::{Message, Request};
use baton::brief::payload::Payload;
use baton::config::{AgentSpec, Provider};
use baton::dispatch::journal::{Final, Journal};
use baton::dispatch::plan::{Attempt, Plan};
use baton::dispatch::run::queue::Queues;
use baton::dispatch::run::{execute, Cancel, Event, Finished, Outcome};
use baton::dispatch::run_id;
use serde_json::json;
use server::{reply, stream, Server, Step};
use streams::{
    anthropic_delta, anthropic_end, anthropic_event, anthropic_start, openai_delta, openai_end,
    openai_ok, SSE,
};

fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("baton-runs-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn spec(provider: Provider, server: &Server) -> AgentSpec {
    let mut spec = AgentSpec::new(provider);
    spec.model = Some("test-model".into());
    spec.base_url = Some(server.url.clone());
    spec.retries = Some(1);
    spec.timeout_secs = Some(1);
    spec
}

fn plan(root: &Path, agents: Vec<(&str, AgentSpec)>) -> Plan {
    let attempts = agents
        .into_iter()
        .map(|(name, spec)| Attempt {
            agent: name.to_owned(),
            request: Request {
                model: spec.model.clone().unwrap_or_default(),
                system: Some("Be terse.".into()),
                messages: vec![Message::user("# Greet\n\nSay hello.")],
            },
            spec,
            thread: None,
        })
        .collect();
    Plan {
        document: root.join("a.brief.md"),
        brief_title: "Greet".into(),
        payload: Payload {
            title: "Greet".into(),
            text: "# Greet\n\nSay hello.".into(),
            input_hash: "0000abcd".into(),
        },
        attempts,
        left_out: Vec::new(),
        journal_root: root.to_path_buf(),
        demote_headings: true,
        thread: None,
    }
}

/// Runs the plan; returns how it finished and the updates, as the user would see them.
async fn run(plan: &Plan) -> (Finished, Vec<String>) {
    let mut seen = Vec::new();
    let mut on_update = |event: Event<'_>| {
        seen.extend(match event {
            Event::Queued { agent } => Some(format!("queued {agent}")),
            Event::Started { agent, .. } => Some(format!("started {agent}")),
            Event::Text(text) => Some(format!("text {text}")),
            Event::Retrying(retry) => Some(format!("retrying: {retry}")),
            Event::FallingBack { from, to, .. } => Some(format!("fallback {from} -> {to}")),
            // The outcome is returned, and asserted on, whole.
            Event::Finished(_) => None,
        })
    };
    let finished = execute(
        plan,
        run_id::new(),
        &Queues::default(),
        &mut on_update,
        &Cancel::new(),
    )
    .await;
    (finished, seen)
}

/// Every run in the journal: its agent, all text received, and how it ended.
fn journal(root: &Path) -> Vec<(String, String, Option<Final>)> {
    let journal = Journal::new(root);
    let mut runs: Vec<_> = journal
        .runs()
        .into_iter()
        .map(|summary| {
            let run = journal.read(&summary.run_id).unwrap();
            assert!(run.record.payload.contains("Say hello."));
            assert!(run.record.payload.contains("Be terse."));
            (run.record.agent, run.text, run.state)
        })
        .collect();
    runs.reverse(); // Oldest first.
    runs
}

#[tokio::test]
async fn a_normal_stream_is_journalled_whole_and_closed_as_done() {
    let server = Server::start(vec![openai_ok(&["Hello", ", world."])]).await;
    let root = folder("normal");
    let (finished, seen) = run(&plan(&root, vec![("a", spec(Provider::Openai, &server))])).await;
    assert_eq!(finished.outcome, Outcome::Done);
    assert_eq!(finished.text, "Hello, world.");
    assert_eq!(seen[0], "started a");
    assert_eq!(
        journal(&root),
        [("a".into(), "Hello, world.".into(), Some(Final::Done))]
    );
}

#[tokio::test]
async fn a_429_waits_as_retry_after_says_and_the_retry_is_the_same_run() {
    let server = Server::start(vec![
        reply(
            429,
            &[("Retry-After", "1")],
            "{\"error\":{\"message\":\"slow down\"}}",
        ),
        openai_ok(&["Fine."]),
    ])
    .await;
    let root = folder("429");
    let (finished, seen) = run(&plan(&root, vec![("a", spec(Provider::Openai, &server))])).await;
    assert_eq!(finished.outcome, Outcome::Done);
    assert!(
        seen.iter()
            .any(|s| s.starts_with("retrying: retrying in 1 s (429)")),
        "{seen:?}"
    );
    assert_eq!(
        journal(&root),
        [("a".into(), "Fine.".into(), Some(Final::Done))]
    );
}

#[tokio::test]
async fn a_500_then_success_is_retried() {
    let server = Server::start(vec![reply(500, &[], "oops"), openai_ok(&["Back."])]).await;
    let root = folder("500");
    let (finished, _) = run(&plan(&root, vec![("a", spec(Provider::Openai, &server))])).await;
    assert_eq!(finished.outcome, Outcome::Done);
    assert_eq!(
        journal(&root),
        [("a".into(), "Back.".into(), Some(Final::Done))]
    );
}

#[tokio::test]
async fn a_401_fails_at_once_naming_the_variable() {
    let server = Server::start(vec![reply(
        401,
        &[],
        "{\"error\":{\"message\":\"bad key\"}}",
    )])
    .await;
    let root = folder("401");
    let mut agent = spec(Provider::Openai, &server);
    agent.api_key_env = Some("BATON_RUNS_TEST_KEY".into());
    std::env::set_var("BATON_RUNS_TEST_KEY", "sk-runs-test-secret");
    let (finished, seen) = run(&plan(&root, vec![("a", agent)])).await;
    let Outcome::Failed(reason) = &finished.outcome else {
        panic!("{:?}", finished.outcome)
    };
    assert!(reason.contains("BATON_RUNS_TEST_KEY"), "{reason}");
    assert!(
        !seen.iter().any(|s| s.starts_with("retrying")),
        "not retried"
    );
    let runs = journal(&root);
    assert!(matches!(&runs[0].2, Some(Final::Failed { reason }) if reason.contains("401")));
    let everything = std::fs::read_dir(root.join(".baton/runs"))
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect::<String>();
    assert!(!everything.contains("sk-runs-test-secret"));
}

#[tokio::test]
async fn a_stream_broken_mid_way_keeps_the_partial_answer() {
    let steps = vec![
        Step::Stream(SSE),
        Step::Chunk(openai_delta("Half an ").into_bytes()),
        Step::Chunk(openai_delta("answer").into_bytes()),
    ];
    let server = Server::start(vec![steps]).await;
    let root = folder("broken");
    let (finished, _) = run(&plan(&root, vec![("a", spec(Provider::Openai, &server))])).await;
    assert!(
        matches!(finished.outcome, Outcome::Partial(_)),
        "{:?}",
        finished.outcome
    );
    let runs = journal(&root);
    assert_eq!(runs[0].1, "Half an answer");
    assert!(matches!(runs[0].2, Some(Final::Partial { .. })));
}

#[tokio::test]
async fn a_malformed_chunk_fails_the_run_and_keeps_what_came_before() {
    let mut events = vec![openai_delta("Before ")];
    events.push("data: {not json\n\n".into());
    let server = Server::start(vec![stream(SSE, &events)]).await;
    let root = folder("malformed");
    let (finished, _) = run(&plan(&root, vec![("a", spec(Provider::Openai, &server))])).await;
    let Outcome::Failed(reason) = &finished.outcome else {
        panic!("{:?}", finished.outcome)
    };
    assert!(
        reason.contains("not json"),
        "the excerpt is shown: {reason}"
    );
    let runs = journal(&root);
    assert_eq!(runs[0].1, "Before ");
    assert!(matches!(runs[0].2, Some(Final::Failed { .. })));
}

#[tokio::test]
async fn a_silent_agent_times_out_keeping_what_arrived() {
    let steps = vec![
        Step::Stream(SSE),
        Step::Chunk(openai_delta("Started").into_bytes()),
        Step::Silence,
    ];
    let server = Server::start(vec![steps]).await;
    let root = folder("timeout");
    let (finished, _) = run(&plan(&root, vec![("a", spec(Provider::Openai, &server))])).await;
    assert!(
        matches!(&finished.outcome, Outcome::Partial(reason) if reason.contains("timed out") || reason.contains("timeout")),
        "{:?}",
        finished.outcome
    );
    let runs = journal(&root);
    assert_eq!(runs[0].1, "Started");
    assert!(matches!(runs[0].2, Some(Final::Partial { .. })));
}

#[tokio::test]
async fn an_anthropic_error_event_fails_the_run_after_its_text() {
    let mut events = anthropic_start();
    events.push(anthropic_delta("Half"));
    events.push(anthropic_event(json!({"type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"}})));
    let server = Server::start(vec![stream(SSE, &events)]).await;
    let root = folder("anthropic");
    let (finished, _) = run(&plan(
        &root,
        vec![("a", spec(Provider::Anthropic, &server))],
    ))
    .await;
    let Outcome::Failed(reason) = &finished.outcome else {
        panic!("{:?}", finished.outcome)
    };
    assert!(reason.contains("Overloaded"), "{reason}");
    let runs = journal(&root);
    assert_eq!(runs[0].1, "Half");
}

#[tokio::test]
async fn a_huge_answer_is_cut_at_the_bound_and_marked_partial() {
    let piece = "x".repeat(64 * 1024);
    let mut events: Vec<String> = (0..70).map(|_| openai_delta(&piece)).collect();
    events.extend(openai_end());
    let server = Server::start(vec![stream(SSE, &events)]).await;
    let root = folder("huge");
    let (finished, _) = run(&plan(&root, vec![("a", spec(Provider::Openai, &server))])).await;
    assert!(
        matches!(&finished.outcome, Outcome::Partial(reason) if reason.contains("MiB") || reason.contains("bytes") || reason.contains("large")),
        "{:?}",
        finished.outcome
    );
    let runs = journal(&root);
    assert_eq!(runs[0].1.len(), baton::agent::DEFAULT_MAX_OUTPUT_BYTES);
    assert_eq!(runs[0].1, finished.text);
}

#[tokio::test]
async fn when_retries_are_spent_the_fallback_answers_as_a_run_of_its_own() {
    let failing = Server::start(vec![reply(503, &[], "down")]).await;
    let working = Server::start(vec![anthropic_ok()]).await;
    let root = folder("fallback");
    let mut first = spec(Provider::Openai, &failing);
    first.retries = Some(0);
    let plan = plan(
        &root,
        vec![("a", first), ("b", spec(Provider::Anthropic, &working))],
    );
    let (finished, seen) = run(&plan).await;
    assert_eq!(finished.outcome, Outcome::Done);
    assert_eq!(finished.agent, "b");
    assert!(seen.contains(&"fallback a -> b".to_owned()), "{seen:?}");
    let runs = journal(&root);
    assert_eq!(runs.len(), 2);
    assert!(
        matches!(&runs[0], (agent, text, Some(Final::Failed { .. })) if agent == "a" && text.is_empty())
    );
    assert_eq!(runs[1], ("b".into(), "From b.".into(), Some(Final::Done)));
}

fn anthropic_ok() -> Vec<Step> {
    let mut events = anthropic_start();
    events.push(anthropic_delta("From b."));
    events.extend(anthropic_end());
    stream(SSE, &events)
}

#[tokio::test]
async fn a_run_cancelled_while_queued_sends_nothing_and_journals_nothing() {
    let server = Server::start(vec![openai_ok(&["never"])]).await;
    let root = folder("cancel-queued");
    let mut spec = spec(Provider::Openai, &server);
    spec.max_concurrent = Some(1);
    let plan = plan(&root, vec![("a", spec)]);
    let queues = Queues::default();
    let _busy = queues.try_turn("a", 1).expect("the agent's one place");
    let cancel = Cancel::new();
    let mut seen = Vec::new();
    let mut on_update = |event: Event<'_>| {
        seen.push(match event {
            Event::Queued { agent } => format!("queued {agent}"),
            Event::Finished(finished) => format!("finished {:?}", finished.outcome),
            other => format!("{other:?}"),
        });
        if seen.len() == 1 {
            cancel.cancel();
        }
    };
    let finished = execute(&plan, run_id::new(), &queues, &mut on_update, &cancel).await;
    assert_eq!(finished.outcome, Outcome::Cancelled(None));
    assert_eq!(seen, ["queued a", "finished Cancelled(None)"]);
    assert_eq!(journal(&root), []);
}

#[tokio::test]
async fn a_run_cancelled_mid_stream_keeps_what_arrived_closed_as_cancelled() {
    let steps = vec![
        Step::Stream(SSE),
        Step::Chunk(openai_delta("Half ").into_bytes()),
        Step::Silence,
    ];
    let server = Server::start(vec![steps]).await;
    let root = folder("cancel-streaming");
    let plan = plan(&root, vec![("a", spec(Provider::Openai, &server))]);
    let cancel = Cancel::new();
    let mut on_update = |event: Event<'_>| {
        if matches!(event, Event::Text(_)) {
            cancel.cancel_because("sent again as run R2");
        }
    };
    let queues = Queues::default();
    let finished = execute(&plan, run_id::new(), &queues, &mut on_update, &cancel).await;
    assert_eq!(
        finished.outcome,
        Outcome::Cancelled(Some("sent again as run R2".into()))
    );
    assert_eq!(finished.text, "Half ");
    assert_eq!(
        journal(&root),
        [("a".into(), "Half ".into(), Some(Final::Cancelled))]
    );
    assert!(queues.try_turn("a", 1).is_some(), "the turn was given back");
}
