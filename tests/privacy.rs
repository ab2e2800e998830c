//! Fail-closed privacy (DESIGN §7, issue 12 item 6), as a user meets it: a brief holding a
//! `[privacy]` term, or in a `confidential: true` document, is marked in the editor and by
//! `baton check`, and refused by the editor's send and by `baton send` before a byte reaches
//! the (remote) agent, which here is a loopback listener that counts every connection.

mod support;

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};

use support::{baton, Server, Workspace};

/// A loopback "remote" agent that counts the connections it gets and answers none.
fn listener() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&count);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            seen.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (port, count)
}

/// An `openai` agent (remote, by its provider) on the loopback listener, with a term.
fn config(port: u16, privacy: &str) -> String {
    format!(
        "[agents.researcher]\nprovider = \"openai\"\nmodel = \"m\"\nbase_url = \"http://127.0.0.1:{port}/v1\"\nretries = 0\ntimeout_secs = 5\n\n{privacy}"
    )
}

const TERMS: &str = "[privacy]\nterms = [\"Acme Corp\"]\n";

const BRIEF: &str = "# Scan pricing @researcher\n\n## Objective\n\nFind the prices of ACME Corp.\n\n## Context\n\nWe sell to them.\n\n## Constraints\n\nPublic sources only.\n\n## Expected Output\n\nA table.\n";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn check_marks_the_brief_and_send_refuses_it_before_a_byte_leaves() {
    let (port, connections) = listener();
    let workspace = Workspace::new("privacy-cli");
    workspace.write("baton.toml", &config(port, TERMS));
    workspace.write("scan.brief.md", BRIEF);

    let check = baton(&workspace.root, &["check"]);
    assert_eq!(check.status.code(), Some(1), "{}", text(&check.stderr));
    let stdout = text(&check.stdout);
    assert_eq!(
        stdout,
        "scan.brief.md:1:1: error[confidential-remote]: `Scan pricing` is not sent to @researcher, a remote agent: it holds `Acme Corp`, a [privacy] term, and baton does not anonymize text yet; send it to a local agent (`locality = \"local\"`), or remove the term\n"
    );

    let send = baton(&workspace.root, &["send", "scan.brief.md"]);
    assert_eq!(send.status.code(), Some(1), "refused, not a usage error");
    let stderr = text(&send.stderr);
    assert!(
        stderr.contains("is not sent to @researcher, a remote agent"),
        "{stderr}"
    );
    assert!(stderr.contains("`Acme Corp`"), "{stderr}");
    assert_eq!(
        workspace.read("scan.brief.md"),
        BRIEF,
        "the file is untouched"
    );
    assert!(
        !workspace.path(".baton/runs").exists(),
        "nothing journalled"
    );
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "nothing reached the agent"
    );
}

#[test]
fn a_confidential_document_or_an_unreadable_terms_file_refuses_every_remote_send() {
    let (port, connections) = listener();
    let workspace = Workspace::new("privacy-closed");
    let clean = BRIEF.replace("ACME Corp", "our rivals");
    workspace.write("baton.toml", &config(port, ""));
    workspace.write(
        "scan.brief.md",
        &format!("---\nconfidential: true\n---\n{clean}"),
    );
    let send = baton(&workspace.root, &["send", "scan.brief.md"]);
    assert_eq!(send.status.code(), Some(1), "refused, not a usage error");
    assert!(
        text(&send.stderr).contains("`confidential: true`"),
        "{}",
        text(&send.stderr)
    );

    let missing = "[privacy]\nterms_file = \"terms.txt\"\n";
    workspace.write("baton.toml", &config(port, missing));
    workspace.write("scan.brief.md", &clean);
    let check = baton(&workspace.root, &["check"]);
    let stdout = text(&check.stdout);
    assert!(stdout.contains("baton.toml:"), "{stdout}");
    assert!(
        stdout.contains("error[invalid-config]: cannot read"),
        "{stdout}"
    );
    assert!(stdout.contains("error[confidential-remote]"), "{stdout}");
    let send = baton(&workspace.root, &["send", "scan.brief.md"]);
    assert_eq!(send.status.code(), Some(1), "refused, not a usage error");
    assert!(
        text(&send.stderr).contains("terms_file could not be read"),
        "{}",
        text(&send.stderr)
    );
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "nothing reached the agent"
    );

    workspace.write("terms.txt", "# ours\nGlobex\n");
    let check = baton(&workspace.root, &["check"]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stdout));
}

