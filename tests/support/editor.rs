//! The test's editor for runs: the server, its one open document, and every other message the
//! server sent. It applies `workspace/applyEdit` requests made for the document's current
//! version and reports them as changes, as an editor does, and refuses those made for another
//! version; the user types with [`Editor::type_at`].

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{Doc, Server, Spawn, Workspace};

pub struct Editor {
    pub server: Server,
    pub doc: Doc,
    /// Every message from the server but responses and edits, in order.
    pub seen: Vec<Value>,
    /// `workspace/applyEdit` requests applied, and refused (made for another version).
    pub applied: usize,
    pub refused: usize,
}

impl Editor {
    /// Writes `name` with `text` into the workspace, starts a server and opens it.
    pub fn open(workspace: &Workspace, name: &str, text: &str, options: Value) -> Editor {
        Editor::open_with(workspace, name, text, options, Spawn::default())
    }

    pub fn open_with(
        workspace: &Workspace,
        name: &str,
        text: &str,
        options: Value,
        spawn: Spawn,
    ) -> Editor {
        workspace.write(name, text);
        let spawned = Server::spawn_with(
            &workspace.root,
            Spawn {
                manual_edits: true,
                ..spawn
            },
        );
        let (mut server, _) = spawned.initialize(workspace, &["utf-16"], options);
        let doc = server.open(&workspace.uri(name), text);
        Editor {
            server,
            doc,
            seen: Vec::new(),
            applied: 0,
            refused: 0,
        }
    }

    /// The editor starts a new server for the workspace (the old one was killed, say) and
    /// opens the document as it holds it.
    pub fn reopen(self, workspace: &Workspace) -> Editor {
        let spawned = Server::spawn_with(
            &workspace.root,
            Spawn {
                manual_edits: true,
                ..Spawn::default()
            },
        );
        let (mut server, _) = spawned.initialize(workspace, &["utf-16"], json!({}));
        let doc = server.open(&self.doc.uri, &self.doc.text);
        Editor {
            server,
            doc,
            seen: Vec::new(),
            applied: 0,
            refused: 0,
        }
    }

    /// Handles the next message from the server: applies edits, keeps the rest.
    pub fn pump(&mut self, what: &str) {
        let message = self.server.wait_for(what, |m| m.get("method").is_some());
        if message["method"] == "workspace/applyEdit" {
            self.apply(&message);
        } else {
            self.seen.push(message);
        }
    }

    /// Pumps until `done` holds of the editor.
    pub fn until(&mut self, what: &str, done: impl Fn(&Editor) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !done(self) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            self.pump(what);
        }
    }

    fn apply(&mut self, request: &Value) {
        let change = &request["params"]["edit"]["documentChanges"][0];
        assert_eq!(change["textDocument"]["uri"], self.doc.uri.as_str());
        if change["textDocument"]["version"].as_i64() != Some(self.doc.version) {
            self.refused += 1;
            let refusal = json!({ "applied": false, "failureReason": "stale version" });
            self.server.reply(&request["id"], refusal);
            return;
        }
        let changes = self
            .doc
            .apply_text_edits(change["edits"].as_array().unwrap());
        self.server.change(&mut self.doc, changes);
        self.applied += 1;
        self.server
            .reply(&request["id"], json!({ "applied": true }));
    }

    /// The user types: an edit of the client's copy, sent as the next version.
    pub fn type_at(&mut self, offset: usize, text: &str) {
        let change = self.doc.edit(offset..offset, text);
        self.server.change(&mut self.doc, vec![change]);
    }

    /// Waits until the brief at `find` offers to insert the saved output of `run` (a new
    /// server reads the journal off the typing path), chooses it, and waits for the block to
    /// change the document.
    pub fn recover(&mut self, find: &str, run: &str) {
        let offer = format!("Insert saved output of run {run} (");
        let deadline = Instant::now() + Duration::from_secs(10);
        let title = loop {
            let titles = self.titles_at(find);
            if let Some(title) = titles.iter().find(|title| title.starts_with(&offer)) {
                break title.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no recovery action in {titles:#?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let before = self.doc.text.clone();
        self.run_action(find, &title);
        self.until("the recovered block", |e| e.doc.text != before);
    }

    pub fn has(&self, text: &str) -> bool {
        self.doc.text.contains(text)
    }

    pub fn actions_at(&mut self, find: &str) -> Vec<Value> {
        let at = self.doc.at(find, 0);
        let range = json!({ "start": at["position"], "end": at["position"] });
        let params = json!({ "textDocument": at["textDocument"], "range": range, "context": { "diagnostics": [] } });
        let actions = self.server.request("textDocument/codeAction", params);
        actions.as_array().unwrap().clone()
    }

    pub fn titles_at(&mut self, find: &str) -> Vec<String> {
        let actions = self.actions_at(find);
        actions
            .iter()
            .map(|action| action["title"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Runs the action titled `title` as the editor does; returns the command's result.
    pub fn run_action(&mut self, find: &str, title: impl AsRef<str>) -> Value {
        let title = title.as_ref();
        let actions = self.actions_at(find);
        let action = actions
            .iter()
            .find(|action| action["title"] == title)
            .unwrap_or_else(|| panic!("no action {title:?} in {actions:#?}"));
        self.execute(&action["command"].clone())
    }

    pub fn execute(&mut self, command: &Value) -> Value {
        let params = json!({ "command": command["command"], "arguments": command["arguments"] });
        self.server.request("workspace/executeCommand", params)
    }

    pub fn lenses(&mut self) -> Vec<Value> {
        let params = json!({ "textDocument": { "uri": self.doc.uri } });
        let lenses = self.server.request("textDocument/codeLens", params);
        // As an editor does for the lenses in view: one left without a command (a budget
        // never counted) is resolved.
        (lenses.as_array().unwrap().iter())
            .map(|lens| match lens.get("command") {
                Some(command) if !command.is_null() => lens.clone(),
                _ => self.server.request("codeLens/resolve", lens.clone()),
            })
            .collect()
    }

    pub fn messages(&self) -> Vec<String> {
        self.seen
            .iter()
            .filter(|m| m["method"] == "window/showMessage")
            .map(|m| m["params"]["message"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Every work-done progress value, of any run, in order.
    pub fn all_progress(&self) -> Vec<&Value> {
        self.seen
            .iter()
            .filter(|m| m["method"] == "$/progress")
            .map(|m| &m["params"]["value"])
            .collect()
    }

    /// The first progress `end` value, once it comes.
    pub fn progress_end(&mut self) -> Value {
        self.until("the end of the progress", |e| {
            e.all_progress().iter().any(|p| p["kind"] == "end")
        });
        let progress = self.all_progress();
        let end = progress.into_iter().find(|p| p["kind"] == "end");
        end.unwrap().clone()
    }

    /// The work-done progress values of `run`, in order.
    pub fn progress(&self, run: &str) -> Vec<Value> {
        let token = format!("baton-run-{run}");
        self.seen
            .iter()
            .filter(|m| m["method"] == "$/progress" && m["params"]["token"] == token.as_str())
            .map(|m| m["params"]["value"].clone())
            .collect()
    }

    /// The message that ended `run`'s progress, once it ended.
    pub fn ended(&self, run: &str) -> Option<String> {
        let progress = self.progress(run);
        let end = progress.iter().find(|value| value["kind"] == "end")?;
        Some(end["message"].as_str().unwrap_or_default().to_owned())
    }
}
