//! A run planned against its swarm, and applying it: from plan to outcome.

use std::sync::Arc;

use super::swarm_reading::{read_live, settle_steps};
use super::{RunProgress, SecretPolicy, name_objects};
use crate::apply::{
    Applier, ApplyError, ApplyEvent, ApplyObserver, ApplyReport, CancelSignal, StepOutcome,
    plan_workflows,
};
use crate::docker::{DockerEngine as _, DockerError, NodeEngines, SwarmManagers};
use crate::hosts::HostConnector;
use crate::plan::{Action, DesiredStep, ObjectType, Plan, SensitiveFields};
use crate::render::SecretValues;
use crate::source::Diagnostics;
use crate::steps::Desired;
use crate::swarm::{LiveState, ObjectNameKey};

/// The workflows of one environment, planned.
pub struct PlannedRun {
    /// The swarm's managers; the one that answers now is `client.answering()`.
    pub client: SwarmManagers,
    /// The live state the plans were made from.
    pub live: LiveState,
    pub workflows: Vec<PlannedWorkflow>,
    pub sensitive: SensitiveFields,
    /// The real values read, for redacting anything printed as a last resort.
    pub secrets: SecretValues,
    /// Conversion warnings, which every caller shows.
    pub warnings: Diagnostics,
    pub policy: SecretPolicy,
    /// The key the config and secret names were made with.
    pub name_key: ObjectNameKey,
    /// The swarm had no key yet: applying creates this one first.
    pub new_name_key: bool,
    /// How `ssh` steps reach their hosts, once [`PlannedRun::plan_hosts`] read them.
    pub hosts: Option<Arc<dyn HostConnector>>,
    /// How `swarm` steps reach each node's engine, once [`PlannedRun::plan_swarms`] read
    /// them.
    pub nodes: Option<Arc<dyn NodeEngines>>,
    /// The run has `node` steps: every reading of the swarm lists its nodes too.
    pub with_nodes: bool,
}

/// One workflow: its desired steps, the plan that is applied and the plan that is shown.
#[derive(Debug, Clone)]
pub struct PlannedWorkflow {
    pub name: String,
    pub steps: Vec<DesiredStep>,
    /// Applied, never shown: its values may come from secrets.
    pub plan: Plan,
    /// [`PlannedWorkflow::plan`] with every field that depends on a secret concealed: the
    /// only plan printed, logged, stored or posted.
    pub shown: Plan,
    /// For a workflow after the first with `certs` steps: its steps as rendered, before
    /// their objects were named and their certificates settled. When its turn comes they
    /// are settled again against what the earlier workflows left, so a certificate an
    /// earlier workflow of the run issued is not issued a second time.
    pub unsettled: Option<Vec<DesiredStep>>,
}

/// What applying one workflow came to.
#[derive(Debug)]
pub struct WorkflowOutcome {
    pub workflow: String,
    /// Whether its plan had changes.
    pub had_changes: bool,
    pub result: Result<ApplyReport, (ApplyReport, ApplyError)>,
}

impl PlannedRun {
    /// Ends the run in a process that exits next (`shoal plan`, `shoal apply`): its
    /// connections close as usual, while the states read and the workflows planned (every
    /// spec of a stack, several times over) are left to the process's end rather than
    /// freed piece by piece first, which took about 0.6 ms of a 17 ms unchanged `shoal
    /// apply` of 50 services. They hold no resource beyond memory.
    pub fn end_before_exit(self) {
        let PlannedRun {
            client,
            live,
            workflows,
            hosts,
            nodes,
            ..
        } = self;
        std::mem::forget((live, workflows));
        drop((client, hosts, nodes));
    }

    /// Which manager answered, for an environment with several (`docker.hosts`), after
    /// the moves made while reading: lines for the terminal or the run's log.
    pub fn manager_notes(&self) -> Vec<String> {
        let mut notes: Vec<String> = self
            .client
            .take_moves()
            .iter()
            .map(ToString::to_string)
            .collect();
        if let Some(swarm) = self.client.swarm() {
            notes.push(format!(
                "docker: {} answered, a manager of swarm {swarm}",
                self.client.answering()
            ));
        }
        notes
    }

