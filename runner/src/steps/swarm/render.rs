//! A `swarm` step rendered: its hosts, each with its role, the address it advertises and
//! the endpoint of its own engine (`docker.node_host` rendered with `host`).

use serde::Serialize;

use super::{NodeRole, SwarmStep};
use crate::hosts::HostTarget;
use crate::model::{Environment, is_template};
use crate::render::{RenderedStep, StepRenderer};
use crate::source::Diagnostics;
use crate::steps::ssh::{group_list, host_values};

/// The key of [`RenderedStep::values`] holding `docker.node_host` for a node that left
/// the groups (see `DesiredSwarm::leaving_endpoint`).
pub const LEAVING_ENDPOINT: &str = "leaving_endpoint";

/// One host of a `swarm` or `node` step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SwarmHost {
    /// How the host is shown: its inventory name, else its address.
    pub name: String,
    pub address: String,
    pub role: NodeRole,
    /// The address it advertises to the swarm (`swarm` steps only).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub advertise_addr: String,
    /// Its own engine (`swarm` steps only).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub endpoint: String,
}

impl SwarmHost {
    /// `node2 (10.0.0.12)`, or the address alone when it has no other name.
    pub fn label(&self) -> String {
        if self.name == self.address {
            self.address.clone()
        } else {
            format!("{} ({})", self.name, self.address)
        }
    }

    /// The hostname the node may have, when the inventory names it.
    pub fn hostname(&self) -> &str {
        if self.name == self.address {
            ""
        } else {
            &self.name
        }
    }
}

pub fn render(
    step: &SwarmStep,
    renderer: &StepRenderer<'_>,
    rendered: &mut RenderedStep,
    diagnostics: &mut Diagnostics,
) {
    let environment = renderer.environment();
    let managers = resolve_node_hosts(&step.managers, renderer, diagnostics);
    let workers = resolve_node_hosts(&step.workers, renderer, diagnostics);
    let Some(node_host) = environment
        .docker
        .as_ref()
        .and_then(|docker| docker.node_host.as_ref())
    else {
        diagnostics.push(renderer.error(format!(
            "a `swarm` step reaches each node's own engine through `docker.node_host`, which \
             environment `{}` does not set; e.g. `node_host: \"tcp://{{{{ host.address }}}}:2376\"`",
            environment.name
        )));
        return;
    };
    let inline = |text: &str, what: &str, host: &HostTarget, diagnostics: &mut Diagnostics| {
        let values = host_values(host, "", 0, renderer.values());
        renderer.inline_with(text, what, &values, diagnostics)
    };
    let mut hosts: Vec<SwarmHost> = Vec::new();
    for (role, targets) in [(NodeRole::Manager, managers), (NodeRole::Worker, workers)] {
        for target in targets {
            if let Some(known) = hosts.iter().find(|known| known.address == target.address) {
                if known.role != role {
                    diagnostics.push(renderer.error(format!(
                        "host {} is both a manager and a worker: name it in one of the two",
                        known.label()
                    )));
                }
                continue;
            }
            let advertise_addr = match &step.advertise_addr {
                Some(template) => match inline(template, "advertise_addr", &target, diagnostics) {
                    Some(text) => text,
                    None => continue,
                },
                None => target.address.clone(),
            };
            let Some(endpoint) = inline(&node_host.value, "docker.node_host", &target, diagnostics)
            else {
                continue;
            };
            hosts.push(SwarmHost {
                name: target.name.clone(),
                address: target.address.clone(),
                role,
                advertise_addr,
                endpoint,
            });
        }
    }
    rendered.nodes = hosts;
    if step.remove_missing {
        let marked = HostTarget {
            address: super::desired::ADDRESS_MARK.to_owned(),
            port: 22,
            user: String::new(),
            name: super::desired::NAME_MARK.to_owned(),
            vars: Default::default(),
        };
        // A template that needs more of `host` than its address and name cannot reach a
        // node outside the groups: such a node is drained and removed once it is down.
        let mut ignored = Diagnostics::default();
        if let Some(endpoint) = inline(&node_host.value, "docker.node_host", &marked, &mut ignored)
        {
            rendered
                .values
                .insert(LEAVING_ENDPOINT.to_owned(), endpoint);
        }
    }
}

/// The hosts of `entries`: each a host group of the environment, or an address; a
/// template is rendered first. A host named twice is taken once.
pub fn resolve_node_hosts(
    entries: &[String],
    renderer: &StepRenderer<'_>,
    diagnostics: &mut Diagnostics,
) -> Vec<HostTarget> {
    let environment: &Environment = renderer.environment();
    let mut targets: Vec<HostTarget> = Vec::new();
    let mut add = |target: HostTarget| {
        if !targets.iter().any(|known| known.address == target.address) {
            targets.push(target);
        }
    };
    for entry in entries {
        let entry = if is_template(entry) {
            match renderer.inline(entry, "hosts", diagnostics) {
                Some(text) => text,
                None => continue,
            }
        } else {
            entry.clone()
        };
        if let Some(group) = environment.host_groups.get(&entry) {
            group.iter().cloned().for_each(&mut add);
            continue;
        }
        match HostTarget::parse(&entry, "", 22) {
            Ok(target) if entry.contains(['.', ':']) || entry == "localhost" => add(target),
            Ok(_) => diagnostics.push(renderer.error(format!(
                "`{entry}` is not a host group (the environment has {}); an address needs a \
                 dot or a colon",
                group_list(environment)
            ))),
            Err(problem) => diagnostics.push(renderer.error(problem)),
        }
    }
    targets
}
