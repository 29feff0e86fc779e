//! What a swarm holds right now, as read by the Docker adapter: the snapshot the planner
//! compares the desired state against.

use std::collections::BTreeMap;

use super::{NetworkSpec, ObjectKind, ServiceScope};

#[derive(Debug, Clone, Default)]
pub struct LiveState {
    /// The services of [`LiveState::scope`], not always every one of the swarm.
    pub services: Vec<LiveService>,
    /// Which services were read.
    pub scope: ServiceScope,
    pub networks: Vec<LiveNetwork>,
    pub objects: Vec<LiveObject>,
    /// Names of network IDs services refer to that the network list does not show, such
    /// as the swarm's own ID of the `host` network.
    pub network_aliases: BTreeMap<String, String>,
    /// The swarm's nodes, read only for a run with `node` steps; `None` when not read,
    /// and empty when the engine is in no swarm yet (a `swarm` step will make one).
    pub nodes: Option<Vec<super::LiveNode>>,
    /// The engine is in no swarm yet: everything above is empty, and a `swarm` step of
    /// the run makes the swarm.
    pub swarm_pending: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LiveService {
    pub id: String,
    pub name: String,
    /// The object version, sent back with an update.
    pub version: u64,
    /// The Engine API `ServiceSpec` JSON as the daemon stores it.
    pub spec: serde_json::Value,
    /// `PreviousSpec`: the spec before the last update, what Swarm rolls back to; `None`
    /// for a service never updated.
    pub previous_spec: Option<serde_json::Value>,
    /// `UpdateStatus.State`: `updating`, `completed`, `paused`, `rollback_started`, …
    pub update_state: Option<String>,
    pub update_message: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LiveNetwork {
    pub id: String,
    pub scope: String,
    pub spec: NetworkSpec,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LiveObject {
    pub kind: ObjectKind,
    pub id: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// RFC 3339, so that newer versions sort after older ones.
    pub created_at: String,
}

/// One task of a service, for convergence and error reports.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveTask {
    pub id: String,
    pub service_id: String,
    pub slot: Option<u64>,
    pub node_id: Option<String>,
    pub desired_state: String,
    pub state: String,
    pub message: String,
    pub error: Option<String>,
    /// The image the task runs, for telling new tasks from old ones.
    pub spec_image: Option<String>,
    pub timestamp: String,
}

impl LiveState {
    pub fn service(&self, name: &str) -> Option<&LiveService> {
        self.services.iter().find(|s| s.name == name)
    }

    pub fn network(&self, name: &str) -> Option<&LiveNetwork> {
        self.networks.iter().find(|n| n.spec.name == name)
    }

    pub fn object(&self, kind: ObjectKind, name: &str) -> Option<&LiveObject> {
        self.objects
            .iter()
            .find(|o| o.kind == kind && o.name == name)
    }

    /// Network names by ID, to read service specs (which store network IDs) by name.
    pub fn network_names(&self) -> BTreeMap<String, String> {
        let mut names = self.network_aliases.clone();
        names.extend(
            self.networks
                .iter()
                .map(|n| (n.id.clone(), n.spec.name.clone())),
        );
        names
    }
}
