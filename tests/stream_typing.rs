//! An answer streams into the document while the user types (issue 13), through the real
//! binary, for each kind of client the README documents: one that refuses stale versioned
//! edits (VS Code, Helix, Neovim with baton's plugin), Neovim's own handler (drops a stale
//! versioned edit and answers `applied: true`, checks no version 0, reports changes at most
//! every 150 ms), an unknown client that does the same, and a client without
//! `documentChanges` (unversioned edits applied where they say). The user types above, inside
//! and below the brief, a key every 100 ms or 30 ms, in bursts of 700 ms with a pause of a
//! second after each; the whole document must end exact: the typed text where it was typed,
//! one output block with the whole answer under the brief, marked `status=done`.
//!
//! The test is the editor: one thread that types on its schedule, reports its changes as the
//! client would, and applies (or drops, or refuses) the server's edits the moment they come.

mod support;

#[allow(dead_code)]
#[path = "agents/server.rs"]
mod server;
#[allow(dead_code)]
#[path = "agents/streams.rs"]
mod streams;

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use server::{Server as Agent, Step};
use streams::{openai_delta, openai_end, SSE};
use support::to;
use support::{runtime, Applies, Doc, Server, Spawn, Workspace};

const BRIEF: &str = "# Scan prices @writer\n\n## Objective\n\nFind the prices.\n\n## Context\n\nWe reprice.\n\n## Constraints\n\nPublic sources.\n\n## Expected Output\n\nA table.\n";
/// Where the user types above the brief: a blank line before its heading.
const TOP: &str = "\n";
const LATER: &str = "\n# Later\n\nNotes.\n";
/// What the user types, a character per keystroke, again and again.
const TYPED: &str = "ok\n";
/// The agent's answer: sixty words, one every 50 ms.
const PIECES: usize = 60;
const PIECE_EVERY: Duration = Duration::from_millis(50);
/// The user types in bursts, and stops to read after each.
const BURST: Duration = Duration::from_millis(700);
const PAUSE: Duration = Duration::from_millis(1000);

/// An editor, as the server meets it.
#[derive(Clone, Copy, Debug)]
struct Client {
    name: &'static str,
    applies: Applies,
    /// Changes are reported at most this often (Neovim's `debounce_text_changes`), else at once.
    batch: Option<Duration>,
    /// The version the document is opened at (Neovim: 0).
    opened_at: i64,
}

const VS_CODE: Client = Client {
    name: "Visual Studio Code",
    applies: Applies::RefusesStale,
    batch: None,
    opened_at: 1,
};
const NEOVIM: Client = Client {
    name: "Neovim",
    applies: Applies::DropsStaleSaysApplied,
    batch: Some(Duration::from_millis(150)),
    opened_at: 0,
};
/// Behaves as Neovim's handler does without saying it is Neovim: the server finds out.
const UNKNOWN_DROPPER: Client = Client {
    name: "some editor",
    applies: Applies::DropsStaleSaysApplied,
    batch: Some(Duration::from_millis(150)),
    opened_at: 1,
};
const NO_DOCUMENT_CHANGES: Client = Client {
    name: "Neovim",
    applies: Applies::Unversioned,
    batch: Some(Duration::from_millis(150)),
    opened_at: 0,
};

/// Where the user types.
#[derive(Clone, Copy, Debug)]
enum Place {
    /// On a blank line before the brief's heading.
    Above,
    /// At the end of the brief's first paragraph.
    Inside,
    /// At the end of the document, under another section.
    Below,
}

/// The test's editor: its copy of the document and what it did with the server's edits.
struct Editor {
    server: Server,
    doc: Doc,
    client: Client,
    /// Changes made but not yet reported (`didChange`), and when the last report went out.
    unreported: Vec<Value>,
    reported_at: Instant,
    typed: String,
    applied: usize,
    refused: usize,
    dropped: usize,
    /// Work-done progresses ended (one per run).
    progress_ended: usize,
    /// Bursts of typing begun.
    bursts: usize,
}

