//! What one step wants on the swarm, by kind: how it is planned and how it is applied.

use super::certs::{self, DesiredCerts};
use super::service::{self, DesiredService};
use super::stack::{self, DesiredStack};
use super::wait::{self, WaitTarget};
use super::{config, network, remove};
use crate::apply::{Applier, ApplyError};
use crate::docker::DockerEngine;
use crate::plan::{DesiredStep, Planner, StepPlan};
use crate::swarm::{NetworkSpec, ObjectSpec};

#[derive(Debug, Clone)]
pub enum Desired {
    /// Skipped steps change nothing.
    Nothing,
    /// A `wait` step changes nothing either, but holds the run until its target is ready.
    Wait(WaitTarget),
    Network(NetworkSpec),
    /// A `config` or `secret` step.
    Object(ObjectSpec),
    /// A `certs` step: its certificates, settled against the live swarm before planning.
    Certs(DesiredCerts),
    Stack(DesiredStack),
    /// A `remove` step: everything labelled with this stack namespace.
    Remove {
        stack: String,
    },
    /// An `ssh` step: files and commands on hosts, planned against the hosts themselves
    /// (`PlannedRun::plan_hosts`).
    Hosts(super::ssh::DesiredHosts),
    /// A `service` step: a change to one existing service.
    Service(DesiredService),
    /// A `swarm` step: hosts made one swarm, planned against each node's own engine
    /// (`PlannedRun::plan_swarms`).
    Swarm(super::swarm::DesiredSwarm),
    /// A `node` step: the labels, availability and role of some hosts' nodes.
    Nodes(super::node::DesiredNodes),
}

impl Desired {
    /// Adds what applying this would change, and what forbids it, to `plan`.
    pub fn plan(&self, planner: &mut Planner<'_>, plan: &mut StepPlan) {
        match self {
            Desired::Nothing => {}
            Desired::Wait(target) => wait::plan(target, plan),
            Desired::Network(spec) => network::plan(planner, spec, plan),
            Desired::Object(object) => config::plan(planner, object, plan),
            Desired::Certs(certs) => certs::plan(planner, certs, plan),
            Desired::Stack(spec) => stack::plan(planner, spec, plan),
            Desired::Remove { stack } => remove::plan(planner, stack, plan),
            Desired::Hosts(_) => {}
            Desired::Service(desired) => service::plan(planner, desired, plan),
            Desired::Swarm(_) => {}
            Desired::Nodes(desired) => super::node::plan(planner, desired, plan),
        }
    }

    /// Carries out `plan`, made from this step; `changes` counts the writes.
    pub async fn apply<E: DockerEngine>(
        &self,
        applier: &mut Applier<'_, E>,
        step: &DesiredStep,
        plan: &StepPlan,
        changes: &mut usize,
    ) -> Result<(), ApplyError> {
        match self {
            Desired::Nothing => Ok(()),
            Desired::Wait(target) => wait::apply(applier, &step.name, target).await,
            Desired::Network(spec) => {
                network::apply(applier, &step.name, spec, plan, changes).await
            }
            Desired::Object(object) => {
                config::apply(applier, &step.name, object, plan, changes).await
            }
            Desired::Certs(certs) => certs::apply(applier, step, certs, plan, changes).await,
            Desired::Stack(spec) => stack::apply(applier, step, spec, plan, changes).await,
            Desired::Remove { .. } => remove::apply(applier, &step.name, plan, changes).await,
            Desired::Hosts(hosts) => {
                super::ssh::apply(applier, step, hosts, &plan.hosts, changes).await
            }
            Desired::Service(desired) => {
                service::apply(applier, step, desired, plan, changes).await
            }
            Desired::Swarm(desired) => {
                super::swarm::apply(applier, step, desired, plan, changes).await
            }
            Desired::Nodes(desired) => {
                super::node::apply(applier, step, desired, plan, changes).await
            }
        }
    }
}
