//! What a `swarm` step plans against, read through the [`NodeEngines`] port: each host's
//! engine's membership, read at once, then the swarm's spec and nodes from a host that
//! manages it. Reading writes nothing.

use std::sync::Arc;

use super::{DesiredSwarm, NodeRole};
use crate::docker::{NodeEngine, NodeEngines};
use crate::swarm::{LiveNode, NodeMembership, SwarmCluster};

#[derive(Debug, Clone)]
pub struct ClusterReading {
    /// Each host's membership, in the order of `DesiredSwarm::hosts`; a host that could
    /// not be read has why.
    pub members: Vec<Result<NodeMembership, String>>,
    /// The swarm, as the first host of the managers' groups that manages one tells it:
    /// the swarm the step keeps. A worker's swarm is never adopted.
    pub manager: Option<ManagerView>,
    /// Why no manager could tell the swarm, when a host is one.
    pub manager_problem: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ManagerView {
    /// The host (an index of `DesiredSwarm::hosts`) that told it.
    pub host: usize,
    pub cluster: SwarmCluster,
    pub nodes: Vec<LiveNode>,
}

/// Reads every host of `desired`, all at once.
pub async fn read_cluster(engines: &dyn NodeEngines, desired: &DesiredSwarm) -> ClusterReading {
    let members = futures_util::future::join_all(desired.hosts.iter().map(|host| async move {
        let engine = engines
            .open(&host.endpoint)
            .await
            .map_err(|e| e.to_string())?;
        engine.membership().await.map_err(|e| e.to_string())
    }))
    .await;
    let manager_host = desired.hosts.iter().enumerate().position(|(index, host)| {
        host.role == NodeRole::Manager
            && matches!(&members[index], Ok(member) if member.is_manager && member.local_state == "active")
    });
    let mut reading = ClusterReading {
        members,
        manager: None,
        manager_problem: None,
    };
    if let Some(index) = manager_host {
        match read_manager(engines, &desired.hosts[index].endpoint).await {
            Ok((cluster, nodes)) => {
                reading.manager = Some(ManagerView {
                    host: index,
                    cluster,
                    nodes,
                });
            }
            Err(problem) => {
                reading.manager_problem = Some(format!(
                    "cannot read the swarm from {}: {problem}",
                    desired.hosts[index].label()
                ));
            }
        }
    }
    reading
}

async fn read_manager(
    engines: &dyn NodeEngines,
    endpoint: &str,
) -> Result<(SwarmCluster, Vec<LiveNode>), String> {
    let engine: Arc<dyn NodeEngine> = engines.open(endpoint).await.map_err(|e| e.to_string())?;
    let (cluster, nodes) = futures_util::future::join(engine.cluster(), engine.nodes()).await;
    Ok((
        cluster.map_err(|e| e.to_string())?,
        nodes.map_err(|e| e.to_string())?,
    ))
}
