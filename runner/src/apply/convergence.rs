//! Whether a service has converged: a pure reading of its spec, update status and tasks.

use std::collections::BTreeSet;

use crate::swarm::{LiveService, LiveTask};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Convergence {
    Converged,
    /// Still going: `running` tasks of `desired`; `waiting` says why a task is not running
    /// yet when the swarm says (`pending: no suitable node (…)`).
    Progress {
        running: usize,
        desired: usize,
        waiting: Option<String>,
    },
    Failed {
        reason: String,
    },
}

/// How far a service is, as progress shows it: `0/1 running`, and why a task waits when
/// the swarm says (`0/1 running, pending: no suitable node (…)`).
pub fn progress_text(running: usize, desired: usize, waiting: Option<&str>) -> String {
    match waiting {
        Some(reason) => format!("{running}/{desired} running, {reason}"),
        None => format!("{running}/{desired} running"),
    }
}

/// How many failed new tasks make a service "failing" rather than "starting".
const FAILED_TASKS_LIMIT: usize = 3;

/// The tasks services had before an apply changed them.
#[derive(Debug, Default)]
pub struct OldTasks {
    /// All of them: their failures are not this apply's.
    pub all: BTreeSet<String>,
    /// Those of services whose update replaces their tasks: they do not count as running.
    /// Right after such an update, before the swarm has begun it, they still run and the
    /// service's update status does not say `updating` yet.
    pub outgoing: BTreeSet<String>,
}

