//! Sending briefs from the editor, through the real binary over stdio (DESIGN §4): the test
//! client acts as an editor that applies the server's `workspace/applyEdit` requests to its
//! copy of the document (refusing those made for an older version, as editors do), reports
//! them back with `didChange`, and keeps typing when told to. The agents are loopback servers
//! speaking OpenAI's SSE format.

mod support;

// Shared with tests/agents.rs, which uses the rest of them.
#[allow(dead_code)]
#[path = "agents/server.rs"]
mod server;
#[allow(dead_code)]
#[path = "agents/streams.rs"]
mod streams;

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use server::{reply, Server as Agent, Step};
use streams::{openai_delta, openai_ok, openai_paced, SSE};
use support::editor::Editor;
use support::to;
use support::{Spawn, Workspace};

/// A runtime for the loopback agents, on its own thread, living as long as the test.
fn agents() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

fn agent(runtime: &tokio::runtime::Runtime, scripts: Vec<Vec<Step>>) -> String {
    runtime.block_on(Agent::start(scripts)).url
}

/// A stream of `pieces`, each after `pause`.
fn slow_stream(pieces: &[String], pause: Duration) -> Vec<Step> {
    openai_paced(pieces, pause, true)
}

fn config(url: &str, extra: &str) -> String {
    format!(
        "[agents.writer]\nprovider = \"openai\"\nmodel = \"m1\"\nbase_url = \"{url}/v1\"\nretries = 0\n\n\
         [agents.other]\nprovider = \"openai\"\nmodel = \"m2\"\nbase_url = \"{url}/v1\"\nretries = 0\n{extra}"
    )
}

const BRIEF: &str = "# Scan prices @writer\n\n## Objective\n\nFind the prices.\n\n## Context\n\nWe reprice.\n\n## Constraints\n\nPublic sources.\n\n## Expected Output\n\nA table.\n";

fn marker(run: &str, agent: &str, model: &str, input: &str, status: &str) -> String {
    format!(
        "<!-- baton:output run={run} agent={agent} model={model} input={input} status={status} -->"
    )
}

/// The `input` hash in the document's first marker.
fn input_hash(text: &str) -> String {
    let at = text.find(" input=").expect("a marker") + 7;
    text[at..at + 8].to_owned()
}

fn journal(workspace: &Workspace) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(workspace.path(".baton/runs")) else {
        return Vec::new();
    };
    let mut runs: Vec<(String, String)> = entries
        .flatten()
        .map(|entry| {
            (
                entry.file_name().into_string().unwrap(),
                std::fs::read_to_string(entry.path()).unwrap(),
            )
        })
        .collect();
    runs.sort();
    runs.into_iter().map(|(_, text)| text).collect()
}

