//! Writing a `node` step: each node read again just before, updated at its version (read
//! again and compared again when another writer got there first), and, when drained,
//! waited for until its tasks have moved.

use std::time::Duration;

use super::DesiredNodes;
use crate::apply::{Applier, ApplyError, ApplyEvent};
use crate::docker::DockerEngine;
use crate::plan::{Action, DesiredStep, ObjectType, StepPlan};

const OUT_OF_SEQUENCE_RETRIES: usize = 3;
/// How long a drained node's tasks may take to move when the step has no `timeout`.
const DEFAULT_DRAIN_WAIT: Duration = Duration::from_secs(300);
const POLL: Duration = Duration::from_millis(500);

pub async fn apply<E: DockerEngine>(
    applier: &mut Applier<'_, E>,
    step: &DesiredStep,
    desired: &DesiredNodes,
    plan: &StepPlan,
    changes: &mut usize,
) -> Result<(), ApplyError> {
    let planned: Vec<&str> = plan
        .changes
        .iter()
        .filter(|change| matches!(change.action, Action::Update { .. }))
        .map(|change| change.name.as_str())
        .collect();
    let docker = ApplyError::docker_in(&step.name);
    let client = applier.client();
    for host in desired
        .hosts
        .iter()
        .filter(|host| planned.contains(&host.label().as_str()))
    {
        let mut attempt = 0;
        let node_id = loop {
            let nodes = client.nodes().await.map_err(docker)?;
            let Some(node) = host.find(&nodes) else {
                return Err(ApplyError::Step {
                    step: step.name.clone(),
                    message: format!(
                        "host {} is not a node of the swarm: join it with a `swarm` step first",
                        host.label()
                    ),
                });
            };
            if desired.diffs(&node.spec).is_empty() {
                break None;
            }
            let spec = desired.spec_from(&node.spec);
            match client.update_node(&node.id, node.version, &spec).await {
                Ok(()) => break Some(node.id.clone()),
                Err(error) if error.is_out_of_sequence() && attempt < OUT_OF_SEQUENCE_RETRIES => {
                    attempt += 1;
                }
                Err(error) => return Err(docker(error)),
            }
        };
        let Some(node_id) = node_id else {
            continue;
        };
        *changes += 1;
        applier.record(ApplyEvent::Updated {
            object: ObjectType::Node,
            name: host.label(),
        });
        if desired.availability.as_deref() == Some("drain") {
            let wait = step.timeout.unwrap_or(DEFAULT_DRAIN_WAIT);
            let deadline = tokio::time::Instant::now() + wait;
            loop {
                let running = client
                    .node_tasks(&node_id)
                    .await
                    .map_err(docker)?
                    .iter()
                    .filter(|task| task.desired_state == "running")
                    .count();
                if running == 0 {
                    break;
                }
                if tokio::time::Instant::now() >= deadline {
                    return Err(ApplyError::TimedOut {
                        step: step.name.clone(),
                        message: format!(
                            "node {} still has {running} tasks after {} s of draining",
                            host.label(),
                            wait.as_secs()
                        ),
                    });
                }
                tokio::time::sleep(POLL).await;
            }
        }
    }
    Ok(())
}