    /// Plans the `ssh` steps against their hosts through `connector` (reading files and
    /// running `unless` guards, writing nothing), into both plans of each workflow; a
    /// host that cannot be read is a problem of its step. Only a trusted run reads hosts:
    /// a pull request's guards would be commands anyone could write.
    pub async fn plan_hosts(&mut self, connector: Arc<dyn HostConnector>) {
        if self.policy != SecretPolicy::Trusted {
            self.show_hosts_not_read();
            return;
        }
        let sensitive = self.sensitive.host_values().clone();
        let concealment = self.policy.concealment();
        for workflow in &mut self.workflows {
            for (index, step) in workflow.steps.iter_mut().enumerate() {
                if let Desired::Certs(certs) = &mut step.desired
                    && !step.skipped
                {
                    let now = time::OffsetDateTime::now_utc();
                    let settled = crate::steps::certs::settle_hosts(
                        certs,
                        connector.as_ref(),
                        now,
                        &sensitive,
                    )
                    .await;
                    for plan in [&mut workflow.plan, &mut workflow.shown] {
                        if let Some(step_plan) = plan.steps.get_mut(index) {
                            step_plan.hosts = settled.plans.clone();
                            step_plan.notes.extend(settled.notes.iter().cloned());
                            step_plan.problems.extend(settled.problems.iter().cloned());
                        }
                    }
                    continue;
                }
                let Desired::Hosts(desired) = &mut step.desired else {
                    continue;
                };
                desired.sensitive = sensitive.clone();
                if step.skipped {
                    continue;
                }
                let (hosts, problems) = crate::steps::ssh::plan_hosts(
                    connector.as_ref(),
                    desired,
                    &sensitive,
                    concealment,
                )
                .await;
                for plan in [&mut workflow.plan, &mut workflow.shown] {
                    if let Some(step_plan) = plan.steps.get_mut(index) {
                        step_plan.hosts = hosts.clone();
                        step_plan.problems.extend(problems.iter().cloned());
                    }
                }
            }
        }
        self.hosts = Some(connector);
    }

    /// Whether a workflow has a `swarm` step that is not skipped.
    pub fn has_swarm_steps(&self) -> bool {
        self.workflows
            .iter()
            .any(|workflow| makes_swarm(&workflow.steps))
    }

    /// Plans the `swarm` steps against their hosts' own engines through `engines`
    /// (reading each one's membership, and the swarm from a manager; writing nothing),
    /// into both plans of each workflow. Only a trusted run reads them: a pull request's
    /// `docker.node_host` could name any endpoint.
    ///
    /// A workflow after one with changes may find engines it cannot read yet (an earlier
    /// workflow turns their TLS on, say): its `swarm` steps are planned again when its
    /// turn comes, so such engines are a note that says so, not a problem.
    pub async fn plan_swarms(&mut self, engines: Arc<dyn NodeEngines>) {
        let mut changed_before: Option<String> = None;
        for workflow in &mut self.workflows {
            for (index, step) in workflow.steps.iter().enumerate() {
                let Desired::Swarm(desired) = &step.desired else {
                    continue;
                };
                if step.skipped {
                    continue;
                }
                let (changes, notes, problems) = if self.policy == SecretPolicy::Trusted {
                    plan_swarm_step_after(engines.as_ref(), desired, changed_before.as_deref())
                        .await
                } else {
                    let hosts: Vec<String> =
                        desired.hosts.iter().map(|host| host.label()).collect();
                    (
                        Vec::new(),
                        vec![format!(
                            "= nodes not read in a pull request's plan: {}",
                            hosts.join(", ")
                        )],
                        Vec::new(),
                    )
                };
                for plan in [&mut workflow.plan, &mut workflow.shown] {
                    if let Some(step_plan) = plan.steps.get_mut(index) {
                        step_plan.changes = changes.clone();
                        step_plan.notes.extend(notes.iter().cloned());
                        step_plan.problems.extend(problems.iter().cloned());
                    }
                }
            }
            if changed_before.is_none() && workflow.plan.has_changes() {
                changed_before = Some(workflow.name.clone());
            }
        }
        self.nodes = Some(engines);
    }

