//! Attacks 3 and 4 of issue 11: trust that leaks beyond the folders the user trusted, and
//! links that pull documents from outside the workspace into what is read and sent.
//!
//! Trust: an editor that trusts its workspace folder `a` opens a brief from `b` (elsewhere,
//! or reached through a link inside `a`) whose `baton.toml` runs a program; `baton trust a`
//! then `baton send` from `a2` (a name that starts the same) or `b`. Links: a brief links to
//! a document outside its workspace by `..`, by an absolute path, and by a symbolic link
//! planted inside; the outside document holds a secret answer, which must reach neither the
//! linter's findings nor an agent, in the terminal or the editor.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::server::{stream, Recorded, Server as Agent};
use crate::support::{file_uri, Server, Workspace};

const BRIEF: &str = "# Scan prices @tool\n\n## Objective\n\nFind the prices.\n\n## Context\n\nWe reprice.\n\n## Constraints\n\nPublic sources.\n\n## Expected Output\n\nA table.\n";

/// The string only the document outside the workspace holds.
const SECRET: &str = "PAYROLL-SECRET-7731";

/// A `baton.toml` whose `tool` agent, if it ever runs, creates the file `marker`.
fn command_agent(marker: &Path) -> String {
    let program = format!("touch '{}'; echo ran", marker.display());
    format!("[agents.tool]\nprovider = \"command\"\ncommand = [\"sh\", \"-c\", {program:?}]\n")
}

/// Waits up to ten seconds for `done`.
fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts `baton lsp` in `workspace` as an editor that trusts its workspace and names
/// `folders` (and nothing else) as its workspace folders.
fn editor_trusting(workspace: &Workspace, folders: &[PathBuf]) -> Server {
    let mut server = Server::spawn(&workspace.root);
    let named: Vec<Value> = folders
        .iter()
        .map(|folder| json!({ "uri": file_uri(folder), "name": "folder" }))
        .collect();
    server.request(
        "initialize",
        json!({
            "processId": null,
            "rootUri": file_uri(&folders[0]),
            "workspaceFolders": named,
            "capabilities": {
                "workspace": { "applyEdit": true, "workspaceEdit": { "documentChanges": true } },
                "textDocument": { "publishDiagnostics": { "versionSupport": true } }
            },
            "initializationOptions": { "trustedWorkspace": true, "logLevel": "warn" }
        }),
    );
    server.notify("initialized", json!({}));
    server
}

/// The next diagnostics published for `uri` that `wanted` accepts.
fn diagnostics_where(
    server: &mut Server,
    uri: &str,
    wanted: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let message = server.wait_for(&format!("the expected diagnostics for {uri}"), |m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == uri
            && wanted(m["params"]["diagnostics"].as_array().unwrap())
    });
    message["params"]["diagnostics"].as_array().unwrap().clone()
}

fn has_code(diagnostics: &[Value], code: &str) -> bool {
    diagnostics.iter().any(|d| d["code"] == code)
}

/// `baton.send` of the brief `title` in `uri`; the whole response.
/// Sends `title` from the editor; the answer to the request.
fn send_in_editor(server: &mut Server, uri: &str, title: &str) -> Value {
    let params = json!({ "command": "baton.send", "arguments": [{ "uri": uri, "brief": title }] });
    server.request_response("workspace/executeCommand", params)
}

/// Sends `title` from the editor, expecting a refusal: the request is answered (never a bare
/// protocol error) and the user is shown why; returns what they are shown.
fn refused_in_editor(server: &mut Server, uri: &str, title: &str) -> String {
    let response = send_in_editor(server, uri, title);
    assert!(response.get("error").is_none(), "no bare error: {response}");
    assert_eq!(response["result"], Value::Null, "refused: {response}");
    let shown = server.wait_for("the refusal", |m| {
        m["method"] == "window/showMessage" && m["params"]["type"] == 1
    });
    shown["params"]["message"].as_str().unwrap().to_owned()
}

