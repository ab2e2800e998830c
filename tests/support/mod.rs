//! A small LSP client that drives the real `baton` binary over stdio, as an editor does.
//!
//! Messages are framed with `Content-Length`; a thread reads the server's output, answers the
//! server's own requests (`client/registerCapability`, `workspace/applyEdit`, ...) at once, and
//! queues everything else for the test. Every wait has a timeout, so a silent server fails the
//! test instead of hanging it.

#![allow(dead_code)] // Each test binary uses its own share of the helpers.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub mod editor;

/// How long any single wait for the server may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A temporary folder for one test, removed when dropped.
pub struct Workspace {
    pub root: PathBuf,
}

impl Workspace {
    pub fn new(name: &str) -> Workspace {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let unique = format!(
            "baton-lsp-test-{}-{name}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
        let root = std::env::temp_dir().join(unique);
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        Workspace { root }
    }

    /// A workspace holding a copy of `tests/fixtures/lsp/<fixture>`.
    pub fn from_fixture(fixture: &str) -> Workspace {
        let workspace = Workspace::new(fixture);
        let source = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/lsp")
            .join(fixture);
        for entry in std::fs::read_dir(&source).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), workspace.root.join(entry.file_name())).unwrap();
        }
        workspace
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    pub fn write(&self, relative: &str, text: &str) {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative)).unwrap()
    }

    pub fn uri(&self, relative: &str) -> String {
        file_uri(&self.path(relative))
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// `baton ARGS` run in `cwd` as a user with no configuration or trust of their own (no user
/// file, no trust store, no `BATON_TRUST_WORKSPACE`) and no proxy.
#[allow(dead_code)]
pub fn baton(cwd: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(args)
        .current_dir(cwd)
        .env("BATON_CONFIG", cwd.join("no-such-user-config.toml"))
        .env("BATON_TRUST_FILE", cwd.join("no-such-trust-file.toml"))
        .env_remove("BATON_TRUST_WORKSPACE")
        .env("NO_PROXY", "*")
        .env_remove("HTTPS_PROXY")
        .env_remove("HTTP_PROXY")
        .output()
        .expect("the baton binary runs")
}

/// An agent as the title of an action that sends to it names it when its `base_url` is not
/// its provider's own (DESIGN §7): `@writer · 127.0.0.1:40123` for a loopback agent at `url`.
pub fn to(agent: &str, url: &str) -> String {
    format!("@{agent} · {}", host(url))
}

/// The host (and port) of a loopback agent's `url`, as baton names it: `127.0.0.1:40123`.
pub fn host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split('/').next().unwrap()
}

/// A runtime for a test's loopback agents: one worker, beside the test's own thread.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// The `file:` URI of an absolute path, percent-encoded as the server encodes it.
pub fn file_uri(path: &Path) -> String {
    let mut uri = String::from("file://");
    for byte in path.to_str().unwrap().bytes() {
        match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                uri.push(byte as char)
            }
            _ => uri.push_str(&format!("%{byte:02X}")),
        }
    }
    uri
}

/// The client's copy of an open document, which turns byte-range edits into LSP changes in
/// the negotiated encoding.
pub struct Doc {
    pub uri: String,
    pub text: String,
    pub version: i64,
    pub utf8: bool,
}

impl Doc {
    /// Where each line starts; `\n`, `\r\n` and `\r` end lines, as in LSP.
    fn line_starts(&self) -> Vec<usize> {
        let bytes = self.text.as_bytes();
        let mut starts = vec![0];
        for (i, &byte) in bytes.iter().enumerate() {
            let lone_cr = byte == b'\r' && bytes.get(i + 1) != Some(&b'\n');
            if byte == b'\n' || lone_cr {
                starts.push(i + 1);
            }
        }
        starts
    }

    fn width(&self, text: &str) -> usize {
        if self.utf8 {
            text.len()
        } else {
            text.encode_utf16().count()
        }
    }

    /// The LSP position of a byte offset: columns in UTF-8 bytes or UTF-16 units.
    pub fn position(&self, offset: usize) -> Value {
        let starts = self.line_starts();
        let line = starts.partition_point(|&start| start <= offset) - 1;
        let character = self.width(&self.text[starts[line]..offset]);
        json!({ "line": line, "character": character })
    }