#[test]
fn a_brief_sent_from_a_code_action_streams_into_the_document() {
    let runtime = agents();
    let url = agent(&runtime, vec![openai_ok(&["Hello", ", ", "world."])]);
    let workspace = Workspace::new("dispatch-stream");
    workspace.write("baton.toml", &config(&url, ""));
    let mut editor = Editor::open(&workspace, "a.brief.md", BRIEF, json!({}));

    let titles: Vec<String> = editor
        .actions_at("Find the")
        .iter()
        .map(|action| action["title"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        titles,
        [
            format!("Send \"Scan prices\" to {}", to("writer", &url)),
            format!("Send \"Scan prices\" to {}", to("other", &url)),
            format!("Preview payload for {}", to("writer", &url))
        ]
    );
    let started = editor.run_action(
        "Find the",
        format!("Send \"Scan prices\" to {}", to("writer", &url)),
    );
    let run = started["run"].as_str().unwrap().to_owned();
    assert_eq!(started["agent"], "writer");
    editor.until("the finished block", |e| e.has("status=done"));

    let input = input_hash(&editor.doc.text);
    let expected = format!(
        "{BRIEF}\n## Output @writer\n{}\nHello, world.\n<!-- /baton:output run={run} -->\n",
        marker(&run, "writer", "m1", &input, "done")
    );
    assert_eq!(editor.doc.text, expected);

    // Progress: begun with the brief's name, ended as done.
    let progress = editor.all_progress();
    assert_eq!(progress[0]["kind"], "begin");
    assert_eq!(progress[0]["title"], "@writer: Scan prices");
    assert_eq!(progress[0]["cancellable"], true);
    let end = editor.progress_end();
    assert_eq!(end["message"], "done");
    assert!(editor.seen.iter().any(|m| m["method"] == "baton/runs"));

    // The journal holds the payload as sent and every chunk, closed as done.
    let runs = journal(&workspace);
    assert_eq!(runs.len(), 1);
    assert!(runs[0].contains("\"type\":\"start\"") && runs[0].contains("Find the prices."));
    assert!(runs[0].contains("\"text\":\"Hello\"") && runs[0].contains("\"state\":\"done\""));

    // The code lens shows how the run went.
    let lenses = editor.lenses();
    let titles: Vec<&str> = lenses
        .iter()
        .map(|l| l["command"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles.len(), 3, "{titles:?}");
    assert!(
        titles[1].starts_with("@writer · "),
        "the budget: {titles:?}"
    );
    assert_eq!(
        [titles[0], titles[2]],
        [&format!("▶ Send to {}", to("writer", &url)), "✓ done"]
    );

    // Changing the brief makes the output stale; the quick fix sends it again.
    let change = editor
        .doc
        .replace("Find the prices.", "Find the prices, in euros.");
    editor.server.change(&mut editor.doc, vec![change]);
    let uri = editor.doc.uri.clone();
    let version = editor.doc.version;
    let diagnostics = editor.server.wait_for_diagnostics(&uri, Some(version));
    let stale: Vec<Value> = diagnostics
        .into_iter()
        .filter(|d| d["code"] == "stale-output")
        .collect();
    assert_eq!(stale.len(), 1, "the output is stale");
    let params = json!({
        "textDocument": { "uri": uri },
        "range": stale[0]["range"],
        "context": { "diagnostics": stale, "only": ["quickfix"] },
    });
    let actions = editor.server.request("textDocument/codeAction", params);
    assert_eq!(
        actions[0]["title"],
        format!("Send \"Scan prices\" to {} again", to("writer", &url))
    );
    assert_eq!(actions[0]["kind"], "quickfix");
    assert_eq!(actions[0]["command"]["command"], "baton.send");
}

#[test]
fn the_user_keeps_typing_above_and_below_while_the_answer_streams() {
    let runtime = agents();
    let pieces: Vec<String> = (1..=30).map(|i| format!("w{i} ")).collect();
    let url = agent(
        &runtime,
        vec![slow_stream(&pieces, Duration::from_millis(15))],
    );
    let workspace = Workspace::new("dispatch-typing");
    workspace.write("baton.toml", &config(&url, ""));
    let text = format!("{BRIEF}\n# Later\n\nNotes.\n");
    let mut editor = Editor::open(&workspace, "a.brief.md", &text, json!({}));
    let started = editor.run_action(
        "Find the",
        format!("Send \"Scan prices\" to {}", to("writer", &url)),
    );
    let run = started["run"].as_str().unwrap().to_owned();

    let mut typed: usize = 0;
    let deadline = Instant::now() + Duration::from_secs(20);
    while !editor.has("status=done") {
        assert!(Instant::now() < deadline, "the run did not finish");
        if typed < 40 {
            // Alternately above the brief's fields and at the very end of the document.
            if typed % 2 == 0 {
                let at = editor.doc.text.find("Find the").unwrap();
                editor.type_at(at, "a");
            } else {
                let end = editor.doc.text.len();
                editor.type_at(end, "z");
            }
            typed += 1;
        }
        editor.pump("edits while typing");
    }
    let answer: String = pieces.concat();
    let input = input_hash(&editor.doc.text);
    let above = "a".repeat(typed.div_ceil(2));
    let below = "z".repeat(typed / 2);
    let expected = format!(
        "{}\n## Output @writer\n{}\n{answer}\n<!-- /baton:output run={run} -->\n\n# Later\n\nNotes.\n{below}",
        BRIEF.replace("Find the", &format!("{above}Find the")),
        marker(&run, "writer", "m1", &input, "done"),
    );
    assert_eq!(editor.doc.text, expected);
    assert!(editor.applied >= 2, "the answer grew by several edits");
}

#[test]
fn cancelling_the_progress_stops_the_run_and_keeps_what_arrived() {
    let runtime = agents();
    let mut steps = vec![
        Step::Stream(SSE),
        Step::Chunk(openai_delta("Partial ").into_bytes()),
    ];
    steps.push(Step::Silence);
    let url = agent(&runtime, vec![steps]);
    let workspace = Workspace::new("dispatch-cancel");
    workspace.write("baton.toml", &config(&url, ""));
    let mut editor = Editor::open(&workspace, "a.brief.md", BRIEF, json!({}));
    let started = editor.run_action(
        "Find the",
        format!("Send \"Scan prices\" to {}", to("writer", &url)),
    );
    let run = started["run"].as_str().unwrap().to_owned();
    editor.until("the first text", |e| e.has("Partial"));
    editor.server.notify(
        "window/workDoneProgress/cancel",
        json!({ "token": format!("baton-run-{run}") }),
    );
    editor.until("the cancelled marker", |e| e.has("status=cancelled"));
    assert!(editor.has(&format!("\nPartial \n<!-- /baton:output run={run} -->")));
    let end = editor.progress_end();
    assert_eq!(end["message"], "cancelled");
    let runs = journal(&workspace);
    assert!(
        runs[0].contains("\"text\":\"Partial \"") && runs[0].contains("\"state\":\"cancelled\"")
    );
}

#[test]
fn sending_again_replaces_the_agents_block() {
    let runtime = agents();
    let url = agent(
        &runtime,
        vec![openai_ok(&["First."]), openai_ok(&["Second."])],
    );
    let workspace = Workspace::new("dispatch-rerun");
    workspace.write("baton.toml", &config(&url, ""));
    let mut editor = Editor::open(&workspace, "a.brief.md", BRIEF, json!({}));
    editor.run_action(
        "Find the",
        format!("Send \"Scan prices\" to {}", to("writer", &url)),
    );
    editor.until("the first answer", |e| {
        e.has("First.\n<!-- /baton:output run=")
    });
    editor.until("the first run's end", |e| e.has("status=done"));
    let command = json!({ "command": "baton.send", "arguments": [{ "uri": editor.doc.uri, "brief": "Scan prices" }] });
    let second = editor.execute(&command)["run"].as_str().unwrap().to_owned();
    editor.until("the second answer", |e| {
        e.has("Second.") && e.has(&format!("run={second}")) && e.has("status=done")
    });
    assert!(
        !editor.has("First."),
        "the old block is replaced: {}",
        editor.doc.text
    );
    assert_eq!(editor.doc.text.matches("## Output @writer").count(), 1);
}

#[test]
fn a_failed_run_is_a_diagnostic_and_a_message_and_fallbacks_answer() {
    let runtime = agents();
    let failing = agent(
        &runtime,
        vec![reply(500, &[], "{\"error\":{\"message\":\"boom\"}}")],
    );
    let working = agent(&runtime, vec![openai_ok(&["From the fallback."])]);
    let workspace = Workspace::new("dispatch-fail");
    workspace.write(
        "baton.toml",
        &format!(
            "[agents.writer]\nprovider = \"openai\"\nmodel = \"m1\"\nbase_url = \"{failing}/v1\"\nretries = 0\n\n\
             [agents.lonely]\nprovider = \"openai\"\nmodel = \"m1\"\nbase_url = \"{failing}/v1\"\nretries = 0\n\n\
             [agents.spare]\nprovider = \"openai\"\nmodel = \"m3\"\nbase_url = \"{working}/v1\"\nretries = 0\n"
        ),
    );
    let text = BRIEF.replace("@writer", "@lonely");
    let mut editor = Editor::open(&workspace, "a.brief.md", &text, json!({}));
    editor.run_action(
        "Find the",
        format!("Send \"Scan prices\" to {}", to("lonely", &failing)),
    );
    editor.until("the failure message", |e| !e.messages().is_empty());
    let message = &editor.messages()[0];
    assert!(
        message.contains("@lonely failed") && message.contains("500"),
        "{message}"
    );
    assert_eq!(
        editor.doc.text, text,
        "a failure without text leaves the document alone"
    );
    // The publication with the diagnostic and the message travel separately: either may
    // come first. Pump until a publication holds it.
    let uri = editor.doc.uri.clone();
    let failed_in = |message: &Value| -> Vec<Value> {
        let is_ours = message["method"] == "textDocument/publishDiagnostics"
            && message["params"]["uri"] == uri.as_str();
        let diagnostics = message["params"]["diagnostics"]
            .as_array()
            .filter(|_| is_ours);
        (diagnostics.into_iter().flatten())
            .filter(|d| d["code"] == "dispatch-failed")
            .cloned()
            .collect()
    };
    editor.until("the dispatch-failed diagnostic", |e| {
        e.seen.iter().any(|m| !failed_in(m).is_empty())
    });
    let failed = (editor.seen.iter().map(failed_in))
        .find(|failed| !failed.is_empty())
        .unwrap();
    assert_eq!(
        failed[0]["range"]["start"]["line"], 0,
        "on the brief's heading"
    );
    assert_eq!(failed[0]["severity"], 1);
    let params = json!({
        "textDocument": { "uri": editor.doc.uri },
        "range": failed[0]["range"],
        "context": { "diagnostics": [failed[0]] },
    });
    let actions = editor.server.request("textDocument/codeAction", params);
    assert_eq!(
        actions[0]["title"],
        format!("Retry: send \"Scan prices\" to {}", to("lonely", &failing))
    );
    assert_eq!(actions[0]["kind"], "quickfix");

    // With a fallback, the spare agent answers in its own block.
    workspace.write(
        "baton.toml",
        &std::fs::read_to_string(workspace.path("baton.toml"))
            .unwrap()
            .replace(
                "[agents.lonely]\n",
                "[agents.lonely]\nfallback = [\"spare\"]\n",
            ),
    );
    let uri = support::file_uri(&workspace.path("baton.toml"));
    editor.server.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": uri, "type": 2 }] }),
    );
    let command = json!({ "command": "baton.send", "arguments": [{ "uri": editor.doc.uri, "brief": "Scan prices" }] });
    editor.execute(&command);
    editor.until("the fallback's answer", |e| e.has("status=done"));
    assert!(editor.has("## Output @spare\n<!-- baton:output run="));
    assert!(editor.has(" agent=spare model=m3 ") && editor.has("From the fallback."));
}

#[test]
fn an_untrusted_workspace_cannot_run_programs_or_send_keys_elsewhere() {
    let workspace = Workspace::new("dispatch-untrusted");
    workspace.write(
        "baton.toml",
        "[agents.tool]\nprovider = \"command\"\ncommand = [\"cat\"]\n\n\
         [agents.keyed]\nprovider = \"openai\"\nmodel = \"m\"\nbase_url = \"http://127.0.0.1:9/v1\"\napi_key_env = \"BATON_TEST_SECRET\"\n",
    );
    let text = BRIEF.replace("@writer", "@tool");
    let spawn = Spawn {
        env: vec![(
            "BATON_TEST_SECRET".into(),
            "sk-test-do-not-leak-4242".into(),
        )],
        ..Spawn::default()
    };
    let mut editor = Editor::open_with(
        &workspace,
        "a.brief.md",
        &text,
        json!({ "trustedWorkspace": false }),
        spawn,
    );
    for agent in ["tool", "keyed"] {
        let command = json!({ "command": "baton.send", "arguments": [{ "uri": editor.doc.uri, "brief": "Scan prices", "agent": agent }] });
        let params = json!({ "command": command["command"], "arguments": command["arguments"] });
        // Refused with a message the user reads, not a bare error response.
        let result = editor.server.request("workspace/executeCommand", params);
        assert_eq!(result, Value::Null, "{agent}");
        let shown = editor
            .server
            .wait_for("the refusal", |m| m["method"] == "window/showMessage");
        assert_eq!(shown["params"]["type"], 1, "an error: {shown}");
        let message = shown["params"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("untrusted") || message.contains("trust"),
            "{agent}: {message}"
        );
    }
    assert!(
        journal(&workspace).is_empty(),
        "nothing was sent, nothing journalled"
    );
    let diagnostics = editor
        .server
        .wait_for_diagnostics(&editor.doc.uri.clone(), Some(1));
    assert!(
        diagnostics.iter().any(|d| d["code"] == "untrusted-agent"),
        "{diagnostics:#?}"
    );
}

#[test]
fn keys_reach_neither_the_journal_nor_the_log() {
    let runtime = agents();
    let url = agent(
        &runtime,
        vec![reply(
            401,
            &[],
            "{\"error\":{\"message\":\"bad key sk-test-do-not-leak-4242\"}}",
        )],
    );
    let workspace = Workspace::new("dispatch-secret");
    workspace.write(
        "baton.toml",
        &format!("[agents.keyed]\nprovider = \"openai\"\nmodel = \"m\"\nbase_url = \"{url}/v1\"\napi_key_env = \"BATON_TEST_SECRET\"\n"),
    );
    let log = workspace.path("server.log");
    let spawn = Spawn {
        env: vec![
            (
                "BATON_TEST_SECRET".into(),
                "sk-test-do-not-leak-4242".into(),
            ),
            ("BATON_LOG".into(), "trace".into()),
        ],
        stderr: Some(log.clone()),
        ..Spawn::default()
    };
    let text = BRIEF.replace("@writer", "@keyed");
    let mut editor = Editor::open_with(
        &workspace,
        "a.brief.md",
        &text,
        json!({ "trustedWorkspace": true }),
        spawn,
    );
    editor.run_action(
        "Find the",
        format!("Send \"Scan prices\" to {}", to("keyed", &url)),
    );
    editor.until("the failure message", |e| !e.messages().is_empty());
    let message = editor.messages()[0].clone();
    assert!(
        message.contains("BATON_TEST_SECRET"),
        "names the variable to check: {message}"
    );
    editor.server.kill();
    let everything = format!(
        "{}{}{message}",
        journal(&workspace).concat(),
        std::fs::read_to_string(&log).unwrap()
    );
    assert!(
        !everything.contains("sk-test-do-not-leak-4242"),
        "the key leaked"
    );
    assert!(everything.contains("\"state\":\"failed\""));
}

#[test]
fn a_run_cut_short_by_a_killed_server_is_offered_back() {
    let runtime = agents();
    let pieces: Vec<String> = (1..=200).map(|i| format!("p{i} ")).collect();
    let url = agent(
        &runtime,
        vec![slow_stream(&pieces, Duration::from_millis(10))],
    );
    let workspace = Workspace::new("dispatch-recover");
    workspace.write("baton.toml", &config(&url, ""));
    let mut editor = Editor::open(&workspace, "a.brief.md", BRIEF, json!({}));
    let run = editor.run_action(
        "Find the",
        format!("Send \"Scan prices\" to {}", to("writer", &url)),
    )["run"]
        .as_str()
        .unwrap()
        .to_owned();
    editor.until("some text", |e| e.has("p3 "));
    editor.server.kill();
    // The editor keeps the partial block, marked running; the journal has at least as much.
    let saved = journal(&workspace).concat();
    assert!(saved.contains("\"text\":\"p3 \""));
    assert!(!saved.contains("\"type\":\"end\""), "killed mid-stream");
    workspace.write("a.brief.md", &editor.doc.text);

    let mut editor = editor.reopen(&workspace);
    editor.recover("Find the", &run);
    let recovered = saved
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|event| event["type"] == "chunk")
        .map(|event| event["text"].as_str().unwrap().to_owned())
        .collect::<String>();
    let input = input_hash(&editor.doc.text);
    let expected = format!(
        "{BRIEF}\n## Output @writer\n{}\n{}\n<!-- /baton:output run={run} -->\n",
        marker(&run, "writer", "m1", &input, "partial"),
        recovered.trim_end_matches(['\n', '\r'])
    );
    assert_eq!(editor.doc.text, expected);
}