/// Reads the state of `service` from its `tasks`, knowing which tasks it had before the
/// apply changed it.
pub fn convergence(service: &LiveService, tasks: &[LiveTask], old_tasks: &OldTasks) -> Convergence {
    let new_failures: Vec<&LiveTask> = tasks
        .iter()
        .filter(|task| !old_tasks.all.contains(&task.id))
        .filter(|task| matches!(task.state.as_str(), "failed" | "rejected"))
        .collect();
    let last_failure = new_failures
        .iter()
        .max_by(|a, b| a.timestamp.cmp(&b.timestamp))
        .copied();
    let task_error = |task: &LiveTask| task.error.clone().unwrap_or_else(|| task.message.clone());
    // The swarm's own verdict names a task ID; the task's error says what went wrong.
    let because = last_failure.map_or_else(String::new, |task| {
        format!("; the last failed task: {}", task_error(task))
    });
    let message = service.update_message.clone().unwrap_or_default();
    match service.update_state.as_deref() {
        Some("rollback_started" | "rollback_completed" | "rollback_paused") => {
            return Convergence::Failed {
                reason: format!("the swarm rolled the update back ({message}){because}"),
            };
        }
        Some("paused") => {
            return Convergence::Failed {
                reason: format!("the swarm paused the update ({message}){because}"),
            };
        }
        _ => {}
    }
    let mode = service.spec.get("Mode");
    let is_job =
        mode.is_some_and(|m| m.get("ReplicatedJob").is_some() || m.get("GlobalJob").is_some());
    let current: Vec<&LiveTask> = tasks
        .iter()
        .filter(|task| {
            task.desired_state == "running" || (is_job && task.desired_state == "complete")
        })
        .filter(|task| !old_tasks.outgoing.contains(&task.id))
        .collect();
    let wanted_state = if is_job { "complete" } else { "running" };
    let running = current
        .iter()
        .filter(|task| task.state == wanted_state)
        .count();
    let desired = if let Some(replicas) = mode
        .and_then(|m| m.pointer("/Replicated/Replicas"))
        .and_then(|r| r.as_u64())
    {
        usize::try_from(replicas).unwrap_or(usize::MAX)
    } else if let Some(total) = mode
        .and_then(|m| m.pointer("/ReplicatedJob/TotalCompletions"))
        .and_then(|r| r.as_u64())
    {
        usize::try_from(total).unwrap_or(usize::MAX)
    } else {
        // Global services have one task per eligible node: as many as the swarm scheduled.
        current.len().max(1)
    };
    let update_done = !matches!(service.update_state.as_deref(), Some("updating"));
    if running >= desired && update_done && (desired == 0 || !current.is_empty()) {
        return Convergence::Converged;
    }
    if new_failures.len() >= FAILED_TASKS_LIMIT {
        let reason = last_failure.map_or_else(String::new, |task| {
            format!(
                "{} tasks failed; the last one: {}",
                new_failures.len(),
                task_error(task)
            )
        });
        return Convergence::Failed { reason };
    }
    // The scheduler's reason for a task it cannot place (or a node's for one it cannot
    // start) is the task's error while the task waits: the newest one tells.
    let waiting = current
        .iter()
        .filter(|task| task.state != wanted_state)
        .filter(|task| task.error.as_deref().is_some_and(|error| !error.is_empty()))
        .max_by(|a, b| a.timestamp.cmp(&b.timestamp))
        .map(|task| format!("{}: {}", task.state, task_error(task)));
    Convergence::Progress {
        running,
        desired,
        waiting,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn service(replicas: u64, update_state: Option<&str>) -> LiveService {
        LiveService {
            id: "s1".into(),
            name: "app_web".into(),
            version: 1,
            spec: json!({ "Mode": { "Replicated": { "Replicas": replicas } } }),
            previous_spec: None,
            update_state: update_state.map(str::to_owned),
            update_message: Some("update rolled back due to failure".into()),
        }
    }

    fn task(id: &str, desired: &str, state: &str) -> LiveTask {
        LiveTask {
            id: id.into(),
            service_id: "s1".into(),
            slot: Some(1),
            node_id: None,
            desired_state: desired.into(),
            state: state.into(),
            message: state.into(),
            error: (state == "failed").then(|| "task: non-zero exit (1)".to_owned()),
            spec_image: None,
            timestamp: id.into(),
        }
    }

    #[test]
    fn counts_running_tasks_against_replicas() {
        let tasks = [
            task("a", "running", "running"),
            task("b", "running", "starting"),
        ];
        assert_eq!(
            convergence(&service(2, None), &tasks, &OldTasks::default()),
            Convergence::Progress {
                running: 1,
                desired: 2,
                waiting: None,
            }
        );
        let tasks = [
            task("a", "running", "running"),
            task("b", "running", "running"),
            task("c", "shutdown", "shutdown"),
        ];
        assert_eq!(
            convergence(&service(2, Some("completed")), &tasks, &OldTasks::default()),
            Convergence::Converged
        );
    }

    #[test]
    fn a_swarm_rollback_is_a_failure() {
        let tasks = [task("a", "running", "running")];
        assert!(matches!(
            convergence(
                &service(1, Some("rollback_completed")),
                &tasks,
                &OldTasks::default()
            ),
            Convergence::Failed { .. }
        ));
    }

    #[test]
    fn repeated_new_failures_fail_with_the_task_error() {
        let tasks = [
            task("old", "shutdown", "failed"),
            task("n1", "shutdown", "failed"),
            task("n2", "shutdown", "failed"),
            task("n3", "running", "failed"),
        ];
        let old = OldTasks {
            all: BTreeSet::from(["old".to_owned()]),
            outgoing: BTreeSet::new(),
        };
        assert_eq!(
            convergence(&service(1, None), &tasks, &old),
            Convergence::Failed {
                reason: "3 tasks failed; the last one: task: non-zero exit (1)".into()
            }
        );
    }

    /// A task the scheduler cannot place stays pending with the scheduler's reason as its
    /// error: progress shows it.
    #[test]
    fn a_pending_task_shows_why_it_waits() {
        let mut pending = task("p", "running", "pending");
        pending.error =
            Some("no suitable node (host-mode port already in use on 1 node)".to_owned());
        assert_eq!(
            convergence(&service(1, None), &[pending], &OldTasks::default()),
            Convergence::Progress {
                running: 0,
                desired: 1,
                waiting: Some(
                    "pending: no suitable node (host-mode port already in use on 1 node)"
                        .to_owned()
                ),
            }
        );
    }

    /// Right after an update that replaces the tasks, the old task still runs and the
    /// update status is the last one's: that is not convergence.
    #[test]
    fn tasks_an_update_replaces_do_not_count_as_running() {
        let old = OldTasks {
            all: BTreeSet::from(["old".to_owned()]),
            outgoing: BTreeSet::from(["old".to_owned()]),
        };
        let tasks = [task("old", "running", "running")];
        assert_eq!(
            convergence(&service(1, Some("completed")), &tasks, &old),
            Convergence::Progress {
                running: 0,
                desired: 1,
                waiting: None,
            }
        );
        let tasks = [
            task("old", "shutdown", "shutdown"),
            task("new", "running", "running"),
        ];
        assert_eq!(
            convergence(&service(1, Some("completed")), &tasks, &old),
            Convergence::Converged
        );
    }
}
