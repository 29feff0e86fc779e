//! One environment of a run, as the daemon executes it: load the files of the run's exact
//! commit, render (masked, then with the secrets the files read), convert, plan against
//! the live swarm, and apply when the run applies. It reports each step and log line as
//! it goes, through a [`ProgressSink`], which redacts them.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::run_progress::{Progress, ProgressSink};
use crate::apply::{Applier, ApplyError, ApplyEvent, ApplyObserver, CancelSignal, plan_workflows};
use crate::docker::DockerClient;
use crate::load::{RepoFiles, load_repo};
use crate::plan::{RunIdentity, compose_variables, desired_steps, plan_text};
use crate::render::{
    CommitInfo, RenderContext, SecretValues, TemplateEngine, TriggerInfo, render_workflow,
};
use crate::secret_source::read_secrets;
use crate::source::{Diagnostic, Diagnostics};
use crate::store::RunStatus;
use crate::swarm::ServiceScope;
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

/// The pseudo-step that loads, renders, converts and plans, before the workflow's steps.
pub const PLAN_STEP: &str = "plan";

/// What one environment of a run came to.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvironmentOutcome {
    pub environment: String,
    pub status: RunStatus,
    /// One line: "Applied 3 changes to prod", "Plan: 1 to create", "drift: …", the error.
    pub summary: String,
    pub changes: usize,
    /// The plan as `shoal plan` prints it; empty when no plan was made.
    pub plan: String,
    /// The errors in the config repo's files that stopped the run, with their positions.
    pub diagnostics: Vec<Diagnostic>,
    /// A drift check found the swarm differs from git (the status is then a failure).
    pub drift: bool,
    /// A step's (or a wait's) time limit ran out.
    pub timed_out: bool,
}

/// Why an environment stopped early.
struct Stopped {
    status: RunStatus,
    message: String,
    diagnostics: Vec<Diagnostic>,
    timed_out: bool,
}

impl From<String> for Stopped {
    fn from(message: String) -> Stopped {
        Stopped {
            status: RunStatus::Failure,
            message,
            diagnostics: Vec::new(),
            timed_out: false,
        }
    }
}

/// Runs `request` for `environment` on the files of its commit. Stops at the next safe
/// point once `cancel` is raised.
pub async fn execute_environment(
    files: Arc<dyn RepoFiles>,
    request: &RunRequest,
    environment: &str,
    commit: &CommitInfo,
    settings: &RunSettings,
    sink: &mut ProgressSink,
    cancel: CancelSignal,
) -> EnvironmentOutcome {
    sink.send(Progress::EnvironmentStarted);
    let mut plan = String::new();
    let scope = Scope {
        files,
        request,
        environment,
        commit,
        settings,
    };
    let result = execute(&scope, sink, cancel, &mut plan).await;
    // A drift check that ran to its end and failed found drift.
    let drift =
        request.mode == RunMode::DriftCheck && matches!(result, Ok((RunStatus::Failure, _, _)));
    let (status, summary, changes, diagnostics, timed_out) = match result {
        Ok((status, summary, changes)) => (status, summary, changes, Vec::new(), false),
        Err(stopped) => (
            stopped.status,
            stopped.message,
            0,
            stopped.diagnostics,
            stopped.timed_out,
        ),
    };
    EnvironmentOutcome {
        environment: environment.to_owned(),
        status,
        summary: sink.redacted(&summary),
        changes,
        plan: sink.redacted(&plan),
        diagnostics: diagnostics
            .into_iter()
            .map(|mut diagnostic| {
                diagnostic.message = sink.redacted(&diagnostic.message);
                diagnostic
            })
            .collect(),
        drift,
        timed_out,
    }
}

/// What one environment of a run works on.
struct Scope<'a> {
    files: Arc<dyn RepoFiles>,
    request: &'a RunRequest,
    environment: &'a str,
    commit: &'a CommitInfo,
    settings: &'a RunSettings,
}

async fn execute(
    scope: &Scope<'_>,
    sink: &mut ProgressSink,
    cancel: CancelSignal,
    plan_out: &mut String,
) -> Result<(RunStatus, String, usize), Stopped> {
    let (request, environment_name) = (scope.request, scope.environment);
    sink.send(Progress::StepStarted {
        step: PLAN_STEP.to_owned(),
    });
    let planned = prepare(scope, sink).await;
    let (steps, planned, live_client, live, workflow_name) = match planned {
        Ok(prepared) => prepared,
        Err(stopped) => {
            sink.send(Progress::StepFinished {
                step: PLAN_STEP.to_owned(),
                status: stopped.status,
                changes: 0,
                error: Some(stopped.message.clone()),
            });
            return Err(stopped);
        }
    };
    let text = plan_text(&planned, &workflow_name, environment_name);
    for line in text.lines() {
        sink.log(line);
    }
    *plan_out = text;
    sink.send(Progress::StepFinished {
        step: PLAN_STEP.to_owned(),
        status: RunStatus::Success,
        changes: 0,
        error: None,
    });
    let summary = planned.summary().describe();
    match request.mode {
        RunMode::Plan => return Ok((RunStatus::Success, format!("Plan: {summary}"), 0)),
        RunMode::DriftCheck if planned.has_changes() => {
            return Ok((RunStatus::Failure, format!("drift: {summary}"), 0));
        }
        RunMode::DriftCheck => return Ok((RunStatus::Success, "no drift".to_owned(), 0)),
        RunMode::Apply => {}
    }
    let mut observer = SinkObserver(sink);
    let mut applier = Applier::new(&live_client, &mut observer, &live).with_cancel(cancel);
    match applier.apply(&steps, &planned).await {
        Ok(report) => Ok((
            RunStatus::Success,
            format!("Applied {} changes to {environment_name}", report.changes()),
            report.changes(),
        )),
        Err((report, error)) => {
            let status = match error {
                ApplyError::Cancelled { .. } => RunStatus::Cancelled,
                _ => RunStatus::Failure,
            };
            Err(Stopped {
                status,
                message: format!("{error} ({} changes applied before)", report.changes()),
                diagnostics: Vec::new(),
                timed_out: matches!(error, ApplyError::TimedOut { .. }),
            })
        }
    }
}

