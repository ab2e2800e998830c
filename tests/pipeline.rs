//! `baton run` and `baton graph` through the real binary, against a loopback
//! OpenAI-compatible agent that answers each brief after a pause and records when each
//! request came and ended: dependency order and parallelism, inputs carried, failures that
//! stop only their dependants, up to date like make, resume after SIGKILL, Ctrl-C, the plan
//! and the graph.

mod support;

#[allow(dead_code)]
#[path = "agents/server.rs"]
mod server;
#[allow(dead_code)]
#[path = "agents/streams.rs"]
mod streams;

use std::process::{Output, Stdio};
use std::time::Duration;

use server::{reply, Recorded, Server, Step};
use streams::{openai_ok, openai_paced};
use support::Workspace;

/// How the loopback agent answers each brief (by its title).
#[derive(Clone, Default)]
struct Agent {
    latency: Duration,
    /// Briefs answered 401 (not retried: the brief fails).
    refuse: Vec<&'static str>,
    /// Briefs that get one piece of answer, then silence.
    hang: Vec<&'static str>,
}

/// The title of the brief a request carries: its message starts `# Title`.
fn title(request: &Recorded) -> String {
    let message = request.last_message();
    let first = message.lines().next().unwrap_or_default();
    first.trim_start_matches("# ").to_owned()
}

