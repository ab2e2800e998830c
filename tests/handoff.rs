//! Hand off and resume (DESIGN §6) through the real binary: `baton handoff` against a loopback
//! OpenAI-compatible agent that records what it is sent (the thread's turns, then the
//! request), the handoff file beside the document (linted clean, never overwritten, carrying
//! the earlier handoff's Key Decisions), `baton resume` and the editor's `baton.handoff` /
//! `baton.resume`, and the offline handoff baton writes from the journal.

mod support;

#[allow(dead_code)]
#[path = "agents/server.rs"]
mod server;
#[allow(dead_code)]
#[path = "agents/streams.rs"]
mod streams;

use std::path::Path;
use std::process::Output;
use std::time::{Duration, SystemTime};

use baton::dispatch::journal::{Final, Journal, RunRecord};
use baton::dispatch::thread::{Choice, ThreadKey, Threads, Turn};
use serde_json::{json, Value};
use server::Server;
use streams::openai_ok;
use support::to;
use support::{Spawn, Workspace};

const BRIEFS: &str = "# Compare note apps\n\n## Objective\n\nCompare three note-taking apps.\n\n# Write the recommendation\n\n## Objective\n\nRecommend one app.\n";

const ANSWER: &str = "## Key Decisions\n\n- Only apps with a free tier for five people.\n\n## Current State\n\nTwo of three apps are compared.\n\n## Next Steps\n\n1. Compare the third app.\n\n## Reasoning\n\nThe team gets no budget this year.\n\n## Open Questions\n\n- None yet.\n\n## Artifacts\n\n- plan.brief.md\n";

fn workspace(name: &str, url: &str) -> Workspace {
    let workspace = Workspace::new(name);
    workspace.write(
        "baton.toml",
        &format!(
            "[defaults]\nagent = \"w\"\n\n[agents.w]\nprovider = \"openai\"\nmodel = \"test-model\"\nbase_url = \"{url}\"\nretries = 0\n"
        ),
    );
    workspace.write("plan.brief.md", BRIEFS);
    workspace
}

