//! Per-agent queues (DESIGN §4 `max_concurrent`): at most that many runs of one agent are in
//! flight at once; the others wait, shown as queued, and start in the order they came.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

/// The queues of every agent, shared by all runs of a server or command. A clone shares
/// them (a pipeline's runs are tasks of their own, each holding one).
#[derive(Clone, Debug, Default)]
pub struct Queues {
    agents: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
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

    #[tokio::test]
    async fn waiting_runs_start_in_the_order_they_came_and_a_dropped_wait_leaves_no_hole() {
        let queues = std::sync::Arc::new(Queues::default());
        let running = queues.try_turn("a", 1).unwrap();
        let (started, mut order) = tokio::sync::mpsc::unbounded_channel();
        let mut waiting = Vec::new();
        for run in 0..3 {
            let (queues, started) = (queues.clone(), started.clone());
            waiting.push(tokio::spawn(async move {
                let _turn = queues.turn("a", 1).await;
                started.send(run).unwrap();
            }));
            // Each is in the queue before the next comes.
            tokio::task::yield_now().await;
        }
        // A run cancelled while it waits gives up its place.
        let cancelled = {
            let queues = queues.clone();
            tokio::spawn(async move { queues.turn("a", 1).await })
        };
        tokio::task::yield_now().await;
        cancelled.abort();
        drop(running);
        for task in waiting {
            task.await.unwrap();
        }
        let mut seen = Vec::new();
        while let Ok(run) = order.try_recv() {
            seen.push(run);
        }
        assert_eq!(seen, [0, 1, 2]);
        assert!(queues.try_turn("a", 1).is_some(), "the queue is free again");
    }
}
