//! The format of a run file: JSON Lines, one event per line, so a crash leaves a readable
//! prefix. `{"type":"start",...}` holds the [`RunRecord`], each `{"type":"chunk","text":"..."}`
//! a piece of the answer, `{"type":"usage",...}` the tokens the provider reported (the
//! [`Usage`], just before the end), and `{"type":"end","state":"done"}` the [`Final`] state. Readers skip
//! lines that do not parse (a torn last line) and events of unknown types.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

pub use super::usage::Usage;

/// How much of a run file's end is read to find its final state without reading the output.
pub(super) const TAIL_BYTES: u64 = 64 * 1024;

/// What is known of a run before it starts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    pub run_id: String,
    pub document: PathBuf,
    pub brief_title: String,
    pub agent: String,
    pub model: String,
    pub provider: String,
    pub input_hash: String,
    /// The system prompt and messages exactly as sent, without headers.
    pub payload: String,
    /// Stored as milliseconds since the Unix epoch.
    #[serde(with = "millis")]
    pub started_at: SystemTime,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum Final {
    Done,
    Failed { reason: String },
    Cancelled,
    Partial { reason: String },
}

/// One line of a run file. Unknown types are skipped, so later versions may add some.
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub(super) enum Event<'a> {
    Start(Cow<'a, RunRecord>),
    Chunk {
        text: Cow<'a, str>,
    },
    Usage(Usage),
    /// Something the user should know of the run that is no failure (the agent saw only
    /// part of the payload).
    Warning {
        message: Cow<'a, str>,
    },
    End(Final),
    #[serde(other)]
    Unknown,
}

/// A run read back whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    pub record: RunRecord,
    /// Every chunk received, concatenated.
    pub text: String,
    /// `None` when the process died mid-run.
    pub state: Option<Final>,
    /// `None` when the provider reported none.
    pub usage: Option<Usage>,
}

/// A run as listed, without its payload and output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSummary {
    pub run_id: String,
    pub document: PathBuf,
    pub brief_title: String,
    pub agent: String,
    pub model: String,
    pub input_hash: String,
    pub started_at: SystemTime,
    pub state: Option<Final>,
    pub usage: Option<Usage>,
}

/// The record from the first line and the state from the last lines, so listing many
/// long runs does not read their outputs.
pub(super) fn summary(path: &Path) -> Option<RunSummary> {
    let mut file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let mut first = Vec::new();
    BufReader::new(&file).read_until(b'\n', &mut first).ok()?;
    let Ok(Event::Start(record)) = serde_json::from_slice(&first) else {
        return None;
    };
    let from = len.saturating_sub(TAIL_BYTES).max(first.len() as u64);
    let mut tail = Vec::new();
    file.seek(SeekFrom::Start(from)).ok()?;
    file.read_to_end(&mut tail).ok()?;
    let state = match last_state(&tail, from == first.len() as u64) {
        Some(state) => state,
        None => parse(&std::fs::read(path).ok()?).ok()?.state,
    };
    let usage = last_usage(&tail);
    let record = record.into_owned();
    Some(RunSummary {
        run_id: record.run_id,
        document: record.document,
        brief_title: record.brief_title,
        agent: record.agent,
        model: record.model,
        input_hash: record.input_hash,
        started_at: record.started_at,
        state,
        usage,
    })
}

/// The usage event from a run file's tail, if the run wrote one.
fn last_usage(tail: &[u8]) -> Option<Usage> {
    tail.split(|&byte| byte == b'\n')
        .rev()
        .take(4)
        .find_map(|line| match serde_json::from_slice(line) {
            Ok(Event::Usage(usage)) => Some(usage),
            _ => None,
        })
}

