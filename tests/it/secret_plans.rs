//! A plan never shows a value derived from a secret, whatever filter derived it: not
//! through `shoal plan` (text or JSON), not in the daemon's plan of a pull request (which
//! reads no secret at all), and not as the old value of a field that was sensitive when
//! it was applied.

use shoal::store::RunStatus;
use shoal::trigger::RunMode;

use crate::pipeline_parity::Commit;
use crate::support::PrivateSwarm;
use crate::test_repo::TestRepo;

/// What a filter could make of the secret `hunter2`.
const DERIVED: &[&str] = &["hunter2", "aHVudGVyMg", "2retnuh", "HUNTER2", "unter2"];

fn assert_hidden(text: &str) {
    for value in DERIVED {
        assert!(!text.contains(value), "`{value}` shown in:\n{text}");
    }
}

fn with_label(repo: TestRepo, image: &str, label: &str) -> TestRepo {
    repo.file(
        "stacks/app.yml",
        &format!("services:\n  web:\n    image: {image}\n    labels:\n      x: \"{label}\"\n"),
    )
}

#[test]
fn plans_show_fields_derived_from_a_secret_as_sensitive() {
    let swarm = PrivateSwarm::shared();
    let image = swarm.image("shoal-test/busybox:sensitive");
    let stack = swarm.unique_name("sensitive");
    let repo = TestRepo::new()
        .file(
            "shoal.yml",
            &format!(
                "environments:\n  local:\n    docker: {{ host: \"{}\" }}\n    secrets: {{ pw: {{ env: TEST_SENSITIVE_PW }} }}\n",
                swarm.docker_host()
            ),
        )
        .file(
            "workflows/deploy.yml",
            &format!("steps:\n  - stack: {{ name: {stack}, compose: stacks/app.yml }}\n"),
        )
        .env("TEST_SENSITIVE_PW", "hunter2");
    let repo = with_label(repo, &image, "{{ secrets.pw | b64encode }}");
    let applied = repo.run(&["apply", "--env", "local"]);
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    assert_hidden(&applied.stdout);
    assert_hidden(&applied.stderr);

    // Another filter: the plan says the field changes, not to what.
    let repo = with_label(repo, &image, "{{ secrets.pw | reverse }}");
    let plan = repo.run(&["plan", "--env", "local"]);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    assert_eq!(
        plan.stdout,
        format!(
            "workflow deploy, environment local:
  step 1 stack stack {stack}
    ~ update service {stack}_web
        TaskTemplate.ContainerSpec.Labels.x: (sensitive)
    = 1 unchanged
Plan: 1 to update.
"
        )
    );
    assert_hidden(&plan.stderr);
    let json = repo.run(&["plan", "--env", "local", "--output", "json"]);
    assert_eq!(json.code, 2, "{}{}", json.stdout, json.stderr);
    assert!(
        json.stdout.contains("\"concealed\": \"sensitive\""),
        "{}",
        json.stdout
    );
    assert_hidden(&json.stdout);

    // A pull request's plan reads no secret: the daemon has no TEST_SENSITIVE_PW, and
    // would stop if it tried.
    let commit = Commit::of(repo.path(), "reverse the label");
    let nowhere = tempfile::tempdir().expect("temp");
    let (outcome, log) = commit.execute(RunMode::Plan, "pull_request", nowhere.path());
    assert_eq!(outcome.status, RunStatus::Success, "{outcome:?}");
    assert!(
        outcome
            .plan
            .contains("TaskTemplate.ContainerSpec.Labels.x: (sensitive, compared when applied)\n"),
        "{}",
        outcome.plan
    );
    assert_hidden(&outcome.plan);
    assert_hidden(&outcome.summary);
    assert_hidden(&log.join("\n"));
    // Trusted, it would have needed the secret.
    let (trusted, _) = commit.execute(RunMode::DriftCheck, "schedule", nowhere.path());
    assert!(
        trusted
            .summary
            .contains("environment variable TEST_SENSITIVE_PW is not set"),
        "{trusted:?}"
    );

    // A constant now: the old value, derived from the secret, is not shown either.
    let repo = with_label(repo, &image, "plain");
    let plan = repo.run(&["plan", "--env", "local"]);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout
            .contains("TaskTemplate.ContainerSpec.Labels.x: (sensitive)\n"),
        "{}",
        plan.stdout
    );
    assert_hidden(&plan.stdout);
    let commit = Commit::of(repo.path(), "a constant label");
    let (outcome, log) = commit.execute(RunMode::Plan, "pull_request", nowhere.path());
    assert_eq!(outcome.status, RunStatus::Success, "{outcome:?}");
    assert!(
        outcome
            .plan
            .contains("TaskTemplate.ContainerSpec.Labels.x: (sensitive)\n"),
        "{}",
        outcome.plan
    );
    assert_hidden(&outcome.plan);
    assert_hidden(&log.join("\n"));
}
