//! A reader that can put bytes back: when the frame reader (`frame.rs`) finds the next
//! `Content-Length` header inside bytes it has already read (debris, a header line, a body
//! whose length swallowed it), it puts them back and reads on from there.

use std::io::{self, BufRead, Read};

/// `input`, after bytes read from it are put back in front of it.
pub(super) struct Replay<R> {
    input: R,
    replay: Vec<u8>,
    replayed: usize,
}

impl<R> Replay<R> {
    pub fn new(input: R) -> Replay<R> {
        Replay {
            input,
            replay: Vec::new(),
            replayed: 0,
        }
    }

    /// Puts `bytes` back to be read first, before what is yet to be replayed.
    pub fn unread(&mut self, bytes: &[u8]) {
        let mut replay = Vec::with_capacity(bytes.len() + self.replay.len() - self.replayed);
        replay.extend_from_slice(bytes);
        replay.extend_from_slice(&self.replay[self.replayed..]);
        (self.replay, self.replayed) = (replay, 0);
    }
}

impl<R: BufRead> Replay<R> {
    /// What is buffered, read again after an interrupted read.
    pub fn fill(&mut self) -> io::Result<&[u8]> {
        loop {
            match self.fill_buf() {
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
                Ok(_) => break,
            }
        }
        // Filled: this answers from the buffer. (Returning the first answer from inside the
        // loop is what the borrow checker cannot see is sound.)
        self.fill_buf()
    }
}

impl<R: BufRead> Read for Replay<R> {
    fn read(&mut self, into: &mut [u8]) -> io::Result<usize> {
        if self.replayed == self.replay.len() {
            // The common case: a body is read straight from the input.
            return self.input.read(into);
        }
        let n = (self.replay.len() - self.replayed).min(into.len());
        into[..n].copy_from_slice(&self.replay[self.replayed..self.replayed + n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Replay<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.replayed < self.replay.len() {
            return Ok(&self.replay[self.replayed..]);
        }
        self.input.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        if self.replayed == self.replay.len() {
            return self.input.consume(amount);
        }
        self.replayed += amount;
        if self.replayed >= self.replay.len() {
            (self.replayed, self.replay) = (0, Vec::new());
        }
    }
}
