//! What `plan` and `apply` share: load the repo, then run the [`crate::pipeline`] for the
//! environment with the real secrets (an operator's run is trusted), printing its problems
//! and warnings to the terminal.

use std::path::PathBuf;

use crate::cli::render_session::RenderSession;
use crate::cli::{OutputFormat, RepoArgs, report};
use crate::docker::{DockerEndpoint, KnownSwarms};
use crate::model::Environment;
use crate::pipeline::{
    DaemonOverride, PipelineError, PlannedRun, RunInput, SecretPolicy, SwarmConnection,
    SwarmReading, desired_workflows, docker_endpoints, node_engines, remembers_swarm,
};
use crate::render::{SecretValues, TriggerInfo};

/// Options of `plan` and `apply`.
#[derive(Debug, Clone, clap::Args)]
pub struct ClusterArgs {
    #[command(flatten)]
    pub repo: RepoArgs,
    /// The environment, as named in shoal.yml.
    #[arg(long)]
    pub env: String,
    /// Only this workflow (its name or file name); all that target the environment when absent.
    #[arg(long)]
    pub workflow: Option<String>,
    /// A dispatch input, as NAME=VALUE; repeat for more. Others take their defaults.
    #[arg(long = "input", value_name = "NAME=VALUE")]
    pub inputs: Vec<String>,
    /// The Docker daemon to use instead of the environment's `docker.host`
    /// (e.g. a local test swarm).
    #[arg(long, env = "SHOAL_DOCKER_HOST", value_name = "URL")]
    pub docker_host: Option<String>,
    /// The docker CLI context to use instead of the environment's `docker` block (see
    /// `docker context ls`).
    #[arg(long, value_name = "NAME", conflicts_with = "docker_host")]
    pub docker_context: Option<String>,
    /// The file that remembers the swarm of each manager address, for environments that
    /// list several managers (`docker.hosts`); `$XDG_STATE_HOME/shoal/known_swarms`
    /// (`~/.local/state/shoal/known_swarms`) when absent.
    #[arg(long, env = "SHOAL_KNOWN_SWARMS", value_name = "FILE")]
    pub known_swarms: Option<PathBuf>,
    /// How long one Docker API call may take before shoal gives up on it.
    #[arg(long, env = "SHOAL_DOCKER_TIMEOUT", value_name = "DURATION", default_value = "30s", value_parser = humantime::parse_duration)]
    pub docker_timeout: std::time::Duration,
    /// Where a relative secret `file:` is read from; the config repo's folder when absent.
    #[arg(long, env = "SHOAL_SECRETS_FOLDER", value_name = "DIR")]
    pub secrets_folder: Option<PathBuf>,
}

/// Everything prepared; `None` from [`prepare`] means the problems were already printed.
pub struct PreparedRun {
    pub environment: String,
    pub run: PlannedRun,
}

/// The runtime of `plan` and `apply`: the main thread renders while one worker thread
/// reads the swarm (see [`SwarmReading`]). Their log goes to stderr: warnings, and how an
/// ssh:// Docker host is reached (`RUST_LOG` filters as usual).
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("shoal=warn,shoal::docker=info,shoal::ssh=info")
    });
    // Already set when a test calls this twice in one process.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        .with_ansi(false)
        .try_init();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
}

/// Loads the repo, renders the workflows and plans them against the swarm. Connecting to
/// the swarm starts first, from `early` (the environment as shoal.yml alone gives it, see
/// [`early_environment`](crate::cli::unimplemented_docker::early_environment)), and goes on
/// while the repo loads: a TLS handshake or an SSH login costs the run nothing when it
/// takes less time than loading does.
pub async fn prepare(
    args: &ClusterArgs,
    early: Option<Environment>,
) -> anyhow::Result<Option<PreparedRun>> {
    let connection = early.and_then(|environment| connect_early(args, &environment));
    // A repo that does not load drops the connection, which stops it.
    let Some(session) = RenderSession::open(&args.repo, &args.env)? else {
        return Ok(None);
    };
    prepare_in(args, &session, connection).await
}

/// Starts connecting to the environment's swarm, when its endpoints can be made; else
/// [`prepare_in`] makes them again and reports why they cannot.
fn connect_early(args: &ClusterArgs, environment: &Environment) -> Option<SwarmConnection> {
    let secrets_folder = args.secrets_folder.as_deref().unwrap_or(&args.repo.repo);
    let (endpoints, known_swarms) = swarm_target(args, environment, secrets_folder).ok()?;
    Some(SwarmConnection::start(
        endpoints,
        known_swarms,
        args.docker_timeout,
        &environment.name,
    ))
}

