//! What `plan` and `apply` share: load the repo, render the chosen workflows for the
//! environment with their real secrets, turn them into desired steps, connect to the
//! environment's swarm and plan against its live state.

use std::sync::Arc;

use anyhow::Context as _;

use crate::cli::workflow_selection::select_workflows;
use crate::cli::{OutputFormat, RepoArgs, local_repo, report};
use crate::docker::DockerClient;
use crate::load::{DirectoryFiles, load_repo};
use crate::model::Environment;
use crate::plan::{DesiredStep, Plan, RunIdentity, compose_variables, desired_steps, plan};
use crate::render::{RenderContext, SecretValues, TemplateEngine, TriggerInfo, render_workflow};
use crate::source::Diagnostics;
use crate::swarm::LiveState;

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

pub async fn prepare(args: &ClusterArgs) -> anyhow::Result<Option<PreparedRun>> {
    let root = args.repo.repo.clone();
    anyhow::ensure!(
        root.is_dir(),
        "config repo folder {} not found",
        root.display()
    );
    let files = Arc::new(DirectoryFiles::new(&root));
    let (repo, diagnostics) = load_repo(files.as_ref());
    let Some(repo) = repo else {
        report::print_diagnostics(&diagnostics, &SecretValues::default());
        return Ok(None);
    };
    let environment = repo.environment(&args.env).cloned().with_context(|| {
        let names: Vec<&str> = repo.environments.iter().map(|e| e.name.as_str()).collect();
        format!(
            "unknown environment `{}`; shoal.yml defines {}",
            args.env,
            names.join(", ")
        )
    })?;
    let selected = select_workflows(&repo, &args.env, args.workflow.as_deref(), &args.inputs)?;
    let commit = local_repo::commit_info(&root);
    let engine = TemplateEngine::new(files.clone());
    let render = |workflow,
                  inputs: &serde_json::Map<String, serde_json::Value>,
                  secrets: &SecretValues| {
        let context = RenderContext {
            environment: environment.clone(),
            inputs: inputs.clone(),
            commit: commit.clone(),
            trigger: TriggerInfo {
                event: "manual".to_owned(),
                actor: local_repo::actor(),
            },
            secrets: secrets.clone(),
        };
        render_workflow(files.as_ref(), &engine, workflow, &context)
            .map_err(|found| Diagnostics::for_environments(vec![(environment.name.clone(), found)]))
    };
    // A masked render tells which secrets the files read; only those are loaded.
    let masked = SecretValues::masked(environment.secrets.keys());
    let mut problems = Diagnostics::default();
    for (workflow, inputs) in &selected {
        if let Err(found) = render(workflow, inputs, &masked) {
            problems.extend(found);
        }
    }
    if problems.has_errors() {
        report::print_diagnostics(&problems, &masked);
        return Ok(None);
    }
    let secrets = match local_repo::read_secrets(&root, &environment, &masked.used()) {
        Ok(secrets) => secrets,
        Err(missing) => {
            for problem in missing {
                eprintln!("error: {problem}");
            }
            eprintln!("error: secrets are missing; nothing was applied");
            return Ok(None);
        }
    };
    let variables = compose_variables(&environment);
    let mut desired = Vec::new();
    for (workflow, inputs) in &selected {
        let rendered = match render(workflow, inputs, &secrets) {
            Ok(rendered) => rendered,
            Err(found) => {
                problems.extend(found);
                continue;
            }
        };
        let identity = RunIdentity {
            workflow: &workflow.name,
            environment: &environment.name,
            commit: &commit,
        };
        match desired_steps(files.as_ref(), workflow, &rendered, &identity, &variables) {
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
        return Ok(None);
    }
    let host = docker_host(args, &environment);
    let client = DockerClient::connect(&host, args.docker_timeout)
        .await
        .with_context(|| format!("environment `{}`", environment.name))?;
    let live = client.live_state().await?;
    let workflows = desired
        .into_iter()
        .map(|(workflow, steps)| {
            let plan = plan(&steps, &live);
            PlannedWorkflow {
                workflow,
                steps,
                plan,
            }
        })
        .collect();
    Ok(Some(PreparedRun {
        live,
        client,
        environment,
        workflows,
        secrets,
    }))
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