#[test]
fn the_editor_marks_the_brief_and_refuses_the_send_with_a_message() {
    let (port, connections) = listener();
    let workspace = Workspace::new("privacy-lsp");
    workspace.write("baton.toml", &config(port, TERMS));
    workspace.write("scan.brief.md", BRIEF);
    let server = Server::spawn(&workspace.root);
    let options = json!({ "trustedWorkspace": true, "logLevel": "warn" });
    let (mut server, _) = server.initialize(&workspace, &["utf-16"], options);
    let uri = workspace.uri("scan.brief.md");
    server.open(&uri, BRIEF);
    let diagnostics = server.wait_for_diagnostics(&uri, Some(1));
    let found: Vec<&Value> = (diagnostics.iter())
        .filter(|d| d["code"] == "confidential-remote")
        .collect();
    assert_eq!(found.len(), 1, "{diagnostics:#?}");
    assert_eq!(found[0]["severity"], 1);
    assert_eq!(
        found[0]["range"]["start"],
        json!({"line": 0, "character": 0})
    );
    assert!(
        found[0].get("codeDescription").is_none(),
        "no [docs] base_url, no link"
    );

    let params =
        json!({ "command": "baton.send", "arguments": [{ "uri": uri, "brief": "Scan pricing" }] });
    let result = server.request("workspace/executeCommand", params);
    assert_eq!(result, Value::Null);
    let shown = server.wait_for("the refusal", |m| m["method"] == "window/showMessage");
    assert_eq!(shown["params"]["type"], 1, "an error: {shown}");
    let message = shown["params"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("a remote agent"), "{message}");
    assert!(message.contains("`Acme Corp`"), "{message}");
    assert!(
        !workspace.path(".baton/runs").exists(),
        "nothing journalled"
    );
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "nothing reached the agent"
    );
    server.shutdown();
}

#[test]
fn the_editor_places_a_bad_route_pattern_and_links_diagnostics_to_the_docs_base_url() {
    let workspace = Workspace::new("honest-lsp");
    let config = "[docs]\nbase_url = \"https://team.example/d.md\"\n\
                  [agents.local]\nprovider = \"ollama\"\nmodel = \"m\"\n\
                  [[routes]]\nwhen = { heading = \"(scan\" }\nagent = \"local\"\n";
    workspace.write("baton.toml", config);
    let text = "# A @local\n\nNo fields.\n";
    workspace.write("a.brief.md", text);
    let (mut server, _) = Server::start(&workspace, &["utf-16"]);
    let uri = workspace.uri("a.brief.md");
    server.open(&uri, text);
    let config_diagnostics = server.wait_for_diagnostics(&workspace.uri("baton.toml"), None);
    assert_eq!(config_diagnostics.len(), 1, "{config_diagnostics:#?}");
    let routes = &config_diagnostics[0];
    assert_eq!(routes["severity"], 1);
    assert_eq!(
        routes["range"]["start"],
        json!({"line": 6, "character": 19})
    );
    let message = routes["message"].as_str().unwrap();
    assert!(
        message.starts_with("`heading` is not a valid regex: unclosed group"),
        "{message}"
    );

    let diagnostics = server.wait_for_diagnostics(&uri, Some(1));
    let missing = (diagnostics.iter())
        .find(|d| d["code"] == "missing-field")
        .expect("a missing field");
    assert_eq!(
        missing["codeDescription"]["href"],
        "https://team.example/d.md#missing-field"
    );
    server.shutdown();
}

#[test]
fn a_term_added_to_the_terms_file_refuses_the_very_next_send_from_the_editor() {
    let (port, connections) = listener();
    let workspace = Workspace::new("privacy-terms-file");
    let privacy = "[privacy]\nterms_file = \"terms.txt\"\n";
    workspace.write("baton.toml", &config(port, privacy));
    workspace.write("terms.txt", "# our clients\nInitech\n");
    workspace.write("scan.brief.md", BRIEF);
    let server = Server::spawn(&workspace.root);
    let options = json!({ "trustedWorkspace": true, "logLevel": "warn" });
    let (mut server, _) = server.initialize(&workspace, &["utf-16"], options);
    let uri = workspace.uri("scan.brief.md");
    server.open(&uri, BRIEF);
    let diagnostics = server.wait_for_diagnostics(&uri, Some(1));
    assert!(
        diagnostics
            .iter()
            .all(|d| d["code"] != "confidential-remote"),
        "{diagnostics:#?}"
    );
    // The user adds a client to the file; the editor is told nothing (it watches baton.toml).
    workspace.write("terms.txt", "# our clients\nInitech\nAcme Corp\n");
    let params =
        json!({ "command": "baton.send", "arguments": [{ "uri": uri, "brief": "Scan pricing" }] });
    let result = server.request("workspace/executeCommand", params);
    assert_eq!(result, Value::Null, "refused");
    let shown = server.wait_for("the refusal", |m| m["method"] == "window/showMessage");
    let message = shown["params"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("`Acme Corp`"), "{message}");
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "nothing reached the agent"
    );
    server.shutdown();
}
