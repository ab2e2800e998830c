//! `baton agents` and `baton trust` through the real binary. The agents are loopback servers
//! (std threads) that answer each request with one canned response and record what they got;
//! every test has its own user config, trust store and made-up key, and checks that the key
//! shows nowhere in the output.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use serde_json::Value;

/// A temporary folder for one test, removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let unique = format!(
            "baton-agents-test-{}-{name}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
        let root = std::env::temp_dir().join(unique);
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("ws")).unwrap();
        Dir(root)
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.0.join(relative)
    }

    fn write(&self, relative: &str, text: &str) {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A request's line and headers (names in lower case), as the server received them.
#[derive(Clone, Debug)]
struct Seen {
    line: String,
    headers: Vec<(String, String)>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        let found = self.headers.iter().find(|(key, _)| key == name);
        found.map(|(_, value)| value.as_str())
    }
}

type Requests = Arc<Mutex<Vec<Seen>>>;

/// A server answering every request with `status` and a small JSON body; its base URL.
fn serve(status: u16) -> (String, Requests) {
    serve_listing(
        status,
        &["gpt-4o-mini", "claude", "llama3.2:latest", "m:latest", "m"],
    )
}

/// A loopback endpoint answering every request with `status`; a success lists `models`, in
/// Ollama's form at `/api/tags` and in OpenAI's (and Anthropic's) elsewhere.
fn serve_listing(status: u16, models: &[&str]) -> (String, Requests) {
    let models: Vec<String> = models.iter().map(|model| model.to_string()).collect();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Requests::default();
    let seen = Arc::clone(&requests);
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let mut headers = Vec::new();
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
                    break;
                }
                if let Some((name, value)) = header.split_once(':') {
                    headers.push((name.trim().to_lowercase(), value.trim().to_owned()));
                }
            }
            let line = line.trim_end().to_owned();
            let tags = line.contains("/api/tags");
            seen.lock().unwrap().push(Seen { line, headers });
            let body = if status >= 300 {
                r#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}}"#.to_owned()
            } else if tags {
                let listed: Vec<_> = (models.iter())
                    .map(|name| serde_json::json!({ "name": name, "model": name }))
                    .collect();
                serde_json::json!({ "models": listed }).to_string()
            } else {
                let listed: Vec<_> = (models.iter())
                    .map(|id| serde_json::json!({ "id": id, "object": "model" }))
                    .collect();
                serde_json::json!({ "object": "list", "data": listed }).to_string()
            };
            let response = format!(
                "HTTP/1.1 {status} Status\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    (url, requests)
}

/// A loopback port nobody listens on.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The key of a test, made up, in a variable of its own.
fn key(test: &str) -> (String, String) {
    let env = format!("BATON_AGENTS_TEST_KEY_{}", test.to_uppercase());
    (
        env,
        format!("sk-agents-{test}-{}-secret", std::process::id()),
    )
}

