//! `baton send`'s progress on stderr, from the run's events: on a terminal, a spinner line
//! (indicatif) updated in place with the tokens received (estimated, `tokens::streamed`), the notes printed above it;
//! elsewhere (a pipe, CI's log) plain lines only, one per note and one at the end.

use std::io::{self, IsTerminal};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::dispatch::run::Event;
use crate::dispatch::tokens::streamed;

/// How often the spinner turns while nothing arrives.
const TICK: Duration = Duration::from_millis(120);

pub struct Progress {
    agent: String,
    /// The line drawn in place; `None` when stderr is no terminal.
    bar: Option<ProgressBar>,
    /// Bytes of the answer received.
    received: usize,
}

impl Progress {
    pub fn new(agent: &str) -> Progress {
        let bar = io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            // A fixed template: it always parses.
            let style = ProgressStyle::with_template("{spinner} {prefix}: {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            bar.set_style(style);
            bar.set_prefix(agent.to_owned());
            bar.set_message("waiting");
            bar.enable_steady_tick(TICK);
            bar
        });
        Progress {
            agent: agent.to_owned(),
            bar,
            received: 0,
        }
    }

    /// Shows what a run reports, as it goes.
    pub fn show(&mut self, event: Event<'_>) {
        match event {
            Event::Queued { agent } => self.line(&format!("waiting for a turn of {agent}")),
            Event::Started {
                run,
                agent,
                model,
                host,
            } => self.start(agent, model, host, run),
            Event::Text(chunk) => self.received(chunk),
            Event::Retrying(retry) => self.line(&retry.to_string()),
            Event::FallingBack { from, to, reason } => {
                self.line(&format!("{from} failed ({reason}); trying {to}"))
            }
            Event::Finished(_) => self.end(),
        }
    }

    /// A request left for `agent`: `sending to researcher (gpt-4o) at llm.example.net, run …`,
    /// naming the host when it is not the provider's own endpoint (DESIGN §7).
    fn start(&mut self, agent: &str, model: &str, host: Option<&str>, run: &str) {
        self.agent = agent.to_owned();
        if let Some(bar) = &self.bar {
            bar.set_prefix(agent.to_owned());
            bar.set_message("sent");
        }
        let model = if model.is_empty() {
            String::new()
        } else {
            format!(" ({model})")
        };
        let host = host.map(|host| format!(" at {host}")).unwrap_or_default();
        self.line(&format!("sending to {agent}{model}{host}, run {run}"));
    }

    /// A piece of the answer arrived.
    fn received(&mut self, chunk: &str) {
        self.received += chunk.len();
        if let Some(bar) = &self.bar {
            bar.set_message(format!("{} tokens", thousands(streamed(self.received))));
        }
    }

    /// A note, on its own line (above the spinner on a terminal).
    fn line(&mut self, message: &str) {
        let line = format!("{}: {message}", self.agent);
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    /// The run is over: the spinner goes, the count stays.
    fn end(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        let tokens = thousands(streamed(self.received));
        eprintln!("{}: {tokens} tokens", self.agent);
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// `1234567` as `1,234,567`.
pub(super) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_with_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1234), "1,234");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