    pub fn range(&self, range: Range<usize>) -> Value {
        json!({ "start": self.position(range.start), "end": self.position(range.end) })
    }

    /// The byte offset of an LSP position (the inverse of [`Doc::position`]).
    pub fn offset(&self, position: &Value) -> usize {
        let line = position["line"].as_u64().unwrap() as usize;
        let character = position["character"].as_u64().unwrap() as usize;
        let start = self.line_starts()[line];
        let mut offset = start;
        for c in self.text[start..].chars() {
            if self.width(&self.text[start..offset]) >= character || c == '\n' || c == '\r' {
                break;
            }
            offset += c.len_utf8();
        }
        offset
    }

    /// Replaces the first occurrence of `find` with `with`; the LSP change event.
    pub fn replace(&mut self, find: &str, with: &str) -> Value {
        let start = self
            .text
            .find(find)
            .unwrap_or_else(|| panic!("{find:?} not in text"));
        self.edit(start..start + find.len(), with)
    }

    pub fn edit(&mut self, range: Range<usize>, with: &str) -> Value {
        let change = json!({ "range": self.range(range.clone()), "text": with });
        self.text.replace_range(range, with);
        change
    }

    /// `textDocument/position`-style parameters at the first occurrence of `find` in the text,
    /// `shift` bytes into it.
    pub fn at(&self, find: &str, shift: usize) -> Value {
        let offset = self
            .text
            .find(find)
            .unwrap_or_else(|| panic!("{find:?} not in text"))
            + shift;
        json!({ "textDocument": { "uri": self.uri }, "position": self.position(offset) })
    }

    /// Applies LSP text edits (as a server sends them) to the copy; returns the change events.
    pub fn apply_text_edits(&mut self, edits: &[Value]) -> Vec<Value> {
        let mut ranges: Vec<(Range<usize>, String)> = edits
            .iter()
            .map(|edit| {
                let start = self.offset(&edit["range"]["start"]);
                let end = self.offset(&edit["range"]["end"]);
                (start..end, edit["newText"].as_str().unwrap().to_owned())
            })
            .collect();
        // Back to front, so earlier offsets stay valid.
        ranges.sort_by_key(|(range, _)| std::cmp::Reverse(range.start));
        ranges
            .into_iter()
            .map(|(range, text)| self.edit(range, &text))
            .collect()
    }
}

/// How a test editor treats the server's `workspace/applyEdit`, as the real ones do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applies {
    /// Declares `documentChanges` and refuses an edit made for another version
    /// (`applied: false`), as VS Code and Helix do.
    RefusesStale,
    /// Declares `documentChanges`, but drops an edit made for an older version and still
    /// answers `applied: true`, and checks no version 0: Neovim's own handler.
    DropsStaleSaysApplied,
    /// Declares no `documentChanges`: takes unversioned `changes` and applies them at the
    /// positions given, against its text as it is now.
    Unversioned,
}

impl Applies {
    /// The client's `workspace.workspaceEdit` capability.
    pub fn workspace_edit(self) -> Value {
        match self {
            Applies::RefusesStale | Applies::DropsStaleSaysApplied => {
                json!({ "documentChanges": true })
            }
            Applies::Unversioned => json!({}),
        }
    }
}

/// What an editor did with one `workspace/applyEdit`.
pub struct Taken {
    /// The answer to send back.
    pub reply: Value,
    /// The change events made to the copy (empty when the edit was not applied); the copy's
    /// version has moved on by one when there are some.
    pub changes: Vec<Value>,
    /// Dropped as stale while answering `applied: true`.
    pub dropped: bool,
}

