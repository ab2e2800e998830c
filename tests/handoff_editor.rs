//! The editor's "Hand off" through the real binary over stdio, against a loopback agent: the
//! handoff's work-done progress (`baton-handoff-<id>`: begin, reports as the agent writes, end
//! naming the file) and the file opened; cancelling that progress (the run journalled as
//! cancelled with what arrived, no file, a message saying so), and `baton.cancel` doing the
//! same for the handoff `baton.runs` lists; and a client that shows no progress getting the handoff as before.

mod support;

#[allow(dead_code)]
#[path = "agents/server.rs"]
mod server;
#[allow(dead_code)]
#[path = "agents/streams.rs"]
mod streams;

use std::time::Duration;

use baton::dispatch::journal::{Final, Journal};
use baton::dispatch::thread::{Choice, ThreadKey, Threads, Turn};
use serde_json::{json, Value};
use server::Server as Agent;
use streams::openai_paced;
use support::Workspace;
use support::{editor::Editor, runtime};

const BRIEFS: &str = "# Compare note apps\n\n## Objective\n\nCompare three note-taking apps.\n";

/// The handoff the agent writes, in the pieces it streams.
const PIECES: [&str; 4] = [
    "## Key Decisions\n\n- Only apps with a free tier.\n\n",
    "## Current State\n\nTwo of three apps are compared.\n\n## Next Steps\n\n1. Compare the third app.\n\n",
    "## Reasoning\n\nNo budget this year.\n\n## Open Questions\n\n- None yet.\n\n",
    "## Artifacts\n\n- plan.brief.md\n",
];

/// A workspace whose agent `w` is `agent`, holding `plan.brief.md` and its thread with `w`.
fn workspace(name: &str, agent: &Agent) -> Workspace {
    let workspace = Workspace::new(name);
    workspace.write(
        "baton.toml",
        &format!(
            "[defaults]\nagent = \"w\"\n\n[agents.w]\nprovider = \"openai\"\nmodel = \"test-model\"\nbase_url = \"{}\"\nretries = 0\n",
            agent.url
        ),
    );
    workspace.write("plan.brief.md", BRIEFS);
    let path = workspace.path("plan.brief.md");
    let key = ThreadKey::of(&path, &workspace.root, Choice::Own, "w").unwrap();
    let turn = Turn {
        run: Some("r1".to_owned()),
        user: "First brief".to_owned(),
        assistant: Some("First answer".to_owned()),
    };
    Threads::new(&workspace.root).append(&key, turn).unwrap();
    workspace
}

fn open(workspace: &Workspace) -> Editor {
    let options = json!({ "trustedWorkspace": true });
    Editor::open(workspace, "plan.brief.md", BRIEFS, options)
}

fn hand_off(editor: &mut Editor) -> Value {
    let arguments = json!([{ "uri": editor.doc.uri, "brief": "Compare note apps" }]);
    editor.execute(&json!({ "command": "baton.handoff", "arguments": arguments }))
}

/// The progress values of `token`, in order.
fn progress(editor: &Editor, token: &str) -> Vec<Value> {
    (editor.seen.iter())
        .filter(|m| m["method"] == "$/progress" && m["params"]["token"] == token)
        .map(|m| m["params"]["value"].clone())
        .collect()
}

fn wait_for_end(editor: &mut Editor, token: &str) -> String {
    editor.until("the handoff's progress to end", |editor| {
        progress(editor, token).iter().any(|v| v["kind"] == "end")
    });
    let values = progress(editor, token);
    let end = values.last().unwrap();
    assert_eq!(end["kind"], "end", "{values:#?}");
    end["message"].as_str().unwrap().to_owned()
}

fn server_requests(editor: &Editor, method: &str) -> Vec<Value> {
    let requests = editor.server.server_requests.lock().unwrap();
    (requests.iter())
        .filter(|request| request["method"] == method)
        .cloned()
        .collect()
}

#[test]
fn the_handoff_shows_its_progress_as_the_agent_writes_and_opens_the_file() {
    let runtime = runtime();
    let pause = Duration::from_millis(150);
    let agent = runtime.block_on(Agent::start(vec![openai_paced(&PIECES, pause, true)]));
    let workspace = workspace("handoff-progress", &agent);
    let mut editor = open(&workspace);

    let answer = hand_off(&mut editor);
    assert_eq!(
        (answer["agent"].as_str(), answer["asks_agent"].as_bool()),
        (Some("w"), Some(true))
    );
    let token = format!("baton-handoff-{}", answer["handoff"].as_str().unwrap());
    let ended = wait_for_end(&mut editor, &token);
    assert_eq!(ended, "wrote plan.handoff.md");

    let values = progress(&editor, &token);
    assert_eq!(values[0]["kind"], "begin", "{values:#?}");
    assert_eq!(values[0]["title"], "Handing off to @w");
    assert_eq!(values[0]["cancellable"], true);
    let reports: Vec<&str> = (values.iter())
        .filter(|v| v["kind"] == "report")
        .map(|v| v["message"].as_str().unwrap())
        .collect();
    assert_eq!(reports[0], "@w is writing", "{reports:?}");
    // Reported as the pieces arrive (at most every 250 ms), the count growing.
    let counts: Vec<usize> = (reports.iter())
        .filter_map(|m| m.strip_prefix("writing · ")?.strip_suffix(" tokens"))
        .map(|n| n.parse().unwrap())
        .collect();
    assert!(!counts.is_empty(), "{reports:?}");
    assert!(counts.windows(2).all(|w| w[0] < w[1]), "{counts:?}");
    assert_eq!(values.iter().filter(|v| v["kind"] == "end").count(), 1);

    let created = server_requests(&editor, "window/workDoneProgress/create");
    assert!(created
        .iter()
        .any(|r| r["params"]["token"] == token.as_str()));
    let shown = editor.server.wait_for_server_request("window/showDocument");
    assert_eq!(
        shown["params"]["uri"],
        workspace.uri("plan.handoff.md").as_str()
    );
    let written = workspace.read("plan.handoff.md");
    assert!(
        written.starts_with("---\nkind: handoff\ncontinues: plan.brief.md\nagent: w\n---\n\n# Handoff: plan.brief.md with @w\n\n## Key Decisions\n\n- Only apps with a free tier.\n"),
        "{written}"
    );
}

