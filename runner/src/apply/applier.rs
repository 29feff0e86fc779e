//! Applies a plan to a swarm, step by step: skips, cancels, timeouts and
//! `continue_on_error` here; what a step writes is its kind's (`steps/<kind>/apply.rs`).
//! The writes kinds share live here too: networks ensured, configs, secrets and services
//! removed (retried while in use), convergence polled, every write recorded.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::convergence::{Convergence, OldTasks, convergence, progress_text};
use super::{ApplyError, ApplyEvent, ApplyObserver, CancelSignal};
use crate::docker::{DockerEngine, DockerError};
use crate::plan::{Action, Change, DesiredStep, ObjectType, Plan};
use crate::swarm::{LiveObject, LiveState, LiveTask, NetworkSpec, ObjectKind};

/// How often convergence is checked.
const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// What an apply did, step by step.
#[derive(Debug, Default)]
pub struct ApplyReport {
    pub steps: Vec<StepOutcome>,
}

#[derive(Debug)]
pub struct StepOutcome {
    pub step: String,
    /// Write calls made.
    pub changes: usize,
    /// What those writes did, e.g. `updated service app_web`, in order.
    pub changed: Vec<String>,
    pub result: Result<(), String>,
}

impl ApplyReport {
    pub fn changes(&self) -> usize {
        self.steps.iter().map(|step| step.changes).sum()
    }
}

/// Applies plans through any [`DockerEngine`]: the real Docker client, or an in-memory
/// swarm in tests.
pub struct Applier<'a, E: DockerEngine> {
    client: &'a E,
    observer: &'a mut dyn ApplyObserver,
    /// The live state the plan was made from, with what this apply created added to it:
    /// enough to resolve IDs without reading everything again.
    known: LiveState,
    /// Checked before each step and while waiting.
    cancel: CancelSignal,
    /// What the current step has changed so far (`created network x`), for the error
    /// that stops it: a failure after a write says what was written.
    step_changes: Vec<String>,
    /// What the current step is still waiting for: each service not converged yet, and
    /// how far it is (`0/1 running, pending: no suitable node (…)`).
    waiting_for: BTreeMap<String, String>,
    /// How `ssh` steps reach their hosts; without it, an `ssh` step fails.
    hosts: Option<&'a dyn crate::hosts::HostConnector>,
    /// How `swarm` steps reach each node's own engine; without it, a `swarm` step with
    /// something to do fails.
    nodes: Option<&'a dyn crate::docker::NodeEngines>,
}

