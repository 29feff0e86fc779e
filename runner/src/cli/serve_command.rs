//! `shoal serve`: the runner daemon. Watches the config repo's branch (polling and
//! webhooks), runs what pushes, schedules and dispatches trigger, keeps the history.
//! SIGTERM or SIGINT drains it (no new run starts, running runs stop at their next safe
//! point, queued runs stay queued) and it exits 0; a second signal exits at once.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use super::github_args::{GitHubArgs, start_reporting};
use super::secret_input::secret;
use crate::console::{
    AccessTokens, Console, ConsoleSettings, MirrorCommits, Role, SwarmHealthReader,
};
use crate::daemon::{
    ApiSettings, DaemonEvent, Dispatcher, RunMetrics, RunSettings, SandboxSettings, SwarmExecutor,
    parse_memory, serve_http,
};
use crate::exit_code::Outcome;
use crate::git::{CertificateAuthorities, GitToken, Mirror, RefWatcher, RemoteAccess};
use crate::github::RetryPolicy;
use crate::limits::HttpLimits;
use crate::load::load_repo;
use crate::notify::{NotifySettings, start_notifying};
use crate::store::SqliteRunStore;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The config repo: a local path, or a file://, https://, ssh://, scp-like
    /// user@host:path or git:// URL. A local repo is watched for new commits.
    #[arg(long, env = "SHOAL_REPO")]
    repo: String,
    /// The branch whose pushes are applied.
    #[arg(long, default_value = "main")]
    branch: String,
    /// Folder for the git mirror and the run history.
    #[arg(long, env = "SHOAL_STATE", value_name = "DIR")]
    state: PathBuf,
    /// Address of the HTTP API and webhooks.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    listen: String,
    /// How often the branch is fetched besides webhooks.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    poll_interval: Duration,
    /// File holding the token for an https remote (or SHOAL_GIT_TOKEN), sent as HTTP basic auth with user x-access-token.
    #[arg(long, value_name = "FILE")]
    git_token_file: Option<PathBuf>,
    /// Extra certificate authorities (PEM) for an https remote, such as a self-hosted forge's.
    #[arg(long, value_name = "FILE")]
    git_ca_file: Option<PathBuf>,
    /// Private key for an ssh remote (OpenSSH or PEM format, no passphrase).
    #[arg(long, env = "SHOAL_GIT_SSH_KEY", value_name = "FILE")]
    git_ssh_key: Option<PathBuf>,
    /// The known_hosts file an ssh remote's host key must be in [default: ~/.ssh/known_hosts].
    #[arg(long, value_name = "FILE")]
    git_known_hosts: Option<PathBuf>,
    /// File holding the GitHub webhook secret (or SHOAL_WEBHOOK_SECRET); webhooks are off without one.
    #[arg(long, value_name = "FILE")]
    webhook_secret_file: Option<PathBuf>,
    /// File holding the API token for dispatch (or SHOAL_API_TOKEN); dispatch is off without one.
    /// It is an operator's token named `api`, for the API and the console alike.
    #[arg(long, value_name = "FILE")]
    api_token_file: Option<PathBuf>,
    /// File of named tokens for the console and the API, one `NAME ROLE TOKEN` a line
    /// (ROLE: viewer, which reads, or operator, which also dispatches and cancels).
    #[arg(long, env = "SHOAL_ACCESS_TOKENS_FILE", value_name = "FILE")]
    access_tokens_file: Option<PathBuf>,
    /// Whether reading the API (runs, logs) needs a bearer token (`token`) or not (`open`).
    #[arg(long, value_enum, default_value_t = ApiReads::Token)]
    api_reads: ApiReads,
    /// File holding the bearer token registries send with their notifications
    /// (or SHOAL_REGISTRY_TOKEN); `POST /hooks/registry` is off without one.
    #[arg(long, value_name = "FILE")]
    registry_token_file: Option<PathBuf>,
    /// Use this Docker daemon for every environment (a test swarm).
    #[arg(long, env = "SHOAL_DOCKER_HOST", value_name = "URL")]
    docker_host: Option<String>,
    /// Use this docker CLI context for every environment (see `docker context ls`),
    /// instead of each environment's `docker` block.
    #[arg(long, value_name = "NAME", conflicts_with = "docker_host")]
    docker_context: Option<String>,
    /// How long one Docker API call may take.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    docker_timeout: Duration,
    /// Where a relative secret `file:` is read from (the daemon has no folder of the
    /// config repo, only its mirror); the folder shoal serve starts in when absent.
    #[arg(long, env = "SHOAL_SECRETS_FOLDER", value_name = "DIR")]
    secrets_folder: Option<PathBuf>,
    /// How long loading one commit's config repo may take before its runs fail (a
    /// commit's files may be hostile; nothing else waits for them).
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    load_timeout: Duration,
    /// The memory a pull request's plan may use: it runs in a child process under this
    /// limit (and its CPU time under --load-timeout), killed at --load-timeout. Bytes, or
    /// with KiB, MiB, GiB.
    #[arg(long, default_value = "1GiB", value_parser = parse_memory, value_name = "SIZE")]
    untrusted_memory: u64,
    /// Logs on standard error as text for people or JSON lines for log collectors.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(flatten)]
    github: Box<GitHubArgs>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ApiReads {
    Token,
    Open,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

pub fn run(args: &ServeArgs) -> anyhow::Result<Outcome> {
    // RUST_LOG filters as usual; the default shows what the daemon does, not library chatter.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("shoal=info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match args.log_format {
        LogFormat::Json => logs.json().init(),
        LogFormat::Text => logs.init(),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let outcome = runtime.block_on(serve(args));
    // A fetch or a load past its deadline may still hold a blocking thread: not waited for.
    runtime.shutdown_timeout(Duration::from_secs(1));
    outcome
}

/// The named tokens of `--access-tokens-file`, and the API token as an operator named `api`.
fn access_tokens(args: &ServeArgs) -> anyhow::Result<AccessTokens> {
    let mut tokens = match &args.access_tokens_file {
        Some(path) => AccessTokens::read(path)?,
        None => AccessTokens::default(),
    };
    if let Some(token) = secret(args.api_token_file.as_ref(), "SHOAL_API_TOKEN")? {
        // An empty token would let in any request that sends `Bearer ` and nothing more.
        anyhow::ensure!(!token.is_empty(), "the API token file is empty");
        tokens.add("api", Role::Operator, &token);
    }
    Ok(tokens)
}

/// The token, ssh key, known hosts and certificate authorities the mirror fetches with.
fn remote_access(args: &ServeArgs) -> anyhow::Result<RemoteAccess> {
    let known_hosts = args.git_known_hosts.clone().or_else(|| {
        std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".ssh/known_hosts"))
    });
    if let Some(key) = &args.git_ssh_key {
        // libssh2 would only say "unable to open" at the first fetch.
        std::fs::File::open(key).with_context(|| format!("cannot read {}", key.display()))?;
    }
    let certificate_authorities = match &args.git_ca_file {
        Some(path) => Some(CertificateAuthorities::read(path)?),
        None => None,
    };
    Ok(RemoteAccess {
        token: secret(args.git_token_file.as_ref(), "SHOAL_GIT_TOKEN")?.map(GitToken::new),
        ssh_key: args.git_ssh_key.clone(),
        known_hosts,
        certificate_authorities,
    })
}