impl Editor {
    fn open(workspace: &Workspace, client: Client) -> Editor {
        let text = format!("{TOP}{BRIEF}{LATER}");
        workspace.write("a.brief.md", &text);
        let spawned = Server::spawn_with(
            &workspace.root,
            Spawn {
                manual_edits: true,
                ..Spawn::default()
            },
        );
        let (mut server, _) = spawned.initialize_as(
            workspace,
            &["utf-16"],
            json!({}),
            client.name,
            client.applies.workspace_edit(),
        );
        let uri = workspace.uri("a.brief.md");
        server.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "markdown",
                    "version": client.opened_at, "text": text } }),
        );
        let doc = Doc {
            uri,
            text,
            version: client.opened_at,
            utf8: false,
        };
        Editor {
            server,
            doc,
            client,
            unreported: Vec::new(),
            reported_at: Instant::now(),
            typed: String::new(),
            applied: 0,
            refused: 0,
            dropped: 0,
            progress_ended: 0,
            bursts: 0,
        }
    }

    /// Sends the brief holding `find` to @writer with the code action `title`, as the user
    /// does; returns the run id.
    fn send(&mut self, find: &str, title: String) -> String {
        let at = self.doc.at(find, 0);
        let range = json!({ "start": at["position"], "end": at["position"] });
        let params = json!({ "textDocument": at["textDocument"], "range": range,
                             "context": { "diagnostics": [] } });
        let actions = self.server.request("textDocument/codeAction", params);
        let action = actions
            .as_array()
            .unwrap()
            .iter()
            .find(|action| action["title"] == title)
            .unwrap_or_else(|| panic!("no send action in {actions:#}"))
            .clone();
        let command = &action["command"];
        let params = json!({ "command": command["command"], "arguments": command["arguments"] });
        let started = self.server.request("workspace/executeCommand", params);
        started["run"].as_str().expect("a run id").to_owned()
    }

    /// One keystroke at `place`.
    fn type_key(&mut self, place: Place) {
        let key = TYPED.chars().nth(self.typed.len() % TYPED.len()).unwrap();
        let at = match place {
            Place::Above => self.typed.len(),
            Place::Inside => {
                self.doc.text.find("Find the prices.").unwrap() + 16 + self.typed.len()
            }
            Place::Below => self.doc.text.len(),
        };
        let change = self.doc.edit(at..at, &key.to_string());
        self.typed.push(key);
        self.doc.version += 1;
        self.unreported.push(change);
        self.report_if_due();
    }

    /// Sends the unreported changes as one `didChange` at the copy's version, unless the client
    /// batches them and its last report is too recent.
    fn report_if_due(&mut self) {
        let due = self
            .client
            .batch
            .is_none_or(|batch| self.reported_at.elapsed() >= batch);
        if self.unreported.is_empty() || !due {
            return;
        }
        let changes: Vec<Value> = self.unreported.drain(..).collect();
        self.server.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": self.doc.uri, "version": self.doc.version },
                    "contentChanges": changes }),
        );
        self.reported_at = Instant::now();
    }

    /// Handles one message from the server.
    fn handle(&mut self, message: Value) {
        match message["method"].as_str() {
            Some("workspace/applyEdit") => {
                let taken = self.doc.take_edit(&message, self.client.applies);
                match (taken.changes.is_empty(), taken.dropped) {
                    (false, _) => self.applied += 1,
                    (true, true) => self.dropped += 1,
                    (true, false) => self.refused += 1,
                }
                self.unreported.extend(taken.changes);
                self.report_if_due();
                self.server.reply(&message["id"], taken.reply);
            }
            Some("$/progress") if message["params"]["value"]["kind"] == "end" => {
                self.progress_ended += 1;
            }
            _ => {}
        }
    }

    /// Handles what the server sends for `span`, reporting batched changes when due.
    fn listen(&mut self, span: Duration) {
        let until = Instant::now() + span;
        while let Some(left) = until.checked_duration_since(Instant::now()) {
            let wait = left.min(Duration::from_millis(10));
            if let Some(message) = self.server.next_message(wait) {
                self.handle(message);
            }
            self.report_if_due();
        }
    }
}

/// The agent's answer, piece by piece, and a loopback agent that streams it to every request;
/// `runtime` must live as long as the test.
fn answering_agent(runtime: &tokio::runtime::Runtime) -> (Vec<String>, String) {
    // Lines of four words: an edit that adds lines moves everything below it.
    let pieces: Vec<String> = (1..=PIECES)
        .map(|i| format!("w{i}{}", if i % 4 == 0 { '\n' } else { ' ' }))
        .collect();
    let mut stream = vec![Step::Stream(SSE)];
    for piece in &pieces {
        stream.push(Step::Pause(PIECE_EVERY));
        stream.push(Step::Chunk(openai_delta(piece).into_bytes()));
    }
    stream.extend(
        openai_end()
            .into_iter()
            .map(|end| Step::Chunk(end.into_bytes())),
    );
    stream.push(Step::End);
    let url = runtime.block_on(Agent::start(vec![stream])).url;
    (pieces, url)
}

