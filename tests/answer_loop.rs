//! The loop a user lives in, with answers as real agents write them (issue 12): write a brief,
//! send it, read the answer, lint, edit the brief, send again; in the editor and in the
//! terminal, and through recovery after the server is killed mid-stream. The agent's answer
//! starts with `# Report`, has a `## Summary` that mentions an agent, a link, a fenced closing
//! marker, a bare closing marker, CRLF and emoji: none of it may become part of the brief. Each
//! test asserts the whole document, the symbols and the diagnostics, and that `baton check`
//! agrees with the editor.

mod support;

#[allow(dead_code)]
#[path = "agents/server.rs"]
mod server;
#[allow(dead_code)]
#[path = "agents/streams.rs"]
mod streams;

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use server::{Server as Agent, Step};
use streams::openai_paced;
use support::editor::Editor;
use support::Workspace;

const BRIEF: &str = "# Scan prices @writer\n\n## Objective\n\nFind the prices.\n\n## Context\n\nWe reprice.\n\n## Constraints\n\nPublic sources.\n\n## Expected Output\n\nA table.\n";

/// The first answer, in the pieces it streams in.
const REPORT: [&str; 4] = [
    "# Report\r\n\r\nPrices rose 🎉 for [[Other brief]].\r\n\r\n",
    "## Summary for @ghost\n\n```html\n<!-- /baton:output -->\n",
    "```\n\n<!-- /baton:",
    "output -->\nDone.",
];
/// The first answer as the document holds it: headings demoted, the bare closing marker
/// escaped, the fenced one left alone, CRLF and emoji as they came.
const REPORT_WRITTEN: &str = "### Report\r\n\r\nPrices rose 🎉 for [[Other brief]].\r\n\r\n#### Summary for @ghost\n\n```html\n<!-- /baton:output -->\n```\n\n<!-- \\/baton:output -->\nDone.";
/// The second answer, and as the document holds it.
const SECOND: &str = "# Second look\n\nPrices fell 📉.\n";
const SECOND_WRITTEN: &str = "### Second look\n\nPrices fell 📉.\n";

/// The symbols a user sees for the answered brief: the block is one child of its brief.
const SYMBOLS: &str = "Scan prices\n  Objective\n  Context\n  Constraints\n  Expected Output\n  Output @writer · done\n";

fn agents() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// An OpenAI stream of `pieces`, 20 ms apart; `end`: whether it ends (else it falls silent).
fn stream(pieces: &[&str], end: bool) -> Vec<Step> {
    openai_paced(pieces, Duration::from_millis(20), end)
}

/// A workspace whose `writer` is a loopback agent playing `scripts`, one per request.
fn workspace(name: &str, runtime: &tokio::runtime::Runtime, scripts: Vec<Vec<Step>>) -> Workspace {
    let url = runtime.block_on(Agent::start(scripts)).url;
    let workspace = Workspace::new(name);
    workspace.write(
        "baton.toml",
        &format!("[agents.writer]\nprovider = \"openai\"\nmodel = \"m1\"\nbase_url = \"{url}/v1\"\nretries = 0\n"),
    );
    workspace
}

/// `BRIEF` (as `brief`) answered by `run` with `body`, as baton writes it.
fn answered(brief: &str, run: &str, input: &str, status: &str, body: &str) -> String {
    format!(
        "{brief}\n## Output @writer\n<!-- baton:output run={run} agent=writer model=m1 input={input} status={status} -->\n{body}\n<!-- /baton:output run={run} -->\n"
    )
}

/// The `input` hash of the document's one marker.
fn input_hash(text: &str) -> String {
    let at = text.find(" input=").expect("a marker") + 7;
    text[at..at + 8].to_owned()
}

/// The run id of the document's one marker.
fn run_id(text: &str) -> String {
    let at = text.find("baton:output run=").expect("a marker") + 17;
    text[at..].split(' ').next().unwrap().to_owned()
}

/// `baton ARGS` in the workspace, with no user configuration or trust of its own.
fn baton(workspace: &Workspace, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(args)
        .current_dir(&workspace.root)
        .env("BATON_CONFIG", workspace.path("no-such-user-config.toml"))
        .env(
            "BATON_TRUST_FILE",
            workspace.path("no-such-trust-file.toml"),
        )
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("BATON_TRUST_WORKSPACE")
        .env("NO_PROXY", "*")
        .output()
        .unwrap();
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    (
        output.status.code().unwrap_or(-1),
        text(output.stdout),
        text(output.stderr),
    )
}

