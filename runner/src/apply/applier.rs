//! Applies a plan to a swarm, step by step: creates networks, configs and secrets, then
//! creates and updates services (concurrently, bounded), waits for them to converge,
//! rolls back when asked to, then removes what the plan removes.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures_util::StreamExt as _;

use super::convergence::{Convergence, OldTasks, convergence, progress_text};
use super::http_probe::http_status;
use super::references::resolve_object_ids;
use super::{ApplyError, ApplyEvent, ApplyObserver, CancelSignal};
use crate::docker::{DockerEngine, DockerError};
use crate::plan::{
    Action, Change, Desired, DesiredStack, DesiredStep, FieldDiff, ObjectType, Plan, StepPlan,
    WaitTarget,
};
use crate::swarm::{LiveService, LiveState, LiveTask, NetworkSpec, ObjectKind};

/// Default for how long a stack step waits for its services when the step has no timeout.
const DEFAULT_CONVERGE_TIMEOUT: Duration = Duration::from_secs(600);
/// How many services are created or updated at once. The swarm's manager commits
/// concurrent writes together, so more at once finish sooner: a 50-service stack is
/// created about a fifth faster with 32 than with 8 on a 2-core machine.
const PARALLELISM: usize = 32;
/// How often convergence is checked.
const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// How often an update is retried when the service changed since it was read.
const OUT_OF_SEQUENCE_RETRIES: usize = 3;

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
        }
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
            // An `ssh` step's timeout bounds each of its hosts (`apply_hosts`).
            let step_timeout = step
                .timeout
                .filter(|_| !matches!(step.desired, Desired::Hosts(_)));
            let result = match step_timeout {
                Some(limit) => {
                    match tokio::time::timeout(limit, self.step(step, step_plan, &mut changes))
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
                None => self.step(step, step_plan, &mut changes).await,
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

    async fn step(
        &mut self,
        step: &DesiredStep,
        plan: &StepPlan,
        changes: &mut usize,
    ) -> Result<(), ApplyError> {
        let docker = |source: DockerError| ApplyError::Docker {
            step: step.name.clone(),
            source,
        };
        match &step.desired {
            Desired::Nothing => Ok(()),
            Desired::Wait(target) => self.wait(&step.name, target).await,
            Desired::Network(network) => {
                for change in &plan.changes {
                    self.ensure_network(network, &change.action, changes)
                        .await
                        .map_err(docker)?;
                }
                Ok(())
            }
            Desired::Object(object) => {
                for change in &plan.changes {
                    match change.action {
                        Action::Create => {
                            self.client.create_object(object).await.map_err(docker)?;
                            *changes += 1;
                            self.record(ApplyEvent::Created {
                                object: change.object,
                                name: change.name.clone(),
                            });
                        }
                        Action::Remove { .. } => {
                            *changes += self.remove_objects(&step.name, &[change]).await?
                        }
                        _ => {}
                    }
                }
                Ok(())
            }
            Desired::Stack(stack) => self.stack(step, stack, plan, changes).await,
            Desired::Remove { .. } => self.teardown(&step.name, plan, changes).await,
            Desired::Hosts(desired) => {
                let Some(connector) = self.hosts else {
                    return Err(ApplyError::Step {
                        step: step.name.clone(),
                        message: "no SSH access to hosts was set up for this run".to_owned(),
                    });
                };
                let observer: &mut dyn ApplyObserver = &mut *self.observer;
                let observer = std::sync::Mutex::new(observer);
                let outcome = crate::steps::ssh::apply_hosts(connector, desired, &observer)
                    .await
                    .map_err(|message| ApplyError::Step {
                        step: step.name.clone(),
                        message,
                    })?;
                *changes += outcome.writes;
                self.step_changes.extend(outcome.changed);
                Ok(())
            }
        }
    }

    async fn stack(
        &mut self,
        step: &DesiredStep,
        stack: &DesiredStack,
        plan: &StepPlan,
        changes: &mut usize,
    ) -> Result<(), ApplyError> {
        let docker = |source: DockerError| ApplyError::Docker {
            step: step.name.clone(),
            source,
        };
        for change in plan
            .changes
            .iter()
            .filter(|c| c.object == ObjectType::Network)
        {
            let Some(network) = stack.spec.networks.iter().find(|n| n.name == change.name) else {
                continue;
            };
            self.ensure_network(network, &change.action, changes)
                .await
                .map_err(docker)?;
        }
        for change in plan.changes.iter().filter(|c| {
            matches!(c.object, ObjectType::Config | ObjectType::Secret)
                && c.action == Action::Create
        }) {
            let Some(object) = stack.spec.objects.iter().find(|o| o.name == change.name) else {
                continue;
            };
            let id = self.client.create_object(object).await.map_err(docker)?;
            self.known.objects.push(crate::swarm::LiveObject {
                kind: object.kind,
                id,
                name: object.name.clone(),
                labels: object.labels.clone(),
                created_at: String::new(),
            });
            *changes += 1;
            self.record(ApplyEvent::Created {
                object: change.object,
                name: change.name.clone(),
            });
        }
        let service_changes: Vec<&Change> = plan
            .changes
            .iter()
            .filter(|c| {
                c.object == ObjectType::Service
                    && matches!(c.action, Action::Create | Action::Update { .. })
            })
            .collect();
        let mut previous: BTreeMap<String, serde_json::Value> = BTreeMap::new();
        let mut created: Vec<String> = Vec::new();
        if !service_changes.is_empty() {
            let live = &self.known;
            let old_tasks = self
                .task_ids(live, &service_changes)
                .await
                .map_err(docker)?;
            let client = self.client;
            // Each write owns what it needs: a stream of futures borrowing from a closure's
            // arguments would not be `Send`, and the daemon runs applies in spawned tasks.
            let writes: Vec<_> = service_changes
                .iter()
                .map(|change| {
                    let name = change.name.clone();
                    let spec = stack
                        .spec
                        .services
                        .iter()
                        .find(|s| s.name == change.name)
                        .map(|desired| resolve_object_ids(&desired.spec, live));
                    let current = live.service(&change.name).cloned();
                    async move {
                        let result = match spec {
                            Some(spec) => write_service(client, &spec, current.as_ref()).await,
                            None => Ok(None),
                        };
                        (name, result)
                    }
                })
                .collect();
            let mut results = futures_util::stream::iter(writes)
                .buffer_unordered(PARALLELISM)
                .collect::<Vec<_>>()
                .await;
            // Reported in the plan's order, whichever write finished first.
            results.sort_by(|(a, _), (b, _)| a.cmp(b));
            let mut failure = None;
            for (name, result) in results {
                match result {
                    Ok(before) => {
                        *changes += 1;
                        match before {
                            Some(spec) => {
                                previous.insert(name.clone(), spec);
                                self.record(ApplyEvent::Updated {
                                    object: ObjectType::Service,
                                    name: name.clone(),
                                });
                            }
                            None => {
                                created.push(name.clone());
                                self.record(ApplyEvent::Created {
                                    object: ObjectType::Service,
                                    name: name.clone(),
                                });
                            }
                        }
                    }
                    Err(error) => failure = failure.or(Some(error)),
                }
            }
            if let Some(error) = failure {
                let error = docker(error);
                return Err(self
                    .after_failure(step, stack, &previous, &created, error)
                    .await);
            }
            if stack.wait {
                let names: Vec<String> = service_changes.iter().map(|c| c.name.clone()).collect();
                let limit = step.timeout.unwrap_or(DEFAULT_CONVERGE_TIMEOUT);
                if let Err(error) = self.converge(&step.name, &names, &old_tasks, limit).await {
                    return Err(self
                        .after_failure(step, stack, &previous, &created, error)
                        .await);
                }
            }
        }
        for change in plan.changes.iter().filter(|c| {
            c.object == ObjectType::Service && matches!(c.action, Action::Remove { .. })
        }) {
            self.remove_service(&change.name, changes)
                .await
                .map_err(docker)?;
        }
        let old_versions: Vec<&Change> = plan
            .changes
            .iter()
            .filter(|c| {
                matches!(c.object, ObjectType::Config | ObjectType::Secret)
                    && matches!(c.action, Action::Remove { .. })
            })
            .collect();
        *changes += self.remove_objects(&step.name, &old_versions).await?;
        Ok(())
    }

    async fn remove_service(&mut self, name: &str, changes: &mut usize) -> Result<(), DockerError> {
        self.client.remove_service(name).await?;
        *changes += 1;
        self.record(ApplyEvent::Removed {
            object: ObjectType::Service,
            name: name.to_owned(),
        });
        Ok(())
    }

    /// Creates a network the plan creates; removes and creates one it recreates.
    async fn ensure_network(
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

    /// After a failed create, update or convergence: roll back when the step asks for it,
    /// then return the error, saying what was rolled back.
    async fn after_failure(
        &mut self,
        step: &DesiredStep,
        stack: &DesiredStack,
        previous: &BTreeMap<String, serde_json::Value>,
        created: &[String],
        error: ApplyError,
    ) -> ApplyError {
        if !stack.rollback_on_failure || (previous.is_empty() && created.is_empty()) {
            return error;
        }
        let mut problems = Vec::new();
        let names: Vec<String> = previous.keys().cloned().collect();
        match self.client.services(&names).await {
            Ok(services) => {
                for (name, spec) in previous {
                    let Some(service) = services.iter().find(|s| &s.name == name) else {
                        continue;
                    };
                    let spec = resolve_object_ids(spec, &self.known);
                    match self
                        .client
                        .update_service(&service.id, service.version, &spec)
                        .await
                    {
                        Ok(()) => self.observer.event(ApplyEvent::RolledBack {
                            service: name.clone(),
                        }),
                        Err(rollback) => problems.push(format!("{name}: {rollback}")),
                    }
                }
            }
            Err(rollback) => problems.push(rollback.to_string()),
        }
        for name in created {
            match self.client.remove_service(name).await {
                Ok(()) => self.observer.event(ApplyEvent::RolledBack {
                    service: name.clone(),
                }),
                Err(rollback) => problems.push(format!("{name}: {rollback}")),
            }
        }
        let outcome = if problems.is_empty() {
            "every service the step changed was restored".to_owned()
        } else {
            format!("rollback failed for: {}", problems.join("; "))
        };
        ApplyError::Step {
            step: step.name.clone(),
            message: format!("{}; {outcome}", error.detail()),
        }
    }

    /// The tasks the services have before they change, so that old failures are not taken
    /// for new ones, nor old tasks for new ones when an update replaces them.
    async fn task_ids(
        &self,
        live: &LiveState,
        changes: &[&Change],
    ) -> Result<OldTasks, DockerError> {
        let services: Vec<(&str, bool)> = changes
            .iter()
            .filter_map(|change| {
                let service = live.service(&change.name)?;
                let replaced =
                    matches!(&change.action, Action::Update { diffs } if replaces_tasks(diffs));
                Some((service.id.as_str(), replaced))
            })
            .collect();
        let ids: Vec<String> = services.iter().map(|(id, _)| (*id).to_owned()).collect();
        let mut old_tasks = OldTasks::default();
        if ids.is_empty() {
            return Ok(old_tasks);
        }
        for task in self.client.tasks(&ids).await? {
            if services
                .iter()
                .any(|(id, replaced)| *replaced && *id == task.service_id)
            {
                old_tasks.outgoing.insert(task.id.clone());
            }
            old_tasks.all.insert(task.id);
        }
        Ok(old_tasks)
    }

    /// Polls until every named service has converged, one fails, or `limit` passes. Each
    /// poll reads only the services still awaited and their tasks: two requests, however
    /// large the swarm.
    async fn converge(
        &mut self,
        step: &str,
        services: &[String],
        old_tasks: &OldTasks,
        limit: Duration,
    ) -> Result<(), ApplyError> {
        let started = tokio::time::Instant::now();
        let mut pending: BTreeSet<String> = services.iter().cloned().collect();
        let docker = |source: DockerError| ApplyError::Docker {
            step: step.to_owned(),
            source,
        };
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

    /// Reports a write, and notes it in what the step has changed.
    fn record(&mut self, event: ApplyEvent) {
        let change = match &event {
            ApplyEvent::Created { object, name } => format!("created {} {name}", object.name()),
            ApplyEvent::Updated { object, name } => format!("updated {} {name}", object.name()),
            ApplyEvent::Removed { object, name } => format!("removed {} {name}", object.name()),
            _ => String::new(),
        };
        if !change.is_empty() {
            self.step_changes.push(change);
        }
        self.observer.event(event);
    }

    async fn wait(&mut self, step: &str, target: &WaitTarget) -> Result<(), ApplyError> {
        if !target.services.is_empty() {
            self.converge(step, &target.services, &OldTasks::default(), target.timeout)
                .await?;
        }
        if let Some(url) = &target.url {
            let started = tokio::time::Instant::now();
            loop {
                let last = match http_status(url, Duration::from_secs(5)).await {
                    Ok(status) if status == target.status => return Ok(()),
                    Ok(status) => format!("{url} answered {status}, waiting for {}", target.status),
                    Err(error) => error,
                };
                if started.elapsed() >= target.timeout {
                    return Err(ApplyError::TimedOut {
                        step: step.to_owned(),
                        message: format!(
                            "gave up after {}: {last}",
                            humantime::format_duration(target.timeout)
                        ),
                    });
                }
                if !self.cancel.sleep(Duration::from_secs(1)).await {
                    return Err(ApplyError::Cancelled {
                        step: step.to_owned(),
                        waiting: true,
                        changed: Vec::new(),
                    });
                }
            }
        }
        Ok(())
    }

    /// A `remove` step: services, then (once their tasks are gone) networks, configs and
    /// secrets, retrying while the daemon still sees them in use.
    async fn teardown(
        &mut self,
        step: &str,
        plan: &StepPlan,
        changes: &mut usize,
    ) -> Result<(), ApplyError> {
        let docker = |source: DockerError| ApplyError::Docker {
            step: step.to_owned(),
            source,
        };
        for change in plan
            .changes
            .iter()
            .filter(|c| c.object == ObjectType::Service)
        {
            self.remove_service(&change.name, changes)
                .await
                .map_err(docker)?;
        }
        let networks: Vec<&Change> = plan
            .changes
            .iter()
            .filter(|c| c.object == ObjectType::Network)
            .collect();
        let client = self.client;
        for change in networks {
            self.retry_while_in_use(step, || client.remove_network(&change.name))
                .await?;
            *changes += 1;
            self.record(ApplyEvent::Removed {
                object: ObjectType::Network,
                name: change.name.clone(),
            });
        }
        let objects: Vec<&Change> = plan
            .changes
            .iter()
            .filter(|c| matches!(c.object, ObjectType::Config | ObjectType::Secret))
            .collect();
        *changes += self.remove_objects(step, &objects).await?;
        Ok(())
    }

    async fn remove_objects(
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
    async fn retry_while_in_use<F, Fut>(&mut self, step: &str, remove: F) -> Result<(), ApplyError>
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

/// Whether an update with these differences makes the swarm replace the service's tasks:
/// it does when their template changes, except for placement (a task stays on a node that
/// still qualifies) and pull options. Other updates may replace them too (a changed
/// endpoint), but convergence does not count on it.
fn replaces_tasks(diffs: &[FieldDiff]) -> bool {
    diffs.iter().any(|diff| {
        (diff.path == "TaskTemplate" || diff.path.starts_with("TaskTemplate."))
            && !diff.path.starts_with("TaskTemplate.Placement")
            && !diff
                .path
                .starts_with("TaskTemplate.ContainerSpec.PullOptions")
    })
}

/// Creates the service, or updates it from `live`; returns the spec it had before an
/// update, for rollback. Retries an update the daemon refuses as out of sequence, at the
/// version the service has then.
async fn write_service<E: DockerEngine>(
    client: &E,
    spec: &serde_json::Value,
    live: Option<&LiveService>,
) -> Result<Option<serde_json::Value>, DockerError> {
    let Some(live) = live else {
        client.create_service(spec).await?;
        return Ok(None);
    };
    let mut version = live.version;
    let mut attempt = 0;
    loop {
        match client.update_service(&live.id, version, spec).await {
            Ok(()) => return Ok(Some(live.spec.clone())),
            Err(error) if error.is_out_of_sequence() && attempt < OUT_OF_SEQUENCE_RETRIES => {
                attempt += 1;
                let now = client.services(std::slice::from_ref(&live.name)).await?;
                version = now.first().map_or(version, |service| service.version);
            }
            Err(error) => return Err(error),
        }
    }
}

#[cfg(test)]
#[path = "applier_tests.rs"]
mod tests;