fn workspace(url: &str) -> Workspace {
    let workspace = Workspace::new("stream-typing");
    workspace.write(
        "baton.toml",
        &format!(
            "[agents.writer]\nprovider = \"openai\"\nmodel = \"m1\"\nbase_url = \"{url}/v1\"\nretries = 0\n"
        ),
    );
    workspace
}

/// Types at `place` in bursts, from now until `runs` runs are done and written.
fn type_until_done(editor: &mut Editor, place: Place, interval: Duration, runs: usize) {
    let done = |editor: &Editor| {
        editor.progress_ended >= runs
            && editor.doc.text.matches("status=done").count() >= runs
            && editor.unreported.is_empty()
    };
    let started = Instant::now();
    while !done(editor) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{:?} {place:?}: not done after 30 s; the document:\n{}",
            editor.client,
            editor.doc.text
        );
        let burst = Instant::now();
        editor.bursts += 1;
        while burst.elapsed() < BURST && !done(editor) {
            editor.type_key(place);
            editor.listen(interval);
        }
        let pause = Instant::now();
        while pause.elapsed() < PAUSE && !done(editor) {
            editor.listen(Duration::from_millis(10));
        }
    }
    // Anything the server still sends (it should send nothing) lands before the check.
    editor.listen(Duration::from_millis(700));
}

/// The `input` hashes of the document's markers, in order.
fn input_hashes(text: &str) -> Vec<&str> {
    text.match_indices(" input=")
        .map(|(at, _)| &text[at + 7..at + 15])
        .collect()
}

fn stream_while_typing(client: Client, place: Place, interval: Duration) {
    let runtime = runtime();
    let (pieces, url) = answering_agent(&runtime);
    let workspace = workspace(&url);
    let mut editor = Editor::open(&workspace, client);
    let run = editor.send(
        "Find the",
        format!("Send \"Scan prices\" to {}", to("writer", &url)),
    );
    // Type from the moment the send is chosen, so the block is created while the user types.
    type_until_done(&mut editor, place, interval, 1);

    let text = &editor.doc.text;
    let input = input_hashes(text)[0];
    let typed = editor.typed.as_str();
    let brief = match place {
        Place::Above => format!("{typed}{TOP}{BRIEF}"),
        Place::Inside => {
            TOP.to_owned() + &BRIEF.replace("Find the prices.", &format!("Find the prices.{typed}"))
        }
        Place::Below => format!("{TOP}{BRIEF}"),
    };
    let below = if matches!(place, Place::Below) {
        typed
    } else {
        ""
    };
    let expected = format!(
        "{brief}\n## Output @writer\n<!-- baton:output run={run} agent=writer model=m1 input={input} status=done -->\n{}\n<!-- /baton:output run={run} -->\n{LATER}{below}",
        pieces.concat()
    );
    assert_eq!(
        *text, expected,
        "{client:?} typing {place:?} every {interval:?}: {} applied, {} refused, {} dropped",
        editor.applied, editor.refused, editor.dropped
    );
    assert!(typed.len() >= 10, "only {} keystrokes", typed.len());
    match client.name {
        // Told apart at `initialize`: written to only when typing pauses. An edit can only be
        // dropped when it crosses the first key of a new burst on the wire, as in Neovim.
        "Neovim" => assert!(
            editor.dropped < editor.bursts,
            "{client:?} {place:?}: {} dropped in {} bursts",
            editor.dropped,
            editor.bursts
        ),
        "some editor" => assert!(editor.dropped > 0, "the server never wrote while typing"),
        _ => {}
    }
}

/// Two briefs of one document answered at once while the user types above them: each edit
/// must be computed from text that holds the other run's last edit.
fn two_answers_while_typing(client: Client, interval: Duration) {
    let runtime = runtime();
    let (pieces, url) = answering_agent(&runtime);
    let workspace = workspace(&url);
    let mut editor = Editor::open(&workspace, client);
    let first = editor.send(
        "Find the",
        format!("Send \"Scan prices\" to {}", to("writer", &url)),
    );
    let second = editor.send(
        "Notes.",
        format!("Send \"Later\" to {}", to("writer", &url)),
    );
    type_until_done(&mut editor, Place::Above, interval, 2);

    let text = &editor.doc.text;
    let inputs = input_hashes(text);
    assert_eq!(inputs.len(), 2, "two blocks:\n{text}");
    let answer = pieces.concat();
    let block = |run: &str, input: &str| {
        format!(
            "\n## Output @writer\n<!-- baton:output run={run} agent=writer model=m1 input={input} status=done -->\n{answer}\n<!-- /baton:output run={run} -->\n"
        )
    };
    let expected = format!(
        "{}{TOP}{BRIEF}{}{LATER}{}",
        editor.typed,
        block(&first, inputs[0]),
        block(&second, inputs[1])
    );
    assert_eq!(
        *text, expected,
        "{client:?} every {interval:?}: {} applied, {} refused, {} dropped",
        editor.applied, editor.refused, editor.dropped
    );
}