/// `baton check a.brief.md`'s findings, as `code line` pairs.
fn check(workspace: &Workspace) -> Vec<String> {
    let (_, stdout, stderr) = baton(workspace, &["check", "a.brief.md", "--format", "json"]);
    let findings: Vec<Value> = serde_json::from_str(&stdout).unwrap_or_else(|_| panic!("{stderr}"));
    findings
        .iter()
        .map(|finding| format!("{} {}", finding["code"].as_str().unwrap(), finding["line"]))
        .collect()
}

/// The editor's diagnostics for the document as it is now, as `code line` pairs (1-based).
fn diagnostics(editor: &mut Editor) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let published = editor.seen.iter().rev().find(|m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == editor.doc.uri.as_str()
                && m["params"]["version"].as_i64() == Some(editor.doc.version)
        });
        if let Some(published) = published {
            let list = published["params"]["diagnostics"].as_array().unwrap();
            return list
                .iter()
                .map(|d| {
                    format!(
                        "{} {}",
                        d["code"].as_str().unwrap(),
                        d["range"]["start"]["line"].as_u64().unwrap() + 1
                    )
                })
                .collect();
        }
        assert!(
            Instant::now() < deadline,
            "no diagnostics for v{}",
            editor.doc.version
        );
        editor.pump("diagnostics");
    }
}

/// The document's symbols, one per line, indented by depth.
fn symbols(editor: &mut Editor) -> String {
    fn walk(symbols: &[Value], depth: usize, out: &mut String) {
        for symbol in symbols {
            out.push_str(&format!(
                "{}{}\n",
                "  ".repeat(depth),
                symbol["name"].as_str().unwrap()
            ));
            if let Some(children) = symbol["children"].as_array() {
                walk(children, depth + 1, out);
            }
        }
    }
    let params = json!({ "textDocument": { "uri": editor.doc.uri } });
    let symbols = editor.server.request("textDocument/documentSymbol", params);
    let mut out = String::new();
    walk(symbols.as_array().unwrap(), 0, &mut out);
    out
}

/// The title of the action sending the brief to its own agent (which names the loopback host).
fn own_send(editor: &mut Editor) -> String {
    let titles = editor.titles_at("Find the");
    let own = titles
        .iter()
        .find(|title| title.starts_with("Send \"Scan prices\" to @writer"));
    own.unwrap_or_else(|| panic!("{titles:?}")).clone()
}

/// Sends the brief as the user does, and waits for the answer to be written whole.
fn send(editor: &mut Editor) -> String {
    let title = own_send(editor);
    let result = editor.run_action("Find the", title);
    let run = result["run"].as_str().unwrap().to_owned();
    editor.until("the run's end", |e| e.ended(&run).is_some());
    editor.until("the finished block", |e| e.has(" status=done -->"));
    run
}

#[test]
fn an_answer_with_headings_and_markers_stays_the_agents_in_the_editor() {
    let runtime = agents();
    let workspace = workspace(
        "loop-editor",
        &runtime,
        vec![stream(&REPORT, true), stream(&[SECOND], true)],
    );
    let mut editor = Editor::open(&workspace, "a.brief.md", BRIEF, json!({}));
    let first = send(&mut editor);
    let input = input_hash(&editor.doc.text);
    assert_eq!(
        editor.doc.text,
        answered(BRIEF, &first, &input, "done", REPORT_WRITTEN)
    );
    assert_eq!(symbols(&mut editor), SYMBOLS);
    assert_eq!(diagnostics(&mut editor), Vec::<String>::new());
    // The terminal reads the saved document as the editor does.
    workspace.write("a.brief.md", &editor.doc.text);
    assert_eq!(check(&workspace), Vec::<String>::new());

    // One character typed into the brief: its answer is stale, here and in the terminal.
    let at = editor.doc.text.find("Find the prices.").unwrap() + 16;
    editor.type_at(at, "!");
    let stale = vec!["stale-output 19".to_owned()];
    assert_eq!(diagnostics(&mut editor), stale);
    workspace.write("a.brief.md", &editor.doc.text);
    assert_eq!(check(&workspace), stale);

    // Sent again: the block is replaced, and nothing is stale.
    let second = send(&mut editor);
    assert_ne!(first, second);
    let edited = BRIEF.replace("prices.", "prices.!");
    let input = input_hash(&editor.doc.text);
    assert_eq!(
        editor.doc.text,
        answered(&edited, &second, &input, "done", SECOND_WRITTEN)
    );
    assert_eq!(symbols(&mut editor), SYMBOLS);
    assert_eq!(diagnostics(&mut editor), Vec::<String>::new());
    workspace.write("a.brief.md", &editor.doc.text);
    assert_eq!(check(&workspace), Vec::<String>::new());
}

