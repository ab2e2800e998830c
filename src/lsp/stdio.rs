//! The server's input: frames read from stdin on a thread of their own, vetted before
//! tower-lsp-server decodes them.
//!
//! `frame` splits the stream into frames and recovers from broken ones; `vet` decides what
//! the server gets for each: the message as it came, a stand-in that makes the server answer
//! with an error, or nothing. Edits the [`EditLane`] takes are applied on the reading thread.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::mpsc;

use super::edit_lane::EditLane;
use super::frame::{Frame, Frames};
use super::vet::{vet, Verdict};

/// Frames in flight between the reader thread and the server; bounds memory if the server
/// falls behind a client that floods it.
const QUEUE: usize = 64;

/// Starts reading `input` on a thread; the returned reader yields the checked frames and ends
/// when `input` does. A thread, not a tokio task: a blocking read of stdin cannot be
/// cancelled, and would keep the runtime from shutting down.
///
/// Edits the [`EditLane`] takes (once the server has made it) are applied on that thread and
/// never reach the server.
pub fn checked_frames(
    input: impl Read + Send + 'static,
    lane: Arc<OnceLock<Arc<EditLane>>>,
) -> FrameReader {
    let (sender, frames) = mpsc::channel(QUEUE);
    let spawned = std::thread::Builder::new()
        .name("baton-stdin".to_owned())
        .spawn(move || pump(BufReader::with_capacity(64 * 1024, input), &sender, &lane));
    if let Err(error) = spawned {
        tracing::error!("cannot start the stdin reader: {error}");
    }
    FrameReader {
        frames,
        current: Vec::new(),
        read: 0,
    }
}

/// Reads frames until the input ends or the server stops listening.
fn pump(input: impl BufRead, sender: &mpsc::Sender<Vec<u8>>, lane: &OnceLock<Arc<EditLane>>) {
    let mut frames = Frames::new(input);
    loop {
        let frame = match frames.next_frame() {
            Ok(Some(frame)) => frame,
            Ok(None) => return,
            Err(error) => {
                tracing::error!("reading stdin failed: {error}");
                return;
            }
        };
        let lane = lane.get();
        let body = match frame {
            Frame::Body(body) if lane.is_some_and(|lane| lane.take(&body)) => continue,
            frame => match vet(&mut frames, frame) {
                Verdict::Pass(body) => {
                    if let Some(lane) = lane {
                        lane.passed_on(&body);
                    }
                    body
                }
                Verdict::Answer(stand_in) => stand_in,
                Verdict::Dropped => continue,
            },
        };
        // One piece per frame: the server wakes up once for it, not once for the header and
        // again for the body.
        let mut frame = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        frame.extend_from_slice(&body);
        if sender.blocking_send(frame).is_err() {
            return;
        }
    }
}

/// The checked frames as an `AsyncRead`, for `tower_lsp_server::Server`.
pub struct FrameReader {
    frames: mpsc::Receiver<Vec<u8>>,
    current: Vec<u8>,
    read: usize,
}

impl AsyncRead for FrameReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        while this.read == this.current.len() {
            match this.frames.poll_recv(cx) {
                Poll::Ready(Some(frame)) => (this.current, this.read) = (frame, 0),
                // The thread ended with the input: report the end of the stream.
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
        let n = buf.remaining().min(this.current.len() - this.read);
        buf.put_slice(&this.current[this.read..this.read + n]);
        this.read += n;
        Poll::Ready(Ok(()))
    }
}

/// Stdout written directly from the runtime's thread. `tokio::io::stdout` hands every write
/// to its blocking pool, a thread hop per message that costs more than linting a keystroke.
/// Writing in place cannot deadlock with the editor: stdin is read on a thread of its own,
/// so the editor is never blocked writing to us while we wait for it to read.
///
/// tower-lsp-server hands over whole frames, and so does [`write_frame`]; each is written
/// whole under one lock (see [`write_out`]), so frames from both never interleave.
pub struct DirectStdout;

/// Writes one message, framed, beside tower-lsp-server's (see [`DirectStdout`]); its body is
/// `parts` one after the other, copied once, into the frame.
pub fn write_frame(parts: &[&[u8]]) -> io::Result<()> {
    let len: usize = parts.iter().map(|part| part.len()).sum();
    let header = format!("Content-Length: {len}\r\n\r\n");
    let mut frame = Vec::with_capacity(header.len() + len);
    frame.extend_from_slice(header.as_bytes());
    for part in parts {
        frame.extend_from_slice(part);
    }
    write_out(&frame)
}

/// Writes bytes to stdout at once, in one system call when the pipe takes them. std's
/// `Stdout` is line-buffered: it would send a frame's header and body in two writes, and the
/// editor would wake up twice for every message.
fn write_out(bytes: &[u8]) -> io::Result<()> {
    static OUTPUT: OnceLock<Option<Mutex<File>>> = OnceLock::new();
    let output = OUTPUT.get_or_init(|| unbuffered_stdout().map(Mutex::new));
    match output {
        Some(file) => {
            let mut file = file.lock().unwrap_or_else(PoisonError::into_inner);
            file.write_all(bytes)
        }
        None => {
            let mut out = io::stdout().lock();
            out.write_all(bytes)?;
            out.flush()
        }
    }
}

/// A second handle on stdout, for writes that bypass std's buffer.
#[cfg(unix)]
fn unbuffered_stdout() -> Option<File> {
    use std::os::fd::AsFd;
    let duplicate = io::stdout().as_fd().try_clone_to_owned();
    duplicate.ok().map(File::from)
}

#[cfg(windows)]
fn unbuffered_stdout() -> Option<File> {
    use std::os::windows::io::AsHandle;
    let duplicate = io::stdout().as_handle().try_clone_to_owned();
    duplicate.ok().map(File::from)
}

#[cfg(not(any(unix, windows)))]
fn unbuffered_stdout() -> Option<File> {
    None
}

impl tokio::io::AsyncWrite for DirectStdout {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(write_out(buf).map(|()| buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Nothing is buffered.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(context)
    }
}
