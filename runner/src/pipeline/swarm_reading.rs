//! Reading the swarm while the files render: a task of its own connects at once (or
//! takes a [`SwarmConnection`] started earlier), and lists the services of the workflows' stacks as soon as they are known. The Docker
//! daemon takes about as long to answer as rendering and converting take, so a plan
//! costs the longer of the two, not their sum.

use std::collections::BTreeSet;
use std::time::Duration;

use tokio::sync::oneshot;

use super::{
    DesiredWorkflows, PipelineError, PlannedRun, PlannedWorkflow, SecretPolicy, SwarmConnection,
    issued_names, name_objects, use_managed_objects,
};
use crate::apply::plan_workflows;
use crate::docker::{DockerEndpoint, DockerEngine as _, KnownSwarms, SwarmManagers};
use crate::model::Workflow;
use crate::plan::DesiredStep;
use crate::steps::Desired;
use crate::swarm::{LiveState, ObjectNameKey, ServiceScope};

pub struct SwarmReading {
    /// Reads through the connection it was given, whose task stops when this one does.
    task: tokio::task::JoinHandle<Result<(SwarmManagers, LiveState), PipelineError>>,
    /// Where the scope goes, until it is known.
    scope: Option<oneshot::Sender<ServiceScope>>,
    /// The run has `node` steps: the swarm's nodes are read too.
    with_nodes: bool,
}

impl SwarmReading {
    /// Starts connecting to the first of `endpoints` that answers (see
    /// [`SwarmConnection::start`]) and reading the swarm through it (see
    /// [`SwarmReading::through`]).
    pub fn start(
        endpoints: Vec<DockerEndpoint>,
        known: Option<KnownSwarms>,
        timeout: Duration,
        environment: &str,
        workflows: &[&Workflow],
    ) -> SwarmReading {
        let connection = SwarmConnection::start(endpoints, known, timeout, environment);
        SwarmReading::through(connection, workflows)
    }

    /// Reads the swarm for `workflows` once `connection` is made. When no template of
    /// `workflows` names a stack (`Workflow::literal_stacks`), the services are listed at
    /// once; else once [`SwarmReading::scope_known`] is called.
    pub fn through(connection: SwarmConnection, workflows: &[&Workflow]) -> SwarmReading {
        let (sender, receiver) = oneshot::channel();
        let sender = match literal_scope(workflows) {
            Some(literal) => {
                // The receiver is held until the task takes it: this cannot fail.
                let _ = sender.send(literal);
                None
            }
            None => Some(sender),
        };
        // Bare hosts: a run that makes the swarm, or that only works on hosts, may find
        // its engine in no swarm yet.
        let may_find_no_swarm = workflows.iter().any(|workflow| workflow.has_kind("swarm"))
            || !workflows.iter().any(|workflow| workflow.needs_swarm());
        let with_nodes = workflows.iter().any(|workflow| workflow.has_kind("node"));
        let connecting = connection.into_task();
        let task = tokio::spawn(async move {
            let client = connecting
                .await
                .map_err(|error| PipelineError::Reading(error.to_string()))??;
            // Then it plans against an empty swarm; a `swarm` step makes one before the
            // steps that need it.
            if may_find_no_swarm
                && let Err(crate::docker::DockerError::NotAManager { .. }) = client.swarm_id().await
            {
                let live = LiveState {
                    scope: scope_of(receiver).await?,
                    nodes: Some(Vec::new()),
                    swarm_pending: true,
                    ..LiveState::default()
                };
                return Ok((client, live));
            }
            let live = read_live_as_scope_comes(&client, receiver, with_nodes).await?;
            Ok((client, live))
        });
        SwarmReading {
            task,
            scope: sender,
            with_nodes,
        }
    }

    /// The stacks the rendered workflows name, when the reading waits for them.
    pub fn scope_known(&mut self, scope: ServiceScope) {
        if let Some(sender) = self.scope.take() {
            // The reading has stopped only if it failed, which awaiting it reports.
            let _ = sender.send(scope);
        }
    }

    /// Stops reading: the workflows could not be planned.
    pub fn abort(self) {
        self.task.abort();
    }

