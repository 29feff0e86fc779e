//! How a `certs` step is applied: the secrets of the certificates issued are created,
//! older versions no service uses removed; then the files of the certificates that go to
//! hosts are written as an `ssh` step's are, `on_change` following on a host whose files
//! changed.

use super::DesiredCerts;
use crate::apply::{Applier, ApplyError, ApplyEvent};
use crate::docker::DockerEngine;
use crate::plan::{Action, DesiredStep, StepPlan};
use crate::swarm::LiveObject;

pub async fn apply<E: DockerEngine>(
    applier: &mut Applier<'_, E>,
    desired_step: &DesiredStep,
    certs: &DesiredCerts,
    plan: &StepPlan,
    changes: &mut usize,
) -> Result<(), ApplyError> {
    let step = desired_step.name.as_str();
    let docker = ApplyError::docker_in(step);
    for change in &plan.changes {
        match change.action {
            Action::Create => {
                let Some(object) = certs
                    .outcomes
                    .iter()
                    .flat_map(|outcome| &outcome.created)
                    .find(|object| object.name == change.name)
                else {
                    // Only a run that may read the CA key issues; a plan made without it
                    // (a pull request's) is never applied.
                    return Err(ApplyError::Step {
                        step: step.to_owned(),
                        message: format!(
                            "secret {} was planned but not issued (the CA key was not read)",
                            change.name
                        ),
                    });
                };
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
    let has_hosts = certs.certificates.iter().any(|c| !c.hosts.is_empty());
    match &certs.host_files {
        Some(hosts) if !hosts.hosts.is_empty() => {
            crate::steps::ssh::apply(applier, desired_step, hosts, &plan.hosts, changes).await
        }
        // Only a plan that read the hosts (a trusted run's) is applied.
        None if has_hosts => Err(ApplyError::Step {
            step: step.to_owned(),
            message: "the certificates' hosts were not read when planning".to_owned(),
        }),
        _ => Ok(()),
    }
}
