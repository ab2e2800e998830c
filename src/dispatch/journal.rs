//! The run journal (DESIGN §4 steps 3 and 6): `<root>/.baton/runs/<run id>.jsonl`, one event
//! per line: a `start` event with the payload as sent, a `chunk` event per piece of the answer
//! as it arrives, and an `end` event with the final state.
//!
//! Durability: the start event is fsynced, with the directory entry, before the request goes
//! out. Each chunk is one `write` to the OS at once, not fsynced: it survives a killed or
//! crashed process (the kernel holds it), not a power cut, because an fsync per chunk would
//! cost a disk flush per token on twenty parallel streams. The end event is fsynced, so a
//! finished run survives a power cut whole. A crash leaves a readable prefix: readers skip a
//! torn last line, and a run without an end event reads as interrupted.
//!
//! Secrets: the journal writes only what it is given. Callers pass the payload as sent (system
//! prompt and messages), never request headers, so no API key can land here.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::run_file;
pub use super::run_file::{Final, Run, RunRecord, RunSummary, RunWriter};
use crate::fs_safe::{self, WriteError};

/// The folder of `.baton` that holds the run files.
const RUNS_DIR: &str = "runs";

/// The runs of one workspace. The only code that writes run files.
#[derive(Clone, Debug)]
pub struct Journal {
    root: PathBuf,
    runs: PathBuf,
}

impl Journal {
    /// The journal under `<root>/.baton/runs/`. Touches no disk: the directory is made by the
    /// first [`Journal::start`], so merely opening a document leaves no trace.
    pub fn new(root: &Path) -> Journal {
        let runs = root.join(fs_safe::BATON_DIR).join(RUNS_DIR);
        Journal {
            root: root.to_path_buf(),
            runs,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.runs
    }

    /// Where run `run_id` is (or would be) kept, to tell the user; the only place a run
    /// file's path is made.
    pub fn file(&self, run_id: &str) -> PathBuf {
        self.runs.join(file_name(run_id))
    }

    /// Records a run before any byte of it leaves: the start event is on disk when this returns.
    /// The run file is created only inside the workspace's real `.baton/runs/` (`fs_safe`): a
    /// planted link there is refused, and the run with it.
    pub fn start(&self, record: RunRecord) -> Result<RunWriter, WriteError> {
        let path = self
            .path(&record.run_id)
            .map_err(|error| WriteError::io("name a run file in", &self.runs, error))?;
        let runs = fs_safe::baton_dir(&self.root)?.subdir(RUNS_DIR)?;
        let file = runs.create_new(&file_name(&record.run_id))?;
        let writer = RunWriter::start(file, record)
            .map_err(|error| WriteError::io("write", &path, error))?;
        runs.sync()?;
        Ok(writer)
    }

    /// Every readable run, newest first.
    pub fn runs(&self) -> Vec<RunSummary> {
        let Ok(entries) = fs::read_dir(&self.runs) else {
            return Vec::new();
        };
        let mut runs: Vec<RunSummary> = entries
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name();
                let id = name.to_str()?.strip_suffix(EXTENSION)?;
                valid_id(id).then(|| run_file::summary(&entry.path()))?
            })
            .collect();
        runs.sort_by(|a, b| (b.started_at, &b.run_id).cmp(&(a.started_at, &a.run_id)));
        runs
    }

    /// A run read back: its record, all text received, and how it ended.
    pub fn read(&self, run_id: &str) -> io::Result<Run> {
        run_file::parse(&fs::read(self.path(run_id)?)?)
    }

    /// The runs of a document whose output is missing from it (DESIGN §4 step 6), newest first.
    /// `present_runs` holds the run ids of the document's output markers. Per brief and agent,
    /// only the newest run that holds text is offered, and none when a newer run of that pair
    /// is in the document: a re-run replaces its block, and the runs it superseded are not lost
    /// output.
    pub fn unrecovered(&self, document: &Path, present_runs: &HashSet<String>) -> Vec<RunSummary> {
        let mut settled = HashSet::new();
        let mut offered = Vec::new();
        for run in self
            .runs()
            .into_iter()
            .filter(|run| run.document == document)
        {
            let pair = (run.brief_title.clone(), run.agent.clone());
            if settled.contains(&pair) {
                continue;
            }
            if present_runs.contains(&run.run_id) {
                settled.insert(pair);
                continue;
            }
            if self
                .read(&run.run_id)
                .is_ok_and(|read| !read.text.is_empty())
            {
                settled.insert(pair);
                offered.push(run);
            }
        }
        offered
    }

    fn path(&self, run_id: &str) -> io::Result<PathBuf> {
        if !valid_id(run_id) {
            let message = format!("not a run id: {run_id:?}");
            return Err(io::Error::new(io::ErrorKind::InvalidInput, message));
        }
        Ok(self.file(run_id))
    }
}

/// The ending of a run file's name.
const EXTENSION: &str = ".jsonl";

fn file_name(run_id: &str) -> String {
    format!("{run_id}{EXTENSION}")
}