async fn baton(workspace: &Workspace, args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(args)
        .current_dir(&workspace.root)
        .env("BATON_CONFIG", workspace.path("no-user-config.toml"))
        .env("BATON_TRUST_FILE", workspace.path("no-trust-file.toml"))
        .env("BATON_TRUST_WORKSPACE", "1")
        .env("NO_PROXY", "*")
        .env_remove("HTTPS_PROXY")
        .env_remove("HTTP_PROXY")
        .output()
        .await
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The key of the document's own thread with `w`, as baton names it.
fn key(workspace: &Workspace) -> ThreadKey {
    let path = workspace.path("plan.brief.md");
    ThreadKey::of(&path, &workspace.root, Choice::Own, "w").unwrap()
}

fn turn(run: &str, user: &str, assistant: &str) -> Turn {
    Turn {
        run: Some(run.to_owned()),
        user: user.to_owned(),
        assistant: Some(assistant.to_owned()),
    }
}

/// Two earlier exchanges of the thread.
fn seed_thread(workspace: &Workspace) {
    let threads = Threads::new(&workspace.root);
    let key = key(workspace);
    threads
        .append(&key, turn("r1", "First brief", "First answer"))
        .unwrap();
    threads
        .append(&key, turn("r2", "Second brief", "Second answer"))
        .unwrap();
}

fn roles_and_contents(request: &Value) -> Vec<(String, String)> {
    let messages = request["messages"].as_array().unwrap();
    (messages.iter())
        .map(|m| {
            (
                m["role"].as_str().unwrap().to_owned(),
                m["content"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handoff_sends_the_thread_and_is_saved_beside_the_document_never_overwriting() {
    let server = Server::start(vec![openai_ok(&[ANSWER])]).await;
    let workspace = workspace("online", &server.url);
    seed_thread(&workspace);

    let output = baton(
        &workspace,
        &["handoff", "plan.brief.md", "--brief", "Compare note apps"],
    )
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let first = workspace.path("plan.handoff.md");
    assert_eq!(text(&output.stdout).trim(), first.display().to_string());

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let messages = roles_and_contents(&requests[0].json());
    let expected_turns = [
        ("user", "First brief"),
        ("assistant", "First answer"),
        ("user", "Second brief"),
        ("assistant", "Second answer"),
    ];
    assert_eq!(messages.len(), 5, "{messages:#?}");
    for ((role, content), (want_role, want)) in messages.iter().zip(expected_turns) {
        assert_eq!((role.as_str(), content.as_str()), (want_role, want));
    }
    let (role, request) = &messages[4];
    assert_eq!(role, "user");
    for field in [
        "Key Decisions",
        "Current State",
        "Next Steps",
        "Reasoning",
        "Open Questions",
        "Artifacts",
    ] {
        assert!(request.contains(field), "{field} in {request}");
    }

    let written = workspace.read("plan.handoff.md");
    assert!(written.starts_with(
        "---\nkind: handoff\ncontinues: plan.brief.md\nagent: w\n---\n\n# Handoff: plan.brief.md with @w\n\n## Key Decisions\n"
    ), "{written}");
    let check = baton(&workspace, &["check", "plan.handoff.md"]).await;
    assert!(
        check.status.success(),
        "{}{}",
        text(&check.stdout),
        text(&check.stderr)
    );
    assert!(
        !text(&check.stdout).contains("warning"),
        "{}",
        text(&check.stdout)
    );
    // The run is journalled, as a run of the handoff file.
    let runs = Journal::new(&workspace.root).runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0].document.as_path(), runs[0].brief_title.as_str()),
        (first.as_path(), "Handoff")
    );

    // A second handoff takes the next name, and carries the first one's Key Decisions.
    let output = baton(&workspace, &["handoff", "plan.brief.md", "--agent", "w"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout).trim(),
        workspace.path("plan.handoff.2.md").display().to_string()
    );
    assert_eq!(workspace.read("plan.handoff.md"), written);
    let requests = server.requests();
    let request = requests[1].last_message();
    assert!(
        request.contains("- Only apps with a free tier for five people."),
        "{request}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_starts_a_new_thread_from_the_handoff_as_edited() {
    let server = Server::start(vec![openai_ok(&[ANSWER])]).await;
    let workspace = workspace("resume", &server.url);
    seed_thread(&workspace);
    let output = baton(
        &workspace,
        &["handoff", "plan.brief.md", "--brief", "Compare note apps"],
    )
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let edited = workspace
        .read("plan.handoff.md")
        .replace("- None yet.", "- Does the free tier allow exports?");
    workspace.write("plan.handoff.md", &edited);

    let output = baton(&workspace, &["resume", "plan.handoff.md"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let threads = Threads::new(&workspace.root);
    assert_eq!(
        text(&output.stdout).trim(),
        threads.file(&key(&workspace)).display().to_string()
    );
    let seed = Turn {
        run: None,
        user: edited.clone(),
        assistant: None,
    };
    assert_eq!(threads.turns(&key(&workspace)), vec![seed.clone()]);

    // The next send carries the handoff, as edited, as its first turn, then the brief; its
    // answer joins the new thread.
    let brief = [
        "send",
        "plan.brief.md",
        "--brief",
        "Write the recommendation",
    ];
    let output = baton(&workspace, &brief).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let requests = server.requests();
    let sent = roles_and_contents(&requests.last().unwrap().json());
    assert_eq!(sent[0], ("user".to_owned(), edited.clone()));
    assert_eq!(sent.len(), 2, "{sent:#?}");
    assert!(
        sent[1].1.starts_with("# Write the recommendation"),
        "{sent:#?}"
    );
    let turns = threads.turns(&key(&workspace));
    assert_eq!((turns.len(), &turns[0]), (2, &seed));
    assert_eq!(turns[1].assistant.as_deref(), Some(ANSWER));

    // A handoff cannot make baton read a document outside the workspace.
    workspace.write(
        "far.handoff.md",
        "---\nkind: handoff\ncontinues: ../../outside.brief.md\nagent: w\n---\n\n# Far\n",
    );
    let output = baton(&workspace, &["resume", "far.handoff.md"]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("which is outside this workspace"),
        "{}",
        text(&output.stderr)
    );

    // A hand-written handoff without `continues:` or `agent:` says what is missing.
    workspace.write(
        "mine.handoff.md",
        "---\nkind: handoff\n---\n\n# Mine\n\n## Key Decisions\n\n- a\n",
    );
    let output = baton(&workspace, &["resume", "mine.handoff.md"]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("names no agent: add `agent: NAME`"),
        "{}",
        text(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_agent_leaves_a_handoff_written_from_the_journal() {
    // Nothing listens there: the agent cannot be reached.
    let workspace = workspace("unreachable", "http://127.0.0.1:9");
    seed_thread(&workspace);
    let output = baton(&workspace, &["handoff", "plan.brief.md", "--agent", "w"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("written by baton from the journal"),
        "{}",
        text(&output.stderr)
    );
    let written = workspace.read("plan.handoff.md");
    assert!(
        written.contains("## Next Steps\n\n- Send \"Compare note apps\""),
        "{written}"
    );
}

/// Writes a finished run of `brief` with `answer` into the journal.
fn journal_run(workspace: &Workspace, run: &str, brief: &str, answer: &str, state: Final, at: u64) {
    let record = RunRecord {
        run_id: run.to_owned(),
        document: workspace.path("plan.brief.md"),
        brief_title: brief.to_owned(),
        agent: "w".to_owned(),
        model: "test-model".to_owned(),
        provider: "openai".to_owned(),
        input_hash: String::new(),
        payload: "{}".to_owned(),
        started_at: SystemTime::UNIX_EPOCH + Duration::from_secs(at),
    };
    let mut writer = Journal::new(&workspace.root).start(record).unwrap();
    writer.append(answer).unwrap();
    writer.finish(state).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_offline_handoff_holds_every_run_and_open_brief_and_is_deterministic() {
    let workspace = workspace("offline", "http://127.0.0.1:9");
    workspace.write(
        "plan.brief.md",
        &format!("{BRIEFS}\n# Check the prices\n\n## Objective\n\nCheck them.\n"),
    );
    // Five decisions and constraints across three runs of the thread.
    let runs = [
        (
            "20260101-aaaa",
            "Compare note apps",
            "Decision: free tiers only.\nConstraint: five users.\n",
            Final::Done,
        ),
        (
            "20260102-bbbb",
            "Compare note apps",
            "Decision: drop Evernote.\nConstraint: EU hosting.\n",
            Final::Done,
        ),
        (
            "20260103-cccc",
            "Check the prices",
            "Decision: prices in EUR.\n",
            Final::Failed {
                reason: "HTTP 500".to_owned(),
            },
        ),
    ];
    let threads = Threads::new(&workspace.root);
    for (at, (run, brief, answer, state)) in runs.iter().enumerate() {
        journal_run(
            &workspace,
            run,
            brief,
            answer,
            state.clone(),
            1_000 + at as u64,
        );
        threads
            .append(&key(&workspace), turn(run, brief, answer))
            .unwrap();
    }
    // A file the user keeps at the first name is never overwritten.
    workspace.write("plan.handoff.md", "mine\n");

    let first = baton(
        &workspace,
        &["handoff", "plan.brief.md", "--agent", "w", "--offline"],
    )
    .await;
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert_eq!(
        text(&first.stdout).trim(),
        workspace.path("plan.handoff.2.md").display().to_string()
    );
    let second = baton(
        &workspace,
        &["handoff", "plan.brief.md", "--agent", "w", "--offline"],
    )
    .await;
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert_eq!(workspace.read("plan.handoff.md"), "mine\n");
    let written = workspace.read("plan.handoff.2.md");
    assert_eq!(
        workspace.read("plan.handoff.3.md"),
        written,
        "the same journal gives the same bytes"
    );

    for (run, brief, answer, _) in &runs {
        assert!(
            written.contains(&format!("### Run {run}: \"{brief}\"")),
            "{run} in {written}"
        );
        for line in answer.lines() {
            assert!(
                written.contains(&format!("> {line}\n")),
                "{line} in {written}"
            );
        }
    }
    assert!(written.contains("(failed: HTTP 500)"), "{written}");
    assert!(written.contains("3 runs: 2 done, 1 failed."), "{written}");
    let next = written.split("## Next Steps").nth(1).unwrap();
    assert!(next.contains("Send \"Write the recommendation\""), "{next}");
    assert!(next.contains("Send \"Check the prices\""), "{next}");
    assert!(!next.contains("Send \"Compare note apps\""), "{next}");
    // Key Decisions and Reasoning are left for the user: the lint says so.
    let check = baton(&workspace, &["check", "plan.handoff.2.md"]).await;
    let findings = text(&check.stdout);
    assert!(findings.contains("empty-field"), "{findings}");
}

#[test]
fn the_editor_hands_off_opens_the_file_and_resumes_from_it_unsaved() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(Server::start(vec![openai_ok(&[ANSWER])]));
    let workspace = workspace("editor", &server.url);
    let spawn = Spawn {
        env: vec![("BATON_TRUST_WORKSPACE".to_owned(), "1".to_owned())],
        ..Spawn::default()
    };
    let (mut lsp, _) = support::Server::spawn_with(&workspace.root, spawn).initialize(
        &workspace,
        &["utf-16"],
        json!({}),
    );
    let doc = lsp.open(&workspace.uri("plan.brief.md"), BRIEFS);
    // "Hand off" is offered once the brief's thread has turns.
    let titles = action_titles(&mut lsp, &doc.uri, 0);
    assert!(
        !titles.iter().any(|title| title.starts_with("Hand off")),
        "{titles:?}"
    );
    seed_thread(&workspace);
    let titles = action_titles(&mut lsp, &doc.uri, 0);
    assert!(
        titles.contains(&format!(
            "Hand off to a new thread with {}",
            to("w", &server.url)
        )),
        "{titles:?}"
    );

    let answer = execute(
        &mut lsp,
        "baton.handoff",
        json!({ "uri": doc.uri, "brief": "Compare note apps" }),
    );
    assert_eq!(
        (answer["agent"].as_str(), answer["asks_agent"].as_bool()),
        (Some("w"), Some(true))
    );
    assert!(answer["handoff"].is_string(), "{answer}");
    let shown = lsp.wait_for_server_request("window/showDocument");
    let handoff_uri = workspace.uri("plan.handoff.md");
    assert_eq!(shown["params"]["uri"], handoff_uri.as_str());
    assert_eq!(roles_and_contents(&server.requests()[0].json()).len(), 5);

    // The user edits the handoff (unsaved) and resumes from it.
    let edited = workspace
        .read("plan.handoff.md")
        .replace("- None yet.", "- Exports?");
    lsp.open(&handoff_uri, &edited);
    let titles = action_titles(&mut lsp, &handoff_uri, 8);
    assert!(
        titles.contains(&"Resume from handoff with @w".to_owned()),
        "{titles:?}"
    );
    let resumed = execute(&mut lsp, "baton.resume", json!({ "uri": handoff_uri }));
    assert_eq!(resumed["agent"], "w");
    let turns = Threads::new(&workspace.root).turns(&key(&workspace));
    assert_eq!(
        turns,
        vec![Turn {
            run: None,
            user: edited,
            assistant: None
        }]
    );
    assert!(Path::new(resumed["thread"].as_str().unwrap()).is_file());
}

fn action_titles(lsp: &mut support::Server, uri: &str, line: u32) -> Vec<String> {
    let at = json!({ "line": line, "character": 0 });
    let params = json!({ "textDocument": { "uri": uri }, "range": { "start": at, "end": at }, "context": { "diagnostics": [] } });
    let actions = lsp.request("textDocument/codeAction", params);
    (actions.as_array().unwrap().iter())
        .map(|action| action["title"].as_str().unwrap().to_owned())
        .collect()
}

fn execute(lsp: &mut support::Server, command: &str, argument: Value) -> Value {
    let params = json!({ "command": command, "arguments": [argument] });
    lsp.request("workspace/executeCommand", params)
}
