//! Where a pipeline's answers go in the editor: into the buffer of a document the editor holds
//! open, by the same writer a single send streams with (`Injector`: versioned edits, or edits
//! sent when typing pauses, checked to have landed), and into the file on disk, atomically,
//! for any other document (`dispatch::on_disk`), so the editor finds it there when it opens it.
//!
//! The pipeline hands each block over as its run ends, without waiting: one task writes them
//! in order, and says which could not be written (the answer is in the journal).

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tower_lsp_server::ls_types as lsp;

use crate::brief::output::Marker;
use crate::dispatch::on_disk;
use crate::dispatch::pipeline::Writer;
use crate::lsp::dispatch::Dispatcher;
use crate::lsp::inject::Injector;

/// How long a block may wait for an open document to take it (a client written to only when
/// typing pauses takes nothing while the user types).
const WRITE_WITHIN: Duration = Duration::from_secs(60);
/// How often a block not yet in an open document is tried again.
const RETRY_EVERY: Duration = Duration::from_millis(50);

/// One answer to write.
struct Block {
    file: PathBuf,
    title: String,
    marker: Marker,
    body: String,
}

/// The pipeline's side: hands each block to the task that writes them.
pub struct EditorWriter {
    blocks: UnboundedSender<Block>,
}

impl Writer for EditorWriter {
    fn write(
        &mut self,
        file: &Path,
        title: &str,
        marker: &Marker,
        body: &str,
    ) -> Result<(), String> {
        let block = Block {
            file: file.to_path_buf(),
            title: title.to_owned(),
            marker: marker.clone(),
            body: body.to_owned(),
        };
        (self.blocks.send(block)).map_err(|_| "the server is shutting down".to_owned())
    }
}

/// The writer a pipeline is given, and the task that writes what it is handed; the task ends
/// once the writer is dropped and every block is written, with what could not be.
pub fn start(dispatcher: Dispatcher) -> (EditorWriter, tokio::task::JoinHandle<Vec<String>>) {
    let (blocks, received) = unbounded_channel();
    let task = tokio::spawn(write_all(dispatcher, received));
    (EditorWriter { blocks }, task)
}

async fn write_all(dispatcher: Dispatcher, mut blocks: UnboundedReceiver<Block>) -> Vec<String> {
    let mut problems = Vec::new();
    while let Some(block) = blocks.recv().await {
        if let Err(problem) = write(&dispatcher, &block).await {
            problems.push(format!(
                "the answer to \"{}\" was not written: {problem}; it is in the journal (run {})",
                block.title, block.marker.run
            ));
        }
    }
    problems
}

async fn write(dispatcher: &Dispatcher, block: &Block) -> Result<(), String> {
    let open = dispatcher.state.uri_at(&block.file);
    let Some(uri) = open.and_then(|uri| lsp::Uri::from_str(&uri).ok()) else {
        let (file, title) = (block.file.clone(), block.title.clone());
        let (marker, body) = (block.marker.clone(), block.body.clone());
        let written = tokio::task::spawn_blocking(move || {
            on_disk::write_block(&file, &title, &marker, &body).map(drop)
        });
        return written.await.unwrap_or_else(|error| Err(error.to_string()));
    };
    // The body is already prepared (`place::body`); preparing it again changes nothing, as
    // long as its headings are not demoted twice.
    let mut injector = Injector::new(
        dispatcher.client.clone(),
        dispatcher.state.clone(),
        uri,
        block.title.clone(),
        block.marker.clone(),
        false,
    );
    injector.push(&block.body);
    let deadline = tokio::time::Instant::now() + WRITE_WITHIN;
    while !injector.flush(block.marker.status).await {
        if tokio::time::Instant::now() >= deadline {
            injector.give_up();
            break;
        }
        tokio::time::sleep(RETRY_EVERY).await;
    }
    match injector.stopped() {
        Some(stopped) => Err(stopped.describe().to_owned()),
        None => Ok(()),
    }
}
