//! Carrying a `swarm` step out: the hosts are read again and planned again (a token or a
//! node may have changed since the plan), then the swarm is made or joined, roles and
//! settings are set, and nodes no group names are removed. Join tokens are read from a
//! manager just before they are used and never leave this file but to the joining engine.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::cluster_plan::node_label;
use super::{ClusterAction, DesiredSwarm, NodeRole, plan_cluster, read_cluster};
use crate::apply::{Applier, ApplyError, ApplyEvent};
use crate::docker::{DockerEngine, DockerError, JoinRequest, NodeEngine, NodeEngines};
use crate::plan::{Action, DesiredStep, ObjectType, StepPlan};
use crate::swarm::LiveNode;

/// How long the nodes may take to be ready, or a drained node to lose its tasks, when the
/// step has no `timeout`.
const DEFAULT_WAIT: Duration = Duration::from_secs(120);
const POLL: Duration = Duration::from_millis(500);
const OUT_OF_SEQUENCE_RETRIES: usize = 3;

pub async fn apply<E: DockerEngine>(
    applier: &mut Applier<'_, E>,
    step: &DesiredStep,
    desired: &DesiredSwarm,
    plan: &StepPlan,
    changes: &mut usize,
) -> Result<(), ApplyError> {
    if plan
        .changes
        .iter()
        .all(|change| change.action == Action::Unchanged)
    {
        return Ok(());
    }
    let fail = |message: String| ApplyError::Step {
        step: step.name.clone(),
        message,
    };
    let docker = ApplyError::docker_in(&step.name);
    let engines = applier
        .nodes()
        .ok_or_else(|| fail("this run cannot reach the nodes' own engines".to_owned()))?;
    let reading = read_cluster(engines, desired).await;
    let planned = plan_cluster(desired, &reading);
    if !planned.problems.is_empty() {
        return Err(fail(planned.problems.join("; ")));
    }
    let wait = step.timeout.unwrap_or(DEFAULT_WAIT);
    let mut manager = reading.manager.as_ref().map(|view| {
        let host = &desired.hosts[view.host];
        let address = view
            .nodes
            .iter()
            .find(|node| {
                node.is_host(&host.address, host.hostname()) && node.manager_addr.is_some()
            })
            .and_then(|node| node.manager_addr.clone())
            .unwrap_or_else(|| format!("{}:{}", host.advertise_addr, desired.swarm_port()));
        (view.host, address)
    });
    let mut workers = Vec::new();
    for action in &planned.actions {
        match action {
            ClusterAction::Init { host } => {
                let host_spec = &desired.hosts[*host];
                let engine = engines.open(&host_spec.endpoint).await.map_err(docker)?;
                let request = desired
                    .settings
                    .init_request(&desired.listen_addr, &host_spec.advertise_addr);
                engine.init_swarm(&request).await.map_err(docker)?;
                manager = Some((
                    *host,
                    format!("{}:{}", host_spec.advertise_addr, desired.swarm_port()),
                ));
                *changes += 1;
                applier.record(ApplyEvent::Created {
                    object: ObjectType::Swarm,
                    name: format!("on {}", host_spec.label()),
                });
            }
            ClusterAction::Join {
                host,
                role: NodeRole::Worker,
            } => workers.push(*host),
            ClusterAction::Join {
                host,
                role: NodeRole::Manager,
            } => {
                let (at, address) = manager
                    .clone()
                    .ok_or_else(|| fail("no manager to join".to_owned()))?;
                let leader = engines
                    .open(&desired.hosts[at].endpoint)
                    .await
                    .map_err(docker)?;
                join(
                    engines,
                    leader.as_ref(),
                    desired,
                    *host,
                    NodeRole::Manager,
                    &address,
                )
                .await
                .map_err(docker)?;
                *changes += 1;
                applier.record(joined(desired, *host, NodeRole::Manager));
            }
            ClusterAction::SetRole {
                host,
                node_id,
                role,
            } => {
                let engine = manager_engine(&step.name, engines, desired, manager.as_ref()).await?;
                let role = role.name();
                update_node(engine.as_ref(), node_id, |spec| {
                    spec["Role"] = Value::from(role);
                })
                .await
                .map_err(docker)?;
                *changes += 1;
                applier.record(ApplyEvent::Updated {
                    object: ObjectType::Node,
                    name: desired.hosts[*host].label(),
                });
            }
            ClusterAction::UpdateSpec { .. } => {
                let engine = manager_engine(&step.name, engines, desired, manager.as_ref()).await?;
                let cluster = engine.cluster().await.map_err(docker)?;
                let spec = desired.settings.applied_to(&cluster.spec);
                engine
                    .update_cluster(cluster.version, &spec)
                    .await
                    .map_err(docker)?;
                *changes += 1;
                applier.record(ApplyEvent::Updated {
                    object: ObjectType::Swarm,
                    name: cluster.id,
                });
            }
            ClusterAction::Remove { .. } => {}
        }
    }
    if !workers.is_empty() {
        let (at, address) = manager
            .clone()
            .ok_or_else(|| fail("no manager to join".to_owned()))?;
        let leader = engines
            .open(&desired.hosts[at].endpoint)
            .await
            .map_err(docker)?;
        let joins = futures_util::future::join_all(workers.iter().map(|&host| {
            let leader = leader.clone();
            let address = address.clone();
            async move {
                join(
                    engines,
                    leader.as_ref(),
                    desired,
                    host,
                    NodeRole::Worker,
                    &address,
                )
                .await
            }
        }))
        .await;
        for (&host, result) in workers.iter().zip(joins) {
            result.map_err(docker)?;
            *changes += 1;
            applier.record(joined(desired, host, NodeRole::Worker));
        }
    }
    let engine = manager_engine(&step.name, engines, desired, manager.as_ref()).await?;
    wait_until_ready(engine.as_ref(), desired, wait)
        .await
        .map_err(|error| match error {
            Waited::Docker(error) => docker(error),
            Waited::Late(message) => ApplyError::TimedOut {
                step: step.name.clone(),
                message,
            },
        })?;
    for action in &planned.actions {
        if let ClusterAction::Remove { node } = action {
            remove(engines, engine.as_ref(), desired, node, wait)
                .await
                .map_err(|error| match error {
                    Waited::Docker(error) => docker(error),
                    Waited::Late(message) => ApplyError::TimedOut {
                        step: step.name.clone(),
                        message,
                    },
                })?;
            *changes += 1;
            applier.record(ApplyEvent::Removed {
                object: ObjectType::Node,
                name: node_label(node),
            });
        }
    }
    Ok(())
}

