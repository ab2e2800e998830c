//! Per-agent queues (DESIGN §4 `max_concurrent`): at most that many runs of one agent are in
//! flight at once; the others wait, shown as queued, and start in the order they came.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

/// The queues of every agent, shared by all runs of a server or command.
#[derive(Debug, Default)]
pub struct Queues {
    agents: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// A place in an agent's queue: the run may go while this is held.
#[derive(Debug)]
pub struct Turn {
    _permit: OwnedSemaphorePermit,
}

impl Queues {
    fn semaphore(&self, agent: &str, max_concurrent: u32) -> Arc<Semaphore> {
        let mut agents = self.agents.lock().unwrap_or_else(PoisonError::into_inner);
        agents
            .entry(agent.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(max_concurrent.max(1) as usize)))
            .clone()
    }

    /// A turn at once, if the agent has room; else `None` (the run has to wait).
    pub fn try_turn(&self, agent: &str, max_concurrent: u32) -> Option<Turn> {
        match self.semaphore(agent, max_concurrent).try_acquire_owned() {
            Ok(permit) => Some(Turn { _permit: permit }),
            Err(TryAcquireError::NoPermits | TryAcquireError::Closed) => None,
        }
    }

    /// Waits for a turn: first come, first served (tokio's semaphore is fair).
    pub async fn turn(&self, agent: &str, max_concurrent: u32) -> Turn {
        let semaphore = self.semaphore(agent, max_concurrent);
        match semaphore.acquire_owned().await {
            Ok(permit) => Turn { _permit: permit },
            // Never closed: the semaphores live as long as the queues.
            Err(_) => unreachable!("agent queues are never closed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_agent_runs_at_most_max_concurrent_at_once() {
        let queues = Queues::default();
        let first = queues.try_turn("a", 2).unwrap();
        let _second = queues.try_turn("a", 2).unwrap();
        assert!(queues.try_turn("a", 2).is_none(), "a third run waits");
        assert!(queues.try_turn("b", 2).is_some(), "other agents do not");
        drop(first);
        let _third = queues.turn("a", 2).await;
    }
}
