//! How a `service` step is applied: the service read again, its new spec made from that
//! reading and written at its version (made again from a new reading when the daemon
//! answers that it changed meanwhile), then awaited until it converged, as a stack's
//! services are.

use std::time::Duration;

use super::DesiredService;
use crate::apply::{Applier, ApplyError, ApplyEvent, OldTasks};
use crate::docker::{DockerEngine, DockerError};
use crate::plan::{Action, DesiredStep, ObjectType, StepPlan};
use crate::swarm::LiveService;

/// How long the step waits for the service when the step has no timeout, as a stack.
const DEFAULT_CONVERGE_TIMEOUT: Duration = Duration::from_secs(600);
/// How often the write is made again when the service changed since it was read.
const OUT_OF_SEQUENCE_RETRIES: usize = 3;

pub async fn apply<E: DockerEngine>(
    applier: &mut Applier<'_, E>,
    step: &DesiredStep,
    service: &DesiredService,
    plan: &StepPlan,
    changes: &mut usize,
) -> Result<(), ApplyError> {
    let planned_update = plan.changes.iter().any(|change| {
        change.name == service.name && matches!(change.action, Action::Update { .. })
    });
    if !planned_update {
        return Ok(());
    }
    let docker = ApplyError::docker_in(&step.name);
    let client = applier.client();
    let mut live = read_service(client, &step.name, &service.name).await?;
    let mut old_tasks = OldTasks::default();
    for task in client
        .tasks(std::slice::from_ref(&live.id))
        .await
        .map_err(docker)?
    {
        if service.replaces_tasks() {
            old_tasks.outgoing.insert(task.id.clone());
        }
        old_tasks.all.insert(task.id);
    }
    let mut attempt = 0;
    loop {
        let spec = service
            .spec_from(&live)
            .map_err(|message| ApplyError::Step {
                step: step.name.clone(),
                message,
            })?;
        match client.update_service(&live.id, live.version, &spec).await {
            Ok(()) => break,
            Err(error) if error.is_out_of_sequence() && attempt < OUT_OF_SEQUENCE_RETRIES => {
                attempt += 1;
                live = read_service(client, &step.name, &service.name).await?;
            }
            Err(error) => return Err(docker(error)),
        }
    }
    *changes += 1;
    applier.record(ApplyEvent::Updated {
        object: ObjectType::Service,
        name: service.name.clone(),
    });
    if service.wait {
        let limit = step.timeout.unwrap_or(DEFAULT_CONVERGE_TIMEOUT);
        applier
            .converge(
                &step.name,
                std::slice::from_ref(&service.name),
                &old_tasks,
                limit,
            )
            .await?;
    }
    Ok(())
}

/// The service as the daemon has it now.
async fn read_service<E: DockerEngine>(
    client: &E,
    step: &str,
    name: &str,
) -> Result<LiveService, ApplyError> {
    let found: Result<Vec<LiveService>, DockerError> = client.services(&[name.to_owned()]).await;
    found
        .map_err(ApplyError::docker_in(step))?
        .into_iter()
        .next()
        .ok_or_else(|| ApplyError::Step {
            step: step.to_owned(),
            message: format!("service `{name}` does not exist any more"),
        })
}
