//! `shoal plan`/`shoal apply` and the daemon run one pipeline: the differences they once
//! had (the daemon dropped conversion warnings, read a relative secret `file:` from its
//! working folder, and ignored `DOCKER_HOST`) are gone. Each test runs both on one repo.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use shoal::apply::CancelSignal;
use shoal::daemon::{
    EnvironmentOutcome, Progress, ProgressSink, RunSettings, RunUpdate, execute_environment,
};
use shoal::git::Mirror;
use shoal::load::RepoFiles;
use shoal::render::CommitInfo;
use shoal::store::RunStatus;
use shoal::trigger::{RunMode, RunRequest};

use crate::support::serve_daemon::ServeDaemon;
use crate::support::{PrivateSwarm, free_tcp_port, git};
use crate::test_repo::{TestRepo, shoal};

/// The head of `main` in the git repository at `source`, as the daemon reads it.
pub struct Commit {
    _mirror_folder: tempfile::TempDir,
    pub files: Arc<dyn RepoFiles>,
    pub info: CommitInfo,
    pub sha: String,
}

impl Commit {
    /// Commits everything in `source` (a git repository made if needed) and reads it
    /// back through a mirror.
    pub fn of(source: &Path, message: &str) -> Commit {
        if !source.join(".git").exists() {
            git(source, &["init", "-q"]);
        }
        git(source, &["add", "-A"]);
        git(source, &["commit", "-q", "--allow-empty", "-m", message]);
        let folder = tempfile::tempdir().expect("temp");
        let mirror = Mirror::open(
            &folder.path().join("mirror.git"),
            &source.display().to_string(),
        )
        .expect("mirror");
        mirror.fetch().expect("fetch");
        let sha = mirror.head("main").expect("main");
        Commit {
            info: mirror.commit_info(&sha, "main").expect("commit"),
            files: mirror.files_at(&sha).expect("files"),
            sha,
            _mirror_folder: folder,
        }
    }

    /// Runs workflow `deploy` for environment `local` as the daemon does; its outcome and
    /// its log lines.
    pub fn execute(
        &self,
        mode: RunMode,
        event: &'static str,
        secrets_folder: &Path,
    ) -> (EnvironmentOutcome, Vec<String>) {
        self.execute_workflow("deploy", "local", mode, event, secrets_folder)
    }