/// The final state from a run file's tail, or `None` when the tail cannot tell (it starts in
/// the middle of a line longer than itself).
pub(super) fn last_state(tail: &[u8], starts_at_line: bool) -> Option<Option<Final>> {
    let mut lines: Vec<&[u8]> = tail.split(|&byte| byte == b'\n').collect();
    if !starts_at_line {
        lines.remove(0);
    }
    for line in lines.iter().rev() {
        match serde_json::from_slice(line) {
            Ok(Event::End(state)) => return Some(Some(state)),
            Ok(Event::Start(_) | Event::Chunk { .. }) => return Some(None),
            Ok(Event::Usage(_) | Event::Warning { .. }) => {}
            Ok(Event::Unknown) | Err(_) => {}
        }
    }
    starts_at_line.then_some(None)
}

/// Reads a run file; lines that do not parse (a torn last line) are skipped.
pub fn parse(bytes: &[u8]) -> io::Result<Run> {
    let mut lines = bytes.split(|&byte| byte == b'\n');
    let record = match serde_json::from_slice(lines.next().unwrap_or_default()) {
        Ok(Event::Start(record)) => record.into_owned(),
        _ => {
            let message = "a run file that does not open with its start event";
            return Err(io::Error::new(io::ErrorKind::InvalidData, message));
        }
    };
    let mut run = Run {
        record,
        text: String::new(),
        state: None,
        usage: None,
    };
    for line in lines {
        match serde_json::from_slice(line) {
            Ok(Event::Chunk { text }) => run.text.push_str(&text),
            Ok(Event::End(state)) => run.state = Some(state),
            Ok(Event::Usage(usage)) => run.usage = Some(usage),
            Ok(Event::Warning { .. }) => {}
            Ok(Event::Start(_) | Event::Unknown) | Err(_) => {}
        }
    }
    Ok(run)
}

/// Writes one event as one line in a single `write_all`, so a crash tears at most that line.
pub(super) fn write_line(file: &mut File, line: &mut Vec<u8>, event: &Event<'_>) -> io::Result<()> {
    line.clear();
    serde_json::to_writer(&mut *line, event).map_err(io::Error::other)?;
    line.push(b'\n');
    file.write_all(line)
}

