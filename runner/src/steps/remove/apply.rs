//! How a `remove` step is applied: services, then (once their tasks are gone) networks,
//! configs and secrets, retrying while the daemon still sees them in use.

use crate::apply::{Applier, ApplyError, ApplyEvent};
use crate::docker::DockerEngine;
use crate::plan::{Change, ObjectType, StepPlan};

pub async fn apply<E: DockerEngine>(
    applier: &mut Applier<'_, E>,
    step: &str,
    plan: &StepPlan,
    changes: &mut usize,
) -> Result<(), ApplyError> {
    let docker = ApplyError::docker_in(step);
    for change in plan
        .changes
        .iter()
        .filter(|c| c.object == ObjectType::Service)
    {
        applier
            .remove_service(&change.name, changes)
            .await
            .map_err(docker)?;
    }
    let networks: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| c.object == ObjectType::Network)
        .collect();
    let client = applier.client();
    for change in networks {
        applier
            .retry_while_in_use(step, || client.remove_network(&change.name))
            .await?;
        *changes += 1;
        applier.record(ApplyEvent::Removed {
            object: ObjectType::Network,
            name: change.name.clone(),
        });
    }
    let objects: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| matches!(c.object, ObjectType::Config | ObjectType::Secret))
        .collect();
    *changes += applier.remove_objects(step, &objects).await?;
    Ok(())
}
