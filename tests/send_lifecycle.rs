//! A send's life around its stream, through the real binary over stdio (issue 13): a send
//! that cannot happen says why (in the action's title, and in a message when chosen, never a
//! bare protocol error); sending a brief again while its answer streams cancels and replaces
//! the first run; the code lens stays on the brief's heading while the user types above it;
//! the progress can be cancelled; a restarted server knows no run and offers the saved output.
//!
//! The test client acts as an editor that applies the server's versioned edits (refusing
//! those made for an older version) and reports them back; agents are loopback servers.

mod support;

#[allow(dead_code)]
#[path = "agents/server.rs"]
mod server;
#[allow(dead_code)]
#[path = "agents/streams.rs"]
mod streams;

use std::time::Duration;

use serde_json::{json, Value};

use server::{Server as Agent, Step};
use streams::{openai_ok, openai_paced};
use support::editor::Editor;
use support::to;
use support::{Spawn, Workspace};

const BRIEF: &str = "# Scan prices @writer\n\n## Objective\n\nFind the prices.\n\n## Context\n\nWe reprice.\n\n## Constraints\n\nPublic sources.\n\n## Expected Output\n\nA table.\n";

/// A runtime for the loopback agents, living as long as the test.
fn agents() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// A loopback agent playing `scripts`, one per request: the `baton.toml` naming it `writer`,
/// and the send action's title.
fn writer(runtime: &tokio::runtime::Runtime, scripts: Vec<Vec<Step>>) -> (String, String) {
    let url = runtime.block_on(Agent::start(scripts)).url;
    let config = format!("[agents.writer]\nprovider = \"openai\"\nmodel = \"m1\"\nbase_url = \"{url}/v1\"\nretries = 0\n");
    (
        config,
        format!("Send \"Scan prices\" to {}", to("writer", &url)),
    )
}

/// A stream of `pieces`, each after `pause`; `end`: whether it ends (else it falls silent).
fn slow_stream(pieces: &[String], pause: Duration, end: bool) -> Vec<Step> {
    openai_paced(pieces, pause, end)
}

/// Opens `a.brief.md` holding `text` in a server started with `env`.
fn open(workspace: &Workspace, text: &str, options: Value, env: &[(&str, &str)]) -> Editor {
    let spawn = Spawn {
        env: env
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect(),
        ..Spawn::default()
    };
    Editor::open_with(workspace, "a.brief.md", text, options, spawn)
}

/// The last state recorded in the journal for `run`, and the text it received.
fn journalled(workspace: &Workspace, run: &str) -> (Option<String>, String) {
    let file = workspace.read(&format!(".baton/runs/{run}.jsonl"));
    let events: Vec<Value> = file
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let state = events
        .iter()
        .find(|event| event["type"] == "end")
        .map(|event| event["state"].as_str().unwrap().to_owned());
    let text = events
        .iter()
        .filter(|event| event["type"] == "chunk")
        .map(|event| event["text"].as_str().unwrap())
        .collect();
    (state, text)
}

fn journal_files(workspace: &Workspace) -> usize {
    std::fs::read_dir(workspace.path(".baton/runs")).map_or(0, |entries| entries.count())
}