impl Doc {
    /// Handles a `workspace/applyEdit` request as an editor that `applies` edits so would.
    pub fn take_edit(&mut self, request: &Value, applies: Applies) -> Taken {
        let edit = &request["params"]["edit"];
        let (version, edits) = if applies == Applies::Unversioned {
            assert!(
                edit.get("documentChanges").is_none(),
                "a versioned edit: {edit}"
            );
            (None, edit["changes"][&self.uri].as_array().cloned())
        } else {
            let change = &edit["documentChanges"][0];
            assert_eq!(change["textDocument"]["uri"], self.uri.as_str());
            let version = change["textDocument"]["version"].as_i64();
            (version, change["edits"].as_array().cloned())
        };
        let edits = edits.unwrap_or_else(|| panic!("no edits for {} in {edit}", self.uri));
        let stale = version.is_some_and(|version| version != self.version);
        let taken = |reply: Value, dropped| Taken {
            reply,
            changes: Vec::new(),
            dropped,
        };
        match applies {
            Applies::RefusesStale if stale => {
                return taken(
                    json!({ "applied": false, "failureReason": "stale version" }),
                    false,
                )
            }
            Applies::DropsStaleSaysApplied
                if version.is_some_and(|version| version > 0 && self.version > version) =>
            {
                return taken(json!({ "applied": true }), true)
            }
            _ => {}
        }
        let changes = self.apply_text_edits(&edits);
        self.version += 1;
        Taken {
            reply: json!({ "applied": true }),
            changes,
            dropped: false,
        }
    }
}

/// The running server and the client's side of the conversation.
pub struct Server {
    child: Child,
    stdin: Arc<Mutex<ChildStdin>>,
    incoming: Receiver<Value>,
    backlog: VecDeque<Value>,
    /// Requests the server sent to the client, in order.
    pub server_requests: Arc<Mutex<Vec<Value>>>,
    next_id: i64,
    pub utf8: bool,
}

/// How to start the server, beyond the defaults.
#[derive(Default)]
pub struct Spawn {
    /// Hand `workspace/applyEdit` requests to the test (see [`Server::next_edit`]) instead of
    /// answering them at once, so the test can act as an editor that applies them.
    pub manual_edits: bool,
    pub env: Vec<(String, String)>,
    /// Where the server's stderr goes (its log), instead of nowhere.
    pub stderr: Option<PathBuf>,
}

impl Server {
    /// Starts `baton lsp` with the user's configuration out of reach.
    pub fn spawn(cwd: &Path) -> Server {
        Server::spawn_with(cwd, Spawn::default())
    }

