//! `service` steps against a real private swarm: a service a stack made is scaled, given
//! another image, redeployed with `force_update` and rolled back to Swarm's previous
//! spec, each planned field by field, applied and awaited until it converged; an
//! unchanged one is planned as unchanged and applied without a write.

use std::time::Duration;

use crate::support::PrivateSwarm;
use crate::test_repo::{Run, TestRepo};

/// A repo whose `deploy` workflow makes stack `stack` (one `scaler` service running
/// `image`), and whose other workflows each change that service with a `service` step.
fn service_repo(swarm: &PrivateSwarm, stack: &str, image: &str, other_image: &str) -> TestRepo {
    let service = format!("{stack}_scaler");
    TestRepo::new()
        .file(
            "shoal.yml",
            &format!(
                "environments:\n  local:\n    docker: {{ host: \"{}\" }}\n",
                swarm.docker_host()
            ),
        )
        .file(
            "stacks/maiev.yml",
            &format!(
                "version: \"3.8\"\nservices:\n  scaler:\n    image: {image}\n    \
                 command: [\"sleep\", \"3600\"]\n"
            ),
        )
        .file(
            "workflows/deploy.yml",
            &format!("steps:\n  - stack: {{ name: {stack}, compose: stacks/maiev.yml }}\n"),
        )
        .file(
            "workflows/scale.yml",
            &format!("steps:\n  - service: {{ name: {service}, scale: 3 }}\n"),
        )
        .file(
            "workflows/image.yml",
            &format!("steps:\n  - service: {{ name: {service}, image: \"{other_image}\" }}\n"),
        )
        .file(
            "workflows/force.yml",
            &format!(
                "steps:\n  - timeout: 2m\n    service: {{ name: {service}, force_update: true }}\n"
            ),
        )
        .file(
            "workflows/rollback.yml",
            &format!("steps:\n  - service: {{ name: {service}, rollback: true }}\n"),
        )
}

fn run_workflow(repo: &TestRepo, command: &str, workflow: &str) -> Run {
    repo.run(&[command, "--env", "local", "--workflow", workflow])
}

fn inspect(swarm: &PrivateSwarm, service: &str, format: &str) -> String {
    swarm
        .run_docker(&["service", "inspect", "--format", format, service])
        .trim()
        .to_owned()
}

/// The IDs of the service's running tasks, sorted.
fn running_tasks(swarm: &PrivateSwarm, service: &str) -> Vec<String> {
    let mut ids: Vec<String> = swarm
        .run_docker(&[
            "service",
            "ps",
            "--filter",
            "desired-state=running",
            "--format",
            "{{.ID}}",
            service,
        ])
        .lines()
        .map(str::to_owned)
        .collect();
    ids.sort();
    ids
}

#[test]
fn service_steps_scale_change_the_image_force_an_update_and_roll_back_each_converged() {
    let swarm = PrivateSwarm::shared();
    let image = swarm.image("shoal-test/busybox:service-a");
    let other_image = swarm.image("shoal-test/busybox:service-b");
    let stack = swarm.unique_name("maiev");
    let service = format!("{stack}_scaler");
    let repo = service_repo(swarm, &stack, &image, &other_image);

    // Before the stack exists, the step has nothing to change.
    let plan = run_workflow(&repo, "plan", "scale");
    assert_eq!(plan.code, 1, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains(&format!(
            "error: service `{service}` does not exist: a `service` step changes an existing service; create it with a `stack` step first"
        )),
        "{}",
        plan.stdout
    );
    let deployed = run_workflow(&repo, "apply", "deploy");
    assert_eq!(deployed.code, 0, "{}{}", deployed.stdout, deployed.stderr);

    // Scale: planned, applied, converged; then unchanged.
    let plan = run_workflow(&repo, "plan", "scale");
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains(&format!(
            "    ~ update service {service}\n        Mode.Replicated.Replicas: 1 -> 3\n"
        )),
        "{}",
        plan.stdout
    );
    let scaled = run_workflow(&repo, "apply", "scale");
    assert_eq!(scaled.code, 0, "{}{}", scaled.stdout, scaled.stderr);
    assert!(
        scaled.stdout.contains(&format!("    {service}: converged")),
        "{}",
        scaled.stdout
    );
    assert_eq!(running_tasks(swarm, &service).len(), 3);
    let version = inspect(swarm, &service, "{{.Version.Index}}");
    let plan = run_workflow(&repo, "plan", "scale");
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains("    = 1 unchanged\n"),
        "{}",
        plan.stdout
    );
    let again = run_workflow(&repo, "apply", "scale");
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert_eq!(inspect(swarm, &service, "{{.Version.Index}}"), version);

    // Image: every task replaced by one running the new image.
    let plan = run_workflow(&repo, "plan", "image");
    assert!(
        plan.stdout.contains(&format!(
            "        TaskTemplate.ContainerSpec.Image: \"{image}\" -> \"{other_image}\"\n"
        )),
        "{}",
        plan.stdout
    );
    let before = running_tasks(swarm, &service);
    let changed = run_workflow(&repo, "apply", "image");
    assert_eq!(changed.code, 0, "{}{}", changed.stdout, changed.stderr);
    assert!(
        changed
            .stdout
            .contains(&format!("    {service}: converged"))
    );
    assert_eq!(
        inspect(
            swarm,
            &service,
            "{{.Spec.TaskTemplate.ContainerSpec.Image}}"
        ),
        other_image
    );
    let after = running_tasks(swarm, &service);
    assert_eq!(after.len(), 3);
    assert!(
        after.iter().all(|task| !before.contains(task)),
        "{before:?} {after:?}"
    );

    // Force: the same spec, new tasks.
    let plan = run_workflow(&repo, "plan", "force");
    assert!(
        plan.stdout
            .contains("        TaskTemplate.ForceUpdate: 0 -> 1\n"),
        "{}",
        plan.stdout
    );
    let forced = run_workflow(&repo, "apply", "force");
    assert_eq!(forced.code, 0, "{}{}", forced.stdout, forced.stderr);
    assert_eq!(
        inspect(swarm, &service, "{{.Spec.TaskTemplate.ForceUpdate}}"),
        "1"
    );
    let after_force = running_tasks(swarm, &service);
    assert_eq!(after_force.len(), 3);
    assert!(after_force.iter().all(|task| !after.contains(task)));

    // Rollback: the spec before the last update, the forced one.
    let plan = run_workflow(&repo, "plan", "rollback");
    assert!(
        plan.stdout
            .contains("        TaskTemplate.ForceUpdate: 1 -> 0\n"),
        "{}",
        plan.stdout
    );
    let rolled_back = run_workflow(&repo, "apply", "rollback");
    assert_eq!(
        rolled_back.code, 0,
        "{}{}",
        rolled_back.stdout, rolled_back.stderr
    );
    assert!(
        rolled_back
            .stdout
            .contains(&format!("    {service}: converged"))
    );
    assert_eq!(
        inspect(swarm, &service, "{{.Spec.TaskTemplate.ForceUpdate}}"),
        "0"
    );
    assert_eq!(
        inspect(
            swarm,
            &service,
            "{{.Spec.TaskTemplate.ContainerSpec.Image}}"
        ),
        other_image
    );
    swarm.wait_for_running_tasks(&service, 3, Duration::from_secs(60));
    swarm.run_docker(&["stack", "rm", &stack]);
}