    /// Runs `workflow` for `environment` as the daemon does (a schedule's drift check is
    /// `RunMode::DriftCheck` with event `schedule`; with `heal: true`, `RunMode::Apply`);
    /// its outcome and its log lines.
    pub fn execute_workflow(
        &self,
        workflow: &str,
        environment: &str,
        mode: RunMode,
        event: &'static str,
        secrets_folder: &Path,
    ) -> (EnvironmentOutcome, Vec<String>) {
        let settings = RunSettings {
            docker_host: None,
            docker_context: None,
            docker_timeout: Duration::from_secs(30),
            known_swarms: None,
            secrets_folder: secrets_folder.to_owned(),
        };
        let request = RunRequest {
            workflow: workflow.into(),
            environments: vec![environment.into()],
            mode,
            commit: self.sha.clone(),
            event,
            actor: "ada".into(),
            inputs: serde_json::Map::new(),
            image: None,
            rollback_from: None,
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let (updates, mut received) = tokio::sync::mpsc::unbounded_channel();
        let mut sink = ProgressSink::new(1, environment, updates);
        let outcome = runtime.block_on(execute_environment(
            self.files.clone(),
            &request,
            environment,
            &self.info,
            &settings,
            &mut sink,
            CancelSignal::never(),
        ));
        let mut log = Vec::new();
        while let Ok(RunUpdate::Progress(report)) = received.try_recv() {
            if let Progress::Log { line } = report.progress {
                log.push(line);
            }
        }
        (outcome, log)
    }
}

#[test]
fn conversion_warnings_are_shown_by_plan_and_recorded_by_the_daemon() {
    let swarm = PrivateSwarm::shared();
    let image = swarm.image("shoal-test/busybox:parity");
    let stack = swarm.unique_name("warned");
    let repo = TestRepo::new()
        .file(
            "shoal.yml",
            &format!(
                "environments: {{ local: {{ docker: {{ host: \"{}\" }} }} }}\n",
                swarm.docker_host()
            ),
        )
        .file(
            "stacks/app.yml",
            &format!("services:\n  web:\n    image: {image}\n    restart: always\n"),
        )
        .file(
            "workflows/deploy.yml",
            &format!("steps:\n  - stack: {{ name: {stack}, compose: stacks/app.yml }}\n"),
        );
    let warning = "stacks/app.yml:4:5: warning: `restart` is not supported by docker stack deploy; it is used only when `deploy.restart_policy` is absent";

    let plan = repo.run(&["plan", "--env", "local"]);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    assert!(plan.stderr.contains(warning), "{}", plan.stderr);

    let commit = Commit::of(repo.path(), "warned");
    let (outcome, log) = commit.execute(RunMode::Plan, "pull_request", repo.path());
    assert_eq!(outcome.status, RunStatus::Success, "{outcome:?}");
    assert!(log.iter().any(|line| line == warning), "{log:?}");
    let recorded: Vec<String> = outcome
        .diagnostics
        .iter()
        .map(|diagnostic| format!("{}: warning: {}", diagnostic.location(), diagnostic.message))
        .collect();
    assert_eq!(
        recorded,
        [warning],
        "recorded for the check run's annotations"
    );
    assert_eq!(outcome.plan, plan.stdout, "the same plan");
}

#[test]
fn a_relative_secret_file_is_read_from_the_secrets_folder_by_both() {
    let swarm = PrivateSwarm::shared();
    let image = swarm.image("shoal-test/busybox:parity");
    let stack = swarm.unique_name("secretfile");
    let repo = TestRepo::new()
        .file(
            "shoal.yml",
            &format!(
                "environments:\n  local:\n    docker: {{ host: \"{}\" }}\n    secrets: {{ pw: {{ file: pw.txt }} }}\n",
                swarm.docker_host()
            ),
        )
        .file(
            "stacks/app.yml",
            &format!(
                "services:\n  web:\n    image: {image}\n    labels:\n      x: \"{{{{ secrets.pw | b64encode }}}}\"\n    configs: [site]\nconfigs:\n  site: {{ file: ./site.txt }}\n"
            ),
        )
        .file("stacks/site.txt", "password={{ secrets.pw }}\n")
        .file(
            "workflows/deploy.yml",
            &format!("steps:\n  - stack: {{ name: {stack}, compose: stacks/app.yml }}\n"),
        )
        .file("pw.txt", "one\n");
    // `shoal apply` reads it from the repo's folder.
    let applied = repo.run(&["apply", "--env", "local"]);
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    let label = swarm.run_docker(&[
        "service",
        "inspect",
        "--format",
        "{{index .Spec.TaskTemplate.ContainerSpec.Labels \"x\"}}",
        &format!("{stack}_web"),
    ]);
    assert_eq!(label.trim(), "b25l", "base64 of `one`");
    // The config's name is keyed with the swarm's key: it confirms no guess of its content.
    let config = swarm.run_docker(&[
        "service",
        "inspect",
        "--format",
        "{{range .Spec.TaskTemplate.ContainerSpec.Configs}}{{.ConfigName}}{{end}}",
        &format!("{stack}_web"),
    ]);
    let unkeyed = format!("{stack}_site-{}", &sha256_hex(b"password=one\n")[..8]);
    assert!(
        config.trim().starts_with(&format!("{stack}_site-")),
        "{config}"
    );
    assert_ne!(config.trim(), unkeyed);

    // The daemon, told the same folder, reads the same value and names the config with
    // the same key: no drift.
    let commit = Commit::of(repo.path(), "secret file");
    let (same, _) = commit.execute(RunMode::DriftCheck, "schedule", repo.path());
    assert_eq!(
        (same.status, same.summary.as_str()),
        (RunStatus::Success, "no drift"),
        "{same:?}"
    );

    // Another folder, another value: both see the same drift, and neither shows it.
    let other = tempfile::tempdir().expect("temp");
    std::fs::write(other.path().join("pw.txt"), "two\n").expect("write");
    let (drift, log) = commit.execute(RunMode::DriftCheck, "schedule", other.path());
    assert!(drift.drift, "{drift:?}");
    let folder = other.path().display().to_string();
    let plan = repo.run(&["plan", "--env", "local", "--secrets-folder", &folder]);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    assert_eq!(drift.plan, plan.stdout);
    assert!(
        plan.stdout
            .contains("TaskTemplate.ContainerSpec.Labels.x: (sensitive)\n"),
        "{}",
        plan.stdout
    );
    for shown in [&plan.stdout, &plan.stderr, &log.join("\n")] {
        assert!(
            !shown.contains("b25l") && !shown.contains("dHdv"),
            "{shown}"
        );
    }
}

#[test]
fn docker_host_is_the_fallback_of_both() {
    let swarm = PrivateSwarm::shared();
    let image = swarm.image("shoal-test/busybox:parity");
    let stack = swarm.unique_name("dockerhost");
    let repo = TestRepo::new()
        .file("shoal.yml", "environments: { local: {} }\n")
        .file(
            "stacks/app.yml",
            &format!("services:\n  web:\n    image: {image}\n"),
        )
        .file(
            "workflows/deploy.yml",
            &format!(
                "on: {{ push: {{ branches: [main] }} }}\nsteps:\n  - stack: {{ name: {stack}, compose: stacks/app.yml }}\n"
            ),
        )
        .env("DOCKER_HOST", swarm.docker_host());
    let plan = repo.run(&["plan", "--env", "local"]);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout
            .contains(&format!("+ create service {stack}_web")),
        "{}",
        plan.stdout
    );

