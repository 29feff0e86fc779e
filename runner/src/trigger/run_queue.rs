//! Concurrency of runs: per group (by default the environment), at most one running and
//! one pending. A newer pending run replaces the older one, so a burst of pushes applies
//! at most two runs and the last is the newest commit; a run for a commit older than the
//! last one applied in its group is skipped. A pure state machine: the dispatcher feeds it
//! and starts what it says.

use std::collections::BTreeMap;

/// A run waiting for its turn. `commit_order` orders commits along the branch (larger is
/// newer), as the git edge computes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedRun {
    pub id: u64,
    pub group: String,
    pub commit: String,
    pub commit_order: u64,
}

/// What became of a submitted run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Nothing runs in its group: start it now.
    Start,
    /// It waits for the running one.
    Pending,
    /// It waits, and took the place of the pending run with this ID, which is dropped.
    ReplacedPending { replaced: u64 },
    /// Its commit is older than one already applied or waiting in its group.
    Skipped { reason: String },
}

#[derive(Debug, Default)]
struct Group {
    running: Option<QueuedRun>,
    pending: Option<QueuedRun>,
    last_applied_order: Option<u64>,
}

#[derive(Debug, Default)]
pub struct RunQueue {
    groups: BTreeMap<String, Group>,
}

impl RunQueue {
    pub fn submit(&mut self, run: QueuedRun) -> Admission {
        let group = self.groups.entry(run.group.clone()).or_default();
        if let Some(applied) = group.last_applied_order
            && run.commit_order < applied
        {
            return Admission::Skipped {
                reason: format!(
                    "commit {} is older than the last one applied in group `{}`",
                    short(&run.commit),
                    run.group
                ),
            };
        }
        if group.running.is_none() {
            group.running = Some(run);
            return Admission::Start;
        }
        match group.pending.take() {
            None => {
                group.pending = Some(run);
                Admission::Pending
            }
            Some(pending) if pending.commit_order > run.commit_order => {
                let reason = format!(
                    "commit {} is older than {}, already waiting in group `{}`",
                    short(&run.commit),
                    short(&pending.commit),
                    run.group
                );
                group.pending = Some(pending);
                Admission::Skipped { reason }
            }
            Some(pending) => {
                group.pending = Some(run);
                Admission::ReplacedPending {
                    replaced: pending.id,
                }
            }
        }
    }

    /// The running run of `group` ended; `applied` when it applied its commit. Returns the
    /// pending run to start next, if any.
    pub fn finish(&mut self, group: &str, applied: bool) -> Option<QueuedRun> {
        let state = self.groups.get_mut(group)?;
        let finished = state.running.take()?;
        if applied {
            state.last_applied_order = Some(
                state
                    .last_applied_order
                    .map_or(finished.commit_order, |o| o.max(finished.commit_order)),
            );
        }
        let next = state.pending.take();
        if let Some(next) = &next {
            state.running = Some(next.clone());
        }
        next
    }

    /// Takes run `id` out of the queue when it is pending (a cancel before it started).
    pub fn withdraw(&mut self, id: u64) -> bool {
        for group in self.groups.values_mut() {
            if group
                .pending
                .as_ref()
                .is_some_and(|pending| pending.id == id)
            {
                group.pending = None;
                return true;
            }
        }
        false
    }

    pub fn running(&self, group: &str) -> Option<&QueuedRun> {
        self.groups.get(group)?.running.as_ref()
    }

    pub fn pending(&self, group: &str) -> Option<&QueuedRun> {
        self.groups.get(group)?.pending.as_ref()
    }

    /// The order of the newest commit applied in `group`: a rollback is queued as that
    /// new, so that it is not skipped as older while a later push still replaces it.
    pub fn last_applied(&self, group: &str) -> Option<u64> {
        self.groups.get(group)?.last_applied_order
    }
}

fn short(commit: &str) -> &str {
    commit.get(..7).unwrap_or(commit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: u64, order: u64) -> QueuedRun {
        QueuedRun {
            id,
            group: "prod".into(),
            commit: format!("c{order:07}"),
            commit_order: order,
        }
    }

    #[test]
    fn a_burst_of_fifty_pushes_applies_two_runs_the_last_the_newest() {
        let mut queue = RunQueue::default();
        let mut started = Vec::new();
        for order in 1..=50 {
            if queue.submit(run(order, order)) == Admission::Start {
                started.push(order);
            }
        }
        while let Some(next) = queue.finish("prod", true) {
            started.push(next.commit_order);
        }
        assert_eq!(started, [1, 50]);
    }

    #[test]
    fn an_older_commit_than_the_last_applied_is_skipped() {
        let mut queue = RunQueue::default();
        assert_eq!(queue.submit(run(1, 10)), Admission::Start);
        assert_eq!(queue.finish("prod", true), None);
        assert_eq!(
            queue.submit(run(2, 9)),
            Admission::Skipped {
                reason: "commit c000000 is older than the last one applied in group `prod`".into()
            }
        );
        assert_eq!(queue.submit(run(3, 11)), Admission::Start);
    }

    #[test]
    fn a_newer_pending_run_replaces_the_older_and_not_the_reverse() {
        let mut queue = RunQueue::default();
        assert_eq!(queue.submit(run(1, 1)), Admission::Start);
        assert_eq!(queue.submit(run(2, 3)), Admission::Pending);
        assert!(matches!(queue.submit(run(3, 2)), Admission::Skipped { .. }));
        assert_eq!(
            queue.submit(run(4, 4)),
            Admission::ReplacedPending { replaced: 2 }
        );
        assert_eq!(queue.pending("prod").map(|r| r.id), Some(4));
        // A failed run does not count as applied: its commit may run again.
        assert_eq!(queue.finish("prod", false).map(|r| r.id), Some(4));
        assert_eq!(queue.running("prod").map(|r| r.id), Some(4));
    }

    #[test]
    fn a_pending_run_can_be_withdrawn_and_a_running_one_cannot() {
        let mut queue = RunQueue::default();
        assert_eq!(queue.submit(run(1, 1)), Admission::Start);
        assert_eq!(queue.submit(run(2, 2)), Admission::Pending);
        assert!(!queue.withdraw(1));
        assert!(queue.withdraw(2));
        assert_eq!(queue.pending("prod"), None);
        assert_eq!(queue.finish("prod", true), None);
    }
}