#[test]
fn deleting_the_block_stops_injection_and_the_journal_keeps_everything() {
    let runtime = agents();
    let pieces: Vec<String> = (1..=40).map(|i| format!("d{i} ")).collect();
    let url = agent(
        &runtime,
        vec![slow_stream(&pieces, Duration::from_millis(10))],
    );
    let workspace = Workspace::new("dispatch-delete");
    workspace.write("baton.toml", &config(&url, ""));
    let mut editor = Editor::open(&workspace, "a.brief.md", BRIEF, json!({}));
    editor.run_action(
        "Find the",
        format!("Send \"Scan prices\" to {}", to("writer", &url)),
    );
    editor.until("some text", |e| e.has("d2 "));
    // The user selects the whole block and deletes it.
    let start = editor.doc.text.find("\n## Output @writer").unwrap();
    let change = editor.doc.edit(start..editor.doc.text.len(), "\n");
    editor.server.change(&mut editor.doc, vec![change]);
    let end = editor.progress_end();
    assert_eq!(end["message"], "done");
    assert_eq!(editor.doc.text, format!("{BRIEF}\n"), "nothing came back");
    editor.until("the message", |e| !e.messages().is_empty());
    let message = editor.messages().join("\n");
    assert!(
        message.contains("stopped writing into the document"),
        "{message}"
    );
    assert!(
        message.contains("its output block was deleted"),
        "{message}"
    );
    let runs = journal(&workspace);
    let received: String = runs[0]
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|event| event["type"] == "chunk")
        .map(|event| event["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        received,
        pieces.concat(),
        "the journal has the whole answer"
    );
}
