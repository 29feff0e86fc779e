//! One environment of a run, as the daemon executes it: load the files of the run's exact
//! commit and run the [`crate::pipeline`] on them (the same as `shoal plan` and `shoal
//! apply`; a pull request's plan never reads a secret), then plan or apply as the run
//! asks. It reports each step and log line as it goes, through a [`ProgressSink`], which
//! redacts them.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::run_progress::{Progress, ProgressSink};
use crate::apply::{ApplyError, ApplyEvent, ApplyObserver, CancelSignal};
use crate::docker::KnownSwarms;
use crate::load::{RepoFiles, load_repo};
use crate::pipeline::{
    DaemonOverride, PlannedRun, PlannedWorkflow, RunInput, RunProgress, SecretPolicy, SwarmReading,
    desired_workflows, docker_endpoints, remembers_swarm,
};
use crate::plan::plan_text;
use crate::render::{CommitInfo, TemplateEngine, TriggerInfo};
use crate::source::{Diagnostic, Diagnostics};
use crate::store::RunStatus;
use crate::trigger::{RunMode, RunRequest};

/// How runs reach their swarms and secrets.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// Used instead of every environment's `docker.host` (a test swarm).
    pub docker_host: Option<String>,
    /// A docker CLI context used instead of every environment's `docker` block
    /// (`--docker-context`); `docker_host` wins when both are given.
    pub docker_context: Option<String>,
    pub docker_timeout: Duration,
    /// The swarm each manager address belongs to (`STATE/known_swarms`), checked for the
    /// environments that list several managers (`docker.hosts`).
    pub known_swarms: Option<PathBuf>,
    /// Relative secret `file:` paths are taken from here (`--secrets-folder`): the
    /// daemon reads commits from its mirror and has no folder of the config repo.
    pub secrets_folder: PathBuf,
}

impl RunSettings {
    /// The daemon every environment uses instead of its own, if one was named.
    pub fn daemon_override(&self) -> Option<DaemonOverride> {
        match (&self.docker_host, &self.docker_context) {
            (Some(host), _) => Some(DaemonOverride::Host(host.clone())),
            (None, Some(context)) => Some(DaemonOverride::Context(context.clone())),
            (None, None) => None,
        }
    }
}

/// The pseudo-step that loads, renders, converts and plans, before the workflow's steps.
pub const PLAN_STEP: &str = "plan";

