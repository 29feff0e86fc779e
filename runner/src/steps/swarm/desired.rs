//! What a `swarm` step wants: its hosts in their roles, and the swarm's settings.

use super::{SwarmHost, SwarmSettings, SwarmStep};
use crate::render::RenderedStep;

/// Stands for a node's address in [`DesiredSwarm::leaving_endpoint`].
pub const ADDRESS_MARK: &str = "__shoal_node_address__";
/// Stands for a node's hostname in [`DesiredSwarm::leaving_endpoint`].
pub const NAME_MARK: &str = "__shoal_node_name__";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredSwarm {
    /// Managers first, in the order written: a new swarm is made on the first.
    pub hosts: Vec<SwarmHost>,
    pub listen_addr: String,
    pub settings: SwarmSettings,
    pub remove_missing: bool,
    /// `docker.node_host` rendered for a host whose address and name are
    /// [`ADDRESS_MARK`] and [`NAME_MARK`]: how a node that left the groups is reached, to
    /// make it leave (`remove_missing`). `None` when the template needs more of `host`.
    pub leaving_endpoint: Option<String>,
}

pub fn desired(step: &SwarmStep, rendered: &RenderedStep) -> DesiredSwarm {
    DesiredSwarm {
        hosts: rendered.nodes.clone(),
        listen_addr: step.listen_addr.clone(),
        settings: step.settings.clone(),
        remove_missing: step.remove_missing,
        leaving_endpoint: rendered
            .values
            .get(super::render::LEAVING_ENDPOINT)
            .cloned(),
    }
}

impl DesiredSwarm {
    /// The endpoint of the engine of a node that is not one of the hosts.
    pub fn endpoint_of(&self, address: &str, hostname: &str) -> Option<String> {
        self.leaving_endpoint.as_ref().map(|template| {
            template
                .replace(ADDRESS_MARK, address)
                .replace(NAME_MARK, hostname)
        })
    }

    /// The port managers listen at, from `listen_addr`.
    pub fn swarm_port(&self) -> &str {
        self.listen_addr
            .rsplit_once(':')
            .map_or("2377", |(_, port)| port)
    }
}
