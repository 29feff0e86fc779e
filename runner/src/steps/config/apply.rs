//! How a `config` or `secret` step is applied: the object created, older versions
//! removed.

use crate::apply::{Applier, ApplyError, ApplyEvent};
use crate::docker::DockerEngine;
use crate::plan::{Action, StepPlan};
use crate::swarm::LiveObject;
use crate::swarm::ObjectSpec;

pub async fn apply<E: DockerEngine>(
    applier: &mut Applier<'_, E>,
    step: &str,
    object: &ObjectSpec,
    plan: &StepPlan,
    changes: &mut usize,
) -> Result<(), ApplyError> {
    let docker = ApplyError::docker_in(step);
    for change in &plan.changes {
        match change.action {
            Action::Create => {
                let id = applier
                    .client()
                    .create_object(object)
                    .await
                    .map_err(docker)?;
                // A later stack of the run may use it by name (`external: true`): its
                // services need the ID.
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
            Action::Remove { .. } => *changes += applier.remove_objects(step, &[change]).await?,
            Action::Update { .. } | Action::Recreate { .. } | Action::Unchanged => {}
        }
    }
    Ok(())
}