/// What one environment of a run came to.
/// Serialized as the last JSON line of the sandboxed planner ([`super::sandboxed_plan`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EnvironmentOutcome {
    pub environment: String,
    pub status: RunStatus,
    /// One line: "Applied 3 changes to prod", "Plan: 1 to create", "drift: …", the error.
    pub summary: String,
    pub changes: usize,
    /// The plan as `shoal plan` prints it; empty when no plan was made.
    pub plan: String,
    /// The problems in the config repo's files, with their positions: the conversion
    /// warnings, and the errors that stopped the run.
    pub diagnostics: Vec<Diagnostic>,
    /// A drift check found the swarm differs from git (the status is then a failure).
    pub drift: bool,
    /// A step's (or a wait's) time limit ran out.
    pub timed_out: bool,
    /// The expiry of each certificate of the `certs` steps planned.
    #[serde(default)]
    pub certificates: Vec<crate::steps::certs::CertificateExpiry>,
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
    let mut warnings = Vec::new();
    let mut certificates = Vec::new();
    let result = execute(
        &scope,
        sink,
        cancel,
        &mut plan,
        &mut warnings,
        &mut certificates,
    )
    .await;
    // A drift check that ran to its end and failed found drift.
    let drift =
        request.mode == RunMode::DriftCheck && matches!(result, Ok((RunStatus::Failure, _, _)));
    let (status, summary, changes, diagnostics, timed_out) = match result {
        Ok((status, summary, changes)) => (status, summary, changes, warnings, false),
        Err(stopped) => {
            // The warnings found before the error stopped the run, and its errors.
            let mut diagnostics = warnings;
            diagnostics.extend(stopped.diagnostics);
            (
                stopped.status,
                stopped.message,
                0,
                diagnostics,
                stopped.timed_out,
            )
        }
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
        certificates,
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
    warnings: &mut Vec<Diagnostic>,
    certificates: &mut Vec<crate::steps::certs::CertificateExpiry>,
) -> Result<(RunStatus, String, usize), Stopped> {
    let (request, environment_name) = (scope.request, scope.environment);
    sink.send(Progress::StepStarted {
        step: PLAN_STEP.to_owned(),
    });
    let planned = match prepare(scope, sink, warnings).await {
        Ok(planned) => planned,
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
    // One workflow: the request's.
    let Some(workflow) = planned.workflows.first() else {
        return Err(Stopped::from("the run has no workflow".to_owned()));
    };
    certificates.extend(
        workflow
            .steps
            .iter()
            .filter(|step| !step.skipped)
            .filter_map(|step| match &step.desired {
                crate::steps::Desired::Certs(certs) => Some(certs.expiries()),
                _ => None,
            })
            .flatten(),
    );
    let text = plan_text(&workflow.shown, &workflow.name, environment_name);
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
    let summary = workflow.shown.summary().describe();
    match request.mode {
        RunMode::Plan => return Ok((RunStatus::Success, format!("Plan: {summary}"), 0)),
        RunMode::DriftCheck if workflow.plan.has_changes() => {
            return Ok((
                RunStatus::Failure,
                drift_summary(&workflow.shown, &summary),
                0,
            ));
        }
        RunMode::DriftCheck => return Ok((RunStatus::Success, "no drift".to_owned(), 0)),
        RunMode::Apply => {}
    }
    let mut progress = SinkProgress(sink);
    let outcomes = planned
        .apply(&mut progress, cancel)
        .await
        .map_err(|error| error.to_string())?;
    let Some(outcome) = outcomes.into_iter().next() else {
        return Err(Stopped::from("the run has no workflow".to_owned()));
    };
    match outcome.result {
        Ok(report) => Ok((
            RunStatus::Success,
            format!(
                "Applied {} to {environment_name}",
                crate::apply::ChangeCount(report.changes())
            ),
            report.changes(),
        )),
        Err((report, error)) => {
            let status = match error {
                ApplyError::Cancelled { .. } => RunStatus::Cancelled,
                _ => RunStatus::Failure,
            };
            Err(Stopped {
                status,
                message: format!(
                    "{error} ({} applied before)",
                    crate::apply::ChangeCount(report.changes())
                ),
                diagnostics: Vec::new(),
                timed_out: matches!(error, ApplyError::TimedOut { .. }),
            })
        }
    }
}

/// What a drift check that found changes reports: the certificates to issue first, with
/// why (`drift: certificate dockerd: expires in 12 days; 2 to create, 1 to update`), then
/// the counts.
fn drift_summary(plan: &crate::plan::Plan, counts: &str) -> String {
    let certificates: Vec<&str> = plan
        .steps
        .iter()
        .filter(|step| !step.skipped)
        .flat_map(|step| &step.notes)
        .filter_map(|note| {
            note.strip_prefix("~ ")
                .or_else(|| note.strip_prefix("+ "))
                .filter(|rest| rest.starts_with("certificate "))
        })
        .collect();
    if certificates.is_empty() {
        format!("drift: {counts}")
    } else {
        format!("drift: {}; {counts}", certificates.join("; "))
    }
}

/// Whether a run may read the environment's secrets: a pull request's plan (the only
/// runs that plan without applying or checking drift) may not, as its files are anyone's
/// who can open one; pushes to the watched branches, dispatches, registry pushes and
/// drift checks may.
pub(super) fn secret_policy(request: &RunRequest) -> SecretPolicy {
    if request.mode == RunMode::Plan {
        SecretPolicy::Untrusted
    } else {
        SecretPolicy::Trusted
    }
}

/// Loads the commit's files and runs the pipeline to a plan against the live swarm. The
/// conversion warnings go to the run's log and to `warnings`.
async fn prepare(
    scope: &Scope<'_>,
    sink: &mut ProgressSink,
    warnings: &mut Vec<Diagnostic>,
) -> Result<PlannedRun, Stopped> {
    let Scope {
        ref files,
        request,
        environment: environment_name,
        commit,
        settings,
    } = *scope;
    let (repo, diagnostics) = load_repo(files.as_ref());
    let repo = repo.ok_or_else(|| stopped("the config repo has errors", &diagnostics))?;
    let workflow = repo.workflow(&request.workflow).ok_or_else(|| {
        format!(
            "workflow `{}` is not in commit {}",
            request.workflow, commit.short_sha
        )
    })?;
    let environment = repo.environment(environment_name).ok_or_else(|| {
        format!(
            "environment `{environment_name}` is not in commit {}",
            commit.short_sha
        )
    })?;
    if request.event == "rollback" {
        sink.log(format!(
            "rollback: workflow {} as it was at commit {}{}, with today's secrets",
            request.workflow,
            commit.short_sha,
            request
                .rollback_from
                .as_deref()
                .map(|from| format!(", instead of commit {}", crate::trigger::short(from)))
                .unwrap_or_default()
        ));
    }
    if let Some(image) = &request.image {
        sink.log(format!(
            "image pushed: {}:{} ({})",
            image.repository, image.tag, image.reference
        ));
    }
    let override_daemon = settings.daemon_override();
    let known_swarms = settings
        .known_swarms
        .as_deref()
        .filter(|_| remembers_swarm(override_daemon.as_ref(), environment))
        .map(KnownSwarms::at);
    let mut reading = SwarmReading::start(
        docker_endpoints(
            override_daemon.as_ref(),
            environment,
            &settings.secrets_folder,
        )
        .map_err(|error| error.to_string())?,
        known_swarms,
        settings.docker_timeout,
        &environment.name,
        &[workflow],
    );
    let engine = TemplateEngine::new(files.clone());
    let trigger = TriggerInfo {
        event: request.event.to_owned(),
        actor: request.actor.clone(),
        image: request.image.clone(),
    };
    let workflows = [(workflow, request.inputs.clone())];
    let input = RunInput {
        files: files.as_ref(),
        engine: &engine,
        environment,
        workflows: &workflows,
        commit,
        trigger: &trigger,
        secrets_folder: &settings.secrets_folder,
    };
    let desired = match desired_workflows(&input, secret_policy(request), |scope| {
        reading.scope_known(scope)
    }) {
        Ok(desired) => desired,
        Err(error) => {
            reading.abort();
            return Err(match error.diagnostics() {
                Some(found) => stopped(&error.to_string(), found),
                None => Stopped::from(error.to_string()),
            });
        }
    };
    sink.redact(&desired.secrets);
    for warning in desired.warnings.sorted() {
        for line in warning.to_string().lines() {
            sink.log(line);
        }
        warnings.push(warning.clone());
    }
    let mut run = reading
        .plan(desired)
        .await
        .map_err(|error| Stopped::from(error.to_string()))?;
    // `ssh` steps are planned against their hosts (a trusted run only).
    let hosts = crate::hosts::SshHosts::for_environment(environment, &settings.secrets_folder);
    run.plan_hosts(std::sync::Arc::new(hosts)).await;
    // `swarm` steps are planned against each node's own engine (a trusted run only).
    if run.has_swarm_steps() {
        let engines = crate::pipeline::node_engines(
            environment,
            &settings.secrets_folder,
            settings.docker_timeout,
        )
        .map_err(|error| Stopped::from(error.to_string()))?;
        run.plan_swarms(std::sync::Arc::new(engines)).await;
    }
    for note in run.manager_notes() {
        sink.log(note);
    }
    Ok(run)
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
struct SinkProgress<'a>(&'a mut ProgressSink);

impl RunProgress for SinkProgress<'_> {
    /// A run has one workflow: it is never planned again.
    fn replanned(&mut self, workflow: &PlannedWorkflow) {
        for line in plan_text(&workflow.shown, &workflow.name, self.0.environment()).lines() {
            self.0.log(line);
        }
    }
}

impl ApplyObserver for SinkProgress<'_> {
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
                    None => format!("<== {step}: {}", crate::apply::ChangeCount(changes)),
                    Some(error) => format!(
                        "<== {step}: failed after {}: {error}",
                        crate::apply::ChangeCount(changes)
                    ),
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
            ApplyEvent::Created { object, name } => {
                format!("{} {} {name}", object.created_verb(), object.name())
            }
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
            ApplyEvent::ManagerMoved { from, to, reason } => {
                format!("moved from manager {from} to {to}: {reason}")
            }
            ApplyEvent::HostOutput { host, line } => format!("[{host}] {line}"),
        };
        self.0.log(line);
    }
}
