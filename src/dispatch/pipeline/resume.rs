//! Resume (DESIGN §5, "the journal is the source of truth"): a run the journal shows done
//! whose block is missing from its document (the process was killed between the end of the
//! run and the write) is put back before anything is scheduled, so running the pipeline
//! again sends only what has no complete answer. Only a run that answers the brief as it
//! would be sent now (same `input` hash) is put back: an older answer would only be replaced.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::texts::Texts;
use super::{Event, Files, Pipeline, Writer};
use crate::brief::output;
use crate::dispatch::journal::{Final, Journal, RunSummary};
use crate::dispatch::place;
use crate::dispatch::run::recovery;

/// Puts back, in topological order (so each brief's inputs are as complete as the journal
/// allows when its hash is compared), the finished runs missing from the documents.
pub(super) fn recover(
    pipeline: &Pipeline,
    texts: &mut Texts,
    files: &dyn Files,
    writer: &mut dyn super::Writer,
    on_event: &mut (dyn FnMut(Event<'_>) + Send),
) {
    let missing = missing_runs(pipeline, texts);
    if missing.is_empty() {
        return;
    }
    for (node, brief) in pipeline.nodes.iter().enumerate() {
        let candidates = missing.iter().filter(|(file, run)| {
            *file == brief.file && run.brief_title == brief.title && run.state == Some(Final::Done)
        });
        for (_, run) in candidates {
            let hash = (texts.get(&brief.file))
                .and_then(|doc| doc.brief(&brief.title))
                .and_then(|index| texts.input_hash(&brief.file, index, files));
            if hash.as_deref() != Some(run.input_hash.as_str()) {
                continue;
            }
            if put_back(&brief.file, run, texts, writer).is_ok() {
                on_event(Event::Recovered {
                    node,
                    run: &run.run_id,
                });
                break;
            }
        }
    }
}

/// The runs of the pipeline's documents that the journal holds and the documents do not.
fn missing_runs(pipeline: &Pipeline, texts: &Texts) -> Vec<(PathBuf, RunSummary)> {
    let mut seen = HashSet::new();
    let mut missing = Vec::new();
    for node in &pipeline.nodes {
        if !seen.insert(node.file.clone()) {
            continue;
        }
        let Some(doc) = texts.get(&node.file) else {
            continue;
        };
        let present: HashSet<String> = (output::markers(&doc.text).into_iter())
            .map(|marker| marker.run)
            .collect();
        let journal = Journal::new(&journal_root(&doc.settings.config.root, &node.file));
        for run in journal.unrecovered(&node.file, &present) {
            missing.push((node.file.clone(), run));
        }
    }
    missing
}

/// Where a document's runs are journalled: as `plan` decides.
fn journal_root(root: &Option<PathBuf>, file: &Path) -> PathBuf {
    root.clone()
        .unwrap_or_else(|| file.parent().unwrap_or(Path::new("/")).to_path_buf())
}

/// Puts run `run` back under its brief in `file`: in memory, and through the writer.
fn put_back(
    file: &Path,
    run: &RunSummary,
    texts: &mut Texts,
    writer: &mut dyn Writer,
) -> Result<(), String> {
    let doc = texts.get(file).ok_or("gone")?;
    let root = journal_root(&doc.settings.config.root, file);
    let saved = Journal::new(&root)
        .read(&run.run_id)
        .map_err(|error| error.to_string())?;
    let demote = doc.settings.config.demote_headings();
    let edit = recovery::edit(&doc.document, &saved, demote).map_err(|_| "gone")?;
    let updated = place::apply(&doc.text, &edit);
    let body = place::body(&saved.text, true, demote);
    let marker = recovery::marker(&saved);
    writer.write(file, &run.brief_title, &marker, &body)?;
    texts.set(file, updated);
    Ok(())
}