async fn agent(agent: Agent) -> Server {
    Server::respond(move |request| {
        let title = title(request);
        if agent.refuse.contains(&title.as_str()) {
            return reply(401, &[], r#"{"error":{"message":"bad key"}}"#);
        }
        if agent.hang.contains(&title.as_str()) {
            return openai_paced(&[format!("Half of {title}")], agent.latency, false);
        }
        let mut steps = vec![Step::Pause(agent.latency)];
        steps.extend(openai_ok(&[&format!("Answer of {title}.")]));
        steps
    })
    .await
}

const SCAN_LEFT_REPORT: &str = "# Scan\n\n## Objective\n\nFind the rivals.\n\n# Left\n\n## Objective\n\nUse [[Scan]].\n\n# Report\n\n## Objective\n\nMerge [[Left]] and [[b.brief.md#Right]].\n";
const RIGHT_ALONE: &str = "# Right\n\n## Objective\n\nUse [[a.brief.md#Scan]].\n\n# Alone\n\n## Objective\n\nUnrelated.\n";

/// A workspace with the diamond Scan ← {Left, Right} ← Report across two files, and Alone.
fn diamond(server: &Server) -> Workspace {
    let workspace = Workspace::new("pipeline");
    workspace.write(
        "baton.toml",
        &format!(
            "[defaults]\nagent = \"w\"\n\n[agents.w]\nprovider = \"openai\"\nmodel = \"test-model\"\nbase_url = \"{}\"\nretries = 0\nmax_concurrent = 8\n",
            server.url
        ),
    );
    workspace.write("a.brief.md", SCAN_LEFT_REPORT);
    workspace.write("b.brief.md", RIGHT_ALONE);
    workspace
}

fn command(workspace: &Workspace, args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_baton"));
    command
        .args(args)
        .current_dir(&workspace.root)
        .env("BATON_CONFIG", workspace.path("no-user-config.toml"))
        .env("BATON_TRUST_WORKSPACE", "1")
        .env("NO_PROXY", "*")
        .env_remove("HTTPS_PROXY")
        .env_remove("HTTP_PROXY")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

async fn baton(workspace: &Workspace, args: &[&str]) -> Output {
    command(workspace, args).output().await.unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The document with each run id and input hash in its markers replaced by `RUN` and `HASH`,
/// so whole documents can be compared.
fn normalised(text: &str) -> String {
    let words = |line: &str| {
        line.split(' ')
            .map(|word| match word.split_once('=') {
                Some(("run", _)) => "run=RUN".to_owned(),
                Some(("input", _)) => "input=HASH".to_owned(),
                _ => word.to_owned(),
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    text.split_inclusive('\n')
        .map(|line| match line.contains("baton:output") {
            true => words(line),
            false => line.to_owned(),
        })
        .collect()
}

/// The titles of the briefs the agent was sent, in the order they came.
fn sent(server: &Server) -> Vec<String> {
    server.requests().iter().map(title).collect()
}

fn request<'a>(requests: &'a [Recorded], brief: &str) -> &'a Recorded {
    let found = requests.iter().find(|request| title(request) == brief);
    found.unwrap_or_else(|| panic!("{brief} was not sent"))
}

const DONE_A: &str = "# Scan\n\n## Objective\n\nFind the rivals.\n\n## Output @w\n<!-- baton:output run=RUN agent=w model=test-model input=HASH status=done -->\nAnswer of Scan.\n<!-- /baton:output run=RUN -->\n\n# Left\n\n## Objective\n\nUse [[Scan]].\n\n## Output @w\n<!-- baton:output run=RUN agent=w model=test-model input=HASH status=done -->\nAnswer of Left.\n<!-- /baton:output run=RUN -->\n\n# Report\n\n## Objective\n\nMerge [[Left]] and [[b.brief.md#Right]].\n\n## Output @w\n<!-- baton:output run=RUN agent=w model=test-model input=HASH status=done -->\nAnswer of Report.\n<!-- /baton:output run=RUN -->\n";
const DONE_B: &str = "# Right\n\n## Objective\n\nUse [[a.brief.md#Scan]].\n\n## Output @w\n<!-- baton:output run=RUN agent=w model=test-model input=HASH status=done -->\nAnswer of Right.\n<!-- /baton:output run=RUN -->\n\n# Alone\n\n## Objective\n\nUnrelated.\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_diamond_across_two_files_runs_in_order_in_parallel_with_its_inputs() {
    let server = agent(Agent {
        latency: Duration::from_millis(400),
        ..Agent::default()
    })
    .await;
    let workspace = diamond(&server);
    let output = baton(&workspace, &["run", "a.brief.md"]).await;
    assert!(output.status.success(), "{}", stdout(&output));
    let requests = server.requests();
    let [scan, left, right, report] =
        ["Scan", "Left", "Right", "Report"].map(|b| request(&requests, b));
    assert_eq!(
        requests.len(),
        4,
        "Alone is not part of a.brief.md's pipeline"
    );
    let scan_end = scan.ended.unwrap();
    assert!(
        left.started >= scan_end && right.started >= scan_end,
        "both need Scan"
    );
    assert!(
        left.started < right.ended.unwrap() && right.started < left.ended.unwrap(),
        "Left and Right run at once"
    );
    assert!(report.started >= left.ended.unwrap().max(right.ended.unwrap()));
    // Each brief gets the answers of the briefs it links to, as `send` renders them.
    assert!(left
        .last_message()
        .contains("### From \"Scan\" (@w)\n\nAnswer of Scan."));
    let merged = report.last_message();
    assert!(
        merged.contains("Answer of Left.") && merged.contains("Answer of Right."),
        "{merged}"
    );
    assert!(!merged.contains("Answer of Scan."), "only what it links to");
    assert_eq!(normalised(&workspace.read("a.brief.md")), DONE_A);
    assert_eq!(normalised(&workspace.read("b.brief.md")), DONE_B);
    let out = stdout(&output);
    assert!(
        out.ends_with("4 done, 0 up to date, 0 failed, 0 skipped, 0 cancelled\n"),
        "{out}"
    );

    // Up to date, like make: nothing is sent again.
    let again = baton(&workspace, &["run", "a.brief.md"]).await;
    assert!(again.status.success());
    assert_eq!(server.requests().len(), 4, "nothing sent twice");
    assert!(stdout(&again).ends_with("0 done, 4 up to date, 0 failed, 0 skipped, 0 cancelled\n"));

    // An edit re-runs exactly the edited brief and what needs it.
    let edited = workspace
        .read("b.brief.md")
        .replace("Use [[a.brief.md#Scan]].", "Use [[a.brief.md#Scan]] twice.");
    workspace.write("b.brief.md", &edited);
    let third = baton(&workspace, &["run", "a.brief.md"]).await;
    assert!(third.status.success(), "{}", stdout(&third));
    assert_eq!(sent(&server)[4..], ["Right", "Report"]);
    assert!(stdout(&third).ends_with("2 done, 2 up to date, 0 failed, 0 skipped, 0 cancelled\n"));
}

/// `text` up to the end of `end` (what a document held before the answers below it).
fn up_to<'a>(text: &'a str, end: &str) -> &'a str {
    &text[..text.find(end).unwrap() + end.len()]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_stops_only_what_needs_it_and_the_summary_names_it() {
    let server = agent(Agent {
        latency: Duration::from_millis(50),
        refuse: vec!["Right"],
        ..Agent::default()
    })
    .await;
    let workspace = diamond(&server);
    let output = baton(
        &workspace,
        &["run", "a.brief.md", "b.brief.md", "--format", "json"],
    )
    .await;
    assert_eq!(output.status.code(), Some(1));
    let mut sent = sent(&server);
    sent.sort();
    assert_eq!(
        sent,
        ["Alone", "Left", "Right", "Scan"],
        "Report is not sent"
    );
    let events: Vec<serde_json::Value> = (stdout(&output).lines())
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let of = |brief: &str, event: &str| {
        let found = events
            .iter()
            .find(|e| e["brief"] == brief && e["event"] == event);
        found.unwrap_or_else(|| panic!("no {event} event for {brief}: {events:?}"))
    };
    assert!(of("Right", "failed")["reason"]
        .as_str()
        .unwrap()
        .contains("401"));
    assert_eq!(of("Report", "skipped")["because"]["brief"], "Right");
    for brief in ["Scan", "Left", "Alone"] {
        of(brief, "done");
    }
    // The tokens received, estimated as the editor's progress does: a quarter of the bytes.
    let answer = "Answer of Scan.";
    assert_eq!(of("Scan", "done")["tokens"], answer.len().div_ceil(4));
    // The agent is a loopback server, not its provider's endpoint: the event names where the
    // text went (DESIGN §7).
    let host = support::host(&server.url);
    assert_eq!(of("Scan", "started")["host"], host);
    let finished = events.last().unwrap();
    assert_eq!(
        *finished,
        serde_json::json!({"event": "finished", "success": false, "done": 3, "up_to_date": 0,
            "failed": 1, "skipped": 1, "cancelled": 0})
    );
    assert_eq!(
        normalised(&workspace.read("a.brief.md")),
        up_to(DONE_A, "Right]].\n"),
        "Report has no answer"
    );
    let b = normalised(&workspace.read("b.brief.md"));
    assert!(
        b.starts_with("# Right\n\n## Objective\n\nUse [[a.brief.md#Scan]].\n\n# Alone"),
        "{b}"
    );
    assert!(
        b.ends_with("Answer of Alone.\n<!-- /baton:output run=RUN -->\n"),
        "{b}"
    );

    // The human summary says the same.
    let again = baton(&workspace, &["run", "a.brief.md"]).await;
    assert_eq!(again.status.code(), Some(1));
    let out = stdout(&again);
    assert!(
        out.contains("0 done, 2 up to date, 1 failed, 1 skipped, 0 cancelled\n"),
        "{out}"
    );
    assert!(
        out.contains("\nskipped: Report (\"Right\" failed)\n"),
        "{out}"
    );
    assert!(out.contains("\nfailed: Right: `w` failed: "), "{out}");
}

async fn wait_until(what: &str, done: impl Fn() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting until {what}");
}

fn signal(child: &tokio::process::Child, signal: i32) {
    let pid = i32::try_from(child.id().unwrap()).unwrap();
    // SAFETY: sends a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
}

fn point_at(workspace: &Workspace, server: &Server) {
    let config = workspace.read("baton.toml");
    let start = config.find("base_url = \"").unwrap() + "base_url = \"".len();
    let end = start + config[start..].find('"').unwrap();
    workspace.write(
        "baton.toml",
        &format!("{}{}{}", &config[..start], server.url, &config[end..]),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_sigkill_a_second_run_sends_only_what_has_no_complete_answer() {
    let first = agent(Agent {
        latency: Duration::from_millis(50),
        hang: vec!["Left"],
        ..Agent::default()
    })
    .await;
    let workspace = diamond(&first);
    let mut child = command(&workspace, &["run", "a.brief.md"]).spawn().unwrap();
    wait_until("Right's answer is written", || {
        workspace.read("b.brief.md").contains("Answer of Right.")
    })
    .await;
    signal(&child, libc::SIGKILL);
    child.wait().await.unwrap();
    assert_eq!(sent(&first).len(), 3, "Scan, Left (hanging), Right");

    let second = agent(Agent::default()).await;
    point_at(&workspace, &second);
    let output = baton(&workspace, &["run", "a.brief.md"]).await;
    assert!(output.status.success(), "{}", stdout(&output));
    assert_eq!(
        sent(&second),
        ["Left", "Report"],
        "Scan and Right are complete"
    );
    assert_eq!(normalised(&workspace.read("a.brief.md")), DONE_A);
    assert_eq!(normalised(&workspace.read("b.brief.md")), DONE_B);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_the_journal_holds_but_the_files_lost_are_put_back_not_sent_again() {
    let server = agent(Agent::default()).await;
    let workspace = diamond(&server);
    assert!(baton(&workspace, &["run", "a.brief.md"])
        .await
        .status
        .success());
    let (a, b) = (workspace.read("a.brief.md"), workspace.read("b.brief.md"));
    // As if baton had been killed after each run ended in the journal, before its write.
    workspace.write("a.brief.md", SCAN_LEFT_REPORT);
    workspace.write("b.brief.md", RIGHT_ALONE);
    let output = baton(&workspace, &["run", "a.brief.md"]).await;
    assert!(output.status.success(), "{}", stdout(&output));
    assert_eq!(server.requests().len(), 4, "nothing is sent again");
    let out = stdout(&output);
    assert_eq!(out.matches("put back from the journal").count(), 4, "{out}");
    assert!(out.ends_with("0 done, 4 up to date, 0 failed, 0 skipped, 0 cancelled\n"));
    assert_eq!(workspace.read("a.brief.md"), a);
    assert_eq!(workspace.read("b.brief.md"), b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_cancels_the_runs_in_flight_keeps_what_arrived_and_starts_nothing_new() {
    let server = agent(Agent {
        latency: Duration::from_millis(50),
        hang: vec!["Left", "Right"],
        ..Agent::default()
    })
    .await;
    let workspace = diamond(&server);
    let child = command(&workspace, &["run", "a.brief.md"]).spawn().unwrap();
    wait_until("Left and Right are sent", || server.requests().len() == 3).await;
    // Their first piece arrives after 50 ms.
    tokio::time::sleep(Duration::from_millis(400)).await;
    signal(&child, libc::SIGINT);
    let output = child.wait_with_output().await.unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(sent(&server).len(), 3, "Report is not started");
    let out = stdout(&output);
    assert!(
        out.ends_with("1 done, 0 up to date, 0 failed, 0 skipped, 3 cancelled\n"),
        "{out}"
    );
    let cancelled = |brief: &str| {
        format!("## Output @w\n<!-- baton:output run=RUN agent=w model=test-model input=HASH status=cancelled -->\nHalf of {brief}\n<!-- /baton:output run=RUN -->\n")
    };
    let a = normalised(&workspace.read("a.brief.md"));
    assert!(
        a.contains(&format!("Use [[Scan]].\n\n{}\n# Report", cancelled("Left"))),
        "{a}"
    );
    assert!(
        a.ends_with("Merge [[Left]] and [[b.brief.md#Right]].\n"),
        "{a}"
    );
    let b = normalised(&workspace.read("b.brief.md"));
    assert!(b.contains(&cancelled("Right")), "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_prints_the_plan_and_sends_nothing() {
    let server = agent(Agent::default()).await;
    let workspace = diamond(&server);
    workspace.write(
        "a.brief.md",
        &SCAN_LEFT_REPORT.replace("# Left", "# Left @w"),
    );
    let output = baton(&workspace, &["run", "a.brief.md", "--dry-run"]).await;
    assert!(output.status.success());
    // The agent is a loopback server, not its provider's endpoint: the plan names its host.
    let host = support::host(&server.url);
    assert_eq!(
        stdout(&output),
        format!(
            "4 briefs, 0 up to date, 4 to run; nothing is sent (--dry-run)\n\
             Scan [a.brief.md] → @w · {host} (`[defaults] agent`); needs nothing; never run; will run\n\
             Left [a.brief.md] → @w · {host} (named in the heading); needs Scan; never run; will run\n\
             Right [b.brief.md] → @w · {host} (`[defaults] agent`); needs Scan; never run; will run\n\
             Report [a.brief.md] → @w · {host} (`[defaults] agent`); needs Left, Right; never run; will run\n"
        )
    );
    assert!(
        baton(&workspace, &["run", "b.brief.md", "--brief", "right"])
            .await
            .status
            .success()
    );
    let plan = baton(
        &workspace,
        &["run", "a.brief.md", "--dry-run", "--format", "json"],
    )
    .await;
    let lines: Vec<serde_json::Value> = (stdout(&plan).lines())
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let states: Vec<(&str, &str, bool)> = (lines.iter())
        .map(|l| {
            (
                l["brief"].as_str().unwrap(),
                l["state"].as_str().unwrap(),
                l["run"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("Scan", "done", false),
            ("Left", "never run", true),
            ("Right", "done", false),
            ("Report", "never run", true)
        ]
    );
    assert!(lines.iter().all(|l| l["host"] == host), "{lines:?}");
    assert_eq!(
        sent(&server),
        ["Scan", "Right"],
        "only --brief right and what it needs ran"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_prints_the_pipeline_as_mermaid_and_dot() {
    let server = agent(Agent::default()).await;
    let workspace = diamond(&server);
    assert!(baton(&workspace, &["run", "a.brief.md", "--brief", "Left"])
        .await
        .status
        .success());
    let mermaid = baton(&workspace, &["graph", "a.brief.md"]).await;
    assert!(mermaid.status.success());
    assert_eq!(
        stdout(&mermaid),
        "flowchart LR\n  subgraph f0[\"a.brief.md\"]\n    n0[\"Scan<br/>@w · done\"]:::done\n    n1[\"Left<br/>@w · done\"]:::done\n    n3[\"Report<br/>@w · never run\"]:::never\n  end\n  subgraph f1[\"b.brief.md\"]\n    n2[\"Right<br/>@w · never run\"]:::never\n  end\n  n0 --> n1\n  n0 --> n2\n  n1 --> n3\n  n2 --> n3\n  classDef done fill:#d4edda,stroke:#2e7d32\n  classDef stale fill:#fff3cd,stroke:#b58100\n  classDef failed fill:#f8d7da,stroke:#c62828\n  classDef never fill:#eeeeee,stroke:#757575\n"
    );
    // Scan's text changed: it is stale; Left's input (Scan's answer) did not change, but a run
    // would send both again (`--dry-run` says so).
    workspace.write(
        "a.brief.md",
        &workspace
            .read("a.brief.md")
            .replace("Find the rivals.", "Find all rivals."),
    );
    let dot = baton(&workspace, &["graph", "--format", "dot", "a.brief.md"]).await;
    assert_eq!(
        stdout(&dot),
        "digraph pipeline {\n  rankdir=LR;\n  node [shape=box];\n  subgraph cluster_0 {\n    label=\"a.brief.md\";\n    n0 [label=\"Scan\\n@w · stale\", class=\"stale\"];\n    n1 [label=\"Left\\n@w · done\", class=\"done\"];\n    n3 [label=\"Report\\n@w · never run\", class=\"never\"];\n  }\n  subgraph cluster_1 {\n    label=\"b.brief.md\";\n    n2 [label=\"Right\\n@w · never run\", class=\"never\"];\n  }\n  n0 -> n1;\n  n0 -> n2;\n  n1 -> n3;\n  n2 -> n3;\n}\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cycle_or_a_bad_selection_is_refused_before_anything_is_sent() {
    let server = agent(Agent::default()).await;
    let workspace = diamond(&server);
    workspace.write("c.brief.md", "# A\n\nUse [[B]].\n\n# B\n\nUse [[A]].\n");
    for args in [&["run", "c.brief.md"][..], &["graph", "c.brief.md"]] {
        let output = baton(&workspace, args).await;
        assert_eq!(output.status.code(), Some(2));
        let error = String::from_utf8_lossy(&output.stderr);
        assert!(
            error.contains("c.brief.md: this link closes a cycle between `A`, `B`; a pipeline cannot run briefs that wait on each other"),
            "{error}"
        );
    }
    let several = baton(
        &workspace,
        &["run", "a.brief.md", "b.brief.md", "--brief", "Scan"],
    )
    .await;
    assert_eq!(several.status.code(), Some(2));
    let missing = baton(&workspace, &["run", "a.brief.md", "--brief", "Nothing"]).await;
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no brief titled \"Nothing\""));
    assert!(server.requests().is_empty());
}