fn joined(desired: &DesiredSwarm, host: usize, role: NodeRole) -> ApplyEvent {
    ApplyEvent::Created {
        object: ObjectType::Node,
        name: format!("{} as {}", desired.hosts[host].label(), role.name()),
    }
}

async fn manager_engine(
    step: &str,
    engines: &dyn NodeEngines,
    desired: &DesiredSwarm,
    manager: Option<&(usize, String)>,
) -> Result<Arc<dyn NodeEngine>, ApplyError> {
    let Some((host, _)) = manager else {
        return Err(ApplyError::Step {
            step: step.to_owned(),
            message: "no manager of the swarm answered".to_owned(),
        });
    };
    engines
        .open(&desired.hosts[*host].endpoint)
        .await
        .map_err(ApplyError::docker_in(step))
}

/// Joins `host` in `role`, with the token read from `leader` now.
async fn join(
    engines: &dyn NodeEngines,
    leader: &dyn NodeEngine,
    desired: &DesiredSwarm,
    host: usize,
    role: NodeRole,
    manager_address: &str,
) -> Result<(), DockerError> {
    let tokens = leader.join_tokens().await?;
    let token = match role {
        NodeRole::Manager => &tokens.manager,
        NodeRole::Worker => &tokens.worker,
    };
    let host = &desired.hosts[host];
    let engine = engines.open(&host.endpoint).await?;
    let request = JoinRequest {
        listen_addr: desired.listen_addr.clone(),
        advertise_addr: host.advertise_addr.clone(),
        remote_addrs: vec![manager_address.to_owned()],
    };
    engine.join_swarm(&request, token).await
}