#[test]
fn the_editors_trust_covers_only_the_folders_it_names() {
    let workspace = Workspace::new("scope-editor-trust");
    let marker = workspace.path("pwned");
    let marker_a = workspace.path("ran-in-a");
    workspace.write("a/baton.toml", &command_agent(&marker_a));
    workspace.write("a/x.brief.md", BRIEF);
    workspace.write("b/baton.toml", &command_agent(&marker));
    workspace.write("b/y.brief.md", BRIEF);
    // A way into `b` from inside `a`: trust follows the real folder, not the path.
    std::os::unix::fs::symlink(workspace.path("b"), workspace.path("a/door")).unwrap();
    let mut server = editor_trusting(&workspace, &[workspace.path("a")]);

    let inside = workspace.uri("a/x.brief.md");
    server.open(&inside, BRIEF);
    let diagnostics = server.wait_for_diagnostics(&inside, Some(1));
    assert!(
        !has_code(&diagnostics, "untrusted-agent"),
        "{diagnostics:#?}"
    );

    let mut opened = Vec::new();
    for (path, uri) in [
        ("b/y.brief.md", workspace.uri("b/y.brief.md")),
        ("a/door/y.brief.md", workspace.uri("a/door/y.brief.md")),
    ] {
        opened.push(server.open(&uri, BRIEF));
        let diagnostics = server.wait_for_diagnostics(&uri, Some(1));
        let untrusted = diagnostics.iter().find(|d| d["code"] == "untrusted-agent");
        let message = untrusted.unwrap_or_else(|| panic!("{path}: {diagnostics:#?}"))["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains("tool"), "{path}: {message}");
        let refusal = refused_in_editor(&mut server, &uri, "Scan prices");
        assert!(refusal.contains("trust"), "{path}: {refusal}");
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(!marker.exists(), "the program of an untrusted folder ran");
    assert!(
        !workspace.path("b/.baton/runs").exists(),
        "nothing was journalled"
    );

    // The user adds `b` to the editor's workspace: its agents may run now.
    let outside = workspace.uri("b/y.brief.md");
    server.notify(
        "workspace/didChangeWorkspaceFolders",
        json!({ "event": { "added": [{ "uri": file_uri(&workspace.path("b")), "name": "b" }], "removed": [] } }),
    );
    diagnostics_where(&mut server, &outside, |d| !has_code(d, "untrusted-agent"));
    let response = send_in_editor(&mut server, &outside, "Scan prices");
    assert!(response.get("error").is_none(), "{response}");
    eventually("the trusted program to run", || marker.exists());

    // And the brief inside `a` is trusted as before.
    let response = send_in_editor(&mut server, &inside, "Scan prices");
    assert!(response.get("error").is_none(), "{response}");
    eventually("the program of `a` to run", || marker_a.exists());

    // Removing `b` again takes its trust away.
    std::fs::remove_file(&marker).unwrap();
    server.notify(
        "workspace/didChangeWorkspaceFolders",
        json!({ "event": { "added": [], "removed": [{ "uri": file_uri(&workspace.path("b")), "name": "b" }] } }),
    );
    // An edit, so that the diagnostics awaited (of version 2) are made after the removal.
    let doc = &mut opened[0];
    let change = doc.edit(doc.text.len()..doc.text.len(), "\n");
    server.change(doc, vec![change]);
    server.wait_for("version 2 linted without trust", |m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == outside
            && m["params"]["version"] == 2
            && has_code(
                m["params"]["diagnostics"].as_array().unwrap(),
                "untrusted-agent",
            )
    });
    let refusal = refused_in_editor(&mut server, &outside, "Scan prices");
    assert!(refusal.contains("trust"), "{refusal}");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !marker.exists(),
        "the program ran after its folder was removed"
    );
    server.shutdown();
}

