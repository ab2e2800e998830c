//! The scheduler, pure (DESIGN §5): which briefs of a pipeline must run, which may start now,
//! which are skipped because a brief they need failed. No IO and no clock: the executor tells
//! it what started and how each run ended, and asks what may start next.

use super::{Ended, State};

/// The briefs that must run: all with `force`; else each that is not up to date, and each
/// that needs (directly or not) one that runs. `needs` is in topological order.
pub fn to_run(needs: &[Vec<usize>], states: &[State], force: bool) -> Vec<bool> {
    let mut run = Vec::with_capacity(needs.len());
    for (node, needs) in needs.iter().enumerate() {
        let needs_a_run = needs.iter().any(|&need| run[need]);
        run.push(force || states[node] != State::UpToDate || needs_a_run);
    }
    run
}

/// Where one brief stands while the pipeline runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Not to run: its output is up to date.
    Fresh,
    /// To run, once the briefs it needs are done.
    Waiting,
    Running,
    Ended(Ended),
}

/// The state of a running pipeline.
#[derive(Clone, Debug)]
pub struct Schedule {
    needs: Vec<Vec<usize>>,
    progress: Vec<Progress>,
}

impl Schedule {
    /// A pipeline about to run: `needs` in topological order, `run` from [`to_run`].
    pub fn new(needs: Vec<Vec<usize>>, run: &[bool]) -> Schedule {
        let progress = (run.iter())
            .map(|&run| {
                if run {
                    Progress::Waiting
                } else {
                    Progress::Fresh
                }
            })
            .collect();
        Schedule { needs, progress }
    }

    pub fn progress(&self, node: usize) -> &Progress {
        &self.progress[node]
    }

    /// The waiting briefs that may start now: every brief they need is up to date or done
    /// in this pipeline. In topological order.
    pub fn ready(&self) -> Vec<usize> {
        (0..self.progress.len())
            .filter(|&node| self.progress[node] == Progress::Waiting)
            .filter(|&node| self.needs[node].iter().all(|&need| self.satisfied(need)))
            .collect()
    }

    fn satisfied(&self, node: usize) -> bool {
        matches!(
            self.progress[node],
            Progress::Fresh | Progress::Ended(Ended::Done)
        )
    }

    pub fn start(&mut self, node: usize) {
        self.progress[node] = Progress::Running;
    }

    /// Brief `node` ended. When it did not end done, every waiting brief that needs it,
    /// directly or not, is skipped because of it: those are returned, in order.
    pub fn end(&mut self, node: usize, ended: Ended) -> Vec<usize> {
        let done = ended == Ended::Done;
        self.progress[node] = Progress::Ended(ended);
        if done {
            return Vec::new();
        }
        let mut skipped = Vec::new();
        for later in node + 1..self.progress.len() {
            if self.progress[later] != Progress::Waiting {
                continue;
            }
            let blocked = self.needs[later].iter().any(|&need| {
                need == node
                    || self.progress[need] == Progress::Ended(Ended::Skipped { because: node })
            });
            if blocked {
                self.progress[later] = Progress::Ended(Ended::Skipped { because: node });
                skipped.push(later);
            }
        }
        skipped
    }

    /// Brief `node`, ended, turned out otherwise (a done brief whose answer could not be
    /// written): the briefs that needed it have started already, so none is skipped.
    pub fn amend(&mut self, node: usize, ended: Ended) {
        self.progress[node] = Progress::Ended(ended);
    }

    /// The pipeline was cancelled: every waiting brief will not start. Those are returned.
    pub fn cancel_waiting(&mut self) -> Vec<usize> {
        let mut cancelled = Vec::new();
        for (node, progress) in self.progress.iter_mut().enumerate() {
            if *progress == Progress::Waiting {
                *progress = Progress::Ended(Ended::Cancelled { started: false });
                cancelled.push(node);
            }
        }
        cancelled
    }

    /// Whether nothing waits or runs any more.
    pub fn is_over(&self) -> bool {
        !(self.progress.iter()).any(|p| matches!(p, Progress::Waiting | Progress::Running))
    }

