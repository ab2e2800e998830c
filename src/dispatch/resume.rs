//! Resuming from a handoff (DESIGN §6): a new thread whose first turn is the handoff file as it
//! is now, a user turn without an answer, in the thread of the document it `continues:` with
//! its `agent:` (or the agent chosen). A handoff without `continues:` (written by hand) seeds
//! its own thread, which a brief joins with `thread:` naming the same thread. Nothing is sent.

use std::path::{Path, PathBuf};

use super::handoff;
use super::plan;
use super::thread::{Choice, ThreadKey, Threads, Turn};
use crate::brief::front_matter;
use crate::document::Document;
use crate::workspace::{Boundary, Located, Settings};

/// A thread resumed from a handoff.
#[derive(Clone, Debug)]
pub struct Resumed {
    /// The document whose thread starts from the handoff.
    pub document: PathBuf,
    pub agent: String,
    pub thread_file: PathBuf,
}

/// Starts a new thread whose first turn is the handoff `text` (of the file at `path`) as it is
/// now: the thread of the document it `continues:` (its own without one) with `agent` (else
/// its `agent:`). `settings` are those of the handoff's folder.
pub fn resume(
    path: &Path,
    text: &str,
    agent: Option<&str>,
    settings: &Settings,
) -> Result<Resumed, String> {
    let (continues, named) = handoff::continued(text);
    let shown = path.display();
    let agent = agent.map(str::to_owned).or(named).ok_or_else(|| {
        format!("{shown} names no agent: add `agent: NAME` to its front matter, or choose one")
    })?;
    let folder = path.parent().unwrap_or(Path::new("/"));
    let root = plan::journal_root(&settings.config, path);
    let (document, thread) = match continues {
        Some(source) => {
            // Only a document inside the workspace is read, as with links.
            let boundary = Boundary::of_document(settings.config.root.as_deref(), folder, &[]);
            let Located::Inside { named, real } = boundary.locate(folder, &source) else {
                return Err(format!(
                    "{shown} continues {source}, which is outside this workspace; name a document inside it"
                ));
            };
            let readable = real.unwrap_or_else(|| named.clone());
            let source_text = std::fs::read_to_string(&readable).map_err(|error| {
                format!("{shown} continues {source}, which cannot be read: {error}")
            })?;
            (named, thread_of(&source_text))
        }
        None => (path.to_path_buf(), thread_of(text)),
    };
    let Some(key) = ThreadKey::of(&document, &root, Choice::of(thread.as_deref()), &agent) else {
        return Err(format!(
            "{} says `thread: none`: its runs carry no earlier turns, so there is no thread to resume",
            document.display()
        ));
    };
    let threads = Threads::new(&root);
    let seed = Turn {
        run: None,
        user: text.to_owned(),
        assistant: None,
    };
    threads
        .start_new(&key, Some(seed))
        .map_err(|error| error.to_string())?;
    Ok(Resumed {
        document,
        agent,
        thread_file: threads.file(&key),
    })
}

fn thread_of(text: &str) -> Option<String> {
    let (front_matter, _) = front_matter::read(&Document::new(text));
    front_matter.thread.map(|thread| thread.value)
}
