//! Concurrency of runs: per group (by default the environment), at most one running, and
//! waiting runs started in the order they came. Of one workflow in one mode, at most one
//! waits: a newer run of it takes the waiting one's place, so a burst of pushes applies
//! at most two runs and the last is the newest commit, while the other workflows a push
//! starts for the same environment, and a scheduled drift check beside an apply, each
//! keep their turn. A run for a commit older than the last one applied in its group is
//! skipped. A pure state machine: the dispatcher feeds it and starts what it says.

use std::collections::{BTreeMap, VecDeque};

use super::RunMode;

/// A run waiting for its turn. `commit_order` orders commits along the branch (larger is
/// newer), as the git edge computes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedRun {
    pub id: u64,
    pub group: String,
    pub workflow: String,
    pub mode: RunMode,
    pub commit: String,
    pub commit_order: u64,
}

impl QueuedRun {
    /// Whether `other` would do what this run does, on its own commit: the same workflow
    /// in the same mode.
    fn same_work(&self, other: &QueuedRun) -> bool {
        self.workflow == other.workflow && self.mode == other.mode
    }
}

/// What became of a submitted run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Nothing runs in its group: start it now.
    Start,
    /// It waits for the runs before it.
    Pending,
    /// It waits, in the place of the waiting run of the same workflow and mode with this
    /// ID, which is dropped.
    ReplacedPending { replaced: u64 },
    /// Its commit is older than one already applied in its group, or than the one its
    /// workflow already waits with.
    Skipped { reason: String },
}

