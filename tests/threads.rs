//! Threads (DESIGN §6) through the real binary: each run is sent with the earlier turns of its
//! thread, in each provider's own format, and a run that ends done joins it. `thread: none`
//! sends none, `thread: NAME` shares one thread between documents, a fallback agent's answer
//! joins its own thread, and "Start a new thread" in the editor forgets the turns. The agents
//! are loopback servers (tests/agents/) that record every request.

mod support;

#[allow(dead_code)]
#[path = "agents/server.rs"]
mod server;
#[allow(dead_code)]
#[path = "agents/streams.rs"]
mod streams;

use serde_json::{json, Value};

use server::{stream, Recorded, Server as Agent, Step};
use streams::{
    anthropic_delta, anthropic_end, anthropic_start, ollama_done, ollama_line, openai_ok, NDJSON,
    SSE,
};
use support::editor::Editor;
use support::to;
use support::{baton, Workspace};

/// A runtime for the loopback agents, on its own thread, living as long as the test.
fn agents() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

const BRIEF: &str = "# Scan prices @writer\n\n## Objective\n\nFind the prices.\n\n## Context\n\nWe reprice.\n\n## Constraints\n\nPublic sources.\n\n## Expected Output\n\nA table.\n";

const ROLE: &str = "Be terse.";

/// `[agents.writer]` of `provider` at `url`, with a role (the system prompt).
fn config(provider: &str, url: &str) -> String {
    format!(
        "[agents.writer]\nprovider = \"{provider}\"\nmodel = \"m1\"\nbase_url = \"{url}\"\nrole = \"{ROLE}\"\nretries = 0\n"
    )
}

/// `baton send FILE` in the workspace, which must succeed.
fn send(workspace: &Workspace, file: &str) {
    let output = baton(&workspace.root, &["send", file]);
    assert!(
        output.status.success(),
        "baton send {file} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn message(role: &str, content: &str) -> Value {
    json!({ "role": role, "content": content })
}

fn messages(request: &Recorded) -> Vec<Value> {
    request.json()["messages"].as_array().unwrap().clone()
}

/// The content of the request's last message: the payload of the brief it sends.
fn payload(request: &Recorded) -> String {
    let messages = messages(request);
    let last = messages.last().expect("a message");
    last["content"].as_str().unwrap().to_owned()
}

/// The lines of the thread files under `.baton/threads/`, by file name.
fn thread_files(workspace: &Workspace) -> Vec<(String, usize)> {
    let Ok(entries) = std::fs::read_dir(workspace.path(".baton/threads")) else {
        return Vec::new();
    };
    let mut files: Vec<(String, usize)> = entries
        .flatten()
        .map(|entry| {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            (
                entry.file_name().into_string().unwrap(),
                text.lines().count(),
            )
        })
        .collect();
    files.sort();
    files
}

fn openai_answers() -> Vec<Vec<Step>> {
    vec![openai_ok(&["Answer ", "one."]), openai_ok(&["Answer two."])]
}

#[test]
fn openai_gets_the_earlier_turns_as_messages_after_the_system_prompt() {
    let runtime = agents();
    let agent = runtime.block_on(Agent::start(openai_answers()));
    let workspace = Workspace::new("threads-openai");
    workspace.write(
        "baton.toml",
        &config("openai", &format!("{}/v1", agent.url)),
    );
    workspace.write("a.brief.md", BRIEF);

    send(&workspace, "a.brief.md");
    send(&workspace, "a.brief.md");

    let requests = agent.requests();
    assert_eq!(requests.len(), 2);
    let sent = payload(&requests[0]);
    assert!(sent.contains("Find the prices."), "{sent}");
    assert_eq!(
        messages(&requests[0]),
        [message("system", ROLE), message("user", &sent)]
    );
    // The answer in the document is no part of the brief: the same payload, after the turn.
    assert_eq!(
        messages(&requests[1]),
        [
            message("system", ROLE),
            message("user", &sent),
            message("assistant", "Answer one."),
            message("user", &sent),
        ]
    );
    let files = thread_files(&workspace);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].0.ends_with(".writer.jsonl"), "{files:?}");
    assert_eq!(files[0].1, 2, "one turn per done run");
}

