//! The kind of a checked step: one variant per kind, holding that kind's step. Each
//! method hands the step to its kind's module.

use super::Desired;
use super::certs::{self, CertsStep};
use super::config::{self, ConfigStep};
use super::network::{self, NetworkStep};
use super::remove::{self, RemoveStep};
use super::secret;
use super::service::{self, ServiceStep};
use super::stack::{self, StackStep};
use super::wait::{self, WaitStep};
use crate::plan::DesiredContext;
use crate::render::{RenderedStep, StepRenderer};
use crate::source::Diagnostics;
use crate::swarm::ObjectKind;

#[derive(Debug, Clone)]
pub enum StepKind {
    Stack(StackStep),
    Network(NetworkStep),
    Config(ConfigStep),
    Secret(ConfigStep),
    Certs(CertsStep),
    Wait(WaitStep),
    Remove(RemoveStep),
    Ssh(super::ssh::SshStep),
    Service(ServiceStep),
    Swarm(super::swarm::SwarmStep),
    Node(super::node::NodeStep),
}

impl StepKind {
    /// The kind's key in a workflow file.
    pub fn name(&self) -> &'static str {
        match self {
            StepKind::Stack(_) => "stack",
            StepKind::Network(_) => "network",
            StepKind::Config(_) => "config",
            StepKind::Secret(_) => "secret",
            StepKind::Certs(_) => "certs",
            StepKind::Wait(_) => "wait",
            StepKind::Remove(_) => "remove",
            StepKind::Ssh(_) => "ssh",
            StepKind::Service(_) => "service",
            StepKind::Swarm(_) => "swarm",
            StepKind::Node(_) => "node",
        }
    }

    /// The name of a step that has neither `name` nor `id`.
    pub fn default_step_name(&self) -> String {
        match self {
            StepKind::Stack(step) => format!("stack {}", step.name),
            StepKind::Network(step) => format!("network {}", step.name),
            StepKind::Config(step) => format!("config {}", step.name),
            StepKind::Secret(step) => format!("secret {}", step.name),
            StepKind::Certs(step) => {
                let names: Vec<&str> = step.certificates.iter().map(|c| c.name.as_str()).collect();
                format!("certs {}", names.join(", "))
            }
            StepKind::Wait(_) => "wait".to_owned(),
            StepKind::Remove(step) => format!("remove {}", step.stack),
            StepKind::Ssh(step) => format!("ssh {}", step.hosts.join(", ")),
            StepKind::Service(step) => format!("service {}", step.name),
            StepKind::Swarm(step) => format!(
                "swarm {}",
                step.managers
                    .iter()
                    .chain(&step.workers)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            StepKind::Node(step) => format!("node {}", step.hosts.join(", ")),
        }
    }

    /// The stack the step deploys or removes, as written (it may be a template).
    pub fn stack(&self) -> Option<&str> {
        match self {
            StepKind::Stack(step) => Some(step.name.as_str()),
            StepKind::Remove(step) => Some(step.stack.as_str()),
            StepKind::Network(_)
            | StepKind::Config(_)
            | StepKind::Secret(_)
            | StepKind::Certs(_)
            | StepKind::Wait(_)
            | StepKind::Ssh(_)
            | StepKind::Service(_)
            | StepKind::Swarm(_)
            | StepKind::Node(_) => None,
        }
    }

    /// Whether the step reads or writes the swarm through `docker.host`: not an `ssh`
    /// step, a `swarm` step (it reaches each node's own engine) nor a `certs` step whose
    /// certificates go to hosts only. A run of steps that do not may find its engine in
    /// no swarm yet.
    pub fn needs_swarm(&self) -> bool {
        match self {
            StepKind::Ssh(_) | StepKind::Swarm(_) => false,
            StepKind::Certs(step) => step
                .certificates
                .iter()
                .any(|certificate| certificate.target.is_some()),
            StepKind::Stack(_)
            | StepKind::Network(_)
            | StepKind::Config(_)
            | StepKind::Secret(_)
            | StepKind::Wait(_)
            | StepKind::Remove(_)
            | StepKind::Service(_)
            | StepKind::Node(_) => true,
        }
    }

    /// Renders the step's files and the names and values written in it, into `rendered`.
    pub fn render(
        &self,
        renderer: &StepRenderer<'_>,
        rendered: &mut RenderedStep,
        diagnostics: &mut Diagnostics,
    ) {
        match self {
            StepKind::Stack(step) => stack::render(step, renderer, rendered, diagnostics),
            StepKind::Network(step) => network::render(step, renderer, rendered, diagnostics),
            StepKind::Config(step) => {
                config::render(step, ObjectKind::Config, renderer, rendered, diagnostics);
            }
            StepKind::Secret(step) => secret::render(step, renderer, rendered, diagnostics),
            StepKind::Certs(step) => certs::render(step, renderer, rendered, diagnostics),
            StepKind::Wait(step) => wait::render(step, renderer, rendered, diagnostics),
            StepKind::Remove(step) => remove::render(step, renderer, rendered, diagnostics),
            StepKind::Ssh(step) => super::ssh::render(step, renderer, rendered, diagnostics),
            StepKind::Service(step) => service::render(step, renderer, rendered, diagnostics),
            StepKind::Swarm(step) => super::swarm::render(step, renderer, rendered, diagnostics),
            StepKind::Node(step) => super::node::render(step, renderer, rendered, diagnostics),
        }
    }

    /// What the rendered step wants on the swarm, with the warnings its conversion found.
    pub fn desired(
        &self,
        rendered: &RenderedStep,
        context: &DesiredContext<'_>,
    ) -> Result<(Desired, Diagnostics), Diagnostics> {
        let desired = match self {
            StepKind::Stack(step) => {
                let (spec, warnings) = stack::desired(step, rendered, context)?;
                return Ok((Desired::Stack(spec), warnings));
            }
            StepKind::Network(step) => Desired::Network(network::desired(step, rendered, context)),
            StepKind::Config(step) => {
                Desired::Object(config::desired(step, ObjectKind::Config, rendered, context))
            }
            StepKind::Secret(step) => Desired::Object(secret::desired(step, rendered, context)),
            StepKind::Certs(step) => Desired::Certs(certs::desired(step, rendered, context)),
            StepKind::Wait(step) => Desired::Wait(wait::desired(step, rendered)),
            StepKind::Remove(_) => Desired::Remove {
                stack: remove::desired(rendered),
            },
            StepKind::Ssh(step) => Desired::Hosts(super::ssh::desired(step, rendered)),
            StepKind::Service(step) => Desired::Service(service::desired(step, rendered)),
            StepKind::Swarm(step) => Desired::Swarm(super::swarm::desired(step, rendered)),
            StepKind::Node(step) => Desired::Nodes(super::node::desired(step, rendered)),
        };
        Ok((desired, Diagnostics::default()))
    }
}