/// The endpoints of the environment's managers (or of the daemon named on the command
/// line), and where their swarm is remembered when there are several.
fn swarm_target(
    args: &ClusterArgs,
    environment: &Environment,
    secrets_folder: &std::path::Path,
) -> anyhow::Result<(Vec<DockerEndpoint>, Option<KnownSwarms>)> {
    let override_daemon = daemon_override(args);
    let known_swarms = remembers_swarm(override_daemon.as_ref(), environment)
        .then(|| known_swarms_file(args))
        .transpose()?
        .map(|path| KnownSwarms::at(&path));
    let endpoints = docker_endpoints(override_daemon.as_ref(), environment, secrets_folder)?;
    Ok((endpoints, known_swarms))
}

/// [`prepare`] on a session already open (`shoal rollback`'s is at an earlier commit),
/// through `connection` when it reaches the session's environment (else it is stopped
/// and another made).
pub async fn prepare_in(
    args: &ClusterArgs,
    session: &RenderSession,
    connection: Option<SwarmConnection>,
) -> anyhow::Result<Option<PreparedRun>> {
    let selected = session.select(args.workflow.as_deref(), &args.inputs)?;
    // The swarm is read while the files render and convert, on the runtime's worker
    // thread. Nothing is written before every file has rendered, and a repo with errors
    // reports only those.
    let environment = &session.environment;
    let workflows: Vec<_> = selected.iter().map(|(workflow, _)| *workflow).collect();
    let secrets_folder = args.secrets_folder.as_deref().unwrap_or(&session.root);
    let (endpoints, known_swarms) = swarm_target(args, environment, secrets_folder)?;
    // Another connection than the one wanted is dropped, which stops it.
    let connection = match connection {
        Some(connection) if connection.reaches(&endpoints) => connection,
        _ => SwarmConnection::start(
            endpoints,
            known_swarms,
            args.docker_timeout,
            &environment.name,
        ),
    };
    let mut reading = SwarmReading::through(connection, &workflows);
    let trigger = TriggerInfo {
        event: "manual".to_owned(),
        actor: crate::cli::local_repo::actor(),
        image: None,
    };
    let input = RunInput {
        files: session.files.as_ref(),
        engine: session.engine(),
        environment,
        workflows: &selected,
        commit: session.commit(),
        trigger: &trigger,
        secrets_folder,
    };
    let desired = match desired_workflows(&input, SecretPolicy::Trusted, |scope| {
        reading.scope_known(scope)
    }) {
        Ok(desired) => desired,
        Err(error) => {
            reading.abort();
            print_problem(&error);
            return Ok(None);
        }
    };
    if !desired.warnings.is_empty() {
        report::print_diagnostics(&desired.warnings, &desired.secrets);
    }
    let mut run = reading.plan(desired).await?;
    // `ssh` steps are planned against their hosts, read (never written) over SSH.
    let hosts = crate::hosts::SshHosts::for_environment(environment, secrets_folder);
    run.plan_hosts(std::sync::Arc::new(hosts)).await;
    // `swarm` steps are planned against each node's own engine, read only.
    if run.has_swarm_steps() {
        let engines = node_engines(environment, secrets_folder, args.docker_timeout)?;
        run.plan_swarms(std::sync::Arc::new(engines)).await;
    }
    for note in run.manager_notes() {
        eprintln!("{note}");
    }
    Ok(Some(PreparedRun {
        environment: environment.name.clone(),
        run,
    }))
}

/// The daemon named on the command line instead of the environment's.
pub fn daemon_override(args: &ClusterArgs) -> Option<DaemonOverride> {
    match (&args.docker_host, &args.docker_context) {
        (Some(host), _) => Some(DaemonOverride::Host(host.clone())),
        (None, Some(context)) => Some(DaemonOverride::Context(context.clone())),
        (None, None) => None,
    }
}

/// `--known-swarms`, else where the XDG base directories keep state.
fn known_swarms_file(args: &ClusterArgs) -> anyhow::Result<PathBuf> {
    if let Some(path) = &args.known_swarms {
        return Ok(path.clone());
    }
    let state = match std::env::var_os("XDG_STATE_HOME") {
        Some(folder) if !folder.is_empty() => PathBuf::from(folder),
        _ => PathBuf::from(std::env::var_os("HOME").ok_or_else(|| {
            anyhow::anyhow!(
                "neither --known-swarms, XDG_STATE_HOME nor HOME says where to remember the swarm of `docker.hosts`"
            )
        })?)
        .join(".local/state"),
    };
    Ok(state.join("shoal/known_swarms"))
}

/// Prints why the workflows could not be planned, for the problems in the repo's files
/// with their positions.
fn print_problem(error: &PipelineError) {
    match error {
        PipelineError::MissingSecrets(missing) => {
            for problem in missing {
                eprintln!("error: {problem}");
            }
            eprintln!("error: secrets are missing; nothing was applied");
        }
        error => match error.diagnostics() {
            Some(problems) => report::print_diagnostics(problems, &SecretValues::default()),
            None => eprintln!("error: {error}"),
        },
    }
}

/// Whether the plan goes to the terminal as text or as JSON.
pub fn wants_json(args: &ClusterArgs) -> bool {
    args.repo.output == OutputFormat::Json
}
