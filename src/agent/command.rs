//! `command` agents: a local program, run without a shell, the payload on stdin and the answer
//! streamed from stdout.
//!
//! The program is `command[0]` with the arguments `command[1..]`, taken literally (no shell, no
//! globbing, no variable expansion). The payload written to its stdin, which is then closed, is
//! plain text:
//!
//! - the system prompt, if any, then a blank line;
//! - a lone user message as it is;
//! - a conversation (earlier turns of a thread) as turns separated by a blank line, each opened
//!   by a line `User:` or `Assistant:`;
//! - and a final newline, if the text does not end with one.
//!
//! Stdout is delivered as it arrives, decoded as UTF-8 across reads (invalid bytes become
//! U+FFFD). The last 2 KB of stderr are kept for the error when the program exits unsuccessfully.
//! On cancellation, timeout, or an answer over the bound, the program is killed.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;

use super::{within, AgentError, Finish, Request, Role, Sink, Wire};
use crate::config::AgentSpec;

/// How much of stderr is kept: the end of it, where the reason for a failure usually is.
pub const STDERR_TAIL_BYTES: usize = 2048;

/// An agent with `provider = "command"`.
#[derive(Clone, Debug)]
pub struct Program {
    program: String,
    args: Vec<String>,
    idle: Duration,
}

impl Program {
    /// The wire for `spec`, waiting at most `idle` for each piece of output.
    pub fn new(agent: &str, spec: &AgentSpec, idle: Duration) -> Result<Program, AgentError> {
        let Some((program, args)) = spec.command.split_first() else {
            return Err(AgentError::Config {
                reason: format!("[agents.{agent}] has provider \"command\" but no command"),
            });
        };
        Ok(Program {
            program: program.clone(),
            args: args.to_vec(),
            idle,
        })
    }

    async fn run(
        &self,
        child: &mut Child,
        sink: &mut Sink<'_>,
        cancel: &CancellationToken,
    ) -> Result<std::process::ExitStatus, AgentError> {
        let Some(mut stdout) = child.stdout.take() else {
            return Err(io_error("the program's stdout is not a pipe"));
        };
        let mut buffer = vec![0; 16 * 1024];
        let mut utf8 = Utf8Decoder::default();
        loop {
            let read = within(self.idle, cancel, stdout.read(&mut buffer))
                .await?
                .map_err(|error| io_error(&format!("reading the program's output: {error}")))?;
            if read == 0 {
                break;
            }
            sink.text(&utf8.push(&buffer[..read]))?;
            sink.passed_on().await;
        }
        sink.text(&utf8.finish())?;
        within(self.idle, cancel, child.wait())
            .await?
            .map_err(|error| io_error(&format!("waiting for the program: {error}")))
    }
}

impl Wire for Program {
    async fn stream<'a>(
        &'a self,
        request: &'a Request,
        sink: &'a mut Sink<'_>,
        cancel: &'a CancellationToken,
    ) -> Result<Finish, AgentError> {
        tracing::debug!(program = %self.program, "starting agent program");
        let mut child = Command::new(&self.program)
            .args(&self.args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|error| AgentError::Spawn {
                program: self.program.clone(),
                reason: error.to_string(),
            })?;
        // Stdin is written while stdout is read: a program that answers as it reads (`cat`)
        // would otherwise fill its stdout pipe and never read the rest of a long payload.
        if let Some(mut stdin) = child.stdin.take() {
            let payload = render(request);
            tokio::spawn(async move {
                // A program that exits without reading its input is not an error here; its
                // exit status says whether it worked.
                let _ = stdin.write_all(payload.as_bytes()).await;
                let _ = stdin.shutdown().await;
            });
        }
        let stderr = child.stderr.take().map(|stderr| tokio::spawn(tail(stderr)));
        let status = match self.run(&mut child, sink, cancel).await {
            Ok(status) => status,
            Err(error) => {
                let _ = child.start_kill();
                let _ = child.wait().await;
                return Err(error);
            }
        };
        if status.success() {
            return Ok(Finish::default());
        }
        // A grandchild may hold stderr open after the program exits; do not wait for it long.
        let stderr_tail = match stderr {
            Some(task) => tokio::time::timeout(Duration::from_secs(1), task)
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default(),
            None => String::new(),
        };
        Err(AgentError::Command {
            status,
            stderr_tail,
        })
    }
}

