//! `baton send` through the real binary, against a loopback OpenAI-compatible SSE server.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

/// A temporary folder for one test, removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let unique = format!(
            "baton-send-test-{}-{name}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
        let root = std::env::temp_dir().join(unique);
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        Dir(root)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.0.join(name)).unwrap()
    }

    /// The run files of the journal, read whole.
    fn runs(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.0.join(".baton/runs")) else {
            return Vec::new();
        };
        entries
            .flatten()
            .map(|entry| std::fs::read_to_string(entry.path()).unwrap())
            .collect()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One canned HTTP response per request, in order; the last one repeats.
fn serve(responses: Vec<String>) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&bodies);
    thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            seen.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&body).into_owned());
            let response = &responses[n.min(responses.len() - 1)];
            let _ = stream.write_all(response.as_bytes());
            let _ = stream.flush();
        }
    });
    (port, bodies)
}

fn sse(chunks: &[&str]) -> String {
    let mut body = String::new();
    for chunk in chunks {
        let data = serde_json::json!({"choices": [{"delta": {"content": chunk}}]});
        body.push_str(&format!("data: {data}\n\n"));
    }
    body.push_str("data: [DONE]\n\n");
    format!("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n{body}")
}

fn status(code: u16, reason: &str) -> String {
    let body = r#"{"error":{"message":"nope","type":"invalid_request_error"}}"#;
    format!(
        "HTTP/1.1 {code} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

const BRIEF: &str = "# Greet @local\n\n## Objective\n\nSay hello to the team.\n";

fn workspace(name: &str, port: u16) -> Dir {
    let dir = Dir::new(name);
    dir.write(
        "baton.toml",
        &format!(
            "[agents.local]\nprovider = \"openai\"\nmodel = \"m\"\nbase_url = \"http://127.0.0.1:{port}/v1\"\nretries = 0\ntimeout_secs = 10\n\n[agents.echo]\nprovider = \"command\"\ncommand = [\"cat\"]\n"
        ),
    );
    dir.write("task.brief.md", BRIEF);
    dir
}

fn send(dir: &Dir, args: &[&str], trust: bool) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton"));
    command
        .arg("send")
        .arg(dir.0.join("task.brief.md"))
        .args(args)
        .current_dir(&dir.0)
        .env("BATON_CONFIG", dir.0.join("no-such-user-config.toml"))
        .env_remove("BATON_TRUST_WORKSPACE")
        .env("NO_PROXY", "*")
        .env_remove("HTTPS_PROXY")
        .env_remove("HTTP_PROXY");
    if trust {
        command.env("BATON_TRUST_WORKSPACE", "1");
    }
    command.output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The value of `key=` in the file's output marker.
fn marker_value(text: &str, key: &str) -> String {
    let line = text
        .lines()
        .find(|line| line.starts_with("<!-- baton:output "))
        .expect("an output marker");
    let start = line.find(&format!(" {key}=")).unwrap() + key.len() + 2;
    line[start..].split_whitespace().next().unwrap().to_owned()
}

#[test]
fn send_writes_the_block_and_journals_the_run() {
    let (port, bodies) = serve(vec![sse(&["Hello", ", world"])]);
    let dir = workspace("done", port);
    let output = send(&dir, &[], false);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = dir.read("task.brief.md");
    let run = marker_value(&text, "run");
    let input = marker_value(&text, "input");
    assert_eq!(input.len(), 8);
    assert_eq!(
        text,
        format!(
            "{BRIEF}\n## Output @local\n<!-- baton:output run={run} agent=local model=m input={input} status=done -->\nHello, world\n<!-- /baton:output run={run} -->\n"
        )
    );
    let sent = bodies.lock().unwrap().join("\n");
    assert!(sent.contains("Say hello to the team."), "{sent}");
    let runs = dir.runs();
    assert_eq!(runs.len(), 1);
    let journal = &runs[0];
    assert!(journal.contains(&run));
    assert!(journal.contains("Say hello to the team."), "{journal}");
    // Pieces that arrive in one read are journalled together; together they are the answer.
    let received: String = journal
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|event| event["type"] == "chunk")
        .map(|event| event["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(received, "Hello, world", "{journal}");
    assert!(journal.contains(r#""state":"done""#), "{journal}");
    assert!(Path::new(&dir.0.join(".baton/.gitignore")).is_file());
}

#[test]
fn a_second_send_replaces_the_block() {
    let (port, _) = serve(vec![sse(&["First"]), sse(&["Second"])]);
    let dir = workspace("rerun", port);
    assert_eq!(send(&dir, &[], false).status.code(), Some(0));
    let output = send(&dir, &["--agent", "local"], false);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = dir.read("task.brief.md");
    assert_eq!(text.matches("## Output @local").count(), 1, "{text}");
    assert_eq!(text.matches("<!-- /baton:output run=").count(), 1, "{text}");
    assert!(
        text.contains("\nSecond\n") && !text.contains("First"),
        "{text}"
    );
    assert!(text.starts_with(BRIEF));
    assert_eq!(dir.runs().len(), 2);
}

#[test]
fn a_refused_request_fails_and_leaves_the_file_alone() {
    let (port, _) = serve(vec![status(401, "Unauthorized")]);
    let dir = workspace("unauthorized", port);
    let output = send(&dir, &[], false);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("`local` failed"),
        "{}",
        stderr(&output)
    );
    assert_eq!(dir.read("task.brief.md"), BRIEF);
    let runs = dir.runs();
    assert_eq!(runs.len(), 1);
    assert!(runs[0].contains(r#""state":"failed""#), "{}", runs[0]);
}

#[test]
fn an_unknown_agent_is_a_usage_error_naming_the_agents() {
    let dir = workspace("unknown", 9);
    let output = send(&dir, &["--agent", "nobody"], false);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("nobody"), "{message}");
    assert!(message.contains("echo, local"), "{message}");
    assert_eq!(dir.read("task.brief.md"), BRIEF);
    assert!(dir.runs().is_empty());
}

#[test]
fn a_workspace_command_agent_needs_trust() {
    let dir = workspace("trust", 9);
    let refused = send(&dir, &["--agent", "echo"], false);
    assert_eq!(refused.status.code(), Some(1));
    let message = stderr(&refused);
    assert!(message.contains("baton trust"), "{message}");
    assert!(message.contains("runs a program"), "{message}");
    assert_eq!(dir.read("task.brief.md"), BRIEF);
    assert!(dir.runs().is_empty(), "nothing is journalled before trust");

    let output = send(&dir, &["--agent", "echo"], true);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = dir.read("task.brief.md");
    let block = &text[text.find("## Output @echo").expect("a block")..];
    assert!(block.contains("Say hello to the team."), "{text}");
    assert!(block.contains("status=done"), "{text}");
}

#[test]
fn an_agent_without_its_key_falls_back_and_says_so() {
    let (port, bodies) = serve(vec![sse(&["From the fallback"])]);
    let dir = workspace("nokey", port);
    let config = dir.read("baton.toml");
    dir.write(
        "baton.toml",
        &format!(
            "{config}\n[agents.keyed]\nprovider = \"openai\"\nmodel = \"m\"\nbase_url = \"http://127.0.0.1:9/v1\"\napi_key_env = \"BATON_TEST_KEY_NEVER_SET\"\nfallback = [\"local\"]\n"
        ),
    );
    // The keyed agent sends another variable than its provider's, so it needs trust.
    let output = send(&dir, &["--agent", "keyed"], true);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let said = stderr(&output);
    assert!(
        said.contains("keyed failed (keyed needs an API key: set the environment variable BATON_TEST_KEY_NEVER_SET); trying local"),
        "{said}"
    );
    let text = dir.read("task.brief.md");
    assert!(text.contains("## Output @local\n"), "{text}");
    assert!(text.contains("\nFrom the fallback\n"), "{text}");
    assert_eq!(
        bodies.lock().unwrap().len(),
        1,
        "only the fallback was asked"
    );
}