async fn serve(args: &ServeArgs) -> anyhow::Result<Outcome> {
    // Before anything answers: a signal from then on drains instead of killing.
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    std::fs::create_dir_all(&args.state)
        .with_context(|| format!("cannot create {}", args.state.display()))?;
    let store = SqliteRunStore::open(&args.state)?;
    let url = match std::fs::canonicalize(&args.repo) {
        Ok(path) => path.display().to_string(),
        Err(_) => args.repo.clone(),
    };
    let mirror_path = args.state.join("mirror.git");
    let mirror = Mirror::open(&mirror_path, &url)?.with_access(remote_access(args)?);
    let secrets_folder = match &args.secrets_folder {
        Some(folder) => folder.clone(),
        None => std::env::current_dir().context("cannot read the current folder")?,
    };
    let settings = RunSettings {
        docker_host: args.docker_host.clone(),
        docker_context: args.docker_context.clone(),
        docker_timeout: args.docker_timeout,
        known_swarms: Some(args.state.join("known_swarms")),
        secrets_folder: secrets_folder.clone(),
    };
    let health = SwarmHealthReader {
        daemon_override: settings.daemon_override(),
        timeout: args.docker_timeout,
        known_swarms: Some(args.state.join("known_swarms")),
        secrets_folder: secrets_folder.clone(),
    };
    let registry_token = secret(args.registry_token_file.as_ref(), "SHOAL_REGISTRY_TOKEN")?;
    // An empty token would let in any request that sends `Bearer ` and nothing more.
    anyhow::ensure!(
        registry_token
            .as_ref()
            .is_none_or(|token| !token.is_empty()),
        "the registry token file is empty"
    );
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let (sender, receiver) = mpsc::channel(1024);
    let local_path = mirror.remote().local_path().map(Path::to_owned);
    let shown_url = mirror.remote().to_string();
    let dispatcher = Dispatcher::new(
        Arc::new(store),
        Arc::new(mirror),
        Arc::new(SwarmExecutor::new(settings).with_sandbox(SandboxSettings {
            mirror: mirror_path.clone(),
            memory: args.untrusted_memory,
            deadline: args.load_timeout,
        })),
        args.branch.clone(),
    )
    .with_load_timeout(args.load_timeout);
    let metrics = RunMetrics::default();
    metrics.follow(dispatcher.notices().subscribe());
    let reporting = match args.github.settings(&args.repo)? {
        Some(github) => Some(start_reporting(
            github,
            &args.state,
            // A second handle on the mirror the dispatcher fetches into, only to read.
            Mirror::open(&mirror_path, &url)?,
            dispatcher.notices().subscribe(),
        )?),
        None => None,
    };
    let console = Console::new(ConsoleSettings {
        state: args.state.clone(),
        tokens: access_tokens(args)?,
        heads: dispatcher.heads(),
        health: Arc::new(health),
        commits: Arc::new(MirrorCommits {
            // A handle on the mirror the dispatcher fetches into, only to read.
            mirror: Arc::new(Mirror::open(&mirror_path, &url)?),
            branch: args.branch.clone(),
        }),
    });
    let notify_mirror = Mirror::open(&mirror_path, &url)?;
    let notifying = start_notifying(
        NotifySettings {
            state: args.state.clone(),
            secrets_folder,
            public_url: args.github.public_url().map(str::to_owned),
            retry: RetryPolicy::default(),
        },
        // The targets of a run are those of its commit's config.
        move |run| {
            let files = notify_mirror.files_at(&run.commit).ok()?;
            load_repo(files.as_ref()).0
        },
        dispatcher.notices().subscribe(),
    )?;
    let api = Arc::new(ApiSettings {
        webhook_secret: secret(args.webhook_secret_file.as_ref(), "SHOAL_WEBHOOK_SECRET")?
            .map(String::into_bytes),
        console: Arc::new(console),
        open_reads: args.api_reads == ApiReads::Open,
        registry_token,
        state: args.state.clone(),
        metrics,
        limits: HttpLimits::default(),
    });
    let watched = local_path.map(|path| {
        tracing::info!(repo = %path.display(), "watching the repo's refs for new commits");
        let watcher = sender.clone();
        // A full queue already holds events that fetch.
        RefWatcher::start(&path, move || {
            let _ = watcher.try_send(DaemonEvent::Poll);
        })
    });
    let _watcher = watched.transpose()?;
    let looping = tokio::spawn(dispatcher.run(receiver));
    // The first fetch is asked for before the API answers: a dispatch sent at once waits
    // for it rather than find no branch in a new mirror.
    sender.send(DaemonEvent::Poll).await?;
    tokio::spawn(serve_http(listener, api, sender.clone()));
    let poller = sender.clone();
    let interval = args.poll_interval;
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(interval).await;
            if poller.send(DaemonEvent::Poll).await.is_err() {
                break;
            }
        }
    });
    let clock = sender.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(20)).await;
            if clock.send(DaemonEvent::Tick).await.is_err() {
                break;
            }
        }
    });
    eprintln!(
        "shoal serve: watching {} ({}), API on http://{}",
        shown_url, args.branch, args.listen
    );
    let received = tokio::select! {
        _ = terminate.recv() => "SIGTERM",
        _ = interrupt.recv() => "SIGINT",
    };
    tracing::info!(
        signal = received,
        "stopping once running runs reach a safe point; a second signal stops at once"
    );
    let _ = sender.send(DaemonEvent::Shutdown).await;
    tokio::select! {
        _ = looping => {}
        _ = terminate.recv() => stop_at_once("SIGTERM"),
        _ = interrupt.recv() => stop_at_once("SIGINT"),
    }
    if let Some(reporting) = reporting {
        // The last reports get a few seconds; nothing ever waits longer for GitHub.
        let _ = tokio::time::timeout(Duration::from_secs(10), reporting).await;
    }
    // Notifications get as long, for the same reason.
    let _ = tokio::time::timeout(Duration::from_secs(10), notifying).await;
    Ok(Outcome::Success)
}

/// A second signal while draining: exit without waiting for the running runs (they are
/// marked interrupted when the daemon starts again).
fn stop_at_once(signal: &str) -> ! {
    tracing::warn!(signal, "second signal: stopping at once");
    std::process::exit(i32::from(Outcome::Interrupted.code()))
}