#[test]
fn an_answer_with_headings_and_markers_stays_the_agents_in_the_terminal() {
    let runtime = agents();
    let workspace = workspace(
        "loop-terminal",
        &runtime,
        vec![stream(&REPORT, true), stream(&[SECOND], true)],
    );
    workspace.write("a.brief.md", BRIEF);
    let (code, _, stderr) = baton(&workspace, &["send", "a.brief.md"]);
    assert_eq!(code, 0, "{stderr}");
    let text = workspace.read("a.brief.md");
    let first = run_id(&text);
    assert_eq!(
        text,
        answered(BRIEF, &first, &input_hash(&text), "done", REPORT_WRITTEN)
    );
    assert_eq!(check(&workspace), Vec::<String>::new());

    let edited = BRIEF.replace("prices.", "prices.!");
    workspace.write("a.brief.md", &text.replace("prices.", "prices.!"));
    assert_eq!(check(&workspace), ["stale-output 19"]);

    let (code, _, stderr) = baton(&workspace, &["send", "a.brief.md"]);
    assert_eq!(code, 0, "{stderr}");
    // The progress names where the text goes (a loopback server, not the provider's own
    // endpoint), and ends with the tokens received, estimated as the editor's progress does.
    assert!(
        stderr.contains("writer: sending to writer (m1) at 127.0.0.1:"),
        "{stderr}"
    );
    let tokens = SECOND.len().div_ceil(4);
    assert!(
        stderr.contains(&format!("\nwriter: {tokens} tokens\n")),
        "{stderr}"
    );
    let text = workspace.read("a.brief.md");
    let second = run_id(&text);
    assert_ne!(first, second);
    assert_eq!(
        text,
        answered(&edited, &second, &input_hash(&text), "done", SECOND_WRITTEN)
    );
    assert_eq!(check(&workspace), Vec::<String>::new());
}

#[test]
fn an_answer_cut_short_by_a_killed_server_comes_back_prepared_the_same_way() {
    let runtime = agents();
    // The agent falls silent inside the fence; the server is killed there.
    let workspace = workspace("loop-recover", &runtime, vec![stream(&REPORT[..2], false)]);
    let mut editor = Editor::open(&workspace, "a.brief.md", BRIEF, json!({}));
    let title = own_send(&mut editor);
    let result = editor.run_action("Find the", title);
    let run = result["run"].as_str().unwrap().to_owned();
    editor.until("the summary", |e| {
        e.has("#### Summary for @ghost\n\n```html\n")
    });
    editor.server.kill();
    workspace.write("a.brief.md", &editor.doc.text);

    let mut editor = editor.reopen(&workspace);
    editor.recover("Find the", &run);
    // What the journal kept, demoted and escaped as a run writes it, the open fence closed.
    let body = "### Report\r\n\r\nPrices rose 🎉 for [[Other brief]].\r\n\r\n#### Summary for @ghost\n\n```html\n<!-- /baton:output -->\n```";
    let input = input_hash(&editor.doc.text);
    assert_eq!(
        editor.doc.text,
        answered(BRIEF, &run, &input, "partial", body)
    );
    assert_eq!(symbols(&mut editor), SYMBOLS.replace("· done", "· partial"));
    assert_eq!(diagnostics(&mut editor), Vec::<String>::new());
    workspace.write("a.brief.md", &editor.doc.text);
    assert_eq!(check(&workspace), Vec::<String>::new());
}

#[test]
fn with_demotion_turned_off_the_headings_stay_and_are_still_the_agents() {
    let runtime = agents();
    let workspace = workspace("loop-no-demotion", &runtime, vec![stream(&REPORT, true)]);
    let config = workspace.read("baton.toml");
    workspace.write(
        "baton.toml",
        &format!("{config}\n[output]\ndemote_headings = false\n"),
    );
    workspace.write("a.brief.md", BRIEF);
    let (code, _, stderr) = baton(&workspace, &["send", "a.brief.md"]);
    assert_eq!(code, 0, "{stderr}");
    let text = workspace.read("a.brief.md");
    let body = REPORT_WRITTEN
        .replace("### Report", "# Report")
        .replace("#### Summary", "## Summary");
    assert_eq!(
        text,
        answered(BRIEF, &run_id(&text), &input_hash(&text), "done", &body)
    );
    assert_eq!(check(&workspace), Vec::<String>::new());
}