mod millis {
    use super::{Duration, SystemTime, UNIX_EPOCH};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &SystemTime, serializer: S) -> Result<S::Ok, S::Error> {
        let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
        serializer.serialize_u64(u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<SystemTime, D::Error> {
        u64::deserialize(deserializer).map(|millis| UNIX_EPOCH + Duration::from_millis(millis))
    }
}

/// Appends a run's events as they happen.
#[derive(Debug)]
pub struct RunWriter {
    file: File,
    /// Reused for each line, so a chunk costs one write and no allocation.
    line: Vec<u8>,
    run_id: String,
}

impl RunWriter {
    /// Writes the start event into the new run file `file` (created by the journal, opened
    /// for appending), fsynced.
    pub(super) fn start(mut file: File, record: RunRecord) -> io::Result<RunWriter> {
        let mut line = Vec::new();
        write_line(&mut file, &mut line, &Event::Start(Cow::Borrowed(&record)))?;
        file.sync_all()?;
        let run_id = record.run_id;
        Ok(RunWriter { file, line, run_id })
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Appends a chunk of the answer, handed to the OS before this returns.
    pub fn append(&mut self, text: &str) -> io::Result<()> {
        if text.is_empty() {
            return Ok(());
        }
        let event = Event::Chunk {
            text: Cow::Borrowed(text),
        };
        write_line(&mut self.file, &mut self.line, &event)?;
        self.file.flush()
    }

    /// Records the tokens the provider reported (before [`RunWriter::finish`]).
    pub fn usage(&mut self, usage: Usage) -> io::Result<()> {
        write_line(&mut self.file, &mut self.line, &Event::Usage(usage))
    }

    /// Records a warning of the run (before [`RunWriter::finish`]).
    pub fn warning(&mut self, message: &str) -> io::Result<()> {
        let event = Event::Warning {
            message: Cow::Borrowed(message),
        };
        write_line(&mut self.file, &mut self.line, &event)
    }

    /// Closes the run with its final state, fsynced.
    pub fn finish(mut self, state: Final) -> io::Result<()> {
        write_line(&mut self.file, &mut self.line, &Event::End(state))?;
        self.file.sync_all()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn record(id: &str, title: &str, millis: u64) -> RunRecord {
        RunRecord {
            run_id: id.to_owned(),
            document: PathBuf::from("/w/plan.brief.md"),
            brief_title: title.to_owned(),
            agent: "researcher".to_owned(),
            model: "gpt-4o-mini".to_owned(),
            provider: "openai".to_owned(),
            input_hash: "9f2c41d0".to_owned(),
            payload: "system: You research.\nuser: # Scan\n\"quoted\"\n".to_owned(),
            started_at: UNIX_EPOCH + Duration::from_millis(millis),
        }
    }

    fn line(event: &Event<'_>) -> String {
        serde_json::to_string(event).unwrap() + "\n"
    }

    #[test]
    fn events_are_one_json_object_per_line() {
        let start = line(&Event::Start(Cow::Owned(record("R1", "Scan", 1700))));
        assert!(
            start.starts_with(r#"{"type":"start","run_id":"R1","#),
            "{start}"
        );
        assert!(start.ends_with("\"started_at\":1700}\n"), "{start}");
        let chunk = line(&Event::Chunk {
            text: Cow::Borrowed("a\nb"),
        });
        assert_eq!(chunk, "{\"type\":\"chunk\",\"text\":\"a\\nb\"}\n");
        let end = line(&Event::End(Final::Partial {
            reason: "timeout".to_owned(),
        }));
        assert_eq!(
            end,
            "{\"type\":\"end\",\"state\":\"partial\",\"reason\":\"timeout\"}\n"
        );
        assert_eq!(
            line(&Event::End(Final::Done)),
            "{\"type\":\"end\",\"state\":\"done\"}\n"
        );
    }

    #[test]
    fn a_torn_last_line_and_unknown_events_are_skipped() {
        let start = line(&Event::Start(Cow::Owned(record("R1", "Scan", 1))));
        let file = format!(
            "{start}{{\"type\":\"chunk\",\"text\":\"kept\"}}\n{{\"type\":\"later\",\"tokens\":3}}\n{{\"type\":\"chunk\",\"text\":\"lo"
        );
        let run = parse(file.as_bytes()).unwrap();
        assert_eq!(
            (run.record, run.text.as_str(), run.state),
            (record("R1", "Scan", 1), "kept", None)
        );
        assert!(
            parse(b"{\"type\":\"chunk\",\"text\":\"x\"}\n").is_err(),
            "no start event"
        );
    }

    #[test]
    fn usage_is_written_before_the_end_and_read_back() {
        let start = line(&Event::Start(Cow::Owned(record("R1", "Scan", 1))));
        let usage = Usage {
            prompt_tokens: Some(1200),
            completion_tokens: Some(34),
            counted: Some(1250),
        };
        assert_eq!(
            line(&Event::Usage(usage)),
            "{\"type\":\"usage\",\"prompt_tokens\":1200,\"completion_tokens\":34,\"counted\":1250}\n"
        );
        let end = line(&Event::End(Final::Done));
        let file = format!("{start}{}{end}", line(&Event::Usage(usage)));
        assert_eq!(parse(file.as_bytes()).unwrap().usage, Some(usage));
        assert_eq!(last_usage(file.as_bytes()), Some(usage));
        assert_eq!(last_state(file.as_bytes(), true), Some(Some(Final::Done)));
        assert_eq!(last_usage(end.as_bytes()), None);
    }

    #[test]
    fn the_state_is_read_from_the_tail() {
        let done = "{\"type\":\"chunk\",\"text\":\"x\"}\n{\"type\":\"end\",\"state\":\"done\"}\n{\"type\":\"later\"}\n";
        assert_eq!(last_state(done.as_bytes(), true), Some(Some(Final::Done)));
        assert_eq!(
            last_state(b"{\"type\":\"chunk\",\"text\":\"x\"}\n", true),
            Some(None)
        );
        assert_eq!(
            last_state(b"", true),
            Some(None),
            "no event after the start"
        );
        assert_eq!(
            last_state(b"xt\":\"x\"}\n", false),
            None,
            "a line longer than the tail"
        );
    }
}
