//! Twenty runs at once, through the real server (issue 3's performance goals). A loopback
//! OpenAI-compatible agent streams 5,000 tokens per run as fast as it can; this process plays
//! the editor: it applies the server's edits (refusing stale ones), and meanwhile types in a
//! 10 KB brief and times keystroke-to-diagnostics. It reports:
//!
//! - whether every output is complete and exact, in the document and in the journal;
//! - the delay from the agent's first byte to the first injected text, per run;
//! - the most edits any run made within one second;
//! - baton's CPU time per token, and its peak resident memory;
//! - keystroke-to-diagnostics latency with and without the runs.
//!
//! Run with `cargo bench --bench dispatch` (release build). `BENCH_RUNS`, `BENCH_TOKENS` change
//! the load.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use support::{Doc, Server, Spawn, Workspace};

/// When the agent sent each run's first chunk, by the brief's number.
type FirstBytes = Arc<Mutex<HashMap<usize, Instant>>>;

fn main() {
    let runs: usize = env_or("BENCH_RUNS", 20);
    let tokens: usize = env_or("BENCH_TOKENS", 5000);
    let first_bytes = FirstBytes::default();
    let url = serve_agent(tokens, first_bytes.clone());

    let workspace = Workspace::new("bench-dispatch");
    workspace.write(
        "baton.toml",
        &format!(
            "[agents.fast]\nprovider = \"openai\"\nmodel = \"bench\"\nbase_url = \"{url}/v1\"\nretries = 0\nmax_concurrent = {runs}\n"
        ),
    );
    let spawned = Server::spawn_with(
        &workspace.root,
        Spawn {
            manual_edits: true,
            ..Spawn::default()
        },
    );
    let pid = spawned.pid();
    let (server, _) = spawned.initialize(&workspace, &["utf-16"], json!({}));
    let mut editor = Editor {
        clock: Instant::now() - support::since_start(),
        server,
        docs: HashMap::new(),
        edits: HashMap::new(),
        first_text: HashMap::new(),
    };
    let typing = typing_brief();
    editor.open(&workspace, "typing.brief.md", &typing);
    for n in 0..runs {
        editor.open(&workspace, &format!("run{n}.brief.md"), &brief(n));
    }
    editor.settle();

    let quiet = editor.keystrokes("typing.brief.md", 100, None);

    let cpu_before = cpu_ticks(pid);
    let started = Instant::now();
    for n in 0..runs {
        let uri = workspace.uri(&format!("run{n}.brief.md"));
        let params = json!({ "command": "baton.send", "arguments": [{ "uri": uri }] });
        editor.server.request("workspace/executeCommand", params);
    }
    let mut peak_rss = 0;
    let busy = editor.keystrokes(
        "typing.brief.md",
        usize::MAX,
        Some(&mut |editor: &Editor| {
            peak_rss = peak_rss.max(rss_kib(pid));
            editor.finished() == runs
        }),
    );
    let elapsed = started.elapsed();
    let cpu = cpu_ticks(pid) - cpu_before;
    peak_rss = peak_rss.max(rss_kib(pid));

    // Exactness: every document holds its whole answer, and so does the journal.
    let expected = answer(tokens);
    let mut exact = 0;
    for n in 0..runs {
        let doc = &editor.docs[&workspace.uri(&format!("run{n}.brief.md"))];
        if doc.text.contains(&format!(
            "status=done -->\n{expected}\n<!-- /baton:output run="
        )) {
            exact += 1;
        }
    }
    let journalled = std::fs::read_dir(workspace.path(".baton/runs"))
        .unwrap()
        .flatten()
        .filter(|entry| {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            let chunks: String = text
                .lines()
                .filter_map(|line| serde_json::from_str::<Value>(line).ok())
                .filter(|event| event["type"] == "chunk")
                .map(|event| event["text"].as_str().unwrap().to_owned())
                .collect();
            chunks == expected && text.contains("\"state\":\"done\"")
        })
        .count();

    let first_bytes = first_bytes.lock().unwrap();
    let mut delays: Vec<f64> = (0..runs)
        .filter_map(|n| {
            let uri = workspace.uri(&format!("run{n}.brief.md"));
            let injected = editor.first_text.get(&uri)?;
            let first = first_bytes.get(&n)?;
            Some(injected.saturating_duration_since(*first).as_secs_f64() * 1000.0)
        })
        .collect();
    delays.sort_by(f64::total_cmp);
    let most_edits_per_second = editor
        .edits
        .values()
        .map(|times| {
            times
                .iter()
                .map(|start| {
                    times
                        .iter()
                        .filter(|t| {
                            **t >= *start && t.duration_since(*start) < Duration::from_secs(1)
                        })
                        .count()
                })
                .max()
                .unwrap_or(0)
        })
        .max()
        .unwrap_or(0);
    let total_tokens = runs * tokens;
    let cpu_seconds = cpu as f64 / clock_ticks() as f64;
    println!("dispatch bench: {runs} runs × {tokens} tokens through baton lsp, loopback agent streaming as fast as it can");
    println!(
        "  all done in            {:.0} ms",
        elapsed.as_secs_f64() * 1000.0
    );
    println!("  exact in the document  {exact}/{runs}");
    println!("  exact in the journal   {journalled}/{runs}");
    println!(
        "  first byte → first text injected: p50 {:.1} ms, max {:.1} ms (goal < 50 ms)",
        percentile(&delays, 0.5),
        delays.last().copied().unwrap_or(f64::NAN)
    );
    println!("  most edits by one run within 1 s: {most_edits_per_second} (goal ≤ 25)");
    println!(
        "  baton CPU: {:.2} s for {total_tokens} tokens = {:.1} µs per token",
        cpu_seconds,
        cpu_seconds * 1e6 / total_tokens as f64
    );
    println!(
        "  baton peak RSS during the runs: {:.1} MB",
        peak_rss as f64 / 1024.0
    );
    println!(
        "  keystroke → diagnostics (10 KB brief): quiet p50 {:.2} / p99 {:.2} ms; during the runs p50 {:.2} / p99 {:.2} ms ({} keys)",
        percentile(&quiet, 0.5),
        percentile(&quiet, 0.99),
        percentile(&busy, 0.5),
        percentile(&busy, 0.99),
        busy.len()
    );
    editor.server.kill();
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let mut values = sorted.to_vec();
    values.sort_by(f64::total_cmp);
    if values.is_empty() {
        return f64::NAN;
    }
    values[((values.len() - 1) as f64 * p).round() as usize]
}

