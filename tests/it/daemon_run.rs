//! A run as the daemon executes it: files of an exact commit of a git mirror, applied to
//! a real private swarm; then drift found by a drift check after a change by hand, in a
//! service or in a file an `ssh` step put on a lab node.

use std::time::Duration;

use shoal::apply::CancelSignal;
use shoal::daemon::{
    EnvironmentOutcome, Progress, ProgressSink, RunSettings, RunUpdate, execute_environment,
};
use shoal::git::Mirror;
use shoal::store::RunStatus;
use shoal::trigger::{RunMode, RunRequest};

use crate::support::{PrivateSwarm, git, write_file};

/// The config repo committed in `source`, mirrored as the daemon mirrors it, and runs of
/// one of its workflows in the environment `local`, executed as the daemon executes them.
struct DaemonRepo {
    state: tempfile::TempDir,
    head: String,
    commit: shoal::render::CommitInfo,
    mirror: Mirror,
    settings: RunSettings,
    runtime: tokio::runtime::Runtime,
}

/// What one run did: its outcome, its log lines and the progress of its steps.
struct Executed {
    outcome: EnvironmentOutcome,
    log: Vec<String>,
    steps: Vec<Progress>,
}

impl DaemonRepo {
    /// Commits everything in `source` on `main` and mirrors it.
    fn commit(source: &std::path::Path, message: &str) -> DaemonRepo {
        git(source, &["init", "-q"]);
        git(source, &["add", "-A"]);
        git(source, &["commit", "-q", "-m", message]);
        let state = tempfile::tempdir().expect("temp");
        let mirror = Mirror::open(
            &state.path().join("mirror.git"),
            &source.display().to_string(),
        )
        .expect("mirror");
        mirror.fetch().expect("fetch");
        let head = mirror.head("main").expect("main");
        let commit = mirror.commit_info(&head, "main").expect("commit");
        let settings = RunSettings {
            docker_host: None,
            docker_timeout: Duration::from_secs(30),
            known_swarms: None,
            secrets_folder: state.path().to_owned(),
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        DaemonRepo {
            state,
            head,
            commit,
            mirror,
            settings,
            runtime,
        }
    }

    /// Runs `workflow` in `local` in `mode`, as a push of the head would, on the head's
    /// files read anew (as the daemon opens them for each run).
    fn execute(&self, workflow: &str, mode: RunMode) -> Executed {
        let request = RunRequest {
            workflow: workflow.into(),
            environments: vec!["local".into()],
            mode,
            commit: self.head.clone(),
            event: "push",
            actor: "ada".into(),
            inputs: serde_json::Map::new(),
            image: None,
            rollback_from: None,
        };
        let (updates, mut received) = tokio::sync::mpsc::unbounded_channel();
        let mut sink = ProgressSink::new(1, "local", updates);
        let outcome = self.runtime.block_on(execute_environment(
            self.mirror.files_at(&self.head).expect("files"),
            &request,
            "local",
            &self.commit,
            &self.settings,
            &mut sink,
            CancelSignal::never(),
        ));
        let (mut log, mut steps) = (Vec::new(), Vec::new());
        while let Ok(RunUpdate::Progress(report)) = received.try_recv() {
            match report.progress {
                Progress::Log { line } => log.push(line),
                other => steps.push(other),
            }
        }
        Executed {
            outcome,
            log,
            steps,
        }
    }
}

#[test]
fn a_run_applies_an_exact_commit_and_a_drift_check_finds_changes_made_by_hand() {
    let swarm = PrivateSwarm::shared();
    let image = swarm.image("shoal-test/busybox:daemon");
    let stack = swarm.unique_name("daemon");
    let source = tempfile::tempdir().expect("temp");
    let write = |path: &str, text: &str| write_file(source.path(), path, text);
    write(
        "shoal.yml",
        &format!(
            "environments: {{ local: {{ docker: {{ host: \"{}\" }}, vars: {{ image: \"{image}\" }} }} }}\n",
            swarm.docker_host()
        ),
    );
    write(
        "stacks/app.yml",
        "version: \"3.8\"\nservices:\n  web:\n    image: \"{{ vars.image }}\"\n    deploy: { replicas: 1 }\n",
    );
    write(
        "workflows/deploy.yml",
        &format!(
            "on:\n  push: {{ branches: [main] }}\nsteps:\n  - stack: {{ name: {stack}, compose: stacks/app.yml }}\n"
        ),
    );
    let repo = DaemonRepo::commit(source.path(), "deploy web");
    let head = repo.head.clone();
    let execute = |mode| {
        let run = repo.execute("deploy", mode);
        (run.outcome, run.log, run.steps)
    };

    let (applied, applied_log, applied_steps) = execute(RunMode::Apply);
    assert_eq!(applied.status, RunStatus::Success, "{applied:?}");
    assert_eq!(applied.summary, "Applied 2 changes to local");
    assert!(
        applied_log.contains(&format!("{stack}_web: converged")),
        "{applied_log:?}"
    );
    let finished: Vec<(String, RunStatus)> = applied_steps
        .iter()
        .filter_map(|progress| match progress {
            Progress::StepFinished { step, status, .. } => Some((step.clone(), *status)),
            _ => None,
        })
        .collect();
    assert_eq!(
        finished,
        [
            ("plan".to_owned(), RunStatus::Success),
            (format!("stack {stack}"), RunStatus::Success)
        ],
        "the plan, then each step of the workflow, each recorded as it ends"
    );
    let label = swarm.run_docker(&[
        "service",
        "inspect",
        "--format",
        "{{index .Spec.Labels \"dev.shoal.commit\"}}",
        &format!("{stack}_web"),
    ]);
    assert_eq!(
        label.trim(),
        head,
        "the service records the commit it was applied from"
    );

    let (check, _, _) = execute(RunMode::DriftCheck);
    assert_eq!(
        (check.status, check.summary.as_str()),
        (RunStatus::Success, "no drift")
    );

    swarm.run_docker(&["service", "scale", "--detach", &format!("{stack}_web=2")]);
    let (drift, drift_log, _) = execute(RunMode::DriftCheck);
    assert_eq!(
        (drift.status, drift.summary.as_str()),
        (RunStatus::Failure, "drift: 1 to update"),
        "{drift:?}"
    );
    assert!(
        drift_log
            .iter()
            .any(|line| line.contains("Mode.Replicated.Replicas: 2 -> 1")),
        "{drift_log:?}"
    );
    assert!(drift.plan.contains("Mode.Replicated.Replicas: 2 -> 1"));
}

/// The daemon reaches an environment of several managers (`docker.hosts`) past one that
/// does not answer, says which answered, and remembers the swarm in its state folder.
#[test]
fn a_run_of_several_managers_uses_the_first_that_answers_and_remembers_its_swarm() {
    let swarm = PrivateSwarm::shared();
    let source = tempfile::tempdir().expect("temp");
    let missing = source.path().join("gone.sock");
    let write = |path: &str, text: &str| write_file(source.path(), path, text);
    write(
        "shoal.yml",
        &format!(
            "environments: {{ local: {{ docker: {{ hosts: [\"unix://{}\", \"{}\"] }} }} }}\n",
            missing.display(),
            swarm.docker_host()
        ),
    );
    write("stacks/app.yml", "services:\n  web:\n    image: busybox\n");
    write(
        "workflows/deploy.yml",
        "on:\n  push: { branches: [main] }\nsteps:\n  - stack: { name: managers, compose: stacks/app.yml }\n",
    );
    let mut repo = DaemonRepo::commit(source.path(), "managers");
    let known_swarms = repo.state.path().join("known_swarms");
    repo.settings.known_swarms = Some(known_swarms.clone());
    let Executed { outcome, log, .. } = repo.execute("deploy", RunMode::Plan);
    assert_eq!(outcome.status, RunStatus::Success, "{outcome:?}");
    let swarm_id = swarm.run_docker(&["info", "--format", "{{.Swarm.Cluster.ID}}"]);
    let swarm_id = swarm_id.trim();
    assert!(
        log.contains(&format!(
            "docker: {} answered, a manager of swarm {swarm_id}",
            swarm.docker_host()
        )),
        "{log:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&known_swarms).expect("remembered"),
        format!("{} {swarm_id}\n", swarm.docker_host())
    );
}

/// The daemon applies an `ssh` step to a lab node, and its drift check finds the file
/// edited there by hand, as it finds a service changed by hand.
#[test]
fn a_drift_check_finds_a_host_file_edited_by_hand() {
    let lab = crate::support::lab::Lab::start(1);
    let swarm = PrivateSwarm::shared();
    let node = lab.nodes[0].clone();
    let dir = tempfile::tempdir().expect("temp");
    let source = tempfile::tempdir().expect("temp");
    let write = |path: &str, text: &str| write_file(source.path(), path, text);
    write(
        "shoal.yml",
        &format!(
            "environments:\n  local:\n    docker: {{ host: \"{}\" }}\n    ssh: {{ user: root, identity: \"{}\", known_hosts: \"{}\" }}\n    hosts: {{ nfs: [\"{node}\"] }}\n",
            swarm.docker_host(),
            lab.key.display(),
            lab.known_hosts.display(),
        ),
    );
    write("hosts/exports", "/srv {{ host.address }}(ro)\n");
    write(
        "workflows/hosts.yml",
        &format!(
            "on:\n  push: {{ branches: [main] }}\nsteps:\n  - ssh:\n      hosts: [nfs]\n      files:\n        - {{ src: hosts/exports, dest: {}/exports }}\n",
            dir.path().display()
        ),
    );
    let repo = DaemonRepo::commit(source.path(), "exports");
    let execute = |mode| {
        let run = repo.execute("hosts", mode);
        (run.outcome, run.log)
    };

    let (applied, applied_log) = execute(RunMode::Apply);
    assert_eq!(
        applied.status,
        RunStatus::Success,
        "{applied:?} {applied_log:?}"
    );
    let exports = dir.path().join("exports");
    assert_eq!(
        std::fs::read_to_string(&exports).expect("written"),
        format!("/srv {node}(ro)\n")
    );
    let (check, _) = execute(RunMode::DriftCheck);
    assert_eq!(
        (check.status, check.summary.as_str()),
        (RunStatus::Success, "no drift")
    );

    std::fs::write(&exports, format!("/srv {node}(rw)\n")).expect("hand edit");
    let (drift, drift_log) = execute(RunMode::DriftCheck);
    assert_eq!(
        (drift.status, drift.summary.as_str()),
        (RunStatus::Failure, "drift: 1 host to change"),
        "{drift:?} {drift_log:?}"
    );
    assert!(
        drift.plan.contains(&format!("-/srv {node}(rw)\n")),
        "{}",
        drift.plan
    );
    assert!(
        drift.plan.contains(&format!("+/srv {node}(ro)\n")),
        "{}",
        drift.plan
    );
}