#[test]
fn two_answers_at_once_without_document_changes() {
    two_answers_while_typing(NO_DOCUMENT_CHANGES, Duration::from_millis(30));
}

#[test]
fn two_answers_at_once_in_neovim() {
    two_answers_while_typing(NEOVIM, Duration::from_millis(100));
}

#[test]
fn two_answers_at_once_in_vs_code() {
    two_answers_while_typing(VS_CODE, Duration::from_millis(30));
}

/// An editor without `documentChanges` that answers `applied: true` but never applies the
/// edit: the server may not compute another edit from text that lacks it (that would write
/// the block twice once the first one landed); it stops writing and says where the answer is.
#[test]
fn an_edit_never_reported_back_is_not_followed_by_another() {
    let runtime = runtime();
    let (_, url) = answering_agent(&runtime);
    let workspace = workspace(&url);
    let mut editor = Editor::open(&workspace, NO_DOCUMENT_CHANGES);
    editor.send(
        "Find the",
        format!("Send \"Scan prices\" to {}", to("writer", &url)),
    );
    let mut edits = 0;
    let deadline = Instant::now() + Duration::from_secs(25);
    let message = loop {
        assert!(Instant::now() < deadline, "no message after {edits} edits");
        let Some(message) = editor.server.next_message(Duration::from_millis(100)) else {
            continue;
        };
        match message["method"].as_str() {
            Some("workspace/applyEdit") => {
                edits += 1;
                editor
                    .server
                    .reply(&message["id"], json!({ "applied": true }));
            }
            Some("window/showMessage") => break message["params"]["message"].clone(),
            _ => {}
        }
    };
    assert_eq!(edits, 1, "only the creating edit");
    let message = message.as_str().unwrap();
    assert!(
        message.contains("stopped writing into the document (the editor said it applied an edit but never reported the change)")
            && message.contains(".baton/runs/"),
        "{message}"
    );
}

macro_rules! scenarios {
    ($($name:ident: $client:expr, $place:expr, $interval:expr;)*) => {$(
        #[test]
        fn $name() {
            stream_while_typing($client, $place, Duration::from_millis($interval));
        }
    )*};
}

scenarios! {
    vs_code_above_100ms: VS_CODE, Place::Above, 100;
    vs_code_above_30ms: VS_CODE, Place::Above, 30;
    vs_code_inside_100ms: VS_CODE, Place::Inside, 100;
    vs_code_inside_30ms: VS_CODE, Place::Inside, 30;
    vs_code_below_100ms: VS_CODE, Place::Below, 100;
    vs_code_below_30ms: VS_CODE, Place::Below, 30;
    neovim_above_100ms: NEOVIM, Place::Above, 100;
    neovim_above_30ms: NEOVIM, Place::Above, 30;
    neovim_inside_100ms: NEOVIM, Place::Inside, 100;
    neovim_inside_30ms: NEOVIM, Place::Inside, 30;
    neovim_below_100ms: NEOVIM, Place::Below, 100;
    neovim_below_30ms: NEOVIM, Place::Below, 30;
    unknown_dropper_above_100ms: UNKNOWN_DROPPER, Place::Above, 100;
    unknown_dropper_above_30ms: UNKNOWN_DROPPER, Place::Above, 30;
    unknown_dropper_inside_100ms: UNKNOWN_DROPPER, Place::Inside, 100;
    unknown_dropper_inside_30ms: UNKNOWN_DROPPER, Place::Inside, 30;
    unknown_dropper_below_100ms: UNKNOWN_DROPPER, Place::Below, 100;
    unknown_dropper_below_30ms: UNKNOWN_DROPPER, Place::Below, 30;
    no_document_changes_above_100ms: NO_DOCUMENT_CHANGES, Place::Above, 100;
    no_document_changes_above_30ms: NO_DOCUMENT_CHANGES, Place::Above, 30;
    no_document_changes_inside_100ms: NO_DOCUMENT_CHANGES, Place::Inside, 100;
    no_document_changes_inside_30ms: NO_DOCUMENT_CHANGES, Place::Inside, 30;
    no_document_changes_below_100ms: NO_DOCUMENT_CHANGES, Place::Below, 100;
    no_document_changes_below_30ms: NO_DOCUMENT_CHANGES, Place::Below, 30;
}