fn brief(n: usize) -> String {
    format!("# Bench run {n} @fast\n\n## Objective\n\nRun {n}.\n\n## Context\n\nA benchmark.\n\n## Constraints\n\nNone.\n\n## Expected Output\n\nTokens.\n")
}

fn typing_brief() -> String {
    let mut text = String::from("# Typing here @fast\n\n## Objective\n\nType.\n\n## Context\n\n");
    while text.len() < 10_000 {
        text.push_str("Some context about the café and its 顧客, with a [[Typing here]] link.\n");
    }
    text.push_str("\n## Constraints\n\nNone.\n");
    text
}

/// Token `i` of an answer: a word and a space, a line break now and then.
fn token(i: usize) -> String {
    if i % 16 == 15 {
        format!("t{i}\n")
    } else {
        format!("t{i} ")
    }
}

fn answer(tokens: usize) -> String {
    (0..tokens).map(token).collect()
}

/// The loopback agent: one thread per connection, the answer as SSE chunks, no pauses. The
/// stream is made once, so that the agent spends the two cores' time on writing, not on
/// formatting, and leaves it to the server under test.
fn serve_agent(tokens: usize, first_bytes: FirstBytes) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let events: Vec<String> = (0..tokens)
        .map(|i| {
            let event = json!({"id": "b", "object": "chat.completion.chunk", "model": "bench",
                "choices": [{"index": 0, "delta": {"content": token(i)}, "finish_reason": null}]});
            format!("data: {event}\n\n")
        })
        .collect();
    let first = Arc::new(events[0].clone().into_bytes());
    let mut rest = events[1..].concat();
    rest.push_str("data: {\"id\":\"b\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n");
    let rest = Arc::new(rest.into_bytes());
    std::thread::spawn(move || {
        for socket in listener.incoming().flatten() {
            let first_bytes = first_bytes.clone();
            let (first, rest) = (first.clone(), rest.clone());
            std::thread::spawn(move || stream_answer(socket, &first, &rest, &first_bytes));
        }
    });
    url
}