#[test]
fn anthropic_gets_alternating_turns_with_the_system_prompt_apart() {
    let runtime = agents();
    let answer = |text: &str| {
        let mut events = anthropic_start();
        events.push(anthropic_delta(text));
        events.extend(anthropic_end());
        stream(SSE, &events)
    };
    let agent = runtime.block_on(Agent::start(vec![
        answer("Answer one."),
        answer("Answer two."),
    ]));
    let workspace = Workspace::new("threads-anthropic");
    workspace.write("baton.toml", &config("anthropic", &agent.url));
    workspace.write("a.brief.md", BRIEF);

    send(&workspace, "a.brief.md");
    send(&workspace, "a.brief.md");

    let requests = agent.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].path, "/v1/messages");
    let sent = payload(&requests[0]);
    let body = requests[1].json();
    assert_eq!(body["system"], ROLE);
    assert_eq!(
        messages(&requests[1]),
        [
            message("user", &sent),
            message("assistant", "Answer one."),
            message("user", &sent),
        ]
    );
}

#[test]
fn ollama_gets_the_earlier_turns_as_messages_after_the_system_prompt() {
    let runtime = agents();
    let answer = |text: &str| stream(NDJSON, &[ollama_line(text), ollama_done()]);
    let agent = runtime.block_on(Agent::start(vec![
        answer("Answer one."),
        answer("Answer two."),
    ]));
    let workspace = Workspace::new("threads-ollama");
    workspace.write("baton.toml", &config("ollama", &agent.url));
    workspace.write("a.brief.md", BRIEF);

    send(&workspace, "a.brief.md");
    send(&workspace, "a.brief.md");

    let requests = agent.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].path, "/api/chat");
    let sent = payload(&requests[0]);
    assert_eq!(
        messages(&requests[1]),
        [
            message("system", ROLE),
            message("user", &sent),
            message("assistant", "Answer one."),
            message("user", &sent),
        ]
    );
}

#[test]
fn thread_none_sends_no_earlier_turns_and_keeps_none() {
    let runtime = agents();
    let agent = runtime.block_on(Agent::start(openai_answers()));
    let workspace = Workspace::new("threads-none");
    workspace.write(
        "baton.toml",
        &config("openai", &format!("{}/v1", agent.url)),
    );
    workspace.write("a.brief.md", &format!("---\nthread: none\n---\n\n{BRIEF}"));

    send(&workspace, "a.brief.md");
    send(&workspace, "a.brief.md");

    let requests = agent.requests();
    assert_eq!(requests.len(), 2);
    let sent = payload(&requests[1]);
    assert_eq!(
        messages(&requests[1]),
        [message("system", ROLE), message("user", &sent)]
    );
    assert_eq!(thread_files(&workspace), []);
}

#[test]
fn a_named_thread_is_shared_by_the_documents_that_name_it() {
    let runtime = agents();
    let agent = runtime.block_on(Agent::start(vec![
        openai_ok(&["Answer one."]),
        openai_ok(&["Answer two."]),
        openai_ok(&["Answer three."]),
    ]));
    let workspace = Workspace::new("threads-named");
    workspace.write(
        "baton.toml",
        &config("openai", &format!("{}/v1", agent.url)),
    );
    let named = "---\nthread: launch\n---\n\n";
    workspace.write("a.brief.md", &format!("{named}{BRIEF}"));
    let other = BRIEF.replace("Find the prices.", "Find the rivals.");
    workspace.write("b.brief.md", &format!("{named}{other}"));
    // Not in the thread: a document's own thread is its own.
    workspace.write("c.brief.md", BRIEF);

    send(&workspace, "a.brief.md");
    send(&workspace, "b.brief.md");
    send(&workspace, "c.brief.md");

    let requests = agent.requests();
    assert_eq!(requests.len(), 3);
    let (first, second) = (payload(&requests[0]), payload(&requests[1]));
    assert!(second.contains("Find the rivals."), "{second}");
    assert_eq!(
        messages(&requests[1]),
        [
            message("system", ROLE),
            message("user", &first),
            message("assistant", "Answer one."),
            message("user", &second),
        ]
    );
    assert_eq!(
        messages(&requests[2]).len(),
        2,
        "c.brief.md has a thread of its own"
    );
    let files = thread_files(&workspace);
    let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    assert!(names.contains(&"thread-launch.writer.jsonl"), "{names:?}");
    assert_eq!(files.len(), 2, "{files:?}");
}

