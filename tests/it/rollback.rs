//! Whole-workflow rollback on a real private swarm: `shoal rollback` applies a workflow as
//! it was at an earlier commit of the config repo's git history, with today's secrets,
//! after showing its plan and asking for the environment's name; `POST /api/v1/rollback`
//! on `shoal serve` rolls back to the last commit whose run succeeded, recorded as a
//! rollback and reported to GitHub like any run. And their refusals, word for word.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::fake_github::{FakeAuth, FakeGitHub};
use crate::support::serve_daemon::ServeDaemon;
use crate::support::{PrivateSwarm, git, run, write_file};
use crate::test_repo::{Run, shoal};

const API_TOKEN: &str = "rollback-api-token";

/// The deploy workflow: pushes to main apply it; a dispatch (and so a rollback) must be
/// confirmed by the environment's name.
fn deploy_workflow(stack: &str) -> String {
    format!(
        "on:\n  push: {{ branches: [main] }}\n  workflow_dispatch:\n    inputs:\n      \
         confirm: {{ type: string, required: true, confirms: environment }}\n\
         steps:\n  - stack: {{ name: {stack}, compose: stacks/web.yml }}\n"
    )
}

/// Commits a compose file whose service says `version` (and, with a secret, its token).
fn commit_version(folder: &Path, image: &str, version: &str, secret: bool) -> String {
    let token = if secret {
        "\n      TOKEN: \"{{ secrets.token }}\""
    } else {
        ""
    };
    write_file(
        folder,
        "stacks/web.yml",
        &format!(
            "version: \"3.8\"\nservices:\n  web:\n    image: {image}\n    command: [\"sleep\", \"3600\"]\n    \
             environment:\n      VERSION: \"{version}\"{token}\n"
        ),
    );
    git(folder, &["add", "-A"]);
    git(
        folder,
        &["commit", "-q", "-m", &format!("version {version}")],
    );
    git(folder, &["rev-parse", "HEAD"]).trim().to_owned()
}

fn service_env(swarm: &PrivateSwarm, service: &str) -> String {
    swarm
        .run_docker(&[
            "service",
            "inspect",
            "--format",
            "{{json .Spec.TaskTemplate.ContainerSpec.Env}}",
            service,
        ])
        .trim()
        .to_owned()
}

