//! `shoal rollback`: apply a workflow on one environment as it was at an earlier commit
//! (the last one whose run succeeded before the current one, from `shoal serve`'s run
//! history, or the one given), read from the config repo's git history, with today's
//! secrets. The plan is shown first; a workflow whose dispatch must be confirmed by the
//! environment's name asks for it, as `shoal apply` and `shoal dispatch` do.

use std::io::{BufRead as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;

use crate::cli::api_client::{ApiArgs, ApiClient};
use crate::cli::apply_command::{TerminalProgress, carry_out};
use crate::cli::cluster_run::{ClusterArgs, prepare_in, runtime, wants_json};
use crate::cli::dispatch_command;
use crate::cli::local_repo::{git_folder, named_commit};
use crate::cli::render_session::RenderSession;
use crate::cli::unimplemented_docker::early_environment;
use crate::config::Confirms;
use crate::exit_code::Outcome;
use crate::git::CommitFiles;
use crate::model::Workflow;
use crate::render::CommitInfo;
use crate::store::Store;
use crate::trigger::{confirmation_problems, rollback_target, short};

#[derive(Debug, clap::Args)]
#[command(mut_arg("workflow", |arg| arg.hide(true)))]
pub struct RollbackArgs {
    /// The workflow to roll back (its name).
    #[arg(id = "rolled_back_workflow", value_name = "WORKFLOW")]
    workflow: String,
    /// The commit to roll back to (a SHA, a prefix of one, `HEAD~2`…); by default the
    /// last one whose run succeeded before the current one, from --state.
    #[arg(long, value_name = "COMMIT")]
    to: Option<String>,
    /// The daemon's state folder (`shoal serve --state`), whose run history says which
    /// commit last succeeded.
    #[arg(long, env = "SHOAL_STATE", value_name = "DIR")]
    state: Option<PathBuf>,
    /// Ask `shoal serve` (at --server) to roll back instead: the run is the daemon's,
    /// from its own history and mirror, recorded as a rollback and reported as a check;
    /// its log is followed here until it ends.
    #[arg(long, conflicts_with_all = ["state", "docker_host", "docker_context"])]
    daemon: bool,
    #[command(flatten)]
    api: ApiArgs,
    #[command(flatten)]
    cluster: ClusterArgs,
}

/// What a rollback goes from and to.
struct Rollback {
    from: Option<String>,
    to: CommitInfo,
}

pub fn run(args: &RollbackArgs) -> anyhow::Result<Outcome> {
    anyhow::ensure!(
        args.cluster.workflow.is_none(),
        "name the workflow as the first argument of shoal rollback, not with --workflow"
    );
    if args.daemon {
        return through_daemon(args);
    }
    let mut cluster = args.cluster.clone();
    cluster.workflow = Some(args.workflow.clone());
    // Only to refuse what cannot be reached: the run connects to the environment as the
    // earlier commit gives it, once that is loaded.
    early_environment(&cluster)?;
    let root = cluster.repo.repo.clone();
    // Only the top folder of a work tree has `.git`: a commit's tree is the config repo's
    // files only there.
    let objects = git_folder(&root)
        .filter(|_| root.join(".git").exists())
        .with_context(|| {
            format!(
                "{} is not the top folder of a git work tree: shoal rollback reads earlier commits of the config repo from git",
                root.display()
            )
        })?;
    let rollback = target(args, &root)?;
    let oid = git2::Oid::from_str(&rollback.to.sha)
        .with_context(|| format!("`{}` is not a commit ID", rollback.to.sha))?;
    let files = CommitFiles::open(&objects, oid).with_context(|| {
        format!(
            "cannot read commit {} of {}",
            rollback.to.short_sha,
            root.display()
        )
    })?;
    let Some(session) = RenderSession::at_commit(
        &cluster.repo,
        &cluster.env,
        Arc::new(files),
        rollback.to.clone(),
    )?
    else {
        eprintln!(
            "error: the config repo has errors at commit {}: nothing was applied",
            rollback.to.short_sha
        );
        return Ok(Outcome::Failure);
    };
    let environment = cluster.env.clone();
    let workflow = session.repo.workflow(&args.workflow).with_context(|| {
        format!(
            "workflow `{}` does not exist at commit {}: nothing to roll back to",
            args.workflow, rollback.to.short_sha
        )
    })?;
    // A confirmation not given on the command line is asked for once the plan is shown;
    // the plan is made with the environment's name in its place.
    let asked = confirmation_input(workflow).filter(|name| {
        !cluster.inputs.iter().any(|input| {
            input
                .split_once('=')
                .is_some_and(|(given, _)| given == name)
        })
    });
    if let Some(name) = &asked {
        cluster.inputs.push(format!("{name}={environment}"));
    }
    let json = wants_json(&cluster);
    let heading = format!(
        "rolling back workflow {} on {environment} to commit {} ({}){}, with today's secrets",
        workflow.name,
        rollback.to.short_sha,
        rollback.to.message,
        rollback
            .from
            .as_deref()
            .map(|from| format!(", from commit {}", short(from)))
            .unwrap_or_default()
    );
    if json {
        eprintln!("{heading}");
    } else {
        println!("{heading}");
    }
    runtime()?.block_on(async {
        let Some(prepared) = prepare_in(&cluster, &session, None).await? else {
            return Ok(Outcome::Failure);
        };
        let mut progress = TerminalProgress::new(&prepared, json);
        progress.show_first_plan(&prepared);
        let changes = prepared
            .run
            .workflows
            .iter()
            .any(|planned| planned.plan.has_changes());
        if let Some(name) = asked.filter(|_| changes) {
            let typed = ask(&format!(
                "Type the name of the environment ({environment}) to roll it back: "
            ))?;
            let inputs = serde_json::Map::from_iter([(name, serde_json::Value::String(typed))]);
            let refused =
                confirmation_problems(workflow, std::slice::from_ref(&environment), &inputs);
            if !refused.is_empty() {
                for problem in refused {
                    eprintln!("error: {problem}");
                }
                eprintln!("error: the rollback was not confirmed; nothing was applied");
                return Ok(Outcome::Failure);
            }
        }
        carry_out(&prepared, &mut progress).await
    })
}

/// `--daemon`: `POST /api/v1/rollback`, then the run's log until it ends. The daemon
/// finds the commit in its own history (or resolves `--to` in its mirror) and checks the
/// confirmation as a dispatch's.
fn through_daemon(args: &RollbackArgs) -> anyhow::Result<Outcome> {
    let mut inputs = serde_json::Map::new();
    for pair in &args.cluster.inputs {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--input `{pair}`: give NAME=VALUE"))?;
        inputs.insert(key.to_owned(), serde_json::Value::String(value.to_owned()));
    }
    let actor = std::env::var("USER").unwrap_or_else(|_| "cli".to_owned());
    let body = serde_json::json!({
        "workflow": args.workflow,
        "environment": args.cluster.env,
        "to": args.to,
        "inputs": inputs,
        "actor": actor,
    });
    let client = ApiClient::new(&args.api)?;
    dispatch_command::runtime()?.block_on(async {
        let Some(runs) = dispatch_command::queue_runs(&client, "/api/v1/rollback", &body).await?
        else {
            eprintln!("error: the daemon refused the rollback; nothing was applied");
            return Ok(Outcome::Failure);
        };
        dispatch_command::follow_runs(&client, runs).await
    })
}

/// The commit to roll back to, and from: `--to` (and the newest run's commit from
/// `--state`, else the commit checked out), or the last success before the current run.
fn target(args: &RollbackArgs, root: &Path) -> anyhow::Result<Rollback> {
    let runs = match &args.state {
        Some(state) => {
            anyhow::ensure!(
                state.join("shoal.db").exists(),
                "no run history in {} (is it `shoal serve --state`?)",
                state.display()
            );
            Store::open_reader(state)?.apply_runs(&args.workflow)?
        }
        None => Vec::new(),
    };
    if let Some(to) = &args.to {
        let info = named_commit(root, to).with_context(|| {
            format!(
                "unknown commit `{to}`: the config repo at {} has no such commit",
                root.display()
            )
        })?;
        let from = rollback_target(&runs, &args.workflow, &args.cluster.env, Some(&info.sha))
            .ok()
            .and_then(|target| target.from)
            .or_else(|| named_commit(root, "HEAD").map(|head| head.sha));
        return Ok(Rollback { from, to: info });
    }
    anyhow::ensure!(
        args.state.is_some(),
        "give the commit to roll back to with --to COMMIT, or the run history of `shoal serve` \
         with --state DIR to roll back to the last commit whose run succeeded"
    );
    let found = rollback_target(&runs, &args.workflow, &args.cluster.env, None)
        .map_err(|problem| anyhow::anyhow!("{problem} with --to COMMIT"))?;
    let info = named_commit(root, &found.to).with_context(|| {
        format!(
            "commit {} of the last successful run is not in the config repo at {}: fetch it first",
            short(&found.to),
            root.display()
        )
    })?;
    Ok(Rollback {
        from: found.from,
        to: info,
    })
}

/// The input of the workflow's dispatch that must repeat the environment's name.
fn confirmation_input(workflow: &Workflow) -> Option<String> {
    workflow
        .triggers
        .dispatch
        .as_ref()?
        .inputs
        .iter()
        .find(|(_, declaration)| declaration.confirms == Some(Confirms::Environment))
        .map(|(name, _)| name.clone())
}

/// Asks on the terminal; the line typed (empty at the end of the input).
fn ask(question: &str) -> anyhow::Result<String> {
    eprint!("{question}");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_owned())
}
