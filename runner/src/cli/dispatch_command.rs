//! `shoal dispatch` and `shoal cancel`: a person asks the daemon to run a workflow (a
//! certificate renewal, a teardown) or to stop a run. The daemon checks the inputs against
//! the workflow's declared types before anything runs, and records who asked.

use hyper::Method;

use super::api_client::{ApiArgs, ApiClient};
use crate::exit_code::Outcome;

#[derive(Debug, clap::Args)]
pub struct DispatchArgs {
    /// The workflow to run (its name, as `shoal runs` shows it).
    workflow: String,
    /// An environment to run it on; repeat for several, in order. Default: the workflow's own.
    #[arg(long = "env", value_name = "ENV")]
    environments: Vec<String>,
    /// An input of the workflow, as KEY=VALUE; repeat for several.
    #[arg(long = "input", value_name = "KEY=VALUE")]
    inputs: Vec<String>,
    /// Who asks, as recorded in the run (default: $USER).
    #[arg(long)]
    actor: Option<String>,
    /// Stream the log of each run until it ends; exit 1 unless every run succeeded.
    #[arg(long)]
    follow: bool,
    #[command(flatten)]
    api: ApiArgs,
}

#[derive(Debug, clap::Args)]
pub struct CancelArgs {
    /// The run to stop (from `shoal runs`).
    run: i64,
    #[command(flatten)]
    api: ApiArgs,
}

pub fn run(args: &DispatchArgs) -> anyhow::Result<Outcome> {
    let mut inputs = serde_json::Map::new();
    for pair in &args.inputs {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--input `{pair}`: give KEY=VALUE"))?;
        inputs.insert(key.to_owned(), serde_json::Value::String(value.to_owned()));
    }
    let actor = args
        .actor
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "cli".to_owned());
    let body = serde_json::json!({
        "workflow": args.workflow,
        "environments": args.environments,
        "inputs": inputs,
        "actor": actor,
    });
    let client = ApiClient::new(&args.api)?;
    runtime()?.block_on(async {
        let Some(runs) = queue_runs(&client, "/api/v1/dispatch", &body).await? else {
            return Ok(Outcome::Failure);
        };
        if !args.follow {
            return Ok(Outcome::Success);
        }
        follow_runs(&client, runs).await
    })
}

/// Asks the daemon for runs (`POST path`) and prints each one queued; `None` when the
/// daemon refused (its reasons printed as errors).
pub(super) async fn queue_runs(
    client: &ApiClient,
    path: &str,
    body: &serde_json::Value,
) -> anyhow::Result<Option<Vec<i64>>> {
    let (status, text) = client.call(Method::POST, path, Some(body)).await?;
    let answer: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    match status {
        202 => {}
        422 => {
            for error in answer["errors"].as_array().into_iter().flatten() {
                eprintln!("error: {}", error.as_str().unwrap_or_default());
            }
            return Ok(None);
        }
        401 => anyhow::bail!("the daemon refused the API token: {}", text.trim()),
        _ => anyhow::bail!("the daemon answered {status}: {}", text.trim()),
    }
    let runs: Vec<i64> = answer["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(serde_json::Value::as_i64)
        .collect();
    for id in &runs {
        println!("run {id} queued: shoal runs show {id}");
    }
    Ok(Some(runs))
}

/// Streams the log of each run until it ends, then its status; a failure unless every
/// run succeeded.
pub(super) async fn follow_runs(client: &ApiClient, runs: Vec<i64>) -> anyhow::Result<Outcome> {
    let mut all_succeeded = true;
    for id in runs {
        client.follow_log(id).await?;
        let (_, text) = client
            .call(Method::GET, &format!("/api/v1/runs/{id}"), None)
            .await?;
        let detail: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let status = detail["run"]["status"].as_str().unwrap_or("unknown");
        println!("run {id}: {status}");
        all_succeeded &= status == "success";
    }
    Ok(if all_succeeded {
        Outcome::Success
    } else {
        Outcome::Failure
    })
}

pub fn cancel(args: &CancelArgs) -> anyhow::Result<Outcome> {
    let client = ApiClient::new(&args.api)?;
    runtime()?.block_on(async {
        let (status, text) = client
            .call(
                Method::POST,
                &format!("/api/v1/runs/{}/cancel", args.run),
                None,
            )
            .await?;
        let answer: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        match status {
            202 => {
                println!(
                    "run {}: {}",
                    args.run,
                    answer["message"].as_str().unwrap_or_default()
                );
                Ok(Outcome::Success)
            }
            409 => {
                eprintln!("error: {}", answer["error"].as_str().unwrap_or_default());
                Ok(Outcome::Failure)
            }
            _ => anyhow::bail!("the daemon answered {status}: {}", text.trim()),
        }
    })
}

pub(super) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}
