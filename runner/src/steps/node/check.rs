//! Load-time checks of a `node` step.

use super::{NodeInput, NodeStep};
use crate::load::WorkflowChecker;
use crate::source::Diagnostics;
use crate::steps::swarm::NodeRole;
use crate::yaml::Node;

pub fn check(
    input: NodeInput,
    node: &Node,
    checker: &WorkflowChecker<'_>,
    diagnostics: &mut Diagnostics,
) -> NodeStep {
    let kind_span = node.entry("node").map_or(node.span, |(key, _)| key.span);
    if input.hosts.is_empty() {
        diagnostics.push(checker.error(
            kind_span,
            "`node` needs `hosts`: the host groups or addresses whose nodes it sets",
        ));
    }
    if input.labels.is_empty()
        && input.availability.is_none()
        && input.role.is_none()
        && !input.exclusive
    {
        diagnostics
            .push(checker.error(kind_span, "`node` needs `labels`, `availability` or `role`"));
    }
    for host in &input.hosts {
        checker.template_syntax(host, "hosts", diagnostics);
    }
    for value in input.labels.values() {
        checker.template_syntax(value, "labels", diagnostics);
    }
    if let Some(availability) = &input.availability
        && !["active", "pause", "drain"].contains(&availability.value.as_str())
    {
        diagnostics.push(checker.error(
            availability.span,
            format!(
                "unknown availability `{}`: use `active`, `pause` or `drain`",
                availability.value
            ),
        ));
    }
    let role = input
        .role
        .as_ref()
        .and_then(|role| match role.value.as_str() {
            "manager" => Some(NodeRole::Manager),
            "worker" => Some(NodeRole::Worker),
            other => {
                diagnostics.push(checker.error(
                    role.span,
                    format!("unknown role `{other}`: use `manager` or `worker`"),
                ));
                None
            }
        });
    NodeStep {
        hosts: input.hosts.into_iter().map(|host| host.value).collect(),
        labels: input
            .labels
            .into_iter()
            .map(|(key, value)| (key, value.value))
            .collect(),
        availability: input.availability.map(|a| a.value),
        role,
        exclusive: input.exclusive,
    }
}
