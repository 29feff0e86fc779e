//! `shoal apply`: make the environment's swarm match the config repo, step by step.

use std::io::Write as _;

use crate::apply::{Applier, ApplyEvent, ApplyObserver, plan_workflows};
use crate::cli::cluster_run::{ClusterArgs, prepare, wants_json};
use crate::cli::unimplemented_docker::refuse_unimplemented_docker_settings;
use crate::exit_code::Outcome;
use crate::plan::plan_text;
use crate::render::SecretValues;

pub fn run(args: &ClusterArgs) -> anyhow::Result<Outcome> {
    refuse_unimplemented_docker_settings(args)?;
    let runtime = crate::cli::cluster_run::runtime()?;
    runtime.block_on(apply(args))
}

async fn apply(args: &ClusterArgs) -> anyhow::Result<Outcome> {
    let Some(prepared) = prepare(args).await? else {
        return Ok(Outcome::Failure);
    };
    let mut observer = TerminalProgress {
        secrets: prepared.secrets.clone(),
        json: wants_json(args),
    };
    let mut reports = Vec::new();
    // The state read since the first workflow, when there is more than one: the first is
    // planned against `prepared.live`, which is not copied (a swarm's service specs are
    // most of what an unchanged apply handles).
    let mut read_again = None;
    for (index, planned) in prepared.workflows.iter().enumerate() {
        // A later workflow is planned again against what the earlier ones left, read in
        // the same scope as the first reading.
        let replanned;
        let workflow = if index == 0 {
            planned
        } else {
            let state = prepared
                .client
                .live_state_of(prepared.live.scope.clone())
                .await?;
            let (mut plans, state) =
                plan_workflows(&prepared.client, &[&planned.steps], state).await?;
            read_again = Some(state);
            replanned = crate::cli::cluster_run::PlannedWorkflow {
                workflow: planned.workflow.clone(),
                steps: planned.steps.clone(),
                plan: plans.pop().unwrap_or_default(),
            };
            &replanned
        };
        let live = read_again.as_ref().unwrap_or(&prepared.live);
        if !observer.json {
            print!(
                "{}",
                prepared.secrets.redact(&plan_text(
                    &workflow.plan,
                    &workflow.workflow,
                    &prepared.environment.name
                ))
            );
        }
        if !workflow.plan.has_changes()
            && !workflow
                .steps
                .iter()
                .any(|s| matches!(s.desired, crate::plan::Desired::Wait(_)))
        {
            reports.push(serde_json::json!({ "workflow": workflow.workflow, "changes": 0, "result": "unchanged" }));
            continue;
        }
        let mut applier = Applier::new(&prepared.client, &mut observer, live);
        match applier.apply(&workflow.steps, &workflow.plan).await {
            Ok(report) => {
                if !wants_json(args) {
                    println!(
                        "applied workflow {} to {}: {} changes",
                        workflow.workflow,
                        prepared.environment.name,
                        report.changes()
                    );
                }
                reports.push(serde_json::json!({ "workflow": workflow.workflow, "changes": report.changes(), "result": "success" }));
            }
            Err((report, error)) => {
                let done: Vec<String> = report
                    .steps
                    .iter()
                    .filter(|step| step.result.is_ok())
                    .map(|step| format!("`{}`", step.step))
                    .collect();
                let message = prepared.secrets.redact(&error.to_string());
                eprintln!("error: {message}");
                if done.is_empty() {
                    eprintln!(
                        "no step of workflow {} completed before the failure",
                        workflow.workflow
                    );
                } else {
                    eprintln!(
                        "steps completed before the failure: {}; run apply again once the cause is fixed: it continues from the swarm's state",
                        done.join(", ")
                    );
                }
                if wants_json(args) {
                    reports.push(serde_json::json!({ "workflow": workflow.workflow, "changes": report.changes(), "result": "failure", "error": message }));
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&serde_json::json!({ "workflows": reports }))?
                    );
                }
                return Ok(Outcome::Failure);
            }
        }
    }
    if wants_json(args) {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "workflows": reports }))?
        );
    }
    Ok(Outcome::Success)
}

/// Prints apply events as lines; they go to stderr with `--output json`, so that stdout
/// stays one JSON document.
struct TerminalProgress {
    secrets: SecretValues,
    json: bool,
}

impl ApplyObserver for TerminalProgress {
    fn event(&mut self, event: ApplyEvent) {
        let line = match event {
            ApplyEvent::StepStarted { step } => format!("==> {step}"),
            ApplyEvent::StepSkipped { step, reason } => format!("==> {step}: skipped ({reason})"),
            ApplyEvent::Created { object, name } => format!("    created {} {name}", object.name()),
            ApplyEvent::Updated { object, name } => format!("    updated {} {name}", object.name()),
            ApplyEvent::Removed { object, name } => format!("    removed {} {name}", object.name()),
            ApplyEvent::Converging {
                service,
                running,
                desired,
            } => format!("    {service}: {running}/{desired} running"),
            ApplyEvent::Converged { service } => format!("    {service}: converged"),
            ApplyEvent::RolledBack { service } => format!("    {service}: rolled back"),
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