impl<'a, E: DockerEngine> Applier<'a, E> {
    /// An applier for plans made from `live`.
    pub fn new(
        client: &'a E,
        observer: &'a mut dyn ApplyObserver,
        live: &LiveState,
    ) -> Applier<'a, E> {
        Applier {
            client,
            observer,
            known: live.clone(),
            cancel: CancelSignal::never(),
            step_changes: Vec::new(),
            waiting_for: BTreeMap::new(),
            hosts: None,
            nodes: None,
        }
    }

    /// Reaches the nodes' own engines, for `swarm` steps, through `engines`.
    pub fn with_nodes(mut self, engines: &'a dyn crate::docker::NodeEngines) -> Applier<'a, E> {
        self.nodes = Some(engines);
        self
    }

    /// Reaches the hosts of `ssh` steps through `connector`.
    pub fn with_hosts(mut self, connector: &'a dyn crate::hosts::HostConnector) -> Applier<'a, E> {
        self.hosts = Some(connector);
        self
    }

    /// Stops at the next safe point once `signal` is raised: before a step, or while a
    /// step waits. The apply then fails with [`ApplyError::Cancelled`].
    pub fn with_cancel(mut self, signal: CancelSignal) -> Applier<'a, E> {
        self.cancel = signal;
        self
    }

    /// Applies `plan`, made from `steps`. Refuses before any write when the plan has
    /// problems. Stops at the first failed step, unless it continues on error; the error
    /// says what was applied before it.
    pub async fn apply(
        &mut self,
        steps: &[DesiredStep],
        plan: &Plan,
    ) -> Result<ApplyReport, (ApplyReport, ApplyError)> {
        let mut report = ApplyReport::default();
        let problems = plan.problems();
        if !problems.is_empty() {
            return Err((report, ApplyError::Refused { problems }));
        }
        for (step, step_plan) in steps.iter().zip(&plan.steps) {
            if step.skipped {
                self.observer.event(ApplyEvent::StepSkipped {
                    step: step.name.clone(),
                    reason: "`if` is false".to_owned(),
                });
                continue;
            }
            if self.cancel.is_raised() {
                return Err((
                    report,
                    ApplyError::Cancelled {
                        step: step.name.clone(),
                        waiting: false,
                        changed: Vec::new(),
                    },
                ));
            }
            self.observer.event(ApplyEvent::StepStarted {
                step: step.name.clone(),
            });
            let mut changes = 0;
            self.step_changes.clear();
            self.waiting_for.clear();
            // An `ssh` step's timeout bounds each of its hosts (`steps::ssh::apply`).
            let step_timeout = step
                .timeout
                .filter(|_| !matches!(step.desired, crate::steps::Desired::Hosts(_)));
            let result = match step_timeout {
                Some(limit) => {
                    match tokio::time::timeout(
                        limit,
                        step.desired.apply(self, step, step_plan, &mut changes),
                    )
                    .await
                    {
                        Ok(result) => result,
                        Err(_) => Err(ApplyError::TimedOut {
                            step: step.name.clone(),
                            message: format!(
                                "timed out after {}{}",
                                humantime::format_duration(limit),
                                self.still_waiting()
                            ),
                        }),
                    }
                }
                None => {
                    step.desired
                        .apply(self, step, step_plan, &mut changes)
                        .await
                }
            };
            let result = result.map_err(|error| error.after_changes(&self.step_changes));
            self.observer.event(ApplyEvent::StepFinished {
                step: step.name.clone(),
                changes,
                error: result.as_ref().err().map(ApplyError::detail),
                cancelled: matches!(result, Err(ApplyError::Cancelled { .. })),
            });
            match result {
                Ok(()) => report.steps.push(StepOutcome {
                    step: step.name.clone(),
                    changes,
                    changed: std::mem::take(&mut self.step_changes),
                    result: Ok(()),
                }),
                Err(error) => {
                    report.steps.push(StepOutcome {
                        step: step.name.clone(),
                        changes,
                        changed: std::mem::take(&mut self.step_changes),
                        result: Err(error.to_string()),
                    });
                    if !step.continue_on_error {
                        return Err((report, error));
                    }
                }
            }
        }
        Ok(report)
    }

    /// Removes service `name`.
    pub async fn remove_service(
        &mut self,
        name: &str,
        changes: &mut usize,
    ) -> Result<(), DockerError> {
        self.client.remove_service(name).await?;
        *changes += 1;
        self.record(ApplyEvent::Removed {
            object: ObjectType::Service,
            name: name.to_owned(),
        });
        Ok(())
    }

    /// Creates a network the plan creates; removes and creates one it recreates.
    pub async fn ensure_network(
        &mut self,
        network: &NetworkSpec,
        action: &Action,
        changes: &mut usize,
    ) -> Result<(), DockerError> {
        if matches!(action, Action::Recreate { .. }) {
            self.client.remove_network(&network.name).await?;
            *changes += 1;
            self.step_changes
                .push(format!("removed network {}", network.name));
        }
        if matches!(action, Action::Create | Action::Recreate { .. }) {
            self.client.create_network(network).await?;
            *changes += 1;
            self.record(ApplyEvent::Created {
                object: ObjectType::Network,
                name: network.name.clone(),
            });
        }
        Ok(())
    }

    /// Polls until every named service has converged, one fails, or `limit` passes. Each
    /// poll reads only the services still awaited and their tasks: two requests, however
    /// large the swarm.
    pub async fn converge(
        &mut self,
        step: &str,
        services: &[String],
        old_tasks: &OldTasks,
        limit: Duration,
    ) -> Result<(), ApplyError> {
        let started = tokio::time::Instant::now();
        let mut pending: BTreeSet<String> = services.iter().cloned().collect();
        let docker = ApplyError::docker_in(step);
        while !pending.is_empty() {
            let names: Vec<String> = pending.iter().cloned().collect();
            let live = self.client.services(&names).await.map_err(docker)?;
            if let Some(missing) = names
                .iter()
                .find(|name| !live.iter().any(|service| &service.name == *name))
            {
                return Err(ApplyError::NotConverged {
                    step: step.to_owned(),
                    service: missing.clone(),
                    reason: "the service does not exist".to_owned(),
                });
            }
            let ids: Vec<String> = live.iter().map(|service| service.id.clone()).collect();
            let tasks = self.client.tasks(&ids).await.map_err(docker)?;
            for service in &live {
                let own: Vec<LiveTask> = tasks
                    .iter()
                    .filter(|task| task.service_id == service.id)
                    .cloned()
                    .collect();
                let name = service.name.clone();
                match convergence(service, &own, old_tasks) {
                    Convergence::Converged => {
                        pending.remove(&name);
                        self.waiting_for.remove(&name);
                        self.observer.event(ApplyEvent::Converged { service: name });
                    }
                    Convergence::Progress {
                        running,
                        desired,
                        waiting,
                    } => {
                        let text = progress_text(running, desired, waiting.as_deref());
                        // Shown when it changes, not at every poll.
                        if self.waiting_for.get(&name) != Some(&text) {
                            self.observer.event(ApplyEvent::Converging {
                                service: name.clone(),
                                running,
                                desired,
                                waiting,
                            });
                            self.waiting_for.insert(name, text);
                        }
                    }
                    Convergence::Failed { reason } => {
                        return Err(ApplyError::NotConverged {
                            step: step.to_owned(),
                            service: name,
                            reason,
                        });
                    }
                }
            }
            if pending.is_empty() {
                break;
            }
            if started.elapsed() >= limit {
                return Err(ApplyError::TimedOut {
                    step: step.to_owned(),
                    message: format!(
                        "services did not converge within {}: {}",
                        humantime::format_duration(limit),
                        self.waiting_list()
                    ),
                });
            }
            if !self.cancel.sleep(POLL_INTERVAL).await {
                return Err(ApplyError::Cancelled {
                    step: step.to_owned(),
                    waiting: true,
                    changed: Vec::new(),
                });
            }
        }
        Ok(())
    }

    /// The services the step still waits for, and how far each is.
    fn waiting_list(&self) -> String {
        self.waiting_for
            .iter()
            .map(|(name, progress)| format!("{name} ({progress})"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// What a step that ran out of time was still waiting for, if anything.
    fn still_waiting(&self) -> String {
        if self.waiting_for.is_empty() {
            String::new()
        } else {
            format!(" waiting for {}", self.waiting_list())
        }
    }

    /// The live state the plan was made from, with what this apply created.
    pub fn known(&self) -> &LiveState {
        &self.known
    }

    /// Notes a config or secret this apply created, so that services can refer to it.
    pub fn remember_object(&mut self, object: LiveObject) {
        self.known.objects.push(object);
    }

    /// The engine the apply writes to.
    pub fn client(&self) -> &'a E {
        self.client
    }

    /// How `ssh` steps reach their hosts, if this apply was given a way.
    pub fn hosts(&self) -> Option<&'a dyn crate::hosts::HostConnector> {
        self.hosts
    }

    /// How `swarm` steps reach each node's engine, if this apply was given a way.
    pub fn nodes(&self) -> Option<&'a dyn crate::docker::NodeEngines> {
        self.nodes
    }

    /// Where the apply reports, for a step that reports from several hosts at once.
    pub fn observer(&mut self) -> &mut dyn ApplyObserver {
        &mut *self.observer
    }

    /// Notes what the current step changed (`host node1: wrote /etc/exports`).
    pub fn note_changes(&mut self, changed: Vec<String>) {
        self.step_changes.extend(changed);
    }

    /// What stops the apply at its next safe point; a step that waits sleeps on it.
    pub fn cancel_signal(&mut self) -> &mut CancelSignal {
        &mut self.cancel
    }

    /// Reports a write, and notes it in what the step has changed.
    pub fn record(&mut self, event: ApplyEvent) {
        let change = match &event {
            ApplyEvent::Created { object, name } => {
                format!("{} {} {name}", object.created_verb(), object.name())
            }
            ApplyEvent::Updated { object, name } => format!("updated {} {name}", object.name()),
            ApplyEvent::Removed { object, name } => format!("removed {} {name}", object.name()),
            _ => String::new(),
        };
        if !change.is_empty() {
            self.step_changes.push(change);
        }
        self.observer.event(event);
    }

    /// Removes the configs and secrets of `changes` the apply knows of; how many it removed.
    pub async fn remove_objects(
        &mut self,
        step: &str,
        changes: &[&Change],
    ) -> Result<usize, ApplyError> {
        if changes.is_empty() {
            return Ok(0);
        }
        let client = self.client;
        let mut removed = 0;
        for change in changes {
            let kind = if change.object == ObjectType::Secret {
                ObjectKind::Secret
            } else {
                ObjectKind::Config
            };
            let Some(object) = self.known.object(kind, &change.name).cloned() else {
                continue;
            };
            self.retry_while_in_use(step, || {
                client.remove_object(kind, &object.id, &object.name)
            })
            .await?;
            removed += 1;
            self.record(ApplyEvent::Removed {
                object: change.object,
                name: change.name.clone(),
            });
        }
        Ok(removed)
    }

    /// Removal of a network, config or secret fails while a task that used it is still
    /// shutting down: retry for a while before giving up. A cancel stops the retries: the
    /// step is waiting, a safe point.
    pub async fn retry_while_in_use<F, Fut>(
        &mut self,
        step: &str,
        remove: F,
    ) -> Result<(), ApplyError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<(), DockerError>>,
    {
        let started = tokio::time::Instant::now();
        loop {
            match remove().await {
                Ok(()) => return Ok(()),
                Err(DockerError::Api { message, .. })
                    if message.contains("No such") || message.contains("not found") =>
                {
                    return Ok(());
                }
                Err(error @ DockerError::Api { .. })
                    if started.elapsed() < Duration::from_secs(60) =>
                {
                    let retryable = error.to_string().contains("in use")
                        || error.to_string().contains("active endpoints");
                    if !retryable {
                        return Err(ApplyError::Docker {
                            step: step.to_owned(),
                            source: error,
                        });
                    }
                    if !self.cancel.sleep(POLL_INTERVAL).await {
                        return Err(ApplyError::Cancelled {
                            step: step.to_owned(),
                            waiting: true,
                            changed: Vec::new(),
                        });
                    }
                }
                Err(error) => {
                    return Err(ApplyError::Docker {
                        step: step.to_owned(),
                        source: error,
                    });
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "applier_tests.rs"]
mod tests;
