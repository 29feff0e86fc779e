//! What `plan` and `apply` share: load the repo, render the chosen workflows for the
//! environment with their real secrets, turn them into desired steps, connect to the
//! environment's swarm and plan against its live state.

use anyhow::Context as _;

use crate::apply::plan_workflows;
use crate::cli::render_session::RenderSession;
use crate::cli::workflow_selection::SelectedWorkflow;
use crate::cli::{OutputFormat, RepoArgs, report};
use crate::docker::DockerClient;
use crate::model::Environment;
use crate::plan::{DesiredStep, Plan, RunIdentity, compose_variables, desired_steps};
use crate::render::SecretValues;
use crate::source::Diagnostics;
use crate::swarm::{LiveState, ServiceScope};

/// Options of `plan` and `apply`.
#[derive(Debug, clap::Args)]
pub struct ClusterArgs {
    #[command(flatten)]
    pub repo: RepoArgs,
    /// The environment, as named in shoal.yml.
    #[arg(long)]
    pub env: String,
    /// Only this workflow (its name or file name); all that target the environment when absent.
    #[arg(long)]
    pub workflow: Option<String>,
    /// A dispatch input, as NAME=VALUE; repeat for more. Others take their defaults.
    #[arg(long = "input", value_name = "NAME=VALUE")]
    pub inputs: Vec<String>,
    /// The Docker daemon to use instead of the environment's `docker.host`
    /// (e.g. a local test swarm).
    #[arg(long, env = "SHOAL_DOCKER_HOST", value_name = "URL")]
    pub docker_host: Option<String>,
    /// How long one Docker API call may take before shoal gives up on it.
    #[arg(long, env = "SHOAL_DOCKER_TIMEOUT", value_name = "DURATION", default_value = "30s", value_parser = humantime::parse_duration)]
    pub docker_timeout: std::time::Duration,
}

/// One workflow ready to apply: its desired steps and their plan.
pub struct PlannedWorkflow {
    pub workflow: String,
    pub steps: Vec<DesiredStep>,
    pub plan: Plan,
}

/// Everything prepared; `None` from [`prepare`] means the problems were already printed.
pub struct PreparedRun {
    pub client: DockerClient,
    pub environment: Environment,
    pub workflows: Vec<PlannedWorkflow>,
    /// The real secret values, for redacting anything printed.
    pub secrets: SecretValues,
    /// The live state the plans were made from.
    pub live: LiveState,
}

/// The runtime of `plan` and `apply`: the main thread renders while one worker thread
/// reads the swarm (see [`prepare`]).
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
}

pub async fn prepare(args: &ClusterArgs) -> anyhow::Result<Option<PreparedRun>> {
    let Some(session) = RenderSession::open(&args.repo, &args.env)? else {
        return Ok(None);
    };
    let selected = session.select(args.workflow.as_deref(), &args.inputs)?;
    // The swarm is read while the files render and convert, on the runtime's worker
    // thread: the daemon takes about as long to answer as that work takes. It connects at
    // once and lists the services of the workflows' stacks: at once too when no template
    // names a stack, else once the workflows have rendered. Nothing is written before
    // every file has rendered, and a repo with errors reports only those.
    let (scope_sender, scope) = tokio::sync::oneshot::channel();
    let scope_sender = match literal_scope(&selected) {
        Some(literal) => {
            // The receiver is held until the reading below takes it: this cannot fail.
            let _ = scope_sender.send(literal);
            None
        }
        None => Some(scope_sender),
    };
    let reading = tokio::spawn(read_swarm(
        docker_host(args, &session.environment),
        args.docker_timeout,
        session.environment.name.clone(),
        scope,
    ));
    let Some(DesiredWorkflows {
        steps: desired,
        secrets,
    }) = desired_workflows(&session, &selected, scope_sender)
    else {
        reading.abort();
        return Ok(None);
    };
    let (client, live) = reading.await.context("reading the swarm")??;
    let steps: Vec<&[DesiredStep]> = desired.iter().map(|(_, steps)| steps.as_slice()).collect();
    let (plans, live) = plan_workflows(&client, &steps, live).await?;
    let workflows = desired
        .into_iter()
        .zip(plans)
        .map(|((workflow, steps), plan)| PlannedWorkflow {
            workflow,
            steps,
            plan,
        })
        .collect();
    Ok(Some(PreparedRun {
        live,
        client,
        environment: session.environment.clone(),
        workflows,
        secrets,
    }))
}

