//! `shoal plan` and `shoal apply` against a real private swarm: create, converge, change,
//! prune, refuse, fail, roll back and tear down, and apply twice without a write.

use std::time::Duration;

use crate::support::PrivateSwarm;
use crate::test_repo::{Run, TestRepo};

/// A config repo whose `local` environment is the private swarm, with one workflow that
/// creates a network, a config from a template and a stack of two services.
fn stack_repo(swarm: &PrivateSwarm, stack: &str, image: &str) -> TestRepo {
    TestRepo::new()
        .file(
            "shoal.yml",
            &format!(
                "
                environments:
                  local:
                    docker: {{ host: \"{host}\" }}
                    vars: {{ image: \"{image}\", replicas: 2, greeting: hello }}
                    secrets: {{ token: {{ env: TEST_APPLY_TOKEN }} }}
                ",
                host = swarm.docker_host()
            ),
        )
        .file(
            "stacks/app/compose.yml",
            "
            version: \"3.8\"
            services:
              web:
                image: {{ vars.image }}
                environment:
                  TOKEN: \"{{ secrets.token }}\"
                deploy:
                  replicas: {{ vars.replicas }}
                configs:
                  - source: greeting
                    target: /etc/greeting
              worker:
                image: {{ vars.image }}
            configs:
              greeting:
                file: ./greeting.txt
            ",
        )
        .file(
            "stacks/app/greeting.txt",
            "{{ vars.greeting }} from {{ environment.name }}\n",
        )
        .file(
            "workflows/deploy.yml",
            &format!(
                "
                steps:
                  - network: {{ name: {stack}-public, attachable: true }}
                  - id: app
                    timeout: 3m
                    stack:
                      name: {stack}
                      compose: stacks/app/compose.yml
                      prune: true
                "
            ),
        )
        .env("TEST_APPLY_TOKEN", "tok-9d8e7f-secret")
}

fn service_version(swarm: &PrivateSwarm, service: &str) -> String {
    swarm
        .run_docker(&[
            "service",
            "inspect",
            "--format",
            "{{.Version.Index}}",
            service,
        ])
        .trim()
        .to_owned()
}

fn apply(repo: &TestRepo) -> Run {
    repo.run(&["apply", "--env", "local"])
}

#[test]
fn apply_creates_converges_and_a_second_apply_writes_nothing() {
    let swarm = PrivateSwarm::shared();
    let image = swarm.image("shoal-test/busybox:apply");
    let stack = swarm.unique_name("apply");
    let repo = stack_repo(swarm, &stack, &image);

    let plan = repo.run(&["plan", "--env", "local"]);
    assert_eq!(
        plan.code, 2,
        "changes pending: {}{}",
        plan.stdout, plan.stderr
    );
    assert!(
        plan.stdout
            .contains(&format!("+ create service {stack}_web")),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains(&format!("+ create network {stack}-public")),
        "{}",
        plan.stdout
    );
    assert!(
        !plan.stdout.contains("tok-9d8e7f-secret"),
        "secret in plan: {}",
        plan.stdout
    );

    let run = apply(&repo);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(&format!("{stack}_web: converged")),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("tok-9d8e7f-secret") && !run.stderr.contains("tok-9d8e7f-secret"));
    swarm.wait_for_running_tasks(&format!("{stack}_web"), 2, Duration::from_secs(60));
    swarm.wait_for_running_tasks(&format!("{stack}_worker"), 1, Duration::from_secs(60));

    // Labels say what was applied, so that it can be read back from the swarm alone.
    let labels = swarm.run_docker(&[
        "service",
        "inspect",
        "--format",
        "{{json .Spec.Labels}}",
        &format!("{stack}_web"),
    ]);
    assert!(
        labels.contains(&format!("\"com.docker.stack.namespace\":\"{stack}\"")),
        "{labels}"
    );
    assert!(
        labels.contains("\"dev.shoal.environment\":\"local\""),
        "{labels}"
    );
    assert!(
        labels.contains("\"dev.shoal.workflow\":\"deploy\""),
        "{labels}"
    );
    // The config carries a hash of its content in its name.
    let configs = swarm.run_docker(&["config", "ls", "--format", "{{.Name}}"]);
    assert!(
        configs
            .lines()
            .any(|name| name.starts_with(&format!("{stack}_greeting-"))
                && name.len() == stack.len() + "_greeting-".len() + 8),
        "{configs}"
    );

    let before = (
        service_version(swarm, &format!("{stack}_web")),
        service_version(swarm, &format!("{stack}_worker")),
    );
    let plan = repo.run(&["plan", "--env", "local"]);
    assert_eq!(
        plan.code, 0,
        "no changes expected: {}{}",
        plan.stdout, plan.stderr
    );
    assert!(plan.stdout.contains("Plan: no changes."), "{}", plan.stdout);
    let again = apply(&repo);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    let after = (
        service_version(swarm, &format!("{stack}_web")),
        service_version(swarm, &format!("{stack}_worker")),
    );
    assert_eq!(before, after, "a second apply updated a service");
}

#[test]
fn a_later_workflow_is_planned_against_what_the_earlier_one_applied() {
    let swarm = PrivateSwarm::shared();
    let image = swarm.image("shoal-test/busybox:apply");
    let stack = swarm.unique_name("later");
    // `later` deploys a stack on the network `deploy` creates: planned before anything
    // ran, its external network would be missing.
    let repo = stack_repo(swarm, &stack, &image)
        .file(
            "stacks/later/compose.yml",
            &format!(
                "version: \"3.8\"\nservices:\n  web:\n    image: {{{{ vars.image }}}}\n    networks: [public]\nnetworks:\n  public:\n    external: true\n    name: {stack}-public\n"
            ),
        )
        .file(
            "workflows/later.yml",
            &format!(
                "steps:\n  - stack: {{ name: {stack}-b, compose: stacks/later/compose.yml }}\n"
            ),
        );
    let run = apply(&repo);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains(&format!("created service {stack}-b_web")),
        "{}",
        run.stdout
    );
    let before = service_version(swarm, &format!("{stack}-b_web"));
    let again = apply(&repo);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert!(
        again.stdout.contains("Plan: no changes."),
        "{}",
        again.stdout
    );
    assert_eq!(
        service_version(swarm, &format!("{stack}-b_web")),
        before,
        "a second apply updated a service"
    );
}

#[test]
fn a_changed_config_rolls_out_under_a_new_name_and_prune_removes_services() {
    let swarm = PrivateSwarm::shared();
    let image = swarm.image("shoal-test/busybox:apply");
    let stack = swarm.unique_name("change");
    let repo = stack_repo(swarm, &stack, &image);
    assert_eq!(apply(&repo).code, 0);

    let repo = repo
        .file(
            "stacks/app/greeting.txt",
            "bonjour from {{ environment.name }}\n",
        )
        .file(
            "stacks/app/compose.yml",
            "
            version: \"3.8\"
            services:
              web:
                image: {{ vars.image }}
                environment:
                  TOKEN: \"{{ secrets.token }}\"
                deploy:
                  replicas: 1
                configs:
                  - source: greeting
                    target: /etc/greeting
            configs:
              greeting:
                file: ./greeting.txt
            ",
        );
    let plan = repo.run(&["plan", "--env", "local"]);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout
            .contains(&format!("~ update service {stack}_web")),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("Mode.Replicated.Replicas: 2 -> 1"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains(&format!(
            "- remove service {stack}_worker (no longer in the compose files)"
        )),
        "{}",
        plan.stdout
    );
    let run = apply(&repo);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let services = swarm.run_docker(&["service", "ls", "--format", "{{.Name}}"]);
    assert!(
        !services.lines().any(|s| s == format!("{stack}_worker")),
        "{services}"
    );
    let config = swarm.run_docker(&[
        "service",
        "inspect",
        "--format",
        "{{range .Spec.TaskTemplate.ContainerSpec.Configs}}{{.ConfigName}}{{end}}",
        &format!("{stack}_web"),
    ]);
    // The new content has a new name; the old version is kept for rollback.
    let configs = swarm.run_docker(&["config", "ls", "--format", "{{.Name}}"]);
    let versions: Vec<&str> = configs
        .lines()
        .filter(|n| n.starts_with(&format!("{stack}_greeting-")))
        .collect();
    assert_eq!(versions.len(), 2, "{configs}");
    assert!(
        versions.contains(&config.trim()),
        "service uses {config}, configs: {configs}"
    );
}

#[test]
fn a_missing_external_network_stops_apply_before_any_write() {
    let swarm = PrivateSwarm::shared();
    let image = swarm.image("shoal-test/busybox:apply");
    let stack = swarm.unique_name("external");
    let repo = stack_repo(swarm, &stack, &image)
        .file(
            "stacks/ext/compose.yml",
            "services:\n  app:\n    image: {{ vars.image }}\n    networks: [outside]\nnetworks:\n  outside:\n    external: true\n    name: no-such-network-here\n",
        )
        .file("workflows/deploy.yml", &format!("steps:\n  - stack: {{ name: {stack}, compose: stacks/ext/compose.yml }}\n"));
    let run = apply(&repo);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("external network `no-such-network-here` does not exist"),
        "{}",
        run.stderr
    );
    let services = swarm.run_docker(&["service", "ls", "--format", "{{.Name}}"]);
    assert!(
        !services.contains(&stack),
        "something was created: {services}"
    );
}

#[test]
fn a_failing_service_fails_the_apply_with_its_error_and_rollback_restores_it() {
    let swarm = PrivateSwarm::shared();
    let image = swarm.image("shoal-test/busybox:apply");
    let stack = swarm.unique_name("failing");
    let compose = |command: &str| {
        format!(
            "services:\n  app:\n    image: {image}\n    command: {command}\n    deploy:\n      restart_policy: {{ condition: on-failure, delay: 1s }}\n"
        )
    };
    let workflow = format!(
        "steps:\n  - timeout: 2m\n    stack: {{ name: {stack}, compose: stacks/app.yml, on_failure: rollback }}\n"
    );
    let repo = TestRepo::new()
        .file(
            "shoal.yml",
            &format!(
                "environments: {{ local: {{ docker: {{ host: \"{}\" }} }} }}",
                swarm.docker_host()
            ),
        )
        .file("stacks/app.yml", &compose("[\"sleep\", \"3600\"]"))
        .file("workflows/deploy.yml", &workflow);
    assert_eq!(apply(&repo).code, 0);
    let good = swarm.run_docker(&[
        "service",
        "inspect",
        "--format",
        "{{json .Spec.TaskTemplate.ContainerSpec.Args}}",
        &format!("{stack}_app"),
    ]);

    let repo = repo.file(
        "stacks/app.yml",
        &compose("[\"sh\", \"-c\", \"echo broken; exit 3\"]"),
    );
    let run = apply(&repo);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains(&format!("service {stack}_app did not converge")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("exit code 3") || run.stderr.contains("non-zero exit (3)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("every service the step changed was restored"),
        "{}",
        run.stderr
    );
    let restored = swarm.run_docker(&[
        "service",
        "inspect",
        "--format",
        "{{json .Spec.TaskTemplate.ContainerSpec.Args}}",
        &format!("{stack}_app"),
    ]);
    assert_eq!(restored, good);
}

#[test]
fn a_remove_step_tears_the_stack_down() {
    let swarm = PrivateSwarm::shared();
    let image = swarm.image("shoal-test/busybox:apply");
    let stack = swarm.unique_name("teardown");
    let repo = stack_repo(swarm, &stack, &image);
    assert_eq!(apply(&repo).code, 0);
    let repo = repo.file(
        "workflows/teardown.yml",
        &format!(
            "on:\n  workflow_dispatch:\n    inputs:\n      confirm: {{ type: string, required: true, confirms: environment }}\nsteps:\n  - remove: {{ stack: {stack} }}\n"
        ),
    );
    // A confirmation that is not the environment's name is refused before anything runs.
    let refused = repo.run(&[
        "apply",
        "--env",
        "local",
        "--workflow",
        "teardown",
        "--input",
        "confirm=prod",
    ]);
    assert_eq!(refused.code, 1, "{}{}", refused.stdout, refused.stderr);
    assert!(
        refused.stderr.contains(
            "input `confirm` must be `local`, the name of the environment this run is for, typed out; it is `prod`"
        ),
        "{}",
        refused.stderr
    );
    let services = swarm.run_docker(&["service", "ls", "--format", "{{.Name}}"]);
    assert!(
        services.contains(&format!("{stack}_")),
        "nothing removed: {services}"
    );
    let run = repo.run(&[
        "apply",
        "--env",
        "local",
        "--workflow",
        "teardown",
        "--input",
        "confirm=local",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let services = swarm.run_docker(&["service", "ls", "--format", "{{.Name}}"]);
    assert!(!services.contains(&format!("{stack}_")), "{services}");
    let configs = swarm.run_docker(&["config", "ls", "--format", "{{.Name}}"]);
    assert!(!configs.contains(&format!("{stack}_")), "{configs}");
}

#[test]
fn a_network_whose_options_changed_is_not_recreated_while_in_use_by_any_stack() {
    let swarm = PrivateSwarm::shared();
    let image = swarm.image("shoal-test/busybox:apply");
    let stack = swarm.unique_name("netopts");
    let repo = stack_repo(swarm, &stack, &image).file(
        "stacks/app/compose.yml",
        &format!(
            "version: \"3.8\"\nservices:\n  web:\n    image: {{{{ vars.image }}}}\n    networks: [public]\nnetworks:\n  public:\n    external: true\n    name: {stack}-public\n"
        ),
    );
    assert_eq!(apply(&repo).code, 0);
    let repo = repo.file(
        "workflows/deploy.yml",
        &format!("steps:\n  - network: {{ name: {stack}-public, attachable: false }}\n  - stack: {{ name: {stack}, compose: stacks/app/compose.yml }}\n"),
    );
    let plan = repo.run(&["plan", "--env", "local"]);
    assert_eq!(plan.code, 1, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout
            .contains(&format!("! recreate network {stack}-public")),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("Attachable: true -> false"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains(&format!("in use by {stack}_web")),
        "{}",
        plan.stdout
    );
    // A workflow that deploys no stack reads no service at first; the network it would
    // recreate makes it read them all, and find the stack's service on the network.
    let repo = repo.file(
        "workflows/network.yml",
        &format!("steps:\n  - network: {{ name: {stack}-public, attachable: false }}\n"),
    );
    let plan = repo.run(&["plan", "--env", "local", "--workflow", "network"]);
    assert_eq!(plan.code, 1, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains(&format!("in use by {stack}_web")),
        "{}",
        plan.stdout
    );
    let run = apply(&repo);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("the plan cannot be applied"),
        "{}",
        run.stderr
    );
    let attachable = swarm.run_docker(&[
        "network",
        "inspect",
        "--format",
        "{{.Attachable}}",
        &format!("{stack}-public"),
    ]);
    assert_eq!(attachable.trim(), "true", "the network was touched");
}

#[test]
fn a_wait_step_waits_for_a_url_to_answer() {
    let swarm = PrivateSwarm::shared();
    let image = swarm.image("shoal-test/busybox:apply");
    let stack = swarm.unique_name("waiturl");
    let port = crate::support::free_tcp_port();
    let repo = TestRepo::new()
        .file("shoal.yml", &format!("environments: {{ local: {{ docker: {{ host: \"{}\" }}, vars: {{ address: \"{}\", port: {port} }} }} }}", swarm.docker_host(), swarm.address()))
        .file(
            "stacks/web.yml",
            &format!(
                "version: \"3.8\"\nservices:\n  web:\n    image: {image}\n    command: [\"httpd\", \"-f\", \"-p\", \"80\", \"-h\", \"/www\"]\n    ports:\n      - {{ target: 80, published: {{{{ vars.port }}}}, mode: host }}\n"
            ),
        )
        .file(
            "workflows/deploy.yml",
            &format!(
                "steps:\n  - stack: {{ name: {stack}, compose: stacks/web.yml, wait: false }}\n  - wait:\n      url: \"http://{{{{ vars.address }}}}:{{{{ vars.port }}}}/missing\"\n      status: 404\n      timeout: 90s\n"
            ),
        );
    let run = apply(&repo);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let response =
        crate::support::http_get_at(swarm.address(), port, "/missing", Duration::from_secs(5))
            .expect("answers");
    assert_eq!(response.status, 404);
}

#[test]
fn prune_refuses_to_empty_a_stack_unless_allowed() {
    let swarm = PrivateSwarm::shared();
    let image = swarm.image("shoal-test/busybox:apply");
    let stack = swarm.unique_name("empty");
    let repo = stack_repo(swarm, &stack, &image);
    assert_eq!(apply(&repo).code, 0);
    let repo = repo.file("stacks/app/compose.yml", "version: \"3.8\"\nservices: {}\n");
    let run = apply(&repo);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("set `allow_empty: true`"),
        "{}",
        run.stderr
    );
    let services = swarm.run_docker(&["service", "ls", "--format", "{{.Name}}"]);
    assert!(
        services.contains(&format!("{stack}_web")),
        "a service was removed: {services}"
    );
}

/// Two services publish the same host-mode port on a one-node swarm: the second cannot be
/// placed, and what apply shows while it waits, and its error when the step's time runs
/// out, give the scheduler's reason and what the step had changed.
#[test]
fn a_task_that_stays_pending_is_reported_with_the_schedulers_reason() {
    let swarm = PrivateSwarm::shared();
    let image = swarm.image("shoal-test/busybox:apply");
    let stack = swarm.unique_name("pending");
    let port = crate::support::free_tcp_port();
    let compose = format!(
        "services:\n  web:\n    image: {image}\n    command: [\"sleep\", \"3600\"]\n    ports:\n      - {{ target: 80, published: {port}, mode: host }}\n"
    );
    let repo = TestRepo::new()
        .file(
            "shoal.yml",
            &format!(
                "environments: {{ local: {{ docker: {{ host: \"{}\" }} }} }}",
                swarm.docker_host()
            ),
        )
        .file("stacks/web.yml", &compose)
        .file(
            "workflows/deploy.yml",
            &format!(
                "steps:\n  - id: first\n    stack: {{ name: {stack}-a, compose: stacks/web.yml }}\n  - id: second\n    timeout: 20s\n    stack: {{ name: {stack}-b, compose: stacks/web.yml }}\n"
            ),
        );
    let run = apply(&repo);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let reason = "pending: no suitable node (host-mode port already in use on 1 node)";
    assert!(
        run.stdout
            .contains(&format!("    {stack}-b_web: 0/1 running, {reason}\n")),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.starts_with(&format!(
            "error: step `second`: created network {stack}-b_default, created service {stack}-b_web; timed out after 20s waiting for {stack}-b_web (0/1 running, {reason})\n"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("steps completed before the failure: `first`"),
        "{}",
        run.stderr
    );
}