#[test]
fn a_send_that_cannot_happen_says_why_in_its_title_and_when_chosen() {
    let workspace = Workspace::new("lifecycle-refused");
    // In a workspace the user does not trust: a program agent needs trust; `keyed` sends a
    // key from a variable that is empty where the server runs; the brief names `ghost`, which
    // no configuration defines.
    workspace.write(
        "baton.toml",
        "[agents.keyed]\nprovider = \"openai\"\nmodel = \"m\"\napi_key_env = \"OPENAI_API_KEY\"\n\n\
         [agents.tool]\nprovider = \"command\"\ncommand = [\"cat\"]\n",
    );
    let text = BRIEF.replace("@writer", "@ghost");
    let options = json!({ "trustedWorkspace": false });
    let mut editor = open(&workspace, &text, options, &[("OPENAI_API_KEY", "")]);

    assert_eq!(
        editor.titles_at("Find the"),
        [
            "Send \"Scan prices\" to @ghost — unknown agent",
            "Send \"Scan prices\" to @keyed — OPENAI_API_KEY not set",
            "Send \"Scan prices\" to @tool — needs trust",
            "Preview payload for @keyed",
        ]
    );
    let lenses = editor.lenses();
    assert_eq!(lenses.len(), 1, "{lenses:#?}");
    assert_eq!(
        lenses[0]["command"]["title"],
        "▶ Send to @ghost — unknown agent"
    );

    let expected = [
        (
            "ghost",
            "unknown agent `ghost`: define [agents.ghost] in baton.toml",
        ),
        (
            "keyed",
            "`OPENAI_API_KEY`, which is not set in the environment baton runs in",
        ),
        ("tool", "is not trusted; trust the workspace"),
    ];
    for (agent, reason) in expected {
        let title = editor
            .titles_at("Find the")
            .into_iter()
            .find(|title| title.starts_with(&format!("Send \"Scan prices\" to @{agent} — ")))
            .unwrap();
        // Answered, not failed: editors show a failed command only as "Request failed".
        let result = editor.run_action("Find the", &title);
        assert_eq!(result, Value::Null, "{agent}");
        let shown = editor
            .server
            .wait_for("the refusal", |m| m["method"] == "window/showMessage");
        assert_eq!(shown["params"]["type"], 1, "an error: {shown}");
        let message = shown["params"]["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("baton: cannot send \"Scan prices\" to @{agent}: ")),
            "{message}"
        );
        assert!(message.contains(reason), "{agent}: {message}");
    }
    // The lens runs the same command, and is answered the same way.
    let result = editor.execute(&lenses[0]["command"]);
    assert_eq!(result, Value::Null);
    let shown = editor.server.wait_for("the lens's refusal", |m| {
        m["method"] == "window/showMessage"
    });
    assert!(shown["params"]["message"]
        .as_str()
        .unwrap()
        .contains("unknown agent `ghost`"));
    assert_eq!(journal_files(&workspace), 0, "nothing was sent");
    editor.server.shutdown();
}