    pub fn spawn_with(cwd: &Path, spawn: Spawn) -> Server {
        let stderr = match &spawn.stderr {
            Some(path) => Stdio::from(std::fs::File::create(path).unwrap()),
            None if std::env::var_os("BATON_TEST_STDERR").is_some() => Stdio::inherit(),
            None => Stdio::null(),
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_baton"))
            .arg("lsp")
            .current_dir(cwd)
            .env("BATON_CONFIG", cwd.join("no-such-user-config.toml"))
            .env("BATON_TRUST_FILE", cwd.join("no-such-trust-file.toml"))
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("BATON_TRUST_WORKSPACE")
            .envs(spawn.env.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawn baton");
        let manual_edits = spawn.manual_edits;
        let stdin = Arc::new(Mutex::new(child.stdin.take().unwrap()));
        let stdout = child.stdout.take().unwrap();
        let (sender, incoming) = mpsc::channel();
        let server_requests = Arc::new(Mutex::new(Vec::new()));
        let (writer, requests) = (stdin.clone(), server_requests.clone());
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                let mut message = message;
                if manual_edits {
                    // When the message reached the client, for timing what the server sent
                    // apart from how long the test took to handle it.
                    message["receivedAtMicros"] = json!(since_start().as_micros() as u64);
                }
                let edit = message["method"] == "workspace/applyEdit";
                if manual_edits && edit {
                    requests.lock().unwrap().push(message.clone());
                    if sender.send(message).is_err() {
                        return;
                    }
                } else if message.get("method").is_some() && message.get("id").is_some() {
                    let result = answer(&message);
                    let reply = json!({ "jsonrpc": "2.0", "id": message["id"], "result": result });
                    write_message(&mut writer.lock().unwrap(), &reply.to_string());
                    requests.lock().unwrap().push(message);
                } else if sender.send(message).is_err() {
                    return;
                }
            }
        });
        Server {
            child,
            stdin,
            incoming,
            backlog: VecDeque::new(),
            server_requests,
            next_id: 1,
            utf8: false,
        }
    }

    /// Spawns and initializes a server for `workspace`, offering these position encodings.
    /// Returns the server and the `initialize` result.
    pub fn start(workspace: &Workspace, encodings: &[&str]) -> (Server, Value) {
        let server = Server::spawn(&workspace.root);
        server.initialize(
            workspace,
            encodings,
            json!({ "trustedWorkspace": false, "logLevel": "warn" }),
        )
    }

    /// Initializes a spawned server as an editor that shows progress, refreshes code lenses
    /// and shows documents, with these `initializationOptions`.
    pub fn initialize(
        self,
        workspace: &Workspace,
        encodings: &[&str],
        options: Value,
    ) -> (Server, Value) {
        let workspace_edit = json!({ "documentChanges": true });
        self.initialize_as(workspace, encodings, options, "baton tests", workspace_edit)
    }

    /// [`Server::initialize`] as the client `name`, with this `workspace.workspaceEdit`
    /// capability.
    pub fn initialize_as(
        self,
        workspace: &Workspace,
        encodings: &[&str],
        options: Value,
        name: &str,
        workspace_edit: Value,
    ) -> (Server, Value) {
        let mut server = self;
        let root = file_uri(&workspace.root);
        let result = server.request(
            "initialize",
            json!({
                "processId": null,
                "clientInfo": { "name": name },
                "rootUri": root,
                "workspaceFolders": [{ "uri": root, "name": "ws" }],
                "capabilities": {
                    "general": { "positionEncodings": encodings },
                    "workspace": {
                        "applyEdit": true,
                        "workspaceEdit": workspace_edit,
                        "didChangeWatchedFiles": { "dynamicRegistration": true }
                    },
                    "textDocument": { "publishDiagnostics": { "versionSupport": true } },
                    "window": { "workDoneProgress": true, "showDocument": { "support": true } }
                },
                "initializationOptions": options
            }),
        );
        server.utf8 = result["capabilities"]["positionEncoding"] == "utf-8";
        server.notify("initialized", json!({}));
        (server, result)
    }

    /// Answers a request the server sent (with `manual_edits`).
    pub fn reply(&mut self, id: &Value, result: Value) {
        let reply = json!({ "jsonrpc": "2.0", "id": id, "result": result });
        self.send(&reply.to_string());
    }

    /// Sends a request and waits for its response; panics on an error response.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let response = self.request_response(method, params);
        assert!(
            response.get("error").is_none(),
            "{method} failed: {response}"
        );
        response["result"].clone()
    }

    /// Sends a request and waits for its whole response (result or error).
    pub fn request_response(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let message = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
        self.send(&message.to_string());
        self.wait_for(&format!("the response to {method}"), |m| {
            m.get("method").is_none() && m["id"] == id
        })
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        let message = json!({ "jsonrpc": "2.0", "method": method, "params": params });
        self.send(&message.to_string());
    }

    /// Sends one frame with this body, whatever it holds.
    pub fn send(&mut self, body: &str) {
        write_message(&mut self.stdin.lock().unwrap(), body);
    }

    /// Writes bytes to the server's stdin as they are, framed or not: for tests of the
    /// transport itself.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        let mut stdin = self.stdin.lock().unwrap();
        let _ = stdin.write_all(bytes).and_then(|()| stdin.flush());
    }

    /// The first message (queued or yet to come) that `matches`; it is consumed.
    pub fn wait_for(&mut self, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
        if let Some(index) = self.backlog.iter().position(&matches) {
            return self.backlog.remove(index).unwrap();
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.incoming.recv_timeout(left) {
                Ok(message) if matches(&message) => return message,
                Ok(message) => self.backlog.push_back(message),
                Err(RecvTimeoutError::Timeout) => {
                    panic!("timed out waiting for {what}; backlog: {:#?}", self.backlog)
                }
                Err(RecvTimeoutError::Disconnected) => panic!("server exited waiting for {what}"),
            }
        }
    }

    /// The next message (queued or yet to come) if one comes `within`; it is consumed.
    pub fn next_message(&mut self, within: Duration) -> Option<Value> {
        if let Some(message) = self.backlog.pop_front() {
            return Some(message);
        }
        match self.incoming.recv_timeout(within) {
            Ok(message) => Some(message),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => panic!("the server exited"),
        }
    }

    /// The diagnostics published for `uri` at `version` (`None`: an unversioned publication).
    pub fn wait_for_diagnostics(&mut self, uri: &str, version: Option<i64>) -> Vec<Value> {
        let what = format!("diagnostics for {uri} at version {version:?}");
        let message = self.wait_for(&what, |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && m["params"]["version"].as_i64() == version
        });
        message["params"]["diagnostics"].as_array().unwrap().clone()
    }

    /// Opens a document; returns the client's copy of it.
    pub fn open(&mut self, uri: &str, text: &str) -> Doc {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "markdown", "version": 1, "text": text } }),
        );
        Doc {
            uri: uri.to_owned(),
            text: text.to_owned(),
            version: 1,
            utf8: self.utf8,
        }
    }

    /// Sends changes made to `doc` as the next version.
    pub fn change(&mut self, doc: &mut Doc, changes: Vec<Value>) {
        doc.version += 1;
        self.notify(
            "textDocument/didChange",
            json!({
                "textDocument": { "uri": doc.uri, "version": doc.version },
                "contentChanges": changes,
            }),
        );
    }

    /// The first request of `method` the server sent the client (already answered).
    pub fn wait_for_server_request(&mut self, method: &str) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let requests = self.server_requests.lock().unwrap();
            if let Some(request) = requests.iter().find(|r| r["method"] == method) {
                return request.clone();
            }
            drop(requests);
            assert!(
                Instant::now() < deadline,
                "no {method} request from the server"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the server process, as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Shuts the server down as an editor does and checks that it exits cleanly, having sent
    /// no error message to the user.
    pub fn shutdown(mut self) {
        assert_eq!(self.request("shutdown", Value::Null), Value::Null);
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + TIMEOUT;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "the server did not exit");
            std::thread::sleep(Duration::from_millis(5));
        };
        assert!(status.success(), "exit status {status}");
        self.backlog.extend(self.incoming.try_iter());
        let errors: Vec<&Value> = self
            .backlog
            .iter()
            .filter(|m| m["method"] == "window/showMessage" || m.get("method").is_none())
            .collect();
        assert!(errors.is_empty(), "unexpected messages: {errors:#?}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Time since the first call, on a clock shared by the test and the reader thread.
pub fn since_start() -> Duration {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed()
}

/// What this client answers to a server's request.
fn answer(request: &Value) -> Value {
    match request["method"].as_str().unwrap_or("") {
        "workspace/applyEdit" => json!({ "applied": true }),
        "workspace/configuration" => {
            let items = request["params"]["items"].as_array().map_or(0, Vec::len);
            Value::Array(vec![Value::Null; items])
        }
        _ => Value::Null,
    }
}

fn write_message(stdin: &mut ChildStdin, body: &str) {
    let frame = format!("Content-Length: {}\r\n\r\n{body}", body.len());
    // The server may be gone already (a test of its exit); the reader reports that.
    let _ = stdin
        .write_all(frame.as_bytes())
        .and_then(|()| stdin.flush());
}

fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length: ") {
            length = value.parse().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    Some(serde_json::from_slice(&body).expect("the server sent invalid JSON"))
}

