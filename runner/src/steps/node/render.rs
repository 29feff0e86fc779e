//! A `node` step rendered: its hosts and its label values.

use super::NodeStep;
use crate::model::is_template;
use crate::render::{RenderedStep, StepRenderer};
use crate::source::Diagnostics;
use crate::steps::swarm::{NodeRole, SwarmHost, resolve_node_hosts};

/// The prefix of a label's key in [`RenderedStep::values`].
pub const LABEL: &str = "label.";

pub fn render(
    step: &NodeStep,
    renderer: &StepRenderer<'_>,
    rendered: &mut RenderedStep,
    diagnostics: &mut Diagnostics,
) {
    rendered.nodes = resolve_node_hosts(&step.hosts, renderer, diagnostics)
        .into_iter()
        .map(|target| SwarmHost {
            name: target.name,
            address: target.address,
            role: step.role.unwrap_or(NodeRole::Worker),
            advertise_addr: String::new(),
            endpoint: String::new(),
        })
        .collect();
    for (key, value) in &step.labels {
        let value = if is_template(value) {
            match renderer.inline(value, "labels", diagnostics) {
                Some(value) => value,
                None => continue,
            }
        } else {
            value.clone()
        };
        rendered.values.insert(format!("{LABEL}{key}"), value);
    }
}
