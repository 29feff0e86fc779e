//! The command line: parses arguments, runs a command, and maps the result to an exit code.
//! This is an edge: it reads the disk, the environment and git, and writes the terminal.

mod api_client;
mod apply_command;
mod ca_command;
mod cluster_run;
mod dispatch_command;
mod github_args;
mod local_repo;
mod loose_commit;
mod plan_command;
mod render_command;
mod render_session;
mod report;
mod rollback_command;
mod runs_command;
mod sandboxed_plan_command;
mod schema_command;
mod secret_input;
mod serve_command;
mod unimplemented_docker;
mod validate_command;
mod workflow_selection;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::exit_code::Outcome;

#[derive(Debug, Parser)]
#[command(
    name = "shoal",
    version,
    about = "GitOps workflow runner for Docker Swarm",
    long_about = "shoal keeps Docker Swarm clusters in step with a git repository of workflows, \
                  Jinja-templated compose files and config files, rendered per environment.",
    after_help = "Examples:\n  shoal validate --repo ./infra\n  shoal render --env local --repo ./infra\n\n\
                  Exit codes: 0 success, 1 errors in the config repo or a failed command, \
                  64 wrong command line."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Options every command that reads a config repo takes.
#[derive(Debug, Clone, clap::Args)]
pub struct RepoArgs {
    /// The config repo: a folder with shoal.yml and workflows/.
    #[arg(long, default_value = ".", env = "SHOAL_REPO")]
    repo: PathBuf,
    /// Text for people, or JSON for programs.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    output: OutputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a config repo and render every workflow for every environment; report every error.
    #[command(
        after_help = "Examples:\n  shoal validate\n  shoal validate --repo ./infra --output json\n\n\
                             Errors print as path:line:column: message, with the source line and a caret.\n\
                             Secrets are replaced by placeholders: validation needs none of their values.\n\
                             Exit codes: 0 valid, 1 errors found."
    )]
    Validate(validate_command::ValidateArgs),
    /// Render the files of a workflow for one environment, to the terminal or a folder.
    #[command(
        after_help = "Examples:\n  shoal render --env local\n  shoal render --env prod --workflow infrastructure --out ./rendered\n  \
                             shoal render --env staging --input version=1.2.3\n\n\
                             Secret values come from each secret's source (an environment variable or a file) \
                             and never appear on the terminal; files written with --out keep them, readable by \
                             their owner only."
    )]
    Render(render_command::RenderArgs),
    /// Show what applying would change on the environment's swarm, field by field.
    #[command(
        after_help = "Examples:\n  shoal plan --env local\n  shoal plan --env prod --workflow infrastructure --output json\n  \
                             shoal plan --env local --docker-host unix:///tmp/test-swarm/docker.sock\n\n\
                             Secret values never appear: configs and secrets are named by a hash of their content.\n\
                             Exit codes: 0 nothing would change, 2 changes pending, 1 error."
    )]
    Plan(cluster_run::ClusterArgs),
    /// Make the environment's swarm match the config repo, step by step, waiting for services to converge.
    #[command(
        after_help = "Examples:\n  shoal apply --env local\n  shoal apply --env staging --workflow infrastructure\n  \
                             shoal apply --env prod --workflow teardown --input confirm=prod\n\n\
                             Nothing is written when the repo has errors or the plan has problems (a missing external \
                             network, a network to recreate while in use). Running apply twice makes no change the second time.\n\
                             Exit codes: 0 applied (or nothing to do), 1 failed."
    )]
    Apply(cluster_run::ClusterArgs),
    /// Run the GitOps daemon: watch the branch, apply pushes, plan pull requests, check drift on schedules.
    #[command(
        after_help = "Example:\n  shoal serve --repo https://git.example.org/infra.git --branch main --state /var/lib/shoal \\\n    --listen 0.0.0.0:8080 --webhook-secret-file /etc/shoal/webhook-secret\n\n\
                             Webhooks: POST /hooks/github (X-Hub-Signature-256 checked). API: GET /api/v1/runs, \
                             GET /api/v1/runs/ID, GET /api/v1/runs/ID/logs (follows a live run), \
                             POST /api/v1/dispatch, POST /api/v1/rollback and POST /api/v1/runs/ID/cancel (bearer token), \
                             GET /metrics (Prometheus), GET /healthz. The web console: / (log in with a \
                             token from --access-tokens-file or --api-token-file)."
    )]
    Serve(Box<serve_command::ServeArgs>),
    /// Ask the daemon to run a workflow now (certificate renewal, teardown…).
    #[command(
        after_help = "Examples:\n  shoal dispatch renew-certificates --env prod\n  \
                             shoal dispatch teardown --env staging --input confirm=staging --follow\n\n\
                             The daemon checks the inputs against the workflow's declared types, options and required \
                             flags before anything runs, and records who asked ($USER, or --actor).\n\
                             The token is SHOAL_API_TOKEN (or --api-token-file), as given to `shoal serve`.\n\
                             Exit codes: 0 queued (with --follow: every run succeeded), 1 refused or failed."
    )]
    Dispatch(dispatch_command::DispatchArgs),
    /// Stop a run: a queued one at once, a running one at its next safe point.
    #[command(after_help = "Example:\n  shoal cancel 42\n\n\
                             A running run stops before its next step, or while a step waits for services or a URL; \
                             a write already sent to Docker is never cut off.")]
    Cancel(dispatch_command::CancelArgs),
    /// Apply a workflow as it was at an earlier commit: the last one whose run succeeded, or --to.
    #[command(
        after_help = "Examples:\n  shoal rollback web --env prod --state /var/lib/shoal\n  \
                             shoal rollback web --env staging --to 3f2a9c1\n  \
                             shoal rollback web --env prod --daemon --server http://runner:8080 --api-token-file ~/.shoal-token\n\n\
                             The workflow's files come from that commit of the config repo's git history, its \
                             secrets from today's sources. The plan is shown first; a workflow whose dispatch \
                             must be confirmed by the environment's name asks for it (or take it with \
                             --input NAME=ENV). shoal serve does the same, recorded and reported as a check, \
                             on POST /api/v1/rollback, which --daemon sends (then follows the run's log).\n\
                             Exit codes: 0 rolled back (or nothing to do), 1 refused or failed."
    )]
    Rollback(Box<rollback_command::RollbackArgs>),
    /// List the runs the daemon keeps, or show one.
    #[command(
        after_help = "Examples:\n  shoal runs --state /var/lib/shoal\n  shoal runs --state /var/lib/shoal show 42"
    )]
    Runs(runs_command::RunsArgs),
    /// Make a certificate authority for `certs` steps.
    #[command(
        after_help = "Example:\n  shoal ca create --out pki/ --common-name \"prod CA\" --validity 10y\n\n\
                      Writes pki/ca.pem (commit it) and pki/ca-key.pem (mode 0600: put it in the \
                      environment's secrets). Refuses to overwrite either."
    )]
    Ca(ca_command::CaArgs),
    /// Write the JSON Schemas of shoal.yml and workflow files (for editors and CI).
    #[command(after_help = "Example:\n  shoal schema --out schemas/")]
    Schema(schema_command::SchemaArgs),
    /// The child process `shoal serve` plans a pull request in (internal).
    #[command(hide = true)]
    SandboxedPlan(sandboxed_plan_command::SandboxedPlanArgs),
}

/// Runs shoal with the process's arguments.
pub fn main() -> Outcome {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                Outcome::Usage
            } else {
                Outcome::Success
            };
        }
    };
    let result = match cli.command {
        Command::Validate(args) => validate_command::run(&args),
        Command::Render(args) => render_command::run(&args),
        Command::Schema(args) => schema_command::run(&args),
        Command::Ca(args) => ca_command::run(&args),
        Command::Plan(args) => plan_command::run(&args),
        Command::Serve(args) => serve_command::run(&args),
        Command::Runs(args) => runs_command::run(&args),
        Command::Dispatch(args) => dispatch_command::run(&args),
        Command::Cancel(args) => dispatch_command::cancel(&args),
        Command::Apply(args) => apply_command::run(&args),
        Command::Rollback(args) => rollback_command::run(&args),
        Command::SandboxedPlan(args) => sandboxed_plan_command::run(&args),
    };
    match result {
        Ok(outcome) => outcome,
        // A reader that stops early (`shoal render | head`) is not an error.
        Err(error) if is_broken_pipe(&error) => Outcome::Success,
        Err(error) => {
            eprintln!("error: {error:#}");
            Outcome::Failure
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
