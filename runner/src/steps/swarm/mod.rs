//! The `swarm` step: the hosts of some groups made one swarm, each node reached through
//! its own engine (`docker.node_host`, rendered per host).
//!
//! Its way through a run: `input` (as written) → `check` (`SwarmStep`) → `render` (each
//! host's role, advertised address and engine endpoint: `SwarmHost`) → `desired`
//! (`DesiredSwarm`) → `cluster_reading` (plan: each engine's membership, and the swarm's
//! spec and nodes from a manager, read through the [`crate::docker::NodeEngines`] port)
//! → `cluster_plan` (pure: the `ClusterAction`s, problems, the plan's changes) → `apply`
//! (reads again, plans again, and carries the actions out).

mod apply;
mod check;
mod cluster_plan;
mod cluster_reading;
mod desired;
mod input;
mod render;
mod swarm_settings;

#[cfg(test)]
mod tests;

pub use apply::apply;
pub use check::check;
pub use cluster_plan::{ClusterAction, ClusterPlan, plan_cluster};
pub use cluster_reading::{ClusterReading, read_cluster};
pub use desired::{DesiredSwarm, desired};
pub use input::SwarmInput;
pub use render::{SwarmHost, render, resolve_node_hosts};
pub use swarm_settings::SwarmSettings;

/// A node's role in the swarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeRole {
    Manager,
    Worker,
}

impl NodeRole {
    pub fn name(self) -> &'static str {
        match self {
            NodeRole::Manager => "manager",
            NodeRole::Worker => "worker",
        }
    }
}

/// A checked `swarm` step.
#[derive(Debug, Clone)]
pub struct SwarmStep {
    pub managers: Vec<String>,
    pub workers: Vec<String>,
    /// A template over `host`; `None`: the host's address.
    pub advertise_addr: Option<String>,
    pub listen_addr: String,
    pub settings: SwarmSettings,
    pub remove_missing: bool,
}

/// Where a node listens when the step does not say.
pub const DEFAULT_LISTEN_ADDR: &str = "0.0.0.0:2377";
