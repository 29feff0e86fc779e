//! How a `network` step is applied: the network created, or removed and created again.

use crate::apply::{Applier, ApplyError};
use crate::docker::DockerEngine;
use crate::plan::StepPlan;
use crate::swarm::NetworkSpec;

pub async fn apply<E: DockerEngine>(
    applier: &mut Applier<'_, E>,
    step: &str,
    network: &NetworkSpec,
    plan: &StepPlan,
    changes: &mut usize,
) -> Result<(), ApplyError> {
    let docker = ApplyError::docker_in(step);
    for change in &plan.changes {
        applier
            .ensure_network(network, &change.action, changes)
            .await
            .map_err(docker)?;
    }
    Ok(())
}
