//! Threads (DESIGN §6): successive runs of one agent from one document (or from every
//! document naming one thread, front matter `thread: NAME`) form a conversation, sent with each
//! new run as its earlier turns. A thread is a JSON Lines file under `.baton/threads/`, one
//! line per turn (the payload as sent, the answer as received) and a `new` line where the user
//! started a new thread (the turns before it are forgotten, and stay in the journal). The
//! journal stays the record of every run; a thread file only says which runs a conversation
//! carries on from.
//!
//! This is the only code that names or writes thread files; they are created through
//! `fs_safe`, inside the workspace's real `.baton/`.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::agent::Message;
use crate::fs_safe::{self, WriteError};

/// The folder of `.baton` that holds threads.
const THREADS_DIR: &str = "threads";

/// Which thread a run belongs to: the document's own with its agent, or a named one.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ThreadKey {
    /// The file name under `.baton/threads/`, without `.jsonl`.
    name: String,
}

/// What a document's front matter says of its thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice<'a> {
    /// No `thread:`: the document's own thread with each agent.
    Own,
    /// `thread: none`: every run is sent without earlier turns.
    None,
    /// `thread: NAME`: one thread with each agent, shared by every document that names it.
    Named(&'a str),
}

impl<'a> Choice<'a> {
    /// The choice the front matter's `thread:` value makes (`None` when there is none).
    pub fn of(value: Option<&'a str>) -> Choice<'a> {
        match value.map(str::trim) {
            None | Some("") => Choice::Own,
            Some(name) if name.eq_ignore_ascii_case("none") => Choice::None,
            Some(name) => Choice::Named(name),
        }
    }
}

impl ThreadKey {
    /// The thread a run of `agent` from `document` belongs to, `None` for `thread: none`.
    /// `root` is where the journal is (the workspace); a document's own thread is named by its
    /// path relative to it, so that moving the workspace keeps its threads.
    pub fn of(document: &Path, root: &Path, choice: Choice<'_>, agent: &str) -> Option<ThreadKey> {
        let base = match choice {
            Choice::None => return None,
            Choice::Named(name) => format!("thread-{name}"),
            Choice::Own => {
                let relative = document.strip_prefix(root).unwrap_or(document);
                format!("doc-{}", relative.display())
            }
        };
        Some(ThreadKey {
            name: format!("{}.{}", file_safe(&base), file_safe(agent)),
        })
    }

    /// The thread's file name under `.baton/threads/`.
    pub fn file_name(&self) -> String {
        format!("{}.jsonl", self.name)
    }
}

/// A name any file system takes: letters, digits, `-`, `_`, kept; anything else as `_`,
/// followed by a short hash of the whole, so that two names that differ only there stay apart.
fn file_safe(text: &str) -> String {
    let kept: String = text
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' => c,
            _ => '_',
        })
        .take(80)
        .collect();
    if kept == text {
        return kept;
    }
    // FNV-1a: stable across builds and platforms, unlike the standard hasher.
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{kept}-{:08x}", hash as u32)
}

/// One exchange of a thread: what was sent and what came back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    /// The run that made it (in the journal), or `None` for a turn the user seeded (a handoff
    /// to resume from).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// The payload as it was sent (the user's message).
    pub user: String,
    /// The answer as it was received; `None` for a seeded turn, which has no answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assistant: Option<String>,
}

impl Turn {
    /// The turn as the messages a request carries: the user's, then the answer when there is
    /// one.
    pub fn messages(&self) -> Vec<Message> {
        let mut messages = vec![Message::user(self.user.clone())];
        if let Some(answer) = &self.assistant {
            messages.push(Message::assistant(answer.clone()));
        }
        messages
    }
}

/// One line of a thread file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Line {
    Turn(Turn),
    /// The user started a new thread here: the turns before are forgotten.
    New,
}

/// The threads of one workspace (where its journal is).
#[derive(Clone, Debug)]
pub struct Threads {
    root: PathBuf,
}

impl Threads {
    /// The threads beside the journal of `root` (the folder of the workspace `baton.toml`,
    /// else the document's).
    pub fn new(root: &Path) -> Threads {
        Threads {
            root: root.to_path_buf(),
        }
    }

    /// Where the thread of `key` is kept (it may not exist yet).
    pub fn file(&self, key: &ThreadKey) -> PathBuf {
        (self.root.join(fs_safe::BATON_DIR).join(THREADS_DIR)).join(key.file_name())
    }

    /// The turns of the thread since it was last started anew, oldest first. A thread never
    /// written has none; lines that do not parse (a torn last line) are skipped.
    pub fn turns(&self, key: &ThreadKey) -> Vec<Turn> {
        let Ok(text) = fs::read_to_string(self.file(key)) else {
            return Vec::new();
        };
        let mut turns = Vec::new();
        for line in text.lines() {
            match serde_json::from_str::<Line>(line) {
                Ok(Line::Turn(turn)) => turns.push(turn),
                Ok(Line::New) => turns.clear(),
                Err(_) => {}
            }
        }
        turns
    }

    /// Whether the thread of `key` has turns since it was last started anew: whether "Start a
    /// new thread" would forget anything. Reads only as far back as the last line that parses.
    pub fn has_turns(&self, key: &ThreadKey) -> bool {
        let Ok(text) = fs::read_to_string(self.file(key)) else {
            return false;
        };
        let last = text
            .lines()
            .rev()
            .find_map(|line| serde_json::from_str::<Line>(line).ok());
        matches!(last, Some(Line::Turn(_)))
    }

    /// Adds `turn` at the end of the thread of `key`.
    pub fn append(&self, key: &ThreadKey, turn: Turn) -> Result<(), WriteError> {
        self.write_line(key, &Line::Turn(turn))
    }

    /// Starts the thread of `key` anew: its earlier turns are forgotten (the file and the
    /// journal keep them); `seed`, when given, is the new thread's first turn.
    pub fn start_new(&self, key: &ThreadKey, seed: Option<Turn>) -> Result<(), WriteError> {
        self.write_line(key, &Line::New)?;
        match seed {
            Some(turn) => self.append(key, turn),
            None => Ok(()),
        }
    }

    fn write_line(&self, key: &ThreadKey, line: &Line) -> Result<(), WriteError> {
        let dir = fs_safe::baton_dir(&self.root)?.subdir(THREADS_DIR)?;
        let name = key.file_name();
        let path = dir.path().join(&name);
        let mut bytes = serde_json::to_vec(line)
            .map_err(|error| WriteError::io("encode a line of", &path, io::Error::other(error)))?;
        bytes.push(b'\n');
        let mut file = dir.append(&name)?;
        if !ends_a_line(&path) {
            // A crash tore the last line: the next one starts on a line of its own.
            bytes.insert(0, b'\n');
        }
        (file.write_all(&bytes))
            .and_then(|()| file.sync_data())
            .map_err(|error| WriteError::io("write", &path, error))
    }
}

/// The turns of `key`'s thread in the workspace of `root`, read from disk: what planning is
/// given to read threads with (`plan::Ask::turns`).
pub fn on_disk(root: &Path, key: &ThreadKey) -> Vec<Turn> {
    Threads::new(root).turns(key)
}

/// Whether the file at `path` is empty or ends with a line break.
fn ends_a_line(path: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut file) = fs::File::open(path) else {
        return true;
    };
    let mut last = [b'\n'];
    let read = file
        .seek(SeekFrom::End(-1))
        .and_then(|_| file.read_exact(&mut last));
    read.is_err() || last[0] == b'\n'
}

#[cfg(test)]
mod tests;