    /// Plans the workflows against the state read (read again whole when a plan needs
    /// every service).
    /// Config and secret names are keyed with the swarm's [`ObjectNameKey`] first; a
    /// swarm without one gets a new one, which [`PlannedRun::apply`] creates.
    pub async fn plan(self, mut desired: DesiredWorkflows) -> Result<PlannedRun, PipelineError> {
        let (client, live) = self
            .task
            .await
            .map_err(|error| PipelineError::Reading(error.to_string()))??;
        let (name_key, new_name_key) = match ObjectNameKey::of_swarm(&live) {
            Some(key) => (key, false),
            None => (ObjectNameKey::generate(), true),
        };
        let now = time::OffsetDateTime::now_utc();
        let can_issue = desired.policy == SecretPolicy::Trusted;
        // A later workflow's certificates are settled again when its turn comes, against
        // what the earlier ones left: it keeps its steps as rendered (see
        // `PlannedWorkflow::unsettled`).
        let unsettled: Vec<Option<Vec<DesiredStep>>> = desired
            .workflows
            .iter()
            .enumerate()
            .map(|(index, workflow)| {
                (index > 0 && settles_certificates(&workflow.steps)).then(|| workflow.steps.clone())
            })
            .collect();
        for workflow in &mut desired.workflows {
            settle_steps(&mut workflow.steps, &live, now, &name_key, can_issue);
        }
        let steps: Vec<&[DesiredStep]> = desired
            .workflows
            .iter()
            .map(|workflow| workflow.steps.as_slice())
            .collect();
        let (plans, live) = plan_workflows(&client, &steps, live).await?;
        let concealment = desired.policy.concealment();
        let workflows = desired
            .workflows
            .into_iter()
            .zip(plans)
            .zip(unsettled)
            .map(|((workflow, plan), unsettled)| PlannedWorkflow {
                shown: plan
                    .concealed(&desired.sensitive, &live, concealment)
                    .with_names_shown(&issued_names(&workflow.steps)),
                name: workflow.name,
                steps: workflow.steps,
                plan,
                unsettled,
            })
            .collect();
        Ok(PlannedRun {
            client,
            live,
            workflows,
            sensitive: desired.sensitive,
            secrets: desired.secrets,
            warnings: desired.warnings,
            policy: desired.policy,
            name_key,
            new_name_key,
            hosts: None,
            nodes: None,
            with_nodes: self.with_nodes,
        })
    }
}

/// Names the config and secret objects of `steps` with `key`, settles their `certs` steps
/// against `live` (issuing what is due when `can_issue`), and points the stacks' external
/// references at the managed objects' current versions.
pub fn settle_steps(
    steps: &mut [DesiredStep],
    live: &LiveState,
    now: time::OffsetDateTime,
    key: &ObjectNameKey,
    can_issue: bool,
) {
    name_objects(steps, key);
    for step in steps.iter_mut() {
        if let Desired::Certs(certs) = &mut step.desired
            && !step.skipped
        {
            crate::steps::certs::settle(certs, live, now, key, can_issue);
        }
    }
    use_managed_objects(steps);
}

/// Whether one of `steps` is a `certs` step that is not skipped.
fn settles_certificates(steps: &[DesiredStep]) -> bool {
    steps
        .iter()
        .any(|step| !step.skipped && matches!(step.desired, Desired::Certs(_)))
}

/// The swarm's networks, configs, secrets and the services of `scope`, with its nodes
/// when `with_nodes` (a run with `node` steps), read at once.
pub async fn read_live(
    client: &SwarmManagers,
    scope: ServiceScope,
    with_nodes: bool,
) -> Result<LiveState, crate::docker::DockerError> {
    if !with_nodes {
        return client.live_state_of(scope).await;
    }
    let (live, nodes) =
        futures_util::future::join(client.live_state_of(scope), client.nodes()).await;
    Ok(LiveState {
        nodes: Some(nodes?),
        ..live?
    })
}

/// As [`read_live`], for a scope that the rendering workflows give: read at once (the
/// services beside the other objects) when it is known by now, as when the workflows name
/// their stacks literally or rendered before the connection was made. Else the networks,
/// configs and secrets are listed while it is not known yet, on the connection just made,
/// then the services of the scope.
async fn read_live_as_scope_comes(
    client: &SwarmManagers,
    mut scope: oneshot::Receiver<ServiceScope>,
    with_nodes: bool,
) -> Result<LiveState, PipelineError> {
    if let Ok(known) = scope.try_recv() {
        return Ok(read_live(client, known, with_nodes).await?);
    }
    let objects = client.live_state_of(ServiceScope::Stacks(BTreeSet::new()));
    let (objects, scope) = futures_util::future::join(objects, scope_of(scope)).await;
    let live = client.with_services_of(objects?, scope?);
    if !with_nodes {
        return Ok(live.await?);
    }
    let (live, nodes) = futures_util::future::join(live, client.nodes()).await;
    Ok(LiveState {
        nodes: Some(nodes?),
        ..live?
    })
}

/// The scope the rendering workflows send; an error when they failed to render.
async fn scope_of(scope: oneshot::Receiver<ServiceScope>) -> Result<ServiceScope, PipelineError> {
    scope
        .await
        .map_err(|_| PipelineError::Reading("the workflows did not render".to_owned()))
}

/// The stacks of the workflows, when no template names one.
fn literal_scope(workflows: &[&Workflow]) -> Option<ServiceScope> {
    let mut stacks = std::collections::BTreeSet::new();
    for workflow in workflows {
        stacks.extend(workflow.literal_stacks()?.into_iter().map(str::to_owned));
    }
    Some(ServiceScope::Stacks(stacks))
}