#[derive(Debug, Default)]
struct Group {
    running: Option<QueuedRun>,
    /// In the order they came; at most one of each workflow and mode.
    pending: VecDeque<QueuedRun>,
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
        let Some(waiting) = group
            .pending
            .iter_mut()
            .find(|pending| pending.same_work(&run))
        else {
            group.pending.push_back(run);
            return Admission::Pending;
        };
        if waiting.commit_order > run.commit_order {
            return Admission::Skipped {
                reason: format!(
                    "commit {} is older than {}, already waiting in group `{}`",
                    short(&run.commit),
                    short(&waiting.commit),
                    run.group
                ),
            };
        }
        let replaced = std::mem::replace(waiting, run);
        Admission::ReplacedPending {
            replaced: replaced.id,
        }
    }

    /// The running run of `group` ended; `applied` when it applied its commit. Returns the
    /// waiting run to start next, if any.
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
        let next = state.pending.pop_front();
        if let Some(next) = &next {
            state.running = Some(next.clone());
        }
        next
    }

    /// Takes run `id` out of the queue when it is waiting (a cancel before it started).
    pub fn withdraw(&mut self, id: u64) -> bool {
        for group in self.groups.values_mut() {
            if let Some(index) = group.pending.iter().position(|pending| pending.id == id) {
                group.pending.remove(index);
                return true;
            }
        }
        false
    }

    #[cfg(test)]
    pub fn running(&self, group: &str) -> Option<&QueuedRun> {
        self.groups.get(group)?.running.as_ref()
    }

    /// The runs waiting in `group`, first to start first.
    #[cfg(test)]
    pub fn pending(&self, group: &str) -> Vec<&QueuedRun> {
        self.groups
            .get(group)
            .map(|group| group.pending.iter().collect())
            .unwrap_or_default()
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

    fn run_of(id: u64, order: u64, workflow: &str, mode: RunMode) -> QueuedRun {
        QueuedRun {
            id,
            group: "prod".into(),
            workflow: workflow.into(),
            mode,
            commit: format!("c{order:02}aaaa"),
            commit_order: order,
        }
    }

    fn run(id: u64, order: u64) -> QueuedRun {
        run_of(id, order, "deploy", RunMode::Apply)
    }

    fn ids(runs: &[&QueuedRun]) -> Vec<u64> {
        runs.iter().map(|run| run.id).collect()
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
    fn every_workflow_a_push_starts_for_one_environment_runs_in_the_order_they_came() {
        let mut queue = RunQueue::default();
        let workflows = ["swarm-ports", "swarm", "workloads"];
        let mut admissions = Vec::new();
        for (id, workflow) in (1..).zip(workflows) {
            admissions.push(queue.submit(run_of(id, 1, workflow, RunMode::Apply)));
        }
        assert_eq!(
            admissions,
            [Admission::Start, Admission::Pending, Admission::Pending]
        );
        assert_eq!(ids(&queue.pending("prod")), [2, 3]);
        // The next push changes swarm.yml only: its run takes the waiting one's place,
        // and workloads keeps its turn.
        assert_eq!(
            queue.submit(run_of(4, 2, "swarm", RunMode::Apply)),
            Admission::ReplacedPending { replaced: 2 }
        );
        let mut started = vec![1];
        while let Some(next) = queue.finish("prod", true) {
            started.push(next.id);
        }
        assert_eq!(started, [1, 4, 3]);
    }

    #[test]
    fn a_scheduled_drift_check_waits_beside_an_apply_of_its_workflow_and_takes_nothing_s_place() {
        let mut queue = RunQueue::default();
        assert_eq!(queue.submit(run(1, 1)), Admission::Start);
        assert_eq!(queue.submit(run(2, 2)), Admission::Pending);
        assert_eq!(
            queue.submit(run_of(3, 2, "deploy", RunMode::DriftCheck)),
            Admission::Pending
        );
        assert_eq!(
            queue.submit(run_of(4, 2, "deploy", RunMode::DriftCheck)),
            Admission::ReplacedPending { replaced: 3 }
        );
        assert_eq!(ids(&queue.pending("prod")), [2, 4]);
    }

    #[test]
    fn an_older_commit_than_the_last_applied_is_skipped() {
        let mut queue = RunQueue::default();
        assert_eq!(queue.submit(run(1, 10)), Admission::Start);
        assert_eq!(queue.finish("prod", true), None);
        assert_eq!(
            queue.submit(run(2, 9)),
            Admission::Skipped {
                reason: "commit c09aaaa is older than the last one applied in group `prod`".into()
            }
        );
        assert_eq!(queue.submit(run(3, 11)), Admission::Start);
    }

    #[test]
    fn a_newer_pending_run_replaces_the_older_and_not_the_reverse() {
        let mut queue = RunQueue::default();
        assert_eq!(queue.submit(run(1, 1)), Admission::Start);
        assert_eq!(queue.submit(run(2, 3)), Admission::Pending);
        assert_eq!(
            queue.submit(run(3, 2)),
            Admission::Skipped {
                reason: "commit c02aaaa is older than c03aaaa, already waiting in group `prod`"
                    .into()
            }
        );
        assert_eq!(
            queue.submit(run(4, 4)),
            Admission::ReplacedPending { replaced: 2 }
        );
        assert_eq!(ids(&queue.pending("prod")), [4]);
        // A failed run does not count as applied: its commit may run again.
        assert_eq!(queue.finish("prod", false).map(|r| r.id), Some(4));
        assert_eq!(queue.running("prod").map(|r| r.id), Some(4));
    }

    #[test]
    fn a_pending_run_can_be_withdrawn_and_a_running_one_cannot() {
        let mut queue = RunQueue::default();
        assert_eq!(queue.submit(run(1, 1)), Admission::Start);
        assert_eq!(queue.submit(run(2, 2)), Admission::Pending);
        assert_eq!(
            queue.submit(run_of(3, 2, "teardown", RunMode::Apply)),
            Admission::Pending
        );
        assert!(!queue.withdraw(1));
        assert!(queue.withdraw(2));
        assert_eq!(ids(&queue.pending("prod")), [3]);
        assert_eq!(queue.finish("prod", true).map(|r| r.id), Some(3));
        assert_eq!(queue.finish("prod", true), None);
    }
}