#[test]
fn sending_again_while_the_answer_streams_cancels_and_replaces_the_first_run() {
    let runtime = agents();
    let pieces: Vec<String> = (1..=300).map(|i| format!("f{i} ")).collect();
    let first_stream = slow_stream(&pieces, Duration::from_millis(20), true);
    let (config, send) = writer(
        &runtime,
        vec![first_stream, openai_ok(&["Second ", "answer."])],
    );
    let workspace = Workspace::new("lifecycle-resend");
    workspace.write("baton.toml", &config);
    let mut editor = open(&workspace, BRIEF, json!({}), &[]);
    let first = editor.run_action("Find the", &send)["run"]
        .as_str()
        .unwrap()
        .to_owned();
    editor.until("the first run's text", |e| e.has("f3 "));

    // From the code lens this time: the same command.
    let lens = editor
        .lenses()
        .into_iter()
        .find(|lens| {
            lens["command"]["title"] == send.replace("Send \"Scan prices\" to", "▶ Send to")
        })
        .unwrap();
    let second = editor.execute(&lens["command"])["run"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(first, second);
    editor.until("both runs' ends", |e| {
        e.ended(&first).is_some() && e.ended(&second).is_some() && e.has("status=done")
    });

    assert_eq!(
        editor.ended(&first).unwrap(),
        format!("cancelled: sent again as run {second}")
    );
    assert_eq!(editor.ended(&second).unwrap(), "done");
    let block = editor.doc.text.find("\n## Output @writer").unwrap();
    assert_eq!(&editor.doc.text[..block], BRIEF, "the brief is untouched");
    let input = {
        let at = editor.doc.text.find(" input=").unwrap() + 7;
        editor.doc.text[at..at + 8].to_owned()
    };
    assert_eq!(
        &editor.doc.text[block..],
        format!(
            "\n## Output @writer\n<!-- baton:output run={second} agent=writer model=m1 input={input} status=done -->\nSecond answer.\n<!-- /baton:output run={second} -->\n"
        ),
        "one block, the second run's"
    );
    // The journal: the first run cancelled with what it had received, the second done.
    let (state, text) = journalled(&workspace, &first);
    assert_eq!(state.as_deref(), Some("cancelled"));
    assert!(text.starts_with("f1 f2 f3 ") && text.len() < pieces.concat().len());
    assert_eq!(journalled(&workspace, &second).0.as_deref(), Some("done"));
    // Nothing tells the user that they deleted a block, nor anything else.
    assert_eq!(editor.messages(), Vec::<String>::new());
    // And nothing is offered back: the cancelled run was replaced, not lost.
    let offered: Vec<String> = editor
        .titles_at("Find the")
        .into_iter()
        .filter(|title| title.starts_with("Insert saved output"))
        .collect();
    assert_eq!(offered, Vec::<String>::new());
}

#[test]
fn the_code_lens_stays_on_the_heading_while_lines_are_typed_above_it() {
    let runtime = agents();
    let pieces: Vec<String> = (1..=200).map(|i| format!("l{i} ")).collect();
    let (config, send) = writer(
        &runtime,
        vec![slow_stream(&pieces, Duration::from_millis(20), false)],
    );
    let workspace = Workspace::new("lifecycle-lens");
    workspace.write("baton.toml", &config);
    let mut editor = open(&workspace, BRIEF, json!({}), &[]);
    let run = editor.run_action("Find the", &send)["run"]
        .as_str()
        .unwrap()
        .to_owned();
    editor.until("the first text", |e| e.has("l2 "));
    for typed in 1..=3 {
        // A line typed at the very top, above the heading.
        editor.type_at(0, &format!("note {typed}\n"));
        editor.pump("edits while typing");
        let heading_line = editor.doc.text[..editor.doc.text.find("# Scan").unwrap()]
            .matches('\n')
            .count();
        assert_eq!(heading_line, typed);
        let lenses = editor.lenses();
        let titles: Vec<&str> = lenses
            .iter()
            .map(|lens| lens["command"]["title"].as_str().unwrap())
            .collect();
        assert_eq!(
            titles[0],
            send.replace("Send \"Scan prices\" to", "▶ Send to")
        );
        assert!(
            titles[1].starts_with("@writer · "),
            "the budget: {titles:?}"
        );
        assert!(titles[2].starts_with("● running"), "{titles:?}");
        for lens in &lenses {
            // On the heading's line, from its title: an edit at the line's start moves the
            // lens down with the heading in every editor.
            let range = &lens["range"];
            assert_eq!(
                range["start"],
                json!({ "line": heading_line, "character": 2 })
            );
            assert_eq!(
                range["end"],
                json!({ "line": heading_line, "character": 21 })
            );
        }
    }
    editor.server.notify(
        "window/workDoneProgress/cancel",
        json!({ "token": format!("baton-run-{run}") }),
    );
    editor.until("the run's end", |e| e.ended(&run).is_some());
}

#[test]
fn the_progress_is_cancellable_and_its_cancel_ends_the_run_as_cancelled() {
    let runtime = agents();
    let pieces = vec!["Half ".to_owned(), "an answer".to_owned()];
    let (config, send) = writer(
        &runtime,
        vec![slow_stream(&pieces, Duration::from_millis(10), false)],
    );
    let workspace = Workspace::new("lifecycle-cancel");
    workspace.write("baton.toml", &config);
    let mut editor = open(&workspace, BRIEF, json!({}), &[]);
    let run = editor.run_action("Find the", &send)["run"]
        .as_str()
        .unwrap()
        .to_owned();
    editor.until("the whole text so far", |e| e.has("Half an answer"));
    let progress = editor.progress(&run);
    assert_eq!(progress[0]["kind"], "begin");
    assert_eq!(progress[0]["cancellable"], true, "{progress:#?}");
    assert!(progress
        .iter()
        .filter(|value| value["kind"] == "report")
        .all(|value| value["cancellable"] == true));

    editor.server.notify(
        "window/workDoneProgress/cancel",
        json!({ "token": format!("baton-run-{run}") }),
    );
    editor.until("the cancelled marker", |e| {
        e.has("status=cancelled") && e.ended(&run).is_some()
    });
    assert_eq!(editor.ended(&run).unwrap(), "cancelled");
    assert!(
        editor.has(&format!(
            " status=cancelled -->\nHalf an answer\n<!-- /baton:output run={run} -->\n"
        )),
        "the block keeps what arrived: {}",
        editor.doc.text
    );
    assert_eq!(
        journalled(&workspace, &run),
        (Some("cancelled".to_owned()), "Half an answer".to_owned())
    );
    let runs = editor.execute(&json!({ "command": "baton.runs", "arguments": [] }));
    assert_eq!(runs, json!({ "runs": [] }));
    assert_eq!(editor.messages(), Vec::<String>::new());
}

#[test]
fn a_restarted_server_knows_no_run_and_offers_the_saved_output() {
    let runtime = agents();
    let pieces: Vec<String> = (1..=200).map(|i| format!("k{i} ")).collect();
    let (config, send) = writer(
        &runtime,
        vec![slow_stream(&pieces, Duration::from_millis(10), true)],
    );
    let workspace = Workspace::new("lifecycle-restart");
    workspace.write("baton.toml", &config);
    let mut editor = open(&workspace, BRIEF, json!({}), &[]);
    let run = editor.run_action("Find the", &send)["run"]
        .as_str()
        .unwrap()
        .to_owned();
    editor.until("some text", |e| e.has("k3 "));
    let runs = editor.execute(&json!({ "command": "baton.runs", "arguments": [] }));
    assert_eq!(runs["runs"][0]["run"], run.as_str());
    editor.server.kill();

    // The editor starts a new server and opens the document as it holds it: the block
    // half-written, still marked running.
    let text = editor.doc.text.clone();
    assert!(text.contains(" status=running -->"));
    let mut editor = editor.reopen(&workspace);
    let runs = editor.execute(&json!({ "command": "baton.runs", "arguments": [] }));
    assert_eq!(runs, json!({ "runs": [] }), "the new server runs nothing");
    editor.recover("Find the", &run);
    assert!(editor.has(" status=partial -->"));
    let (_, saved) = journalled(&workspace, &run);
    let body = format!(
        " status=partial -->\n{}\n<!-- /baton:output run={run} -->",
        saved.trim_end_matches('\n')
    );
    assert!(editor.has(&body), "{}", editor.doc.text);
    assert_eq!(editor.doc.text.matches("## Output @writer").count(), 1);
}

/// `text` with every run id (`run=ID`) the same, so two documents written by different runs
/// compare.
fn without_run_ids(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("run=") {
        out.push_str(&rest[..at + 4]);
        rest = &rest[at + 4..];
        let end = rest.find([' ', '-']).unwrap_or(rest.len());
        out.push_str("ID");
        rest = &rest[end..];
    }
    out + rest
}

#[test]
fn the_editor_and_baton_send_write_the_same_block() {
    let runtime = agents();
    // Headings of its own, a fence, CRLF, emoji, and a line break at the end.
    let pieces: Vec<String> = [
        "# Report\n\n",
        "## Summary\r\n\r\nPrices 🎉 rose.\n\n",
        "```md\n# not a heading\n```\n",
        "Done.\n",
    ]
    .map(str::to_owned)
    .to_vec();
    let stream = slow_stream(&pieces, Duration::from_millis(5), true);
    let (config, send) = writer(&runtime, vec![stream.clone(), stream]);

    let editor_side = Workspace::new("agree-editor");
    editor_side.write("baton.toml", &config);
    let mut editor = open(&editor_side, BRIEF, json!({}), &[]);
    let run = editor.run_action("Find the", &send)["run"]
        .as_str()
        .unwrap()
        .to_owned();
    editor.until("the run's end", |e| e.ended(&run).is_some());
    editor.until("the last edit", |e| e.has(" status=done -->"));

    let terminal_side = Workspace::new("agree-terminal");
    terminal_side.write("baton.toml", &config);
    terminal_side.write("a.brief.md", BRIEF);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_baton"))
        .arg("send")
        .arg(terminal_side.path("a.brief.md"))
        .current_dir(&terminal_side.root)
        .env(
            "BATON_CONFIG",
            terminal_side.path("no-such-user-config.toml"),
        )
        .env(
            "BATON_TRUST_FILE",
            terminal_side.path("no-such-trust-file.toml"),
        )
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("BATON_TRUST_WORKSPACE")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");

    let written = terminal_side.read("a.brief.md");
    // Headings demoted under `## Output`, but not in the fence; the rest as received.
    let body =
        "### Report\n\n#### Summary\r\n\r\nPrices 🎉 rose.\n\n```md\n# not a heading\n```\nDone.\n";
    assert!(
        without_run_ids(&written).contains(&format!("\n{body}\n<!-- /baton:output run=ID -->\n")),
        "the answer, demoted:\n{written}"
    );
    assert_eq!(without_run_ids(&editor.doc.text), without_run_ids(&written));
}