/// Runs the real binary in `workspace` with its own (empty) user configuration and trust
/// store, and no trust from the environment.
fn baton(workspace: &Workspace, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(args)
        .current_dir(&workspace.root)
        .env("BATON_CONFIG", workspace.path("user/config.toml"))
        .env("BATON_TRUST_FILE", workspace.path("user/trusted.toml"))
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("BATON_TRUST_WORKSPACE")
        .env("NO_PROXY", "*")
        .env_remove("HTTPS_PROXY")
        .env_remove("HTTP_PROXY")
        .env_remove("ALL_PROXY")
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn baton_trust_covers_the_folder_it_names_and_no_other() {
    let workspace = Workspace::new("scope-cli-trust");
    let marker = |folder: &str| workspace.path(&format!("ran-in-{folder}"));
    for folder in ["a", "a2", "b"] {
        workspace.write(
            &format!("{folder}/baton.toml"),
            &command_agent(&marker(folder)),
        );
        workspace.write(&format!("{folder}/x.brief.md"), BRIEF);
    }
    let trust = baton(&workspace, &["trust", "a"]);
    assert_eq!(trust.status.code(), Some(0), "{}", stderr(&trust));

    for folder in ["a2", "b"] {
        let file = format!("{folder}/x.brief.md");
        let output = baton(&workspace, &["send", &file]);
        assert_ne!(
            output.status.code(),
            Some(0),
            "{folder}: {}",
            stderr(&output)
        );
        let message = stderr(&output);
        assert!(message.contains("baton trust"), "{folder}: {message}");
        assert!(!marker(folder).exists(), "the program of {folder} ran");
        assert_eq!(workspace.read(&file), BRIEF, "{folder} was not written");
    }
    let output = baton(&workspace, &["send", "a/x.brief.md"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(marker("a").exists(), "the trusted workspace's program ran");
}

/// A workspace `ws` whose `report.brief.md` links out of it three ways (and once by a
/// Markdown link), and in once; the loopback agent `writer` answers every request.
struct Leaky {
    workspace: Workspace,
    agent: Agent,
    /// Runs the agent; it stops when the test ends.
    _runtime: tokio::runtime::Runtime,
}

fn output_block(title: &str, answer: &str) -> String {
    format!(
        "# {title} @writer\n\n## Objective\n\nWork it out.\n\n## Output @writer\n<!-- baton:output run=01J0000000000000000000000A agent=writer model=m input=00000000 status=done -->\n{answer}\n<!-- /baton:output -->\n"
    )
}

impl Leaky {
    fn new(name: &str) -> Leaky {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let answer = [
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Done.\"}}]}\n\n".to_owned(),
            "data: [DONE]\n\n".to_owned(),
        ];
        let agent = runtime.block_on(Agent::start(vec![stream("text/event-stream", &answer)]));
        let workspace = Workspace::new(name);
        workspace.write(
            "ws/baton.toml",
            &format!(
                "[agents.writer]\nprovider = \"openai\"\nmodel = \"m\"\nbase_url = \"{}/v1\"\nretries = 0\n",
                agent.url
            ),
        );
        workspace.write(
            "outside/secret.brief.md",
            &output_block("Payroll plan", SECRET),
        );
        workspace.write(
            "ws/inside.brief.md",
            &output_block("Market scan", "INSIDE-ANSWER"),
        );
        std::os::unix::fs::symlink(
            workspace.path("outside/secret.brief.md"),
            workspace.path("ws/planted.brief.md"),
        )
        .unwrap();
        let absolute = workspace.path("outside/secret.brief.md");
        let report = format!(
            "# Report @writer\n\n## Objective\n\nSum up [[../outside/secret.brief.md#Payroll plan]], \
             [[{}#Payroll plan]], [[planted.brief.md#Payroll plan]], \
             [plan](../outside/secret.brief.md#payroll-plan) and [[inside.brief.md#Market scan]].\n\n\
             ## Context\n\nQuarterly.\n\n## Constraints\n\nNone.\n\n## Expected Output\n\nA note.\n",
            absolute.display()
        );
        workspace.write("ws/report.brief.md", &report);
        Leaky {
            workspace,
            agent,
            _runtime: runtime,
        }
    }

    fn report(&self) -> String {
        self.workspace.read("ws/report.brief.md")
    }

    /// The links out, as the report writes them.
    fn links_out(&self) -> Vec<String> {
        vec![
            "../outside/secret.brief.md".to_owned(),
            self.workspace
                .path("outside/secret.brief.md")
                .display()
                .to_string(),
            "planted.brief.md".to_owned(),
        ]
    }

    fn requests(&self) -> Vec<Recorded> {
        self.agent.requests()
    }

    /// Asserts that exactly one request reached the agent, that it carried the inside input
    /// and nothing of the outside document.
    fn assert_sent_without_the_secret(&self) {
        let requests = self.requests();
        assert_eq!(requests.len(), 1, "{requests:#?}");
        let body = &requests[0].body;
        assert!(
            body.contains("INSIDE-ANSWER"),
            "the inside input is sent: {body}"
        );
        assert!(!body.contains(SECRET), "the secret was sent: {body}");
    }
}

/// The message of a link that leaves the workspace.
fn outside_message(link: &str) -> String {
    format!("`{link}` is outside this workspace (")
}

#[test]
fn links_out_of_the_workspace_are_broken_in_check_and_never_sent_by_send() {
    let leaky = Leaky::new("scope-cli-links");
    let check = baton(&leaky.workspace, &["check", "ws"]);
    let found = String::from_utf8_lossy(&check.stdout).into_owned();
    assert_eq!(check.status.code(), Some(1), "{found}{}", stderr(&check));
    for link in leaky.links_out() {
        let line = found
            .lines()
            .find(|line| line.contains(&outside_message(&link)))
            .unwrap_or_else(|| panic!("no finding for {link}: {found}"));
        assert!(line.contains("broken-link"), "{line}");
        assert!(
            line.contains("baton reads and sends only documents inside it"),
            "{line}"
        );
    }
    let outside = found.matches("is outside this workspace").count();
    assert_eq!(outside, 4, "the Markdown link too: {found}");
    assert!(!found.contains(SECRET));

    let output = baton(&leaky.workspace, &["send", "ws/report.brief.md"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    leaky.assert_sent_without_the_secret();
    let report = leaky.report();
    assert!(
        report.contains("Done.") && !report.contains(SECRET),
        "{report}"
    );
}

#[test]
fn links_out_of_the_workspace_are_broken_in_the_editor_and_never_sent() {
    let leaky = Leaky::new("scope-editor-links");
    let ws = leaky.workspace.path("ws");
    let mut server = Server::spawn(&leaky.workspace.root);
    server.request(
        "initialize",
        json!({
            "processId": null,
            "rootUri": file_uri(&ws),
            "workspaceFolders": [{ "uri": file_uri(&ws), "name": "ws" }],
            "capabilities": {
                "workspace": { "applyEdit": true, "workspaceEdit": { "documentChanges": true } },
                "textDocument": { "publishDiagnostics": { "versionSupport": true } }
            },
            "initializationOptions": { "trustedWorkspace": false }
        }),
    );
    server.notify("initialized", json!({}));
    let uri = leaky.workspace.uri("ws/report.brief.md");
    server.open(&uri, &leaky.report());
    let diagnostics = server.wait_for_diagnostics(&uri, Some(1));
    let broken: Vec<&str> = diagnostics
        .iter()
        .filter(|d| d["code"] == "broken-link")
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert_eq!(broken.len(), 4, "{diagnostics:#?}");
    for link in leaky.links_out() {
        assert!(
            broken
                .iter()
                .any(|message| message.starts_with(&outside_message(&link))),
            "{link}: {broken:#?}"
        );
    }
    let root = std::fs::canonicalize(&ws).unwrap();
    assert!(
        broken[0].contains(&format!("({})", root.display())),
        "{}",
        broken[0]
    );

    // Go to definition does not open the outside document either.
    let text = leaky.report();
    let at = text.find("planted.brief.md").unwrap();
    let line = text[..at].matches('\n').count();
    let column = at - text[..at].rfind('\n').map_or(0, |n| n + 1);
    let definition = server.request(
        "textDocument/definition",
        json!({ "textDocument": { "uri": uri }, "position": { "line": line, "character": column + 2 } }),
    );
    assert_eq!(definition, Value::Null, "{definition}");

    let response = send_in_editor(&mut server, &uri, "Report");
    assert!(response.get("error").is_none(), "{response}");
    eventually("the agent to be asked", || !leaky.requests().is_empty());
    leaky.assert_sent_without_the_secret();
    server.shutdown();
}