    /// Shows each host of the `ssh` steps, and of the certificates that go to hosts, as
    /// not read.
    fn show_hosts_not_read(&mut self) {
        for workflow in &mut self.workflows {
            for (index, step) in workflow.steps.iter().enumerate() {
                let hosts: Vec<_> = match &step.desired {
                    Desired::Hosts(desired) => desired
                        .hosts
                        .iter()
                        .map(crate::steps::ssh::HostPlan::not_read)
                        .collect(),
                    Desired::Certs(certs) => certs
                        .certificates
                        .iter()
                        .flat_map(|certificate| &certificate.hosts)
                        .map(|host| crate::steps::ssh::HostPlan::not_read(&host.host))
                        .collect(),
                    _ => continue,
                };
                for plan in [&mut workflow.plan, &mut workflow.shown] {
                    if let Some(step_plan) = plan.steps.get_mut(index) {
                        step_plan.hosts = hosts.clone();
                    }
                }
            }
        }
    }

    /// Applies the workflows in order, stopping after the first that fails. A later
    /// workflow is planned again against what the earlier ones left, read in the same
    /// scope as the first reading. A swarm without an [`ObjectNameKey`] gets this run's
    /// when it first creates a config or secret. Only a trusted run applies.
    pub async fn apply(
        &self,
        progress: &mut dyn RunProgress,
        cancel: CancelSignal,
    ) -> Result<Vec<WorkflowOutcome>, DockerError> {
        assert!(
            self.policy == SecretPolicy::Trusted,
            "a run that read no secret has nothing it may apply"
        );
        // A swarm without a key gets this run's, just before the first workflow that
        // creates a config or secret. If another apply created one meanwhile, that one
        // names the objects: this workflow and the later ones are named and planned again.
        let mut key_pending = self.new_name_key;
        // Bare hosts: the swarm exists once a workflow with a `swarm` step applied; until
        // then `docker.host` is not read again (a workflow before may have turned TLS on
        // there).
        let mut swarm_pending = self.live.swarm_pending;
        let mut other_key = None;
        let mut outcomes = Vec::new();
        // The first workflow is planned against `self.live`, which is not copied (a
        // swarm's service specs are most of what an unchanged apply handles).
        let mut read_again = None;
        for (index, planned) in self.workflows.iter().enumerate() {
            if key_pending
                && !swarm_pending
                && creates_objects(&planned.plan)
                && planned.plan.problems().is_empty()
            {
                key_pending = false;
                if let Err(error) = self.client.create_object(&self.name_key.config()).await {
                    let live = self.client.live_state_of(self.live.scope.clone()).await?;
                    other_key = Some(ObjectNameKey::of_swarm(&live).ok_or(error)?);
                }
            }
            let replanned;
            let workflow = if index == 0 && other_key.is_none() {
                planned
            } else {
                let state = if swarm_pending {
                    self.live.clone()
                } else {
                    read_live(&self.client, self.live.scope.clone(), self.with_nodes).await?
                };
                let steps = match &planned.unsettled {
                    Some(unsettled) => {
                        let mut steps = unsettled.clone();
                        let key = other_key.as_ref().unwrap_or(&self.name_key);
                        let now = time::OffsetDateTime::now_utc();
                        settle_steps(&mut steps, &state, now, key, true);
                        steps
                    }
                    None => {
                        let mut steps = planned.steps.clone();
                        if let Some(key) = &other_key {
                            name_objects(&mut steps, key);
                        }
                        steps
                    }
                };
                let (mut plans, state) = plan_workflows(&self.client, &[&steps], state).await?;
                let mut plan = plans.pop().unwrap_or_default();
                // Hosts were planned once, before the first workflow applied; the nodes of
                // `swarm` steps are read again, as an earlier workflow may have changed
                // them (turned TLS on, say).
                for ((step_plan, planned_step), step) in
                    plan.steps.iter_mut().zip(&planned.plan.steps).zip(&steps)
                {
                    step_plan.hosts = planned_step.hosts.clone();
                    if let (Desired::Swarm(desired), Some(engines), false) =
                        (&step.desired, &self.nodes, step.skipped)
                    {
                        let (changes, notes, problems) =
                            plan_swarm_step(engines.as_ref(), desired).await;
                        step_plan.changes = changes;
                        step_plan.notes.extend(notes);
                        step_plan.problems.extend(problems);
                    }
                }
                let shown = plan
                    .concealed(&self.sensitive, &state, self.policy.concealment())
                    .with_names_shown(&issued_names(&steps));
                replanned = PlannedWorkflow {
                    name: planned.name.clone(),
                    steps,
                    shown,
                    plan,
                    unsettled: None,
                };
                read_again = Some(state);
                progress.replanned(&replanned);
                &replanned
            };
            let result = if nothing_to_do(workflow) && !cancel.is_raised() {
                Ok(unchanged(&workflow.steps, progress))
            } else {
                let live = read_again.as_ref().unwrap_or(&self.live);
                let mut observer = MovesReported {
                    progress: &mut *progress,
                    managers: &self.client,
                };
                let mut applier =
                    Applier::new(&self.client, &mut observer, live).with_cancel(cancel.clone());
                if let Some(hosts) = &self.hosts {
                    applier = applier.with_hosts(hosts.as_ref());
                }
                if let Some(nodes) = &self.nodes {
                    applier = applier.with_nodes(nodes.as_ref());
                }
                let result = applier.apply(&workflow.steps, &workflow.plan).await;
                observer.report_moves();
                result
            };
            let failed = result.is_err();
            // A swarm the first workflow made gets the key just after, when that workflow
            // created configs or secrets (named with it); else as any swarm, before the
            // first workflow that does. The engine may have moved to TLS meanwhile: it is
            // only called again when needed.
            if swarm_pending && !failed && makes_swarm(&workflow.steps) {
                swarm_pending = false;
                if key_pending && creates_objects(&workflow.plan) {
                    key_pending = false;
                    self.client.create_object(&self.name_key.config()).await?;
                }
            }
            outcomes.push(WorkflowOutcome {
                workflow: workflow.name.clone(),
                had_changes: workflow.plan.has_changes(),
                result,
            });
            if failed {
                break;
            }
        }
        Ok(outcomes)
    }
}

