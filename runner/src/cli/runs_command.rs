//! `shoal runs`: the history the daemon keeps: what ran, on which commit, for whom, with
//! what result; `shoal runs show ID` shows every step of a run, with durations, and its
//! log; `shoal runs logs ID --follow` follows a live run's log.

use std::path::PathBuf;

use crate::exit_code::Outcome;
use crate::store::{Store, follow_log};

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
    /// One run: its steps (per environment, with results and durations) and its log.
    Show { id: i64 },
    /// A run's log; with --follow, new lines as they come, until the run ends.
    Logs {
        id: i64,
        #[arg(long, short)]
        follow: bool,
    },
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
                    let mode = if run.event == "rollback" {
                        "rollback"
                    } else {
                        run.mode.as_str()
                    };
                    println!(
                        "{:>5}  {:<11} {:<10} {:<18} {:<12} {}  {}  {}",
                        run.id,
                        run.status.as_str(),
                        mode,
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
            let report_failures = store.report_failures(*id)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "run": run, "steps": steps, "logs": logs, "report_failures": report_failures
                    }))?
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
                if let Some(from) = &run.rollback_from {
                    println!("rolled back from commit {from}");
                }
                println!(
                    "started {} finished {}",
                    run.started_at.unwrap_or_default(),
                    run.finished_at.unwrap_or_default()
                );
                for step in steps {
                    println!(
                        "  {:<12} {:<24} {:<11} {:>8}  {}{}",
                        step.environment,
                        step.name,
                        step.status.as_str(),
                        duration(&step.started_at, step.finished_at.as_deref()),
                        crate::apply::ChangeCount(usize::try_from(step.changes).unwrap_or(0)),
                        step.error.map(|e| format!(": {e}")).unwrap_or_default()
                    );
                }
                for line in logs {
                    println!("    {line}");
                }
                for failure in report_failures {
                    // Notifications share the table; their target names start `notify `.
                    let what = if failure.check.starts_with("notify ") {
                        "notification"
                    } else {
                        "report to GitHub"
                    };
                    println!(
                        "  {what} failed ({}): {}: {}",
                        failure.at, failure.check, failure.error
                    );
                }
            }
        }
        Some(RunsCommand::Logs { id, follow }) => {
            store
                .run(*id)?
                .ok_or_else(|| anyhow::anyhow!("no run {id}"))?;
            print_log(&store, *id, *follow)?;
        }
    }
    Ok(Outcome::Success)
}

/// Prints the log of run `id`; when following, new lines until the run ends.
fn print_log(store: &Store, id: i64, follow: bool) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let mut written = Ok(());
    follow_log(store, id, follow, |lines| {
        written = lines
            .iter()
            .try_for_each(|line| writeln!(out, "{line}"))
            .and_then(|()| out.flush());
        written.is_ok()
    })?;
    Ok(written?)
}

/// How long a step took, as `1.2s` or `3m04s`; `running` while it runs.
fn duration(started: &str, finished: Option<&str>) -> String {
    let parse = |text: &str| chrono::DateTime::parse_from_rfc3339(text).ok();
    let Some(finished) = finished else {
        return "running".to_owned();
    };
    match (parse(started), parse(finished)) {
        (Some(started), Some(finished)) => {
            let millis = (finished - started).num_milliseconds().max(0);
            if millis < 60_000 {
                format!("{:.1}s", millis as f64 / 1000.0)
            } else {
                format!("{}m{:02}s", millis / 60_000, millis % 60_000 / 1000)
            }
        }
        _ => String::new(),
    }
}