/// Run ids name files, so they are kept to letters, digits, `-` and `_`.
fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use std::time::{SystemTime, UNIX_EPOCH};

    use super::*;
    use crate::dispatch::run_file::tests::record;

    /// A fresh workspace root under the temp directory, removed on drop.
    struct Root(PathBuf);

    impl Root {
        fn new(name: &str) -> Root {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            let dir = std::env::temp_dir().join(format!(
                "baton-journal-{name}-{}-{nanos}",
                std::process::id()
            ));
            fs::create_dir_all(&dir).unwrap();
            Root(dir)
        }
    }

    impl Drop for Root {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn run(journal: &Journal, record: RunRecord, chunks: &[&str], state: Option<Final>) {
        let mut writer = journal.start(record).unwrap();
        for chunk in chunks {
            writer.append(chunk).unwrap();
        }
        if let Some(state) = state {
            writer.finish(state).unwrap();
        }
    }

    #[test]
    fn a_run_reads_back_as_written() {
        let root = Root::new("round-trip");
        let journal = Journal::new(&root.0);
        let failed = Final::Failed {
            reason: "HTTP 500: upstream".to_owned(),
        };
        run(
            &journal,
            record("R1", "Scan", 1),
            &["Hel", "lo\n", "wörld 🌍"],
            Some(failed.clone()),
        );
        let read = journal.read("R1").unwrap();
        assert_eq!(
            read,
            Run {
                record: record("R1", "Scan", 1),
                text: "Hello\nwörld 🌍".to_owned(),
                state: Some(failed),
                usage: None,
            }
        );
        assert_eq!(
            journal.runs()[0].state,
            Some(Final::Failed {
                reason: "HTTP 500: upstream".to_owned()
            })
        );
        assert!(
            journal.start(record("R1", "Scan", 2)).is_err(),
            "a run id names one run"
        );
        assert!(journal.read("../R1").is_err());
    }

    #[test]
    fn a_run_without_an_end_reads_as_interrupted() {
        let root = Root::new("interrupted");
        let journal = Journal::new(&root.0);
        run(
            &journal,
            record("R1", "Scan", 1),
            &["half an ans", "wer"],
            None,
        );
        run(&journal, record("R2", "Scan", 2), &[], Some(Final::Done));
        let read = journal.read("R1").unwrap();
        assert_eq!((read.text.as_str(), read.state), ("half an answer", None));
        let states: Vec<_> = journal
            .runs()
            .into_iter()
            .map(|run| (run.run_id, run.state))
            .collect();
        assert_eq!(
            states,
            [
                ("R2".to_owned(), Some(Final::Done)),
                ("R1".to_owned(), None)
            ]
        );
    }

    #[test]
    fn runs_are_listed_newest_first_and_long_runs_keep_their_state() {
        let root = Root::new("order");
        let journal = Journal::new(&root.0);
        assert!(journal.runs().is_empty(), "no journal yet");
        let long = "x".repeat(run_file::TAIL_BYTES as usize + 10);
        run(
            &journal,
            record("B", "Scan", 20),
            &[&long],
            Some(Final::Cancelled),
        );
        run(&journal, record("A", "Scan", 30), &[], Some(Final::Done));
        run(
            &journal,
            record("C", "Scan", 10),
            &[&long, "y"],
            Some(Final::Partial {
                reason: "timeout".to_owned(),
            }),
        );
        fs::write(journal.dir().join("junk.jsonl"), "not json\n").unwrap();
        let runs = journal.runs();
        let ids: Vec<&str> = runs.iter().map(|run| run.run_id.as_str()).collect();
        assert_eq!(ids, ["A", "B", "C"]);
        assert_eq!(runs[1].state, Some(Final::Cancelled));
        assert_eq!(
            runs[2].state,
            Some(Final::Partial {
                reason: "timeout".to_owned()
            })
        );
    }

    #[test]
    fn unrecovered_offers_the_newest_lost_output_of_each_brief() {
        let root = Root::new("unrecovered");
        let journal = Journal::new(&root.0);
        run(
            &journal,
            record("S1", "Scan", 1),
            &["old"],
            Some(Final::Done),
        );
        run(&journal, record("S2", "Scan", 2), &["lost"], None);
        run(
            &journal,
            record("S3", "Scan", 3),
            &[],
            Some(Final::Failed {
                reason: "401".to_owned(),
            }),
        );
        run(
            &journal,
            record("P1", "Plan", 4),
            &["present"],
            Some(Final::Done),
        );
        run(
            &journal,
            record("Q1", "Quote", 5),
            &["superseded"],
            Some(Final::Done),
        );
        run(
            &journal,
            record("Q2", "Quote", 6),
            &["in the document"],
            Some(Final::Done),
        );
        let elsewhere = RunRecord {
            document: PathBuf::from("/w/other.brief.md"),
            ..record("O1", "Scan", 7)
        };
        run(&journal, elsewhere, &["other"], Some(Final::Done));
        let present: HashSet<String> = ["P1".to_owned(), "Q2".to_owned()].into();
        let offered = journal.unrecovered(Path::new("/w/plan.brief.md"), &present);
        let ids: Vec<&str> = offered.iter().map(|run| run.run_id.as_str()).collect();
        assert_eq!(
            ids,
            ["S2"],
            "the newest run with text, not the superseded or the present ones"
        );
    }

    #[test]
    fn the_gitignore_is_written_once() {
        let root = Root::new("gitignore");
        let journal = Journal::new(&root.0);
        let gitignore = root.0.join(".baton/.gitignore");
        assert!(
            !gitignore.exists(),
            "a journal that never ran writes nothing"
        );
        run(&journal, record("R1", "Scan", 1), &[], None);
        assert!(fs::read_to_string(&gitignore)
            .unwrap()
            .lines()
            .any(|line| line == "*"));
        fs::write(&gitignore, "runs/\n").unwrap();
        run(&journal, record("R2", "Scan", 2), &[], None);
        assert_eq!(
            fs::read_to_string(&gitignore).unwrap(),
            "runs/\n",
            "the user's edit stays"
        );
    }
}