#[test]
fn cancelling_the_progress_cancels_the_handoff_and_keeps_what_arrived_in_the_journal() {
    cancel_while_writing("handoff-cancel", |editor, _, token| {
        editor
            .server
            .notify("window/workDoneProgress/cancel", json!({ "token": token }));
    });
}

#[test]
fn baton_cancel_cancels_the_documents_handoff_as_its_runs() {
    cancel_while_writing("handoff-cancel-command", |editor, id, _| {
        let uri = editor.doc.uri.clone();
        // Listed beside the runs, for an editor's "Cancel run" to offer.
        let runs = editor.execute(&json!({ "command": "baton.runs", "arguments": [] }));
        let handoff = json!({
            "run": id, "uri": uri, "brief": "Handoff", "agent": "w", "state": "streaming", "tokens": 13
        });
        assert_eq!(runs, json!({ "runs": [handoff] }));
        let arguments = json!([{ "uri": uri }]);
        let answer = editor.execute(&json!({ "command": "baton.cancel", "arguments": arguments }));
        assert_eq!(answer, json!({ "cancelled": [id] }));
    });
}

/// Hands off to an agent that writes one piece and falls silent, cancels with `cancel` (given
/// the handoff's id and progress token), and checks what is left: the run journalled as
/// cancelled with the piece, no handoff file, a message naming the run file.
fn cancel_while_writing(name: &str, cancel: impl Fn(&mut Editor, &str, &str)) {
    let runtime = runtime();
    let pause = Duration::from_millis(30);
    // One piece, then the agent falls silent, the connection open.
    let agent = runtime.block_on(Agent::start(vec![openai_paced(&PIECES[..1], pause, false)]));
    let workspace = workspace(name, &agent);
    let mut editor = open(&workspace);

    let answer = hand_off(&mut editor);
    let id = answer["handoff"].as_str().unwrap().to_owned();
    let token = format!("baton-handoff-{id}");
    editor.until("the first piece", |editor| {
        (progress(editor, &token).iter()).any(|v| v["message"] == "writing · 13 tokens")
    });
    cancel(&mut editor, &id, &token);
    let ended = wait_for_end(&mut editor, &token);
    assert_eq!(ended, "cancelled; no handoff was written");
    editor.until("the message", |editor| !editor.messages().is_empty());

    let runs = Journal::new(&workspace.root).runs();
    assert_eq!(runs.len(), 1);
    let run = Journal::new(&workspace.root).read(&runs[0].run_id).unwrap();
    assert_eq!(run.state, Some(Final::Cancelled));
    assert_eq!(run.text, PIECES[0]);
    assert_eq!(run.record.brief_title, "Handoff");
    let file = Journal::new(&workspace.root).file(&runs[0].run_id);
    assert_eq!(
        editor.messages(),
        [format!(
            "baton: the handoff to @w was cancelled; no handoff was written. What @w had written (13 tokens) is kept in the journal: {}",
            file.display()
        )]
    );
    assert!(!workspace.path("plan.handoff.md").exists());
    assert!(server_requests(&editor, "window/showDocument").is_empty());
    // Nothing is left to cancel.
    let nothing = editor.execute(&json!({ "command": "baton.cancel", "arguments": [{}] }));
    assert_eq!(nothing, json!({ "cancelled": [] }));
    let runs = editor.execute(&json!({ "command": "baton.runs", "arguments": [] }));
    assert_eq!(runs, json!({ "runs": [] }));
}

#[test]
fn a_client_that_shows_no_progress_gets_the_handoff_as_before() {
    let runtime = runtime();
    let pause = Duration::from_millis(10);
    let agent = runtime.block_on(Agent::start(vec![openai_paced(&PIECES, pause, true)]));
    let workspace = workspace("handoff-no-progress", &agent);
    let mut server = support::Server::spawn(&workspace.root);
    let root = support::file_uri(&workspace.root);
    server.request(
        "initialize",
        json!({
            "processId": null,
            "rootUri": root,
            "workspaceFolders": [{ "uri": root, "name": "ws" }],
            "capabilities": {},
            "initializationOptions": { "trustedWorkspace": true }
        }),
    );
    server.notify("initialized", json!({}));
    let doc = server.open(&workspace.uri("plan.brief.md"), BRIEFS);
    let params = json!({ "command": "baton.handoff", "arguments": [{ "uri": doc.uri }] });
    let answer = server.request("workspace/executeCommand", params);
    assert_eq!(answer["asks_agent"], true);

    let message = server.wait_for("the handoff's message", |m| {
        m["method"] == "window/showMessage"
    });
    let path = workspace.path("plan.handoff.md");
    assert_eq!(
        message["params"]["message"],
        format!("baton: handoff written to {}", path.display())
    );
    assert!(workspace.read("plan.handoff.md").contains("- None yet."));
    let requests = server.server_requests.lock().unwrap();
    assert!(
        !(requests.iter()).any(|r| r["method"] == "window/workDoneProgress/create"),
        "{requests:#?}"
    );
    drop(requests);
    while let Some(message) = server.next_message(Duration::from_millis(100)) {
        assert_ne!(message["method"], "$/progress", "{message:#}");
    }
}