fn baton(dir: &Dir, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton"));
    command
        .args(args)
        .current_dir(&dir.0)
        .env("BATON_CONFIG", dir.path("user/config.toml"))
        .env("BATON_TRUST_FILE", dir.path("user/trusted.toml"))
        .env_remove("BATON_TRUST_WORKSPACE")
        .env("NO_PROXY", "*")
        .env_remove("HTTPS_PROXY")
        .env_remove("HTTP_PROXY")
        .env_remove("ALL_PROXY");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The line of the table naming `agent`.
fn row(output: &Output, agent: &str) -> String {
    let text = stdout(output);
    let found = text
        .lines()
        .find(|line| line.starts_with(&format!("{agent} ")));
    found
        .unwrap_or_else(|| panic!("no row for {agent}:\n{text}"))
        .to_owned()
}

/// The JSON report's entry for `agent`.
fn entry(output: &Output, agent: &str) -> Value {
    let report: Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    let entries = report.as_array().expect("an array");
    let found = entries.iter().find(|entry| entry["name"] == agent);
    found
        .unwrap_or_else(|| panic!("no {agent} in {report}"))
        .clone()
}

fn assert_secret_kept(output: &Output, secret: &str) {
    assert!(!stdout(output).contains(secret), "{}", stdout(output));
    assert!(!stderr(output).contains(secret), "{}", stderr(output));
}

#[test]
fn a_reachable_agent_of_each_provider_is_probed_with_its_key() {
    let dir = Dir::new("reachable");
    let (openai, openai_seen) = serve(200);
    let (anthropic, anthropic_seen) = serve(200);
    let (ollama, ollama_seen) = serve(200);
    let (env, secret) = key("reachable");
    // In the user's file, so no trust is needed for keys sent to loopback.
    dir.write(
        "user/config.toml",
        &format!(
            "[agents.gpt]\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\nbase_url = \"{openai}/v1/\"\napi_key_env = \"{env}\"\n\n\
             [agents.claude]\nprovider = \"anthropic\"\nmodel = \"claude\"\nbase_url = \"{anthropic}\"\napi_key_env = \"{env}\"\n\n\
             [agents.llama]\nprovider = \"ollama\"\nmodel = \"llama3.2\"\nbase_url = \"{ollama}\"\n"
        ),
    );
    let output = baton(&dir, &["agents", "ws"], &[(&env, &secret)]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let gpt = row(&output, "gpt");
    assert!(gpt.contains("openai") && gpt.contains("gpt-4o-mini") && gpt.contains("remote"));
    assert!(gpt.contains("config.toml:1"), "{gpt}");
    assert!(gpt.contains(&format!("{env} set")), "{gpt}");
    assert!(gpt.contains("reachable (HTTP 200"), "{gpt}");
    assert!(row(&output, "claude").contains("config.toml:7"));
    assert!(row(&output, "llama").contains("local"));
    assert!(stderr(&output).contains("3 of 3 agents ready"));
    assert_secret_kept(&output, &secret);

    let openai = &openai_seen.lock().unwrap()[0];
    assert_eq!(openai.line, "GET /v1/models HTTP/1.1");
    let bearer = format!("Bearer {secret}");
    assert_eq!(openai.header("authorization"), Some(bearer.as_str()));
    let anthropic = &anthropic_seen.lock().unwrap()[0];
    assert_eq!(anthropic.line, "GET /v1/models HTTP/1.1");
    assert_eq!(anthropic.header("x-api-key"), Some(secret.as_str()));
    assert_eq!(anthropic.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(anthropic.header("authorization"), None);
    let ollama = &ollama_seen.lock().unwrap()[0];
    assert_eq!(ollama.line, "GET /api/tags HTTP/1.1");
    assert_eq!(ollama.header("authorization"), None);
}

#[test]
fn a_rejected_key_is_reported_as_such() {
    let dir = Dir::new("rejected");
    let (url, _) = serve(401);
    let (env, secret) = key("rejected");
    dir.write(
        "user/config.toml",
        &format!("[agents.gpt]\nprovider = \"openai\"\nmodel = \"m\"\nbase_url = \"{url}/v1\"\napi_key_env = \"{env}\"\n"),
    );
    let output = baton(&dir, &["agents"], &[(&env, &secret)]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let gpt = row(&output, "gpt");
    assert!(
        gpt.contains("reachable, but the key was rejected: HTTP 401"),
        "{gpt}"
    );
    assert!(gpt.contains("Incorrect API key provided"), "{gpt}");
    assert!(gpt.contains(&format!("check {env}")), "{gpt}");
    assert_secret_kept(&output, &secret);

    let json = baton(&dir, &["agents", "--format", "json"], &[(&env, &secret)]);
    assert_eq!(json.status.code(), Some(1));
    let gpt = entry(&json, "gpt");
    assert_eq!(gpt["reach"]["state"], "key_rejected");
    assert_eq!(gpt["reach"]["status"], 401);
    assert_eq!(gpt["ok"], false);
    assert_secret_kept(&json, &secret);
}

#[test]
fn a_refused_connection_is_unreachable() {
    let dir = Dir::new("refused");
    let port = closed_port();
    dir.write(
        "ws/baton.toml",
        &format!("[agents.local]\nprovider = \"ollama\"\nmodel = \"m\"\nbase_url = \"http://127.0.0.1:{port}\"\n"),
    );
    let output = baton(&dir, &["agents", "ws"], &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let local = row(&output, "local");
    assert!(local.contains("ws/baton.toml:1"), "{local}");
    assert!(
        local.contains(&format!("unreachable: http://127.0.0.1:{port}/api/tags")),
        "{local}"
    );
    assert!(local.contains("Connection refused"), "{local}");
    assert!(stderr(&output).contains("0 of 1 agents ready"));
}

#[test]
fn an_untrusted_workspace_agent_is_not_contacted_until_trusted() {
    let dir = Dir::new("untrusted");
    let (url, seen) = serve(200);
    let (env, secret) = key("untrusted");
    dir.write(
        "ws/baton.toml",
        &format!("[agents.gpt]\nprovider = \"openai\"\nmodel = \"m\"\nbase_url = \"{url}/v1\"\napi_key_env = \"{env}\"\n"),
    );
    std::fs::create_dir_all(dir.path("ws/notes")).unwrap();
    let output = baton(&dir, &["agents", "ws/notes"], &[(&env, &secret)]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let gpt = row(&output, "gpt");
    assert!(gpt.contains("refused, not contacted"), "{gpt}");
    assert!(
        gpt.contains(&format!("would send the key in `{env}` to {url}/v1")),
        "{gpt}"
    );
    assert!(gpt.contains("baton trust"), "{gpt}");
    assert!(seen.lock().unwrap().is_empty(), "the key was not sent");
    let json = baton(
        &dir,
        &["agents", "ws", "--format", "json"],
        &[(&env, &secret)],
    );
    assert_eq!(entry(&json, "gpt")["trust"], "refused");
    assert_eq!(entry(&json, "gpt")["reach"], Value::Null);

    // For one command, by the environment.
    let once = baton(
        &dir,
        &["agents", "ws"],
        &[(&env, &secret), ("BATON_TRUST_WORKSPACE", "1")],
    );
    assert_eq!(once.status.code(), Some(0), "{}", stdout(&once));
    assert_eq!(seen.lock().unwrap().len(), 1);

    // For good, by the store; trusting a subfolder trusts the workspace it is in.
    let trust = baton(&dir, &["trust", "ws/notes"], &[]);
    assert_eq!(trust.status.code(), Some(0), "{}", stderr(&trust));
    let root = std::fs::canonicalize(dir.path("ws")).unwrap();
    assert_eq!(stdout(&trust), format!("trusted {}\n", root.display()));
    let output = baton(
        &dir,
        &["agents", "ws", "--format", "json"],
        &[(&env, &secret)],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let gpt = entry(&output, "gpt");
    assert_eq!(gpt["trust"], "trusted");
    assert_eq!(gpt["reach"]["state"], "reachable");
    assert_secret_kept(&output, &secret);
}

#[test]
fn a_missing_key_is_shown_and_the_endpoint_still_probed() {
    let dir = Dir::new("missing-key");
    let (url, seen) = serve(401);
    dir.write(
        "user/config.toml",
        &format!("[agents.gpt]\nprovider = \"openai\"\nmodel = \"m\"\nbase_url = \"{url}/v1\"\napi_key_env = \"BATON_AGENTS_TEST_UNSET_KEY\"\n"),
    );
    let output = baton(&dir, &["agents"], &[]);
    assert_eq!(output.status.code(), Some(1));
    let gpt = row(&output, "gpt");
    assert!(gpt.contains("BATON_AGENTS_TEST_UNSET_KEY missing"), "{gpt}");
    assert!(
        gpt.contains("wants a key: HTTP 401; set BATON_AGENTS_TEST_UNSET_KEY"),
        "{gpt}"
    );
    assert_eq!(seen.lock().unwrap()[0].header("authorization"), None);
    let json = baton(&dir, &["agents", "--format", "json"], &[]);
    assert_eq!(entry(&json, "gpt")["key"]["set"], false);
    assert_eq!(
        entry(&json, "gpt")["key"]["env"],
        "BATON_AGENTS_TEST_UNSET_KEY"
    );
}

#[test]
fn a_command_agent_is_found_or_not_and_never_run() {
    let dir = Dir::new("command");
    // The program would leave a mark if it ran.
    let marker = dir.path("ran");
    let script = dir.path("agent.sh");
    dir.write(
        "agent.sh",
        &format!("#!/bin/sh\ntouch {}\n", marker.display()),
    );
    set_executable(&script);
    dir.write(
        "user/config.toml",
        &format!(
            "[agents.script]\nprovider = \"command\"\ncommand = [\"{}\", \"--flag\"]\n\n\
             [agents.shell]\nprovider = \"command\"\ncommand = [\"sh\", \"-c\", \"touch {}\"]\n\n\
             [agents.gone]\nprovider = \"command\"\ncommand = [\"baton-no-such-agent-program\"]\n",
            script.display(),
            marker.display()
        ),
    );
    let output = baton(&dir, &["agents"], &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(row(&output, "script").contains(&format!("found: {}", script.display())));
    assert!(
        row(&output, "shell").contains("found: /"),
        "{}",
        stdout(&output)
    );
    let gone = row(&output, "gone");
    assert!(
        gone.contains("not found: `baton-no-such-agent-program` is not on PATH"),
        "{gone}"
    );
    assert!(!marker.exists(), "no program was run");
}

#[cfg(unix)]
fn set_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[cfg(not(unix))]
fn set_executable(_: &Path) {}

#[test]
fn no_agents_and_usage_errors() {
    let dir = Dir::new("usage");
    let output = baton(&dir, &["agents", "ws"], &[]);
    assert_eq!(output.status.code(), Some(0));
    assert!(stderr(&output).contains("no agents are configured"));
    assert_eq!(
        baton(&dir, &["agents", "nowhere"], &[]).status.code(),
        Some(2)
    );
    let bad = baton(&dir, &["agents", "--format", "yaml"], &[]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn trust_lists_and_removes_workspaces() {
    let dir = Dir::new("trust");
    dir.write("ws/baton.toml", "");
    std::fs::create_dir_all(dir.path("bare")).unwrap();
    let root = std::fs::canonicalize(dir.path("ws")).unwrap();
    let bare = std::fs::canonicalize(dir.path("bare")).unwrap();

    let empty = baton(&dir, &["trust", "--list"], &[]);
    assert_eq!(
        (empty.status.code(), stdout(&empty)),
        (Some(0), String::new())
    );
    assert!(stderr(&empty).contains("no workspace is trusted"));

    let output = baton(&dir, &["trust", "ws"], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let again = baton(&dir, &["trust", "ws"], &[]);
    assert!(
        stdout(&again).starts_with("already trusted"),
        "{}",
        stdout(&again)
    );
    let folder = baton(&dir, &["trust", "bare"], &[]);
    assert!(
        stderr(&folder).contains("no baton.toml"),
        "{}",
        stderr(&folder)
    );
    let list = baton(&dir, &["trust", "--list"], &[]);
    assert_eq!(
        stdout(&list),
        format!("{}\n{}\n", root.display(), bare.display())
    );

    let removed = baton(&dir, &["trust", "--remove", "ws"], &[]);
    assert_eq!(removed.status.code(), Some(0));
    assert!(stdout(&removed).starts_with("no longer trusted"));
    let list = baton(&dir, &["trust", "--list"], &[]);
    assert_eq!(stdout(&list), format!("{}\n", bare.display()));

    assert_eq!(
        baton(&dir, &["trust", "nowhere"], &[]).status.code(),
        Some(2)
    );
    assert_eq!(
        baton(&dir, &["trust", "--list", "ws"], &[]).status.code(),
        Some(2)
    );
}

#[test]
fn a_corrupt_trust_store_is_an_error_for_trust_and_trusts_nothing_elsewhere() {
    let dir = Dir::new("corrupt");
    dir.write("user/trusted.toml", "workspaces = [\n");
    dir.write(
        "ws/baton.toml",
        "[agents.cli]\nprovider = \"command\"\ncommand = [\"sh\"]\n",
    );
    for args in [&["trust", "--list"][..], &["trust", "ws"]] {
        let output = baton(&dir, args, &[]);
        assert_eq!(output.status.code(), Some(1));
        let message = stderr(&output);
        assert!(message.contains("trusted.toml is not valid"), "{message}");
        assert!(message.contains("fix it or delete it"), "{message}");
    }
    assert_eq!(
        std::fs::read_to_string(dir.path("user/trusted.toml")).unwrap(),
        "workspaces = [\n",
        "a corrupt store is left for the user to see"
    );
    let output = baton(&dir, &["agents", "ws"], &[]);
    assert!(
        row(&output, "cli").contains("refused"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn a_reachable_endpoint_without_the_model_is_not_ready() {
    let dir = Dir::new("no-model");
    let (ollama, _) = serve_listing(200, &["qwen:7b"]);
    let (empty, _) = serve_listing(200, &[]);
    let (openai, _) = serve_listing(200, &["gpt-4o"]);
    dir.write(
        "user/config.toml",
        &format!(
            "[agents.llama]\nprovider = \"ollama\"\nmodel = \"llama3.2\"\nbase_url = \"{ollama}\"\n\n\
             [agents.bare]\nprovider = \"ollama\"\nmodel = \"llama3.2\"\nbase_url = \"{empty}\"\n\n\
             [agents.gpt]\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\nbase_url = \"{openai}/v1\"\n"
        ),
    );
    let output = baton(&dir, &["agents"], &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let llama = row(&output, "llama");
    assert!(
        llama.contains("reachable, but model `llama3.2` not installed (`ollama pull llama3.2`)"),
        "{llama}"
    );
    assert!(row(&output, "bare").contains("not installed (none is;"));
    let gpt = row(&output, "gpt");
    assert!(
        gpt.contains("reachable, but model `gpt-4o-mini` is not among the 1 it serves"),
        "{gpt}"
    );
    assert!(stderr(&output).contains("0 of 3 agents ready"));

    let json = baton(&dir, &["agents", "--format", "json"], &[]);
    let llama = entry(&json, "llama");
    assert_eq!(llama["reach"]["state"], "model_missing");
    assert_eq!(llama["reach"]["model"], "llama3.2");
    assert_eq!(llama["ok"], false);
}