/// `shoal ARGS --repo REPO`, with `stdin` typed in and the token secret's value.
fn shoal_in(repo: &Path, args: &[&str], stdin: &str, token: &str) -> Run {
    let mut child = shoal()
        .args(args)
        .arg("--repo")
        .arg(repo)
        .env("TEST_ROLLBACK_TOKEN", token)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("shoal runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("typed");
    Run::from(child.wait_with_output().expect("shoal ends"))
}

#[test]
fn shoal_rollback_restores_the_stack_of_an_earlier_commit_after_a_bad_one() {
    let swarm = PrivateSwarm::shared();
    let image = swarm.image("shoal-test/busybox:rollback");
    let stack = swarm.unique_name("rollback");
    let service = format!("{stack}_web");
    let folder = tempfile::tempdir().expect("temp");
    let repo = folder.path();
    write_file(
        repo,
        "shoal.yml",
        &format!(
            "environments:\n  local:\n    docker: {{ host: \"{}\" }}\n    \
             secrets: {{ token: {{ env: TEST_ROLLBACK_TOKEN }} }}\n",
            swarm.docker_host()
        ),
    );
    // The first commit has no deploy workflow yet.
    write_file(
        repo,
        "workflows/other.yml",
        "steps:\n  - wait: { url: \"http://127.0.0.1:9/\" }\n",
    );
    git(repo, &["init", "-q", "-b", "main"]);
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", "no deploy yet"]);
    let bare = git(repo, &["rev-parse", "HEAD"]).trim().to_owned();
    write_file(repo, "workflows/deploy.yml", &deploy_workflow(&stack));
    let good = commit_version(repo, &image, "1", true);
    let apply = [
        "apply",
        "--env",
        "local",
        "--workflow",
        "deploy",
        "--input",
        "confirm=local",
    ];
    let applied = shoal_in(repo, &apply, "", "token-then");
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    let bad = commit_version(repo, &image, "2-bad", true);
    let applied = shoal_in(repo, &apply, "", "token-then");
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    assert!(service_env(swarm, &service).contains("VERSION=2-bad"));

    // Refusals: an unknown commit, no target, a commit without the workflow.
    let unknown = shoal_in(
        repo,
        &["rollback", "deploy", "--env", "local", "--to", "nope"],
        "",
        "t",
    );
    assert_eq!(unknown.code, 1);
    assert_eq!(
        unknown.stderr,
        format!(
            "error: unknown commit `nope`: the config repo at {} has no such commit\n",
            repo.display()
        )
    );
    let no_target = shoal_in(repo, &["rollback", "deploy", "--env", "local"], "", "t");
    assert_eq!(
        no_target.stderr,
        "error: give the commit to roll back to with --to COMMIT, or the run history of `shoal serve` \
         with --state DIR to roll back to the last commit whose run succeeded\n"
    );
    let absent = shoal_in(
        repo,
        &["rollback", "deploy", "--env", "local", "--to", &bare],
        "",
        "t",
    );
    assert_eq!(
        absent.stderr,
        format!(
            "error: workflow `deploy` does not exist at commit {}: nothing to roll back to\n",
            &bare[..7]
        )
    );

    let subfolder = repo.join("stacks");
    let not_top = shoal_in(
        &subfolder,
        &["rollback", "deploy", "--env", "local", "--to", "HEAD"],
        "",
        "t",
    );
    assert_eq!(
        not_top.stderr,
        format!(
            "error: {} is not the top folder of a git work tree: shoal rollback reads earlier commits of the config repo from git\n",
            subfolder.display()
        )
    );

    // The plan first; a wrong name applies nothing.
    let rollback = ["rollback", "deploy", "--env", "local", "--to", "HEAD~1"];
    let refused = shoal_in(repo, &rollback, "prod\n", "token-today");
    assert_eq!(refused.code, 1, "{}{}", refused.stdout, refused.stderr);
    assert!(
        refused.stdout.starts_with(&format!(
            "rolling back workflow deploy on local to commit {} (version 1), from commit {}, with today's secrets\n\
             workflow deploy, environment local:\n  step 1 stack stack {stack}\n    ~ update service {service}\n",
            &good[..7],
            &bad[..7]
        )),
        "{}",
        refused.stdout
    );
    assert!(
        refused.stderr.ends_with(
            "Type the name of the environment (local) to roll it back: \
             error: input `confirm` must be `local`, the name of the environment this run is for, typed out; it is `prod`\n\
             error: the rollback was not confirmed; nothing was applied\n"
        ),
        "{}",
        refused.stderr
    );
    assert!(service_env(swarm, &service).contains("VERSION=2-bad"));

    // Confirmed: the stack of the good commit, with the secret's value of today.
    let done = shoal_in(repo, &rollback, "local\n", "token-today");
    assert_eq!(done.code, 0, "{}{}", done.stdout, done.stderr);
    assert!(
        done.stdout.contains(&format!("    {service}: converged\n"))
            && done
                .stdout
                .contains("applied workflow deploy to local: 1 change"),
        "{}",
        done.stdout
    );
    assert!(!done.stdout.contains("token-today") && !done.stderr.contains("token-today"));
    let env = service_env(swarm, &service);
    assert!(
        env.contains("VERSION=1") && env.contains("TOKEN=token-today"),
        "{env}"
    );
    swarm.wait_for_running_tasks(&service, 1, Duration::from_secs(60));
    swarm.run_docker(&["stack", "rm", &stack]);
}

#[test]
fn the_api_rolls_back_to_the_last_success_recorded_as_a_rollback_and_reported() {
    let swarm = PrivateSwarm::shared();
    let image = swarm.image("shoal-test/busybox:rollback");
    let stack = swarm.unique_name("api-rollback");
    let service = format!("{stack}_web");
    let source = tempfile::tempdir().expect("temp");
    write_file(source.path(), "shoal.yml", "environments: { local: {} }\n");
    write_file(
        source.path(),
        "workflows/deploy.yml",
        &deploy_workflow(&stack),
    );
    git(source.path(), &["init", "-q", "-b", "main"]);
    let good = commit_version(source.path(), &image, "1", false);

    let work = tempfile::tempdir().expect("temp");
    let github_token = "github_pat_11AAAA0000rollbacktoken";
    let fake = FakeGitHub::start(FakeAuth::Token(github_token.into()));
    let github_token_file = work.path().join("github-token");
    std::fs::write(&github_token_file, format!("{github_token}\n")).expect("token");
    let api_token_file = work.path().join("api-token");
    std::fs::write(&api_token_file, format!("{API_TOKEN}\n")).expect("token");
    let state = work.path().join("state");
    let daemon = ServeDaemon::start(
        &state,
        source.path(),
        swarm,
        &[
            "--api-token-file".into(),
            api_token_file.clone().into_os_string(),
            "--github-token-file".into(),
            github_token_file.into_os_string(),
            "--github-api-url".into(),
            fake.url().into(),
            "--github-repo".into(),
            "octo-org/infra".into(),
        ],
    );
    let first = daemon.wait_for_commit(&good);
    assert_eq!(first["status"], "success", "{first}");
    let bad = commit_version(source.path(), &image, "2-bad", false);
    let second = daemon.wait_for_commit(&bad);
    assert_eq!(second["status"], "success", "{second}");
    assert!(service_env(swarm, &service).contains("VERSION=2-bad"));

    let bearer = [("Authorization", format!("Bearer {API_TOKEN}"))];
    let body = |inputs: &str| {
        format!(
            "{{\"workflow\": \"deploy\", \"environment\": \"local\", \"actor\": \"ana\"{inputs}}}"
        )
    };
    assert_eq!(daemon.post("/api/v1/rollback", &[], &body("")).0, 401);
    assert_eq!(
        daemon.post("/api/v1/rollback", &bearer, &body("")),
        (
            422,
            "{\"errors\":[\"input `confirm` is required\"]}".to_owned()
        )
    );
    // `shoal rollback --daemon` sends the same request, with the confirmation, and follows
    // the run's log until it ends.
    let through_daemon = |inputs: &[&str]| {
        Run::from(run(
            Command::new(env!("CARGO_BIN_EXE_shoal"))
                .args([
                    "rollback", "deploy", "--env", "local", "--daemon", "--server",
                ])
                .arg(format!("http://127.0.0.1:{}", daemon.port))
                .arg("--api-token-file")
                .arg(&api_token_file)
                .args(inputs)
                .env("USER", "ana")
                .stdin(Stdio::null()),
            Duration::from_secs(120),
        ))
    };
    let unconfirmed = through_daemon(&[]);
    assert_eq!(
        (unconfirmed.code, unconfirmed.stderr.as_str()),
        (
            1,
            "error: input `confirm` is required\nerror: the daemon refused the rollback; nothing was applied\n"
        )
    );
    let confirmed = through_daemon(&["--input", "confirm=local"]);
    assert_eq!(
        confirmed.code, 0,
        "{}{}",
        confirmed.stdout, confirmed.stderr
    );
    let id: i64 = confirmed
        .stdout
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("run "))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no run queued: {}", confirmed.stdout));
    assert!(
        confirmed.stdout.ends_with(&format!("run {id}: success\n")),
        "{}",
        confirmed.stdout
    );
    let rolled_back = daemon.wait_for_run(|run| run["id"] == id);
    assert_eq!(
        (
            rolled_back["status"].as_str(),
            rolled_back["event"].as_str(),
            rolled_back["mode"].as_str(),
            rolled_back["commit"].as_str(),
            rolled_back["rollback_from"].as_str(),
            rolled_back["actor"].as_str(),
        ),
        (
            Some("success"),
            Some("rollback"),
            Some("apply"),
            Some(good.as_str()),
            Some(bad.as_str()),
            Some("ana")
        ),
        "{rolled_back}"
    );
    let env = service_env(swarm, &service);
    assert!(env.contains("VERSION=1"), "{env}");

    // `shoal runs` says so.
    let listed = Run::from(run(
        Command::new(env!("CARGO_BIN_EXE_shoal"))
            .args(["runs", "--state"])
            .arg(&state),
        Duration::from_secs(30),
    ));
    assert!(
        listed.stdout.lines().any(|line| line.contains(" rollback ")
            && line.contains(&good[..7])
            && line.contains("success")),
        "{}",
        listed.stdout
    );
    let shown = Run::from(run(
        Command::new(env!("CARGO_BIN_EXE_shoal"))
            .args(["runs", "show", &id.to_string(), "--state"])
            .arg(&state),
        Duration::from_secs(30),
    ));
    assert!(
        shown.stdout.contains(&format!("rolled back from commit {bad}\n"))
            && shown.stdout.contains(&format!(
                "rollback: workflow deploy as it was at commit {}, instead of commit {}, with today's secrets",
                &good[..7],
                &bad[..7]
            )),
        "{}",
        shown.stdout
    );

    // Rolled back to the first commit, the history has nothing older that succeeded (the
    // bad commit, rolled back from, does not count): `shoal rollback` says so.
    let nothing_older = Run::from(run(
        Command::new(env!("CARGO_BIN_EXE_shoal"))
            .args(["rollback", "deploy", "--env", "local", "--state"])
            .arg(&state)
            .arg("--repo")
            .arg(source.path())
            .stdin(Stdio::null()),
        Duration::from_secs(30),
    ));
    assert_eq!(nothing_older.code, 1);
    assert_eq!(
        nothing_older.stderr,
        format!(
            "error: no run of workflow `deploy` on environment `local` succeeded before commit {}: \
             there is no earlier commit to roll back to; name one with --to COMMIT\n",
            &good[..7]
        )
    );

    // Reported on the commit it applied, as a rollback.
    let path = format!("/repos/octo-org/infra/statuses/{good}");
    let requests = fake.wait_for(Duration::from_secs(30), |requests| {
        requests.iter().any(|r| {
            r.path == path
                && r.body.as_ref().is_some_and(|body| {
                    body["state"] == "success"
                        && body["description"].as_str().is_some_and(|d| {
                            d.starts_with(&format!("Rollback from {}: ", &bad[..7]))
                        })
                })
        })
    });
    assert!(fake.problems().is_empty(), "{:?}", fake.problems());
    assert!(
        requests
            .iter()
            .all(|r| r.path.starts_with("/repos/octo-org/infra/statuses/"))
    );
    drop(daemon);
    swarm.run_docker(&["stack", "rm", &stack]);
}