/// Diagnostics as one line each: `line:col-line:col severity code: message`.
pub fn render(diagnostics: &[Value]) -> String {
    let severity = |s: &Value| match s.as_i64() {
        Some(1) => "error",
        Some(2) => "warning",
        Some(3) => "information",
        _ => "hint",
    };
    diagnostics
        .iter()
        .map(|d| {
            let (start, end) = (&d["range"]["start"], &d["range"]["end"]);
            format!(
                "{}:{}-{}:{} {} {}: {}\n",
                start["line"],
                start["character"],
                end["line"],
                end["character"],
                severity(&d["severity"]),
                d["code"].as_str().unwrap_or("?"),
                d["message"].as_str().unwrap_or("")
            )
        })
        .collect()
}

/// The text each diagnostic covers, by code: what a user sees underlined.
pub fn underlined(doc: &Doc, diagnostics: &[Value]) -> Vec<(String, String)> {
    diagnostics
        .iter()
        .map(|d| {
            let start = doc.offset(&d["range"]["start"]);
            let end = doc.offset(&d["range"]["end"]);
            (
                d["code"].as_str().unwrap().to_owned(),
                doc.text[start..end].to_owned(),
            )
        })
        .collect()
}

/// Waits for `version` of the document at `uri` and checks what a document over the size
/// limit gets: one `too-large` diagnostic, and no symbols.
pub fn assert_too_large_to_lint(server: &mut Server, uri: &str, version: i64) {
    let diagnostics = server.wait_for_diagnostics(uri, Some(version));
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0]["code"], "too-large");
    let symbols = server.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": uri } }),
    );
    assert_eq!(symbols, json!([]));
}
