//! A swarm's own state, as its engines tell it: what one engine says of its membership
//! (`GET /info`), the swarm's spec (`GET /swarm`) and its nodes (`GET /nodes`). Values
//! the `swarm` and `node` steps plan against; read by [`crate::docker`].

use std::collections::BTreeMap;

use serde_json::Value;

/// What one Docker engine says of its own place in a swarm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeMembership {
    /// `inactive` (in no swarm), `pending`, `active`, `error` or `locked`.
    pub local_state: String,
    /// Its node ID, when it is in a swarm.
    pub node_id: Option<String>,
    /// The swarm's ID: a manager's engine tells it, a worker's does not.
    pub cluster_id: Option<String>,
    /// It is a manager (`ControlAvailable`).
    pub is_manager: bool,
    /// The managers a worker knows (`RemoteManagers`' addresses).
    pub remote_managers: Vec<String>,
}

impl NodeMembership {
    pub fn in_swarm(&self) -> bool {
        self.local_state != "inactive"
    }
}

/// A node of the swarm, as a manager lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveNode {
    pub id: String,
    /// The object version, sent back with an update.
    pub version: u64,
    pub hostname: String,
    /// The address the node is seen at (`Status.Addr`).
    pub address: String,
    /// `ready`, `down`, `unknown` or `disconnected`.
    pub state: String,
    /// For a manager: `reachable`, `unreachable` or `unknown`.
    pub reachability: Option<String>,
    pub leader: bool,
    /// For a manager: where the others reach it (`ManagerStatus.Addr`, `ADDRESS:2377`).
    pub manager_addr: Option<String>,
    /// The Engine API `NodeSpec` JSON: `Labels`, `Role`, `Availability`, maybe `Name`.
    pub spec: Value,
}

impl LiveNode {
    pub fn role(&self) -> &str {
        self.spec
            .get("Role")
            .and_then(Value::as_str)
            .unwrap_or("worker")
    }

    pub fn availability(&self) -> &str {
        self.spec
            .get("Availability")
            .and_then(Value::as_str)
            .unwrap_or("active")
    }

    pub fn labels(&self) -> BTreeMap<String, String> {
        self.spec
            .get("Labels")
            .and_then(Value::as_object)
            .map(|labels| {
                labels
                    .iter()
                    .map(|(key, value)| (key.clone(), value.as_str().unwrap_or("").to_owned()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether this node is the host at `address` named `name`: by the address the swarm
    /// sees it at, else by its hostname.
    pub fn is_host(&self, address: &str, name: &str) -> bool {
        self.address == address || (!name.is_empty() && self.hostname == name)
    }
}

/// The swarm as a manager's `GET /swarm` shows it, without its join tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct SwarmCluster {
    pub id: String,
    pub version: u64,
    /// The Engine API `SwarmSpec` JSON.
    pub spec: Value,
    /// Set when the swarm was made and never again.
    pub default_addr_pool: Vec<String>,
    pub subnet_size: Option<u64>,
    pub data_path_port: Option<u64>,
}

/// Whether the managers that stay when `leaving` (node IDs) stop managing keep the
/// swarm: `Err` says why not (no manager left, or fewer than a majority of those that stay
/// reachable).
pub fn managers_stay_in_quorum(
    nodes: &[LiveNode],
    leaving: &std::collections::BTreeSet<&str>,
) -> Result<(), String> {
    let staying: Vec<&LiveNode> = nodes
        .iter()
        .filter(|node| node.role() == "manager" && !leaving.contains(node.id.as_str()))
        .collect();
    if staying.is_empty() {
        return Err("would leave the swarm without a manager".to_owned());
    }
    let reachable = staying
        .iter()
        .filter(|node| node.reachability.as_deref() == Some("reachable"))
        .count();
    if reachable <= staying.len() / 2 {
        return Err(format!(
            "would lose the managers' quorum: {reachable} of the {} managers that stay are \
             reachable",
            staying.len()
        ));
    }
    Ok(())
}
