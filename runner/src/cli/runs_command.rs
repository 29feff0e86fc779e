//! `shoal runs`: the history the daemon keeps: what ran, on which commit, for whom, with
//! what result; `shoal runs show ID` shows every environment of a run and its log.

use std::path::PathBuf;

use crate::exit_code::Outcome;
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub struct RunsArgs {
    /// The daemon's state folder (`shoal serve --state`).
    #[arg(long, env = "SHOAL_STATE", value_name = "DIR", global = true)]
    state: Option<PathBuf>,
    /// Show this run in full.
    #[command(subcommand)]
    show: Option<RunsCommand>,
    /// Text for people, or JSON for programs.
    #[arg(long, value_enum, default_value_t = crate::cli::OutputFormat::Text, global = true)]
    output: crate::cli::OutputFormat,
}

#[derive(Debug, clap::Subcommand)]
enum RunsCommand {
    /// One run: its environments, results and log.
    Show { id: i64 },
}

pub fn run(args: &RunsArgs) -> anyhow::Result<Outcome> {
    let state = args.state.as_ref().ok_or_else(|| {
        anyhow::anyhow!(
            "--state DIR (or SHOAL_STATE) is required: the folder of `shoal serve --state`"
        )
    })?;
    anyhow::ensure!(
        state.join("shoal.db").exists(),
        "no run history in {} (is it `shoal serve --state`?)",
        state.display()
    );
    let store = Store::open_reader(state)?;
    let json = args.output == crate::cli::OutputFormat::Json;
    match &args.show {
        None => {
            let runs = store.runs(50)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({ "runs": runs }))?
                );
            } else {
                for run in runs {
                    println!(
                        "{:>5}  {:<11} {:<10} {:<18} {:<12} {}  {}  {}",
                        run.id,
                        run.status.as_str(),
                        run.mode,
                        run.workflow,
                        run.environments.join(","),
                        run.commit.get(..7).unwrap_or(&run.commit),
                        run.actor,
                        run.summary
                    );
                }
            }
        }
        Some(RunsCommand::Show { id }) => {
            let run = store
                .run(*id)?
                .ok_or_else(|| anyhow::anyhow!("no run {id}"))?;
            let steps = store.steps(*id)?;
            let logs = store.logs(*id)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({ "run": run, "steps": steps, "logs": logs })
                    )?
                );
            } else {
                println!(
                    "run {}: {} of workflow {} on {} ({}), {}",
                    run.id,
                    run.mode,
                    run.workflow,
                    run.commit,
                    run.event,
                    run.status.as_str()
                );
                println!(
                    "started {} finished {}",
                    run.started_at.unwrap_or_default(),
                    run.finished_at.unwrap_or_default()
                );
                for step in steps {
                    println!(
                        "  {}: {} ({} changes){}",
                        step.environment,
                        step.status.as_str(),
                        step.changes,
                        step.error.map(|e| format!(": {e}")).unwrap_or_default()
                    );
                }
                for line in logs {
                    println!("    {line}");
                }
            }
        }
    }
    Ok(Outcome::Success)
}