/// The stacks of the selected workflows, when no template names one.
fn literal_scope(selected: &[SelectedWorkflow<'_>]) -> Option<ServiceScope> {
    let mut stacks = std::collections::BTreeSet::new();
    for (workflow, _) in selected {
        stacks.extend(workflow.literal_stacks()?.into_iter().map(str::to_owned));
    }
    Some(ServiceScope::Stacks(stacks))
}

/// Connects to the environment's daemon and reads the swarm's state: the services of the
/// `scope` it is sent, with every network, config and secret.
async fn read_swarm(
    host: String,
    timeout: std::time::Duration,
    environment: String,
    scope: tokio::sync::oneshot::Receiver<ServiceScope>,
) -> anyhow::Result<(DockerClient, LiveState)> {
    let client = DockerClient::connect(&host, timeout)
        .await
        .with_context(|| format!("environment `{environment}`"))?;
    let scope = scope.await.context("the workflows did not render")?;
    let live = client.live_state_of(scope).await?;
    Ok((client, live))
}

/// Renders the selected workflows with their real secrets and turns them into desired
/// steps, with the secrets read; `None` when there were problems, which are printed. Once
/// the workflows have rendered, the stacks they name are sent to `scope`, if given.
fn desired_workflows(
    session: &RenderSession,
    selected: &[SelectedWorkflow<'_>],
    scope: Option<tokio::sync::oneshot::Sender<ServiceScope>>,
) -> Option<DesiredWorkflows> {
    // A masked render tells which secrets the files read; only those are loaded.
    let masked = session.masked_secrets();
    let masked_render = match session.render(selected, &masked) {
        Ok(rendered) => rendered,
        Err(problems) => {
            report::print_diagnostics(&problems, &masked);
            return None;
        }
    };
    // The masked render names the stacks the real one will. (A stack named after a
    // secret would not be among them; the planner then asks for every service.)
    if let Some(scope) = scope {
        let stacks = masked_render
            .iter()
            .flat_map(|workflow| workflow.stacks().map(str::to_owned))
            .collect();
        // The reading has stopped only if it failed, which awaiting it reports.
        let _ = scope.send(ServiceScope::Stacks(stacks));
    }
    let secrets = session.read_used_secrets(&masked, "nothing was applied")?;
    // An environment without secrets renders the same with real and masked values.
    let rendered = if session.environment.secrets.is_empty() {
        masked_render
    } else {
        match session.render(selected, &secrets) {
            Ok(rendered) => rendered,
            Err(problems) => {
                report::print_diagnostics(&problems, &secrets);
                return None;
            }
        }
    };
    let environment = &session.environment;
    let variables = compose_variables(environment);
    let mut problems = Diagnostics::default();
    let mut desired = Vec::new();
    for ((workflow, _), rendered) in selected.iter().zip(&rendered) {
        let identity = RunIdentity {
            workflow: &workflow.name,
            environment: &environment.name,
            commit: session.commit(),
        };
        match desired_steps(
            session.files.as_ref(),
            workflow,
            rendered,
            &identity,
            &variables,
        ) {
            Ok((steps, warnings)) => {
                problems.extend(warnings);
                desired.push((workflow.name.clone(), steps));
            }
            Err(found) => problems.extend(found),
        }
    }
    if !problems.is_empty() {
        report::print_diagnostics(&problems, &secrets);
    }
    if problems.has_errors() {
        return None;
    }
    Some(DesiredWorkflows {
        steps: desired,
        secrets,
    })
}

/// The selected workflows as desired steps, with the secrets their files read.
struct DesiredWorkflows {
    /// Each workflow's name and steps.
    steps: Vec<(String, Vec<DesiredStep>)>,
    secrets: SecretValues,
}

/// The daemon for an environment: the command line's, else shoal.yml's, else DOCKER_HOST,
/// else the local socket.
fn docker_host(args: &ClusterArgs, environment: &Environment) -> String {
    args.docker_host
        .clone()
        .or_else(|| {
            environment
                .docker
                .as_ref()
                .map(|docker| docker.host.value.clone())
        })
        .or_else(|| std::env::var("DOCKER_HOST").ok())
        .unwrap_or_else(|| "unix:///var/run/docker.sock".to_owned())
}

/// Whether the plan goes to the terminal as text or as JSON.
pub fn wants_json(args: &ClusterArgs) -> bool {
    args.repo.output == OutputFormat::Json
}