/// The payload as the program reads it; the module's documentation gives the format.
pub fn render(request: &Request) -> String {
    let mut text = String::new();
    if let Some(system) = request.system.as_deref().filter(|s| !s.trim().is_empty()) {
        text.push_str(system.trim_end());
        text.push_str("\n\n");
    }
    match request.messages.as_slice() {
        [only] if only.role == Role::User => text.push_str(&only.content),
        turns => {
            for (n, turn) in turns.iter().enumerate() {
                if n > 0 {
                    text.push_str("\n\n");
                }
                text.push_str(match turn.role {
                    Role::User => "User:\n",
                    Role::Assistant => "Assistant:\n",
                });
                text.push_str(turn.content.trim_end());
            }
        }
    }
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// The last [`STDERR_TAIL_BYTES`] of `stream`, as text.
async fn tail(mut stream: impl AsyncRead + Unpin) -> String {
    let mut kept = Vec::new();
    let mut buffer = [0; 4096];
    while let Ok(read) = stream.read(&mut buffer).await {
        if read == 0 {
            break;
        }
        kept.extend_from_slice(&buffer[..read]);
        if kept.len() > 2 * STDERR_TAIL_BYTES {
            kept.drain(..kept.len() - STDERR_TAIL_BYTES);
        }
    }
    let start = kept.len().saturating_sub(STDERR_TAIL_BYTES);
    String::from_utf8_lossy(&kept[start..]).trim().to_owned()
}

fn io_error(reason: &str) -> AgentError {
    AgentError::Io {
        reason: reason.to_owned(),
    }
}

/// Decodes UTF-8 that arrives in pieces: a character split between two reads is held back
/// until its last byte comes, instead of turning into two replacement characters.
#[derive(Debug, Default)]
struct Utf8Decoder {
    pending: Vec<u8>,
}

impl Utf8Decoder {
    fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let mut text = String::new();
        let mut input = self.pending.as_slice();
        loop {
            match std::str::from_utf8(input) {
                Ok(valid) => {
                    text.push_str(valid);
                    input = &[];
                    break;
                }
                Err(error) => {
                    let (valid, rest) = input.split_at(error.valid_up_to());
                    text.push_str(std::str::from_utf8(valid).unwrap_or_default());
                    match error.error_len() {
                        Some(bad) => {
                            text.push(char::REPLACEMENT_CHARACTER);
                            input = &rest[bad..];
                        }
                        None => {
                            input = rest;
                            break;
                        }
                    }
                }
            }
        }
        self.pending = input.to_vec();
        text
    }

    /// What is left at the end: an unfinished character is invalid.
    fn finish(&mut self) -> String {
        if self.pending.is_empty() {
            String::new()
        } else {
            self.pending.clear();
            char::REPLACEMENT_CHARACTER.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::Message;

    #[test]
    fn characters_split_across_reads_survive() {
        let text = "é🌍中";
        for split in 0..=text.len() {
            let mut decoder = Utf8Decoder::default();
            let (a, b) = text.as_bytes().split_at(split);
            let mut out = decoder.push(a);
            out.push_str(&decoder.push(b));
            out.push_str(&decoder.finish());
            assert_eq!(out, text, "split at {split}");
        }
        let mut decoder = Utf8Decoder::default();
        assert_eq!(decoder.push(b"a\xffb\xe2\x82"), "a\u{fffd}b");
        assert_eq!(decoder.finish(), "\u{fffd}");
    }

    #[test]
    fn the_payload_reads_as_plain_text() {
        let mut request = Request {
            model: String::new(),
            system: Some("Be brief.".into()),
            messages: vec![Message::user("Scan Acme.")],
        };
        assert_eq!(render(&request), "Be brief.\n\nScan Acme.\n");
        request.system = None;
        request.messages = vec![
            Message::user("Hi"),
            Message::assistant("Hello.\n"),
            Message::user("More"),
        ];
        assert_eq!(
            render(&request),
            "User:\nHi\n\nAssistant:\nHello.\n\nUser:\nMore\n"
        );
    }
}