type Prepared = (
    Vec<crate::plan::DesiredStep>,
    crate::plan::Plan,
    DockerClient,
    crate::swarm::LiveState,
    String,
);

/// Loads, renders, converts and plans against the live swarm.
async fn prepare(scope: &Scope<'_>, sink: &mut ProgressSink) -> Result<Prepared, Stopped> {
    let Scope {
        ref files,
        request,
        environment: environment_name,
        commit,
        settings,
    } = *scope;
    let files = files.clone();
    let (repo, diagnostics) = load_repo(files.as_ref());
    let repo = repo.ok_or_else(|| stopped("the config repo has errors", &diagnostics))?;
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
        sink.log(format!(
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
        .map_err(|found| stopped("rendering failed", &found))?;
    let secrets = read_secrets(&settings.secrets_folder, &environment, &masked.used())
        .map_err(|missing| missing.join("; "))?;
    sink.redact(&secrets);
    let rendered = render_workflow(files.as_ref(), &engine, workflow, &context(&secrets))
        .map_err(|found| stopped("rendering failed", &found))?;
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
    .map_err(|found| stopped("converting failed", &found))?;
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
    // Only the services of the workflow's stacks, unless the plan needs the others.
    let scope = ServiceScope::Stacks(rendered.stacks().map(str::to_owned).collect());
    let live = client
        .live_state_of(scope)
        .await
        .map_err(|error| error.to_string())?;
    let (mut plans, live) = plan_workflows(&client, &[&steps], live)
        .await
        .map_err(|error| error.to_string())?;
    let planned = plans.pop().unwrap_or_default();
    Ok((steps, planned, client, live, workflow.name.clone()))
}

/// The diagnostics as one message (the first few, with their positions), and all of
/// them for annotations.
fn stopped(what: &str, diagnostics: &Diagnostics) -> Stopped {
    let sorted = diagnostics.sorted();
    let first: Vec<String> = sorted
        .iter()
        .take(3)
        .map(|d| format!("{}: {}", d.location(), d.message))
        .collect();
    Stopped {
        status: RunStatus::Failure,
        message: format!("{what}: {}", first.join("; ")),
        diagnostics: sorted.into_iter().cloned().collect(),
        timed_out: false,
    }
}

/// Apply events as step progress and log lines.
struct SinkObserver<'a>(&'a mut ProgressSink);

impl ApplyObserver for SinkObserver<'_> {
    fn event(&mut self, event: ApplyEvent) {
        let line = match event {
            ApplyEvent::StepStarted { step } => {
                self.0.log(format!("==> {step}"));
                return self.0.send(Progress::StepStarted { step });
            }
            ApplyEvent::StepSkipped { step, reason } => {
                self.0.log(format!("==> {step}: skipped ({reason})"));
                self.0.send(Progress::StepStarted { step: step.clone() });
                return self.0.send(Progress::StepFinished {
                    step,
                    status: RunStatus::Skipped,
                    changes: 0,
                    error: None,
                });
            }
            ApplyEvent::StepFinished {
                step,
                changes,
                error,
                cancelled,
            } => {
                self.0.log(match &error {
                    None => format!("<== {step}: {changes} changes"),
                    Some(error) => format!("<== {step}: failed after {changes} changes: {error}"),
                });
                return self.0.send(Progress::StepFinished {
                    step,
                    status: match (&error, cancelled) {
                        (_, true) => RunStatus::Cancelled,
                        (Some(_), false) => RunStatus::Failure,
                        (None, false) => RunStatus::Success,
                    },
                    changes,
                    error,
                });
            }
            ApplyEvent::Created { object, name } => format!("created {} {name}", object.name()),
            ApplyEvent::Updated { object, name } => format!("updated {} {name}", object.name()),
            ApplyEvent::Removed { object, name } => format!("removed {} {name}", object.name()),
            ApplyEvent::Converging {
                service,
                running,
                desired,
                waiting,
            } => format!(
                "{service}: {}",
                crate::apply::progress_text(running, desired, waiting.as_deref())
            ),
            ApplyEvent::Converged { service } => format!("{service}: converged"),
            ApplyEvent::RolledBack { service } => format!("{service}: rolled back"),
        };
        self.0.log(line);
    }
}