#[test]
fn a_fallback_agents_answer_joins_its_own_thread() {
    let runtime = agents();
    let agent = runtime.block_on(Agent::start(openai_answers()));
    let workspace = Workspace::new("threads-fallback");
    // Nothing listens on port 9 of the loopback: `first` cannot be reached.
    workspace.write(
        "baton.toml",
        &format!(
            "[agents.first]\nprovider = \"openai\"\nmodel = \"m0\"\nbase_url = \"http://127.0.0.1:9/v1\"\nretries = 0\nfallback = [\"writer\"]\n\n{}",
            config("openai", &format!("{}/v1", agent.url))
        ),
    );
    workspace.write("a.brief.md", &BRIEF.replace("@writer", "@first"));

    send(&workspace, "a.brief.md");
    send(&workspace, "a.brief.md");

    let requests = agent.requests();
    assert_eq!(requests.len(), 2);
    let sent = payload(&requests[0]);
    assert_eq!(
        messages(&requests[1]),
        [
            message("system", ROLE),
            message("user", &sent),
            message("assistant", "Answer one."),
            message("user", &sent),
        ]
    );
    let files = thread_files(&workspace);
    assert_eq!(
        files.len(),
        1,
        "only the agent that answered has a thread: {files:?}"
    );
    assert!(files[0].0.ends_with(".writer.jsonl"), "{files:?}");
}

#[test]
fn the_editor_previews_the_thread_and_starts_a_new_one() {
    let runtime = agents();
    let agent = runtime.block_on(Agent::start(openai_answers()));
    let workspace = Workspace::new("threads-editor");
    workspace.write(
        "baton.toml",
        &config("openai", &format!("{}/v1", agent.url)),
    );
    let mut editor = Editor::open(&workspace, "a.brief.md", BRIEF, json!({}));
    let new_thread = "Start a new thread with @writer";
    assert!(!editor
        .titles_at("Find the")
        .contains(&new_thread.to_owned()));

    editor.run_action(
        "Find the",
        format!("Send \"Scan prices\" to {}", to("writer", &agent.url)),
    );
    editor.until("the first answer", |e| e.has("status=done"));
    let sent = payload(&agent.requests()[0]);

    // The preview shows the thread, labelled, before the brief.
    let preview = editor.run_action(
        "Find the",
        format!("Preview payload for {}", to("writer", &agent.url)),
    );
    let uri = preview["uri"].as_str().unwrap();
    let path = uri.strip_prefix("file://").unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    let expected = format!(
        "## Earlier in the thread (user)\n\n{}\n## Earlier in the thread (assistant)\n\nAnswer one.\n## Message (user)\n\n{}\n",
        sent.trim_end(),
        sent.trim_end()
    );
    assert!(text.ends_with(&expected), "{text}");
    assert!(
        text.contains("the first 2 messages are the earlier turns"),
        "{text}"
    );
    // It names the host the text would go to, not the provider's own.
    let host = to("writer", &agent.url).replace("@writer · ", "");
    assert!(
        text.starts_with(&format!(
            "<!-- baton: the payload for @writer (m1), exactly as it would be sent to {host}. Nothing was sent. -->"
        )),
        "{text}"
    );

    let forgot = editor.run_action("Find the", new_thread);
    assert_eq!(forgot, json!({ "forgotten": 1 }));
    assert!(!editor
        .titles_at("Find the")
        .contains(&new_thread.to_owned()));

    editor.run_action(
        "Find the",
        format!("Send \"Scan prices\" to {}", to("writer", &agent.url)),
    );
    editor.until("the second answer", |e| e.has("Answer two."));
    let requests = agent.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        messages(&requests[1]),
        [
            message("system", ROLE),
            message("user", &payload(&requests[1]))
        ]
    );
}

#[test]
fn baton_run_carries_on_the_thread_baton_send_began() {
    let runtime = agents();
    let agent = runtime.block_on(Agent::start(openai_answers()));
    let workspace = Workspace::new("threads-run");
    workspace.write(
        "baton.toml",
        &config("openai", &format!("{}/v1", agent.url)),
    );
    workspace.write("a.brief.md", BRIEF);

    send(&workspace, "a.brief.md");
    let output = baton(&workspace.root, &["run", "a.brief.md", "--force"]);
    assert!(
        output.status.success(),
        "baton run failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let requests = agent.requests();
    assert_eq!(requests.len(), 2);
    let sent = payload(&requests[0]);
    assert_eq!(
        messages(&requests[1]),
        [
            message("system", ROLE),
            message("user", &sent),
            message("assistant", "Answer one."),
            message("user", &sent),
        ]
    );
    assert_eq!(
        thread_files(&workspace)[0].1,
        2,
        "the pipeline's run joined it"
    );
}
