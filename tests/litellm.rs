//! baton against LiteLLM, a real OpenAI-compatible server (shared/E2E.md), through the real
//! binary. These tests are ignored by a plain `cargo test`: `scripts/e2e/litellm` installs and
//! starts the proxy, with canned (`mock_response`) and failing models, and runs them with
//! `--ignored`, passing `BATON_E2E_LITELLM_URL` (the proxy's base, without `/v1`) and
//! `BATON_E2E_LITELLM_KEY` (its master key). Run with `--ignored` but without those, they fail:
//! a silent skip would pass for a check that never ran.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

/// The variable holding the proxy's master key; the agents' `api_key_env` names it.
const KEY_VARIABLE: &str = "BATON_E2E_LITELLM_KEY";
/// What the canned model answers (scripts/e2e/litellm's config).
const CANNED: &str = "Canned answer from LiteLLM: the brief arrived.";

const BRIEF: &str = "# Greet the team\n\n## Objective\n\nSay hello to the team.\n\n## Context\n\n\
                     A new quarter starts.\n\n## Constraints\n\nOne sentence.\n\n\
                     ## Expected Output\n\nThe greeting.\n";

/// The proxy's base URL and key, from the script; a test without them fails loudly.
fn proxy() -> (String, String) {
    let url = std::env::var("BATON_E2E_LITELLM_URL");
    let key = std::env::var(KEY_VARIABLE);
    match (url, key) {
        (Ok(url), Ok(key)) if !url.is_empty() && !key.is_empty() => {
            (url.trim_end_matches('/').to_owned(), key)
        }
        _ => panic!(
            "BATON_E2E_LITELLM_URL and {KEY_VARIABLE} are not set: run these tests with \
             scripts/e2e/litellm, which starts LiteLLM and sets them"
        ),
    }
}

/// A temporary workspace for one test, removed when dropped.
struct Workspace(PathBuf);

impl Workspace {
    /// A workspace whose `baton.toml` has `agents`, and a brief for `agent`.
    fn new(name: &str, agents: &str, agent: &str) -> Workspace {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let unique = format!(
            "baton-litellm-test-{}-{name}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
        let root = std::env::temp_dir().join(unique);
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("ws")).unwrap();
        std::fs::write(root.join("ws/baton.toml"), agents).unwrap();
        let brief = BRIEF.replacen("# Greet the team", &format!("# Greet the team @{agent}"), 1);
        std::fs::write(root.join("ws/task.brief.md"), brief).unwrap();
        Workspace(root)
    }

    fn ws(&self) -> PathBuf {
        self.0.join("ws")
    }

    fn brief(&self) -> String {
        std::fs::read_to_string(self.ws().join("task.brief.md")).unwrap()
    }