    let commit = Commit::of(repo.path(), "on DOCKER_HOST");
    let state = tempfile::tempdir().expect("temp");
    let port = free_tcp_port();
    let mut command = shoal();
    command
        .args(["serve", "--branch", "main", "--poll-interval", "1s"])
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--repo")
        .arg(repo.path())
        .arg("--state")
        .arg(state.path())
        .env_remove("SHOAL_DOCKER_HOST")
        .env("DOCKER_HOST", swarm.docker_host())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let daemon = ServeDaemon::spawn(command, port, state.path());
    let run = daemon.wait_for_commit(&commit.sha);
    assert_eq!(run["status"], "success", "{run}");
    swarm.wait_for_running_tasks(&format!("{stack}_web"), 1, Duration::from_secs(60));
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(data))
}

#[test]
fn docker_tls_material_is_read_by_the_daemon_as_by_plan() {
    // Stands for the environment's daemon: nothing may connect to it, as the CA cannot be
    // read.
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("a port");
    listener.set_nonblocking(true).expect("non-blocking");
    let docker_port = listener.local_addr().expect("an address").port();
    let repo = TestRepo::new()
        .file(
            "shoal.yml",
            &format!(
                "environments:\n  staging:\n    docker:\n      host: tcp://127.0.0.1:{docker_port}\n      \
                 tls: {{ ca: ca.pem, cert: cert.pem, key: key.pem }}\n"
            ),
        )
        .file("stacks/app.yml", "services:\n  web:\n    image: busybox\n")
        .file(
            "workflows/deploy.yml",
            "on: { push: { branches: [main] } }\nsteps:\n  - stack: { name: tls, compose: stacks/app.yml }\n",
        );
    let commit = Commit::of(repo.path(), "docker.tls");
    let state = tempfile::tempdir().expect("temp");
    let port = free_tcp_port();
    let mut command = shoal();
    command
        .args(["serve", "--branch", "main", "--poll-interval", "1s"])
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--repo")
        .arg(repo.path())
        .arg("--state")
        .arg(state.path())
        .env_remove("SHOAL_DOCKER_HOST")
        .env_remove("DOCKER_HOST")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let daemon = ServeDaemon::spawn(command, port, state.path());
    let run = daemon.wait_for_commit(&commit.sha);
    assert_eq!(run["status"], "failure", "{run}");
    // Relative paths are taken from the daemon's secrets folder (the folder it starts in),
    // as relative secret files are.
    assert_eq!(
        run["summary"],
        format!(
            "staging: environment `staging`: shoal.yml:5:18: cannot read the CA certificate \
             {}/ca.pem: No such file or directory (os error 2)",
            crate::test_repo::project_root().display()
        ),
        "{run}"
    );
    assert_eq!(
        listener.accept().map(|_| ()).map_err(|error| error.kind()),
        Err(std::io::ErrorKind::WouldBlock),
        "shoal connected"
    );
}