/// The run's progress, told of every move to another manager before the next event.
struct MovesReported<'a> {
    progress: &'a mut dyn RunProgress,
    managers: &'a SwarmManagers,
}

impl MovesReported<'_> {
    fn report_moves(&mut self) {
        for moved in self.managers.take_moves() {
            self.progress.event(ApplyEvent::ManagerMoved {
                from: moved.from,
                to: moved.to,
                reason: moved.reason,
            });
        }
    }
}

impl ApplyObserver for MovesReported<'_> {
    fn event(&mut self, event: ApplyEvent) {
        self.report_moves();
        self.progress.event(event);
    }
}

/// Whether one of `steps` is a `swarm` step that is not skipped.
fn makes_swarm(steps: &[DesiredStep]) -> bool {
    steps
        .iter()
        .any(|step| !step.skipped && matches!(step.desired, Desired::Swarm(_)))
}

/// A `swarm` step planned against its nodes' engines: its changes, notes and problems.
async fn plan_swarm_step(
    engines: &dyn NodeEngines,
    desired: &crate::steps::swarm::DesiredSwarm,
) -> (Vec<crate::plan::Change>, Vec<String>, Vec<String>) {
    let reading = crate::steps::swarm::read_cluster(engines, desired).await;
    planned_swarm_step(desired, &reading)
}