fn stream_answer(socket: TcpStream, first: &[u8], rest: &[u8], first_bytes: &FirstBytes) {
    let mut reader = BufReader::new(socket.try_clone().unwrap());
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(value) = lower.strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        }
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let body = String::from_utf8_lossy(&body);
    let n: usize = body
        .split("Run ")
        .nth(1)
        .and_then(|rest| rest.split('.').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(usize::MAX);
    let mut out = socket;
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";
    out.write_all(head.as_bytes()).unwrap();
    first_bytes.lock().unwrap().insert(n, Instant::now());
    if out.write_all(first).is_ok() {
        let _ = out.write_all(rest);
    }
}

struct Editor {
    server: Server,
    /// The instant `support::since_start` counts from.
    clock: Instant,
    docs: HashMap<String, Doc>,
    /// When each document's edits were applied.
    edits: HashMap<String, Vec<Instant>>,
    /// When each document first received answer text.
    first_text: HashMap<String, Instant>,
}

impl Editor {
    fn open(&mut self, workspace: &Workspace, name: &str, text: &str) {
        workspace.write(name, text);
        let doc = self.server.open(&workspace.uri(name), text);
        self.docs.insert(doc.uri.clone(), doc);
    }

    /// Waits until every document has been diagnosed once.
    fn settle(&mut self) {
        let uris: Vec<String> = self.docs.keys().cloned().collect();
        for uri in uris {
            self.server.wait_for_diagnostics(&uri, Some(1));
        }
    }

    fn finished(&self) -> usize {
        self.docs
            .values()
            .filter(|doc| doc.text.contains("status=done"))
            .count()
    }

    /// Handles one message; returns it unless it was an edit.
    fn pump(&mut self) -> Option<Value> {
        let message = self.server.wait_for("a message", |_| true);
        if message["method"] != "workspace/applyEdit" {
            return Some(message);
        }
        let change = &message["params"]["edit"]["documentChanges"][0];
        let uri = change["textDocument"]["uri"].as_str().unwrap().to_owned();
        let doc = self.docs.get_mut(&uri).unwrap();
        if change["textDocument"]["version"].as_i64() != Some(doc.version) {
            let id = message["id"].clone();
            self.server.reply(&id, json!({ "applied": false }));
            return None;
        }
        let changes = doc.apply_text_edits(change["edits"].as_array().unwrap());
        self.server.change(doc, changes);
        // Timed from when the edit reached this client, not from when it got round to it.
        let received = message["receivedAtMicros"].as_u64().unwrap();
        let now = self.clock + Duration::from_micros(received);
        self.edits.entry(uri.clone()).or_default().push(now);
        self.first_text.entry(uri).or_insert(now);
        let id = message["id"].clone();
        self.server.reply(&id, json!({ "applied": true }));
        None
    }

    /// Types one character at a time at the end of a field, waiting for the diagnostics of
    /// each version; stops after `count` keys, or when `stop` says so. Returns the latencies.
    fn keystrokes(
        &mut self,
        name: &str,
        count: usize,
        mut stop: Option<&mut dyn FnMut(&Editor) -> bool>,
    ) -> Vec<f64> {
        let uri = self
            .docs
            .keys()
            .find(|uri| uri.ends_with(name))
            .unwrap()
            .clone();
        let mut latencies = Vec::new();
        for _ in 0..count {
            if let Some(stop) = stop.as_mut() {
                if stop(self) {
                    break;
                }
            }
            let doc = self.docs.get_mut(&uri).unwrap();
            let at = doc.text.find("\n## Constraints").unwrap();
            let change = doc.edit(at..at, "x");
            self.server.change(doc, vec![change]);
            let version = doc.version;
            let sent = support::since_start();
            loop {
                let Some(message) = self.pump() else { continue };
                if message["method"] == "textDocument/publishDiagnostics"
                    && message["params"]["uri"] == uri.as_str()
                    && message["params"]["version"].as_i64() == Some(version)
                {
                    let received = message["receivedAtMicros"].as_u64().unwrap();
                    let latency = Duration::from_micros(received).saturating_sub(sent);
                    latencies.push(latency.as_secs_f64() * 1000.0);
                    break;
                }
            }
        }
        latencies
    }
}

fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line; 12 and 13 after the command name.
    let utime: u64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0);
    let stime: u64 = fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    utime + stime
}

fn clock_ticks() -> u64 {
    100
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}