/// Changes node `id`'s spec with `change`, read at its latest version.
async fn update_node(
    engine: &dyn NodeEngine,
    id: &str,
    change: impl Fn(&mut Value),
) -> Result<(), DockerError> {
    let mut attempt = 0;
    loop {
        let nodes = engine.nodes().await?;
        let Some(node) = nodes.iter().find(|node| node.id == id) else {
            return Err(DockerError::Api {
                operation: format!("updating node {id}"),
                message: "the node is no longer in the swarm".to_owned(),
            });
        };
        let mut spec = node.spec.clone();
        change(&mut spec);
        match engine.update_node(id, node.version, &spec).await {
            Err(error) if error.is_out_of_sequence() && attempt < OUT_OF_SEQUENCE_RETRIES => {
                attempt += 1;
            }
            result => return result,
        }
    }
}

enum Waited {
    Docker(DockerError),
    Late(String),
}

impl From<DockerError> for Waited {
    fn from(error: DockerError) -> Self {
        Waited::Docker(error)
    }
}

/// Waits until every host is a node of the swarm in the `ready` state.
async fn wait_until_ready(
    engine: &dyn NodeEngine,
    desired: &DesiredSwarm,
    wait: Duration,
) -> Result<(), Waited> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let nodes = engine.nodes().await?;
        let waiting: Vec<String> = desired
            .hosts
            .iter()
            .filter(|host| {
                !nodes.iter().any(|node| {
                    node.is_host(&host.address, host.hostname()) && node.state == "ready"
                })
            })
            .map(super::SwarmHost::label)
            .collect();
        if waiting.is_empty() {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Waited::Late(format!(
                "not ready after {} s: {}",
                wait.as_secs(),
                waiting.join(", ")
            )));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Demotes `node` if it manages, drains it and waits for its tasks to move, makes it leave
/// through its own engine when it still runs, and removes it once the managers see it
/// down.
async fn remove(
    engines: &dyn NodeEngines,
    manager: &dyn NodeEngine,
    desired: &DesiredSwarm,
    node: &LiveNode,
    wait: Duration,
) -> Result<(), Waited> {
    let deadline = tokio::time::Instant::now() + wait;
    let label = node_label(node);
    update_node(manager, &node.id, |spec| {
        spec["Role"] = Value::from("worker");
        spec["Availability"] = Value::from("drain");
    })
    .await?;
    loop {
        let running = manager
            .node_tasks(&node.id)
            .await?
            .into_iter()
            .filter(|task| task.desired_state == "running")
            .count();
        if running == 0 {
            break;
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Waited::Late(format!(
                "node {label} still has {running} tasks after {} s of draining",
                wait.as_secs()
            )));
        }
        tokio::time::sleep(POLL).await;
    }
    if node.state == "ready"
        && let Some(endpoint) = desired.endpoint_of(&node.address, &node.hostname)
    {
        // A demoted manager needs a moment to step down before it may leave.
        loop {
            let engine = engines.open(&endpoint).await?;
            match engine.leave_swarm().await {
                Ok(()) => break,
                Err(error) if tokio::time::Instant::now() < deadline => {
                    tracing::debug!("node {label} cannot leave yet: {error}");
                    tokio::time::sleep(POLL).await;
                }
                Err(error) => return Err(error.into()),
            }
        }
    }
    loop {
        match manager.remove_node(&node.id).await {
            Ok(()) => return Ok(()),
            Err(error) if tokio::time::Instant::now() < deadline => {
                tracing::debug!("node {label} cannot be removed yet: {error}");
                tokio::time::sleep(POLL).await;
            }
            Err(error) => {
                return Err(Waited::Late(format!(
                    "node {label} was drained but could not be removed: {error} (it must leave \
                     the swarm or be down first: run `docker swarm leave` on it)"
                )));
            }
        }
    }
}
