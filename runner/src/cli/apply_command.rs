//! `shoal apply`: make the environment's swarm match the config repo, step by step.

use std::io::Write as _;

use crate::apply::{ApplyEvent, ApplyObserver, CancelSignal, ChangeCount, progress_text};
use crate::cli::cluster_run::{ClusterArgs, PreparedRun, prepare, wants_json};
use crate::cli::unimplemented_docker::early_environment;
use crate::exit_code::Outcome;
use crate::model::Environment;
use crate::pipeline::{PlannedWorkflow, RunProgress};
use crate::plan::plan_text;
use crate::render::SecretValues;

pub fn run(args: &ClusterArgs) -> anyhow::Result<Outcome> {
    let early = early_environment(args)?;
    let runtime = crate::cli::cluster_run::runtime()?;
    runtime.block_on(apply(args, early))
}

async fn apply(args: &ClusterArgs, early: Option<Environment>) -> anyhow::Result<Outcome> {
    let Some(prepared) = prepare(args, early).await? else {
        return Ok(Outcome::Failure);
    };
    let mut progress = TerminalProgress::new(&prepared, wants_json(args));
    // The first plan is shown before anything is applied; later workflows are planned
    // again when their turn comes, and shown then.
    progress.show_first_plan(&prepared);
    let outcome = carry_out(&prepared, &mut progress).await;
    prepared.run.end_before_exit();
    outcome
}

/// Applies a prepared run whose first plan was shown, reporting on the terminal.
pub async fn carry_out(
    prepared: &PreparedRun,
    progress: &mut TerminalProgress,
) -> anyhow::Result<Outcome> {
    let run = &prepared.run;
    let outcomes = run.apply(progress, CancelSignal::never()).await?;
    let mut reports = Vec::new();
    let mut failed = false;
    for outcome in outcomes {
        let workflow = &outcome.workflow;
        match &outcome.result {
            Ok(report) => {
                let result = if outcome.had_changes || report.changes() > 0 {
                    "success"
                } else {
                    "unchanged"
                };
                if !progress.json {
                    println!(
                        "applied workflow {workflow} to {}: {}",
                        prepared.environment,
                        ChangeCount(report.changes())
                    );
                }
                reports.push(serde_json::json!({ "workflow": workflow, "changes": report.changes(), "result": result }));
            }
            Err((report, error)) => {
                failed = true;
                let done: Vec<String> = report
                    .steps
                    .iter()
                    .filter(|step| step.result.is_ok())
                    .map(|step| format!("`{}`", step.step))
                    .collect();
                let message = run.secrets.redact(&error.to_string());
                eprintln!("error: {message}");
                if done.is_empty() && report.changes() == 0 {
                    eprintln!(
                        "no step of workflow {workflow} completed before the failure, and nothing was changed"
                    );
                } else if !done.is_empty() {
                    eprintln!(
                        "steps completed before the failure: {}; run apply again once the cause is fixed: it continues from the swarm's state",
                        done.join(", ")
                    );
                }
                reports.push(serde_json::json!({ "workflow": workflow, "changes": report.changes(), "result": "failure", "error": message }));
            }
        }
    }
    if progress.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "workflows": reports }))?
        );
    }
    Ok(if failed {
        Outcome::Failure
    } else {
        Outcome::Success
    })
}

/// Prints plans and apply events as lines; they go to stderr with `--output json`, so
/// that stdout stays one JSON document.
pub struct TerminalProgress {
    secrets: SecretValues,
    environment: String,
    json: bool,
}

impl TerminalProgress {
    pub fn new(prepared: &PreparedRun, json: bool) -> TerminalProgress {
        TerminalProgress {
            secrets: prepared.run.secrets.clone(),
            environment: prepared.environment.clone(),
            json,
        }
    }

    /// The plan of the first workflow, before anything is applied.
    pub fn show_first_plan(&self, prepared: &PreparedRun) {
        if let Some(first) = prepared.run.workflows.first() {
            self.show_plan(first);
        }
    }

    fn show_plan(&self, workflow: &PlannedWorkflow) {
        if !self.json {
            print!(
                "{}",
                self.secrets.redact(&plan_text(
                    &workflow.shown,
                    &workflow.name,
                    &self.environment
                ))
            );
        }
    }
}

impl RunProgress for TerminalProgress {
    fn replanned(&mut self, workflow: &PlannedWorkflow) {
        self.show_plan(workflow);
    }
}

impl ApplyObserver for TerminalProgress {
    fn event(&mut self, event: ApplyEvent) {
        let line = match event {
            ApplyEvent::StepStarted { step } => format!("==> {step}"),
            ApplyEvent::StepSkipped { step, reason } => format!("==> {step}: skipped ({reason})"),
            ApplyEvent::Created { object, name } => {
                format!("    {} {} {name}", object.created_verb(), object.name())
            }
            ApplyEvent::Updated { object, name } => format!("    updated {} {name}", object.name()),
            ApplyEvent::Removed { object, name } => format!("    removed {} {name}", object.name()),
            ApplyEvent::Converging {
                service,
                running,
                desired,
                waiting,
            } => format!(
                "    {service}: {}",
                progress_text(running, desired, waiting.as_deref())
            ),
            ApplyEvent::Converged { service } => format!("    {service}: converged"),
            ApplyEvent::RolledBack { service } => format!("    {service}: rolled back"),
            ApplyEvent::ManagerMoved { from, to, reason } => {
                format!("    moved from manager {from} to {to}: {reason}")
            }
            ApplyEvent::HostOutput { host, line } => format!("    [{host}] {line}"),
            ApplyEvent::StepFinished { .. } => return,
        };
        let line = self.secrets.redact(&line);
        if self.json {
            eprintln!("{line}");
        } else {
            println!("{line}");
            let _ = std::io::stdout().flush();
        }
    }
}
