//! `shoal plan`: what applying would change on the environment's swarm.

use crate::cli::cluster_run::{ClusterArgs, prepare, wants_json};
use crate::cli::unimplemented_docker::early_environment;
use crate::exit_code::Outcome;
use crate::plan::plan_text;

pub fn run(args: &ClusterArgs) -> anyhow::Result<Outcome> {
    let early = early_environment(args)?;
    let runtime = crate::cli::cluster_run::runtime()?;
    let Some(prepared) = runtime.block_on(prepare(args, early))? else {
        return Ok(Outcome::Failure);
    };
    let run = &prepared.run;
    let mut changes = false;
    let mut problems = false;
    // Only the plans with sensitive fields concealed are shown.
    if wants_json(args) {
        let plans: Vec<serde_json::Value> = run
            .workflows
            .iter()
            .map(|w| serde_json::json!({ "workflow": w.name, "environment": prepared.environment, "summary": w.shown.summary(), "plan": w.shown }))
            .collect();
        let text = serde_json::to_string_pretty(&serde_json::json!({ "workflows": plans }))?;
        println!("{}", run.secrets.redact(&text));
    }
    for workflow in &run.workflows {
        changes |= workflow.plan.has_changes();
        problems |= !workflow.plan.problems().is_empty();
        if !wants_json(args) {
            print!(
                "{}",
                run.secrets.redact(&plan_text(
                    &workflow.shown,
                    &workflow.name,
                    &prepared.environment
                ))
            );
        }
    }
    let outcome = if problems {
        eprintln!("error: the plan has problems (see above); `shoal apply` would refuse it");
        Outcome::Failure
    } else if changes {
        Outcome::ChangesPending
    } else {
        Outcome::Success
    };
    prepared.run.end_before_exit();
    Ok(outcome)
}