/// A `swarm` step planned against its nodes' engines, in a workflow after `earlier`, the
/// first workflow of the run with changes: engines it cannot read yet are notes (the
/// step is planned again when its workflow comes), and nothing else is planned.
async fn plan_swarm_step_after(
    engines: &dyn NodeEngines,
    desired: &crate::steps::swarm::DesiredSwarm,
    earlier: Option<&str>,
) -> (Vec<crate::plan::Change>, Vec<String>, Vec<String>) {
    let reading = crate::steps::swarm::read_cluster(engines, desired).await;
    let unreadable = unreadable_engines(desired, &reading);
    match earlier {
        Some(earlier) if !unreadable.is_empty() => {
            let notes = unreadable
                .into_iter()
                .map(|engine| {
                    format!("= {engine}: planned again once workflow {earlier} has applied")
                })
                .collect();
            (Vec::new(), notes, Vec::new())
        }
        _ => planned_swarm_step(desired, &reading),
    }
}

/// A `swarm` step planned against what its nodes' engines said.
fn planned_swarm_step(
    desired: &crate::steps::swarm::DesiredSwarm,
    reading: &crate::steps::swarm::ClusterReading,
) -> (Vec<crate::plan::Change>, Vec<String>, Vec<String>) {
    let planned = crate::steps::swarm::plan_cluster(desired, reading);
    (planned.changes(desired), planned.notes, planned.problems)
}

/// The engines of a `swarm` step that could not be read, each as "the engine of HOST at
/// ENDPOINT cannot be read yet (why)".
fn unreadable_engines(
    desired: &crate::steps::swarm::DesiredSwarm,
    reading: &crate::steps::swarm::ClusterReading,
) -> Vec<String> {
    desired
        .hosts
        .iter()
        .zip(&reading.members)
        .filter_map(|(host, member)| {
            member.as_ref().err().map(|problem| {
                format!(
                    "the engine of {} at {} cannot be read yet ({problem})",
                    host.label(),
                    host.endpoint
                )
            })
        })
        .collect()
}

/// Whether applying `plan` creates a config or secret, whose name needs the key.
fn creates_objects(plan: &Plan) -> bool {
    plan.steps
        .iter()
        .flat_map(|step| &step.changes)
        .any(|change| {
            matches!(change.object, ObjectType::Config | ObjectType::Secret)
                && change.action == Action::Create
        })
}

/// A workflow whose plan changes nothing, forbids nothing and waits for nothing.
fn nothing_to_do(workflow: &PlannedWorkflow) -> bool {
    !workflow.plan.has_changes()
        && workflow.plan.problems().is_empty()
        && !workflow
            .steps
            .iter()
            .any(|step| matches!(step.desired, Desired::Wait(_)))
}

/// Reports each step of a workflow with nothing to do as the applier would, without
/// making one (which copies the live state: a swarm's service specs are most of what an
/// unchanged apply handles).
fn unchanged(steps: &[DesiredStep], progress: &mut dyn RunProgress) -> ApplyReport {
    let mut report = ApplyReport::default();
    for step in steps {
        if step.skipped {
            progress.event(ApplyEvent::StepSkipped {
                step: step.name.clone(),
                reason: "`if` is false".to_owned(),
            });
            continue;
        }
        progress.event(ApplyEvent::StepStarted {
            step: step.name.clone(),
        });
        progress.event(ApplyEvent::StepFinished {
            step: step.name.clone(),
            changes: 0,
            error: None,
            cancelled: false,
        });
        report.steps.push(StepOutcome {
            step: step.name.clone(),
            changes: 0,
            changed: Vec::new(),
            result: Ok(()),
        });
    }
    report
}

/// The secrets of the certificates the `certs` steps of `steps` issued in this plan, with
/// the names they are shown with (see `DesiredCerts::issued_names`).
pub fn issued_names(steps: &[DesiredStep]) -> std::collections::BTreeMap<String, String> {
    steps
        .iter()
        .filter_map(|step| match &step.desired {
            Desired::Certs(certs) if !step.skipped => Some(certs.issued_names()),
            _ => None,
        })
        .flatten()
        .collect()
}
