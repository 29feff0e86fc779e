//! The one kind key of a step, as decoded: `StepInput::split` takes it out by naming
//! every field, so a kind added to `StepInput` and not here is a compile error.

use super::StepKind;
use super::certs::{self, CertsInput};
use super::config::{self, ConfigInput};
use super::network::{self, NetworkInput};
use super::remove::{self, RemoveInput};
use super::secret;
use super::service::{self, ServiceInput};
use super::stack::{self, StackInput};
use super::wait::{self, WaitInput};
use crate::load::WorkflowChecker;
use crate::source::Diagnostics;
use crate::swarm::ObjectKind;
use crate::yaml::Node;

#[derive(Debug, Clone)]
pub enum StepKindInput {
    Stack(StackInput),
    Network(NetworkInput),
    Config(ConfigInput),
    Secret(ConfigInput),
    Certs(CertsInput),
    Wait(WaitInput),
    Remove(RemoveInput),
    Ssh(super::ssh::SshStepInput),
    Service(ServiceInput),
    Swarm(super::swarm::SwarmInput),
    Node(super::node::NodeInput),
}

impl StepKindInput {
    /// Checks the kind of the step written at `node`; `None` when it cannot be used (the
    /// errors are in `diagnostics`).
    pub fn check(
        self,
        node: &Node,
        checker: &WorkflowChecker<'_>,
        diagnostics: &mut Diagnostics,
    ) -> Option<StepKind> {
        Some(match self {
            StepKindInput::Stack(input) => {
                StepKind::Stack(stack::check(input, checker, diagnostics))
            }
            StepKindInput::Network(input) => {
                StepKind::Network(network::check(input, checker, diagnostics))
            }
            StepKindInput::Config(input) => StepKind::Config(config::check(
                input,
                ObjectKind::Config,
                node,
                checker,
                diagnostics,
            )?),
            StepKindInput::Secret(input) => {
                StepKind::Secret(secret::check(input, node, checker, diagnostics)?)
            }
            StepKindInput::Certs(input) => {
                StepKind::Certs(certs::check(input, node, checker, diagnostics)?)
            }
            StepKindInput::Wait(input) => {
                StepKind::Wait(wait::check(input, node, checker, diagnostics))
            }
            StepKindInput::Remove(input) => {
                StepKind::Remove(remove::check(input, checker, diagnostics))
            }
            StepKindInput::Ssh(input) => {
                StepKind::Ssh(super::ssh::check(input, node, checker, diagnostics)?)
            }
            StepKindInput::Service(input) => {
                StepKind::Service(service::check(input, node, checker, diagnostics))
            }
            StepKindInput::Swarm(input) => {
                StepKind::Swarm(super::swarm::check(input, node, checker, diagnostics))
            }
            StepKindInput::Node(input) => {
                StepKind::Node(super::node::check(input, node, checker, diagnostics))
            }
        })
    }
}
