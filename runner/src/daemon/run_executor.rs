//! One environment of a run, as the daemon executes it: load the files of the run's exact
//! commit, render (masked, then with the secrets the files read), convert, plan against
//! the live swarm, and apply when the run applies. Every line it logs is redacted.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::apply::{Applier, ApplyEvent, ApplyObserver};
use crate::docker::DockerClient;
use crate::load::{RepoFiles, load_repo};
use crate::plan::{RunIdentity, compose_variables, desired_steps, plan, plan_text};
use crate::render::{
    CommitInfo, RenderContext, SecretValues, TemplateEngine, TriggerInfo, render_workflow,
};
use crate::secret_source::read_secrets;
use crate::source::Diagnostics;
use crate::store::RunStatus;
use crate::trigger::{RunMode, RunRequest};

/// How runs reach their swarms and secrets.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// Used instead of every environment's `docker.host` (a test swarm).
    pub docker_host: Option<String>,
    pub docker_timeout: Duration,
    /// Relative `file:` secret paths are taken from here.
    pub secrets_folder: PathBuf,
}

/// What one environment of a run came to.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvironmentOutcome {
    pub environment: String,
    pub status: RunStatus,
    /// One line: "Applied 3 changes to prod", "Plan: 1 to create", "drift: …", the error.
    pub summary: String,
    pub changes: usize,
    pub log: Vec<String>,
}

/// Runs `request` for `environment` on the files of its commit.
pub async fn execute_environment(
    files: Arc<dyn RepoFiles>,
    request: &RunRequest,
    environment: &str,
    commit: &CommitInfo,
    settings: &RunSettings,
) -> EnvironmentOutcome {
    let mut log = Vec::new();
    let mut secrets = SecretValues::default();
    let result = execute(
        files,
        request,
        environment,
        commit,
        settings,
        &mut log,
        &mut secrets,
    )
    .await;
    let (status, summary, changes) = match result {
        Ok(done) => done,
        Err(error) => (RunStatus::Failure, error, 0),
    };
    EnvironmentOutcome {
        environment: environment.to_owned(),
        status,
        summary: secrets.redact(&summary),
        changes,
        log: log.iter().map(|line| secrets.redact(line)).collect(),
    }
}

async fn execute(
    files: Arc<dyn RepoFiles>,
    request: &RunRequest,
    environment_name: &str,
    commit: &CommitInfo,
    settings: &RunSettings,
    log: &mut Vec<String>,
    secrets_out: &mut SecretValues,
) -> Result<(RunStatus, String, usize), String> {
    let (repo, diagnostics) = load_repo(files.as_ref());
    let repo = repo.ok_or_else(|| diagnostics_text("the config repo has errors", &diagnostics))?;
    let workflow = repo.workflow(&request.workflow).ok_or_else(|| {
        format!(
            "workflow `{}` is not in commit {}",
            request.workflow, commit.short_sha
        )
    })?;
    let environment = repo.environment(environment_name).cloned().ok_or_else(|| {
        format!(
            "environment `{environment_name}` is not in commit {}",
            commit.short_sha
        )
    })?;
    if let Some(image) = &request.image {
        log.push(format!(
            "image pushed: {}:{} ({})",
            image.repository, image.tag, image.reference
        ));
    }
    let engine = TemplateEngine::new(files.clone());
    let context = |secrets: &SecretValues| RenderContext {
        environment: environment.clone(),
        inputs: request.inputs.clone(),
        commit: commit.clone(),
        trigger: TriggerInfo {
            event: request.event.to_owned(),
            actor: request.actor.clone(),
            image: request.image.clone(),
        },
        secrets: secrets.clone(),
    };
    let masked = SecretValues::masked(environment.secrets.keys());
    render_workflow(files.as_ref(), &engine, workflow, &context(&masked))
        .map_err(|found| diagnostics_text("rendering failed", &found))?;
    let secrets = read_secrets(&settings.secrets_folder, &environment, &masked.used())
        .map_err(|missing| missing.join("; "))?;
    *secrets_out = secrets.clone();
    let rendered = render_workflow(files.as_ref(), &engine, workflow, &context(&secrets))
        .map_err(|found| diagnostics_text("rendering failed", &found))?;
    let identity = RunIdentity {
        workflow: &workflow.name,
        environment: &environment.name,
        commit,
    };
    let (steps, _warnings) = desired_steps(
        files.as_ref(),
        workflow,
        &rendered,
        &identity,
        &compose_variables(&environment),
    )
    .map_err(|found| diagnostics_text("converting failed", &found))?;
    let host = settings
        .docker_host
        .clone()
        .or_else(|| {
            environment
                .docker
                .as_ref()
                .map(|docker| docker.host.value.clone())
        })
        .unwrap_or_else(|| "unix:///var/run/docker.sock".to_owned());
    let client = DockerClient::connect(&host, settings.docker_timeout)
        .await
        .map_err(|error| error.to_string())?;
    let live = client
        .live_state()
        .await
        .map_err(|error| error.to_string())?;
    let planned = plan(&steps, &live);
    log.extend(
        plan_text(&planned, &workflow.name, &environment.name)
            .lines()
            .map(str::to_owned),
    );
    let summary = planned.summary().describe();
    match request.mode {
        RunMode::Plan => return Ok((RunStatus::Success, format!("Plan: {summary}"), 0)),
        RunMode::DriftCheck if planned.has_changes() => {
            return Ok((RunStatus::Failure, format!("drift: {summary}"), 0));
        }
        RunMode::DriftCheck => return Ok((RunStatus::Success, "no drift".to_owned(), 0)),
        RunMode::Apply => {}
    }
    let mut observer = LogLines(log);
    let mut applier = Applier::new(&client, &mut observer, &live);
    match applier.apply(&steps, &planned).await {
        Ok(report) => Ok((
            RunStatus::Success,
            format!(
                "Applied {} changes to {}",
                report.changes(),
                environment.name
            ),
            report.changes(),
        )),
        Err((report, error)) => Err(format!(
            "{error} ({} changes applied before)",
            report.changes()
        )),
    }
}

/// The diagnostics as one message: the first few, with their positions.
fn diagnostics_text(what: &str, diagnostics: &Diagnostics) -> String {
    let first: Vec<String> = diagnostics
        .sorted()
        .iter()
        .take(3)
        .map(|d| format!("{}: {}", d.location(), d.message))
        .collect();
    format!("{what}: {}", first.join("; "))
}

struct LogLines<'a>(&'a mut Vec<String>);

impl ApplyObserver for LogLines<'_> {
    fn event(&mut self, event: ApplyEvent) {
        let line = match event {
            ApplyEvent::StepStarted { step } => format!("==> {step}"),
            ApplyEvent::StepSkipped { step, reason } => format!("==> {step}: skipped ({reason})"),
            ApplyEvent::Created { object, name } => format!("created {} {name}", object.name()),
            ApplyEvent::Updated { object, name } => format!("updated {} {name}", object.name()),
            ApplyEvent::Removed { object, name } => format!("removed {} {name}", object.name()),
            ApplyEvent::Converging {
                service,
                running,
                desired,
            } => format!("{service}: {running}/{desired} running"),
            ApplyEvent::Converged { service } => format!("{service}: converged"),
            ApplyEvent::RolledBack { service } => format!("{service}: rolled back"),
            ApplyEvent::StepFinished { step, changes } => format!("<== {step}: {changes} changes"),
        };
        self.0.push(line);
    }
}