    /// Each run file of the journal, as its parsed lines.
    fn runs(&self) -> Vec<Vec<Value>> {
        let Ok(entries) = std::fs::read_dir(self.ws().join(".baton/runs")) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "jsonl"))
            .map(|entry| {
                let text = std::fs::read_to_string(entry.path()).unwrap();
                text.lines()
                    .map(|line| serde_json::from_str(line).expect("a journal line is JSON"))
                    .collect()
            })
            .collect()
    }

    /// The journal's files, read whole, for checks on raw text.
    fn journal_text(&self) -> String {
        read_all(&self.ws().join(".baton"))
    }

    /// Runs the real binary with its own user config and trust store, the key set.
    fn baton(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let (_, key) = proxy();
        let mut command = Command::new(env!("CARGO_BIN_EXE_baton"));
        command
            .args(args)
            .current_dir(&self.0)
            .env("BATON_CONFIG", self.0.join("user/config.toml"))
            .env("BATON_TRUST_FILE", self.0.join("user/trusted.toml"))
            .env(KEY_VARIABLE, &key)
            .env_remove("BATON_TRUST_WORKSPACE")
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env_remove("HTTPS_PROXY")
            .env_remove("HTTP_PROXY")
            .env_remove("ALL_PROXY");
        for (name, value) in env {
            command.env(name, value);
        }
        command.output().unwrap()
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A file's text, or every file's text under a folder.
fn read_all(path: &Path) -> String {
    if path.is_dir() {
        let mut text = String::new();
        for entry in std::fs::read_dir(path).unwrap().flatten() {
            text.push_str(&read_all(&entry.path()));
        }
        text
    } else {
        String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned()
    }
}

/// An OpenAI agent named `name` for `model` at the proxy, keyed with the master key.
fn agent(name: &str, model: &str) -> String {
    let (url, _) = proxy();
    format!(
        "[agents.{name}]\nprovider = \"openai\"\nmodel = \"{model}\"\nbase_url = \"{url}/v1\"\n\
         api_key_env = \"{KEY_VARIABLE}\"\nretries = 0\ntimeout_secs = 30\n\n"
    )
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// What the output shows, and that the key is not in it.
fn shown_without_key(output: &Output) -> String {
    let (_, key) = proxy();
    let shown = format!("{}{}", stdout(output), stderr(output));
    assert!(!shown.contains(&key), "the key was printed:\n{shown}");
    shown
}

/// The `type` of each line of a run, and its chunks joined.
fn events(run: &[Value]) -> (Vec<String>, String) {
    let types = run
        .iter()
        .map(|line| line["type"].as_str().unwrap_or_default().to_owned())
        .collect();
    let text = run
        .iter()
        .filter(|line| line["type"] == "chunk")
        .map(|line| line["text"].as_str().unwrap_or_default())
        .collect();
    (types, text)
}

#[test]
#[ignore = "needs LiteLLM: run scripts/e2e/litellm"]
fn send_writes_the_canned_answer_into_the_file_and_the_journal() {
    let workspace = Workspace::new("send", &agent("proxy", "baton-canned"), "proxy");
    let file = workspace.ws().join("task.brief.md");
    let file = file.to_str().unwrap();

    // A keyed agent at a base_url of its own, from the workspace file: refused until trusted,
    // before anything is sent or journalled.
    let refused = workspace.baton(&["send", file], &[]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    let shown = shown_without_key(&refused);
    assert!(
        shown.contains("`proxy`") && shown.contains("refus") && shown.contains("trust"),
        "{shown}"
    );
    assert!(workspace.runs().is_empty());

    let output = workspace.baton(&["send", file], &[("BATON_TRUST_WORKSPACE", "1")]);
    let shown = shown_without_key(&output);
    assert_eq!(output.status.code(), Some(0), "{shown}");
    let text = workspace.brief();
    let block = &text[text.find("## Output @proxy").expect("an output block")..];
    assert!(block.contains("agent=proxy model=baton-canned"), "{block}");
    assert!(block.contains("status=done"), "{block}");
    assert!(
        block.contains(&format!("\n{CANNED}\n<!-- /baton:output run=")),
        "{block}"
    );
    assert!(text.starts_with(&BRIEF.replacen("# Greet the team", "# Greet the team @proxy", 1)));

    let runs = workspace.runs();
    assert_eq!(runs.len(), 1, "one run journalled");
    let (types, answer) = events(&runs[0]);
    assert_eq!(types.first().map(String::as_str), Some("start"));
    assert_eq!(types.last().map(String::as_str), Some("end"));
    assert_eq!(answer, CANNED, "every chunk journalled in order");
    assert_eq!(runs[0].last().unwrap()["state"], "done");
    let start = &runs[0][0];
    assert_eq!(start["model"], "baton-canned");
    assert!(start["payload"]
        .as_str()
        .unwrap()
        .contains("Say hello to the team."));

    let (_, key) = proxy();
    assert!(
        !workspace.journal_text().contains(&key),
        "the key is in the journal"
    );
    assert!(!workspace.brief().contains(&key), "the key is in the file");
}

#[test]
#[ignore = "needs LiteLLM: run scripts/e2e/litellm"]
fn agents_reports_the_proxy_reachable_once_trusted() {
    let agents = format!(
        "{}{}",
        agent("proxy", "baton-canned"),
        agent("broken", "baton-broken")
    );
    let workspace = Workspace::new("agents", &agents, "proxy");
    let ws = workspace.ws();
    let ws = ws.to_str().unwrap();

    let untrusted = workspace.baton(&["agents", ws], &[]);
    assert_eq!(untrusted.status.code(), Some(1));
    assert!(shown_without_key(&untrusted).contains("refused, not contacted"));

    let trust = workspace.baton(&["trust", ws], &[]);
    assert_eq!(trust.status.code(), Some(0), "{}", stderr(&trust));
    let output = workspace.baton(&["agents", ws, "--format", "json"], &[]);
    let shown = shown_without_key(&output);
    assert_eq!(output.status.code(), Some(0), "{shown}");
    let report: Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    for entry in report.as_array().unwrap() {
        assert_eq!(entry["trust"], "trusted", "{entry}");
        assert_eq!(entry["reach"]["state"], "reachable", "{entry}");
        assert_eq!(entry["reach"]["status"], 200, "{entry}");
        assert_eq!(entry["key"]["set"], true, "{entry}");
    }
    let table = workspace.baton(&["agents", ws], &[]);
    assert_eq!(table.status.code(), Some(0));
    let shown = shown_without_key(&table);
    assert!(shown.contains("reachable (HTTP 200"), "{shown}");
    assert!(shown.contains(&format!("{KEY_VARIABLE} set")), "{shown}");
}

#[test]
#[ignore = "needs LiteLLM: run scripts/e2e/litellm"]
fn a_failing_model_fails_clearly_and_its_run_is_closed_as_failed() {
    let agents = format!(
        "{}{}",
        agent("broken", "baton-broken"),
        agent("limited", "baton-rate-limited")
    );
    for (name, status, words) in [
        ("broken", "HTTP 500", "mock internal server error"),
        ("limited", "HTTP 429", "mock rate limit error"),
    ] {
        let workspace = Workspace::new(name, &agents, name);
        let file = workspace.ws().join("task.brief.md");
        let output = workspace.baton(
            &["send", file.to_str().unwrap()],
            &[("BATON_TRUST_WORKSPACE", "1")],
        );
        let shown = shown_without_key(&output);
        assert_eq!(output.status.code(), Some(1), "{shown}");
        assert!(
            shown.contains(&format!("agent `{name}` failed: {status}")),
            "{shown}"
        );
        assert!(shown.contains(words), "the provider's message: {shown}");
        assert!(shown.contains("the file is unchanged"), "{shown}");
        assert!(
            !workspace.brief().contains("## Output"),
            "no block is written"
        );

        let runs = workspace.runs();
        assert_eq!(runs.len(), 1, "the failed run is journalled");
        let end = runs[0].last().unwrap();
        assert_eq!(end["type"], "end");
        assert_eq!(end["state"], "failed");
        assert!(end["reason"].as_str().unwrap().contains(status), "{end}");
        let (_, key) = proxy();
        assert!(!workspace.journal_text().contains(&key));
    }
}