    /// How each brief ended (an up-to-date brief: [`Ended::UpToDate`]).
    pub fn ended(&self) -> Vec<Ended> {
        (self.progress.iter())
            .map(|progress| match progress {
                Progress::Ended(ended) => ended.clone(),
                Progress::Fresh => Ended::UpToDate,
                // Only asked once the pipeline is over.
                Progress::Waiting | Progress::Running => Ended::Cancelled { started: false },
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use State::{NeverRun, Stale, UpToDate};

    /// A diamond: 0 ← 1, 0 ← 2, {1, 2} ← 3; and 4 alone.
    fn diamond() -> Vec<Vec<usize>> {
        vec![vec![], vec![0], vec![0], vec![1, 2], vec![]]
    }

    #[test]
    fn what_runs_is_what_is_not_up_to_date_and_what_needs_it() {
        let needs = diamond();
        let fresh = [UpToDate; 5];
        assert_eq!(to_run(&needs, &fresh, false), [false; 5]);
        assert_eq!(to_run(&needs, &fresh, true), [true; 5]);
        let edited = [UpToDate, Stale, UpToDate, UpToDate, UpToDate];
        assert_eq!(
            to_run(&needs, &edited, false),
            [false, true, false, true, false]
        );
        let root = [NeverRun, UpToDate, UpToDate, UpToDate, UpToDate];
        assert_eq!(
            to_run(&needs, &root, false),
            [true, true, true, true, false]
        );
    }

    #[test]
    fn a_brief_starts_once_every_brief_it_needs_is_done_or_up_to_date() {
        let needs = diamond();
        let run = to_run(&needs, &[NeverRun; 5], false);
        let mut schedule = Schedule::new(needs, &run);
        assert_eq!(schedule.ready(), [0, 4]);
        schedule.start(0);
        schedule.start(4);
        assert_eq!(schedule.ready(), Vec::<usize>::new());
        assert_eq!(schedule.end(0, Ended::Done), Vec::<usize>::new());
        assert_eq!(schedule.ready(), [1, 2]);
        schedule.start(1);
        schedule.start(2);
        schedule.end(1, Ended::Done);
        assert!(schedule.ready().is_empty(), "3 still waits for 2");
        schedule.end(2, Ended::Done);
        assert_eq!(schedule.ready(), [3]);
        schedule.start(3);
        schedule.end(3, Ended::Done);
        assert!(!schedule.is_over(), "4 still runs");
        schedule.end(4, Ended::Done);
        assert!(schedule.is_over());
        assert!(schedule.ended().iter().all(|ended| *ended == Ended::Done));
    }

    #[test]
    fn an_up_to_date_brief_counts_as_done_for_those_that_need_it() {
        let needs = diamond();
        let states = [UpToDate, Stale, UpToDate, UpToDate, UpToDate];
        let schedule = Schedule::new(needs.clone(), &to_run(&needs, &states, false));
        assert_eq!(schedule.ready(), [1]);
        assert_eq!(schedule.ended()[0], Ended::UpToDate);
    }

    #[test]
    fn a_failure_skips_only_what_needs_it_and_names_it() {
        // 0 ← 1 ← 3 and 0 ← 2; 1 fails: 3 is skipped because of 1, 2 and 4 go on.
        let needs = vec![vec![], vec![0], vec![0], vec![1], vec![]];
        let mut schedule = Schedule::new(needs, &[true; 5]);
        schedule.start(0);
        schedule.start(4);
        schedule.end(0, Ended::Done);
        schedule.start(1);
        schedule.start(2);
        let skipped = schedule.end(1, Ended::Failed("timeout".into()));
        assert_eq!(skipped, [3]);
        assert_eq!(
            *schedule.progress(3),
            Progress::Ended(Ended::Skipped { because: 1 })
        );
        assert!(!schedule.is_over());
        schedule.end(2, Ended::Done);
        schedule.end(4, Ended::Done);
        assert!(schedule.is_over());
    }

    #[test]
    fn skipping_goes_down_the_chain_naming_the_brief_that_failed() {
        let needs = vec![vec![], vec![0], vec![1], vec![2, 4], vec![]];
        let mut schedule = Schedule::new(needs, &[true; 5]);
        schedule.start(0);
        schedule.start(4);
        assert_eq!(
            schedule.end(0, Ended::Cancelled { started: true }),
            [1, 2, 3]
        );
        let because_0 = Progress::Ended(Ended::Skipped { because: 0 });
        assert!((1..4).all(|node| *schedule.progress(node) == because_0));
        assert_eq!(schedule.ready(), Vec::<usize>::new());
        assert_eq!(*schedule.progress(4), Progress::Running);
    }

    #[test]
    fn cancelling_starts_nothing_new() {
        let needs = diamond();
        let mut schedule = Schedule::new(needs, &[true; 5]);
        schedule.start(0);
        assert_eq!(schedule.cancel_waiting(), [1, 2, 3, 4]);
        assert!(schedule.ready().is_empty());
        assert!(!schedule.is_over(), "0 still runs until its run ends");
        schedule.end(0, Ended::Cancelled { started: true });
        assert!(schedule.is_over());
    }
}
