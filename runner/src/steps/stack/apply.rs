//! How a `stack` step is applied: its networks and configs and secrets first, then its
//! services created and updated (concurrently, bounded), awaited until they converge
//! (and rolled back on failure when the step asks), then pruned services and old
//! versions of configs and secrets removed.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::StreamExt as _;

use super::DesiredStack;
use crate::apply::{Applier, ApplyError, ApplyEvent, OldTasks, resolve_object_ids};
use crate::docker::{DockerEngine, DockerError};
use crate::plan::{Action, Change, DesiredStep, FieldDiff, ObjectType, StepPlan};
use crate::swarm::{LiveObject, LiveService, LiveState};

/// Default for how long a stack step waits for its services when the step has no timeout.
const DEFAULT_CONVERGE_TIMEOUT: Duration = Duration::from_secs(600);
/// How many services are created or updated at once. The swarm's manager commits
/// concurrent writes together, so more at once finish sooner: a 50-service stack is
/// created about a fifth faster with 32 than with 8 on a 2-core machine.
pub const PARALLELISM: usize = 32;
/// How often an update is retried when the service changed since it was read.
const OUT_OF_SEQUENCE_RETRIES: usize = 3;

pub async fn apply<E: DockerEngine>(
    applier: &mut Applier<'_, E>,
    step: &DesiredStep,
    stack: &DesiredStack,
    plan: &StepPlan,
    changes: &mut usize,
) -> Result<(), ApplyError> {
    let docker = ApplyError::docker_in(&step.name);
    for change in plan
        .changes
        .iter()
        .filter(|c| c.object == ObjectType::Network)
    {
        let Some(network) = stack.spec.networks.iter().find(|n| n.name == change.name) else {
            continue;
        };
        applier
            .ensure_network(network, &change.action, changes)
            .await
            .map_err(docker)?;
    }
    for change in plan.changes.iter().filter(|c| {
        matches!(c.object, ObjectType::Config | ObjectType::Secret) && c.action == Action::Create
    }) {
        let Some(object) = stack.spec.objects.iter().find(|o| o.name == change.name) else {
            continue;
        };
        let id = applier
            .client()
            .create_object(object)
            .await
            .map_err(docker)?;
        applier.remember_object(LiveObject {
            kind: object.kind,
            id,
            name: object.name.clone(),
            labels: object.labels.clone(),
            created_at: String::new(),
        });
        *changes += 1;
        applier.record(ApplyEvent::Created {
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
        let live = applier.known();
        let old_tasks = task_ids(applier.client(), live, &service_changes)
            .await
            .map_err(docker)?;
        let client = applier.client();
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
                            applier.record(ApplyEvent::Updated {
                                object: ObjectType::Service,
                                name: name.clone(),
                            });
                        }
                        None => {
                            created.push(name.clone());
                            applier.record(ApplyEvent::Created {
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
            return Err(after_failure(applier, step, stack, &previous, &created, error).await);
        }
        if stack.wait {
            let names: Vec<String> = service_changes.iter().map(|c| c.name.clone()).collect();
            let limit = step.timeout.unwrap_or(DEFAULT_CONVERGE_TIMEOUT);
            if let Err(error) = applier
                .converge(&step.name, &names, &old_tasks, limit)
                .await
            {
                return Err(after_failure(applier, step, stack, &previous, &created, error).await);
            }
        }
    }
    for change in plan
        .changes
        .iter()
        .filter(|c| c.object == ObjectType::Service && matches!(c.action, Action::Remove { .. }))
    {
        applier
            .remove_service(&change.name, changes)
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
    *changes += applier.remove_objects(&step.name, &old_versions).await?;
    Ok(())
}

/// After a failed create, update or convergence: roll back when the step asks for it,
/// then return the error, saying what was rolled back.
async fn after_failure<E: DockerEngine>(
    applier: &mut Applier<'_, E>,
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
    match applier.client().services(&names).await {
        Ok(services) => {
            for (name, spec) in previous {
                let Some(service) = services.iter().find(|s| &s.name == name) else {
                    continue;
                };
                let spec = resolve_object_ids(spec, applier.known());
                match applier
                    .client()
                    .update_service(&service.id, service.version, &spec)
                    .await
                {
                    Ok(()) => applier.record(ApplyEvent::RolledBack {
                        service: name.clone(),
                    }),
                    Err(rollback) => problems.push(format!("{name}: {rollback}")),
                }
            }
        }
        Err(rollback) => problems.push(rollback.to_string()),
    }
    for name in created {
        match applier.client().remove_service(name).await {
            Ok(()) => applier.record(ApplyEvent::RolledBack {
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
async fn task_ids<E: DockerEngine>(
    client: &E,
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
    for task in client.tasks(&ids).await? {
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
