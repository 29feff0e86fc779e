//! Seed 004 as shipped (`examples/maiev`), end to end on five bare lab nodes, each with a
//! dockerd of its own: one `shoal apply` makes three managers and two workers one swarm,
//! labels the scaler's manager and MongoDB's node, issues the scaler's client
//! certificate into the secret `docker_manager_tls.pem`, creates the `maiev` overlay
//! network with the seed's subnet and deploys RabbitMQ, MongoDB, the scaler and Maiev's
//! other services on it; a second plan changes nothing; TLS verification turned off by
//! hand in the scaler is drift the plan names, healed by apply. Then the seed's "live
//! update of docker image upon push": an image pushed with the docker CLI of node 1 to a
//! real registry (Debian's `docker-registry`) whose notifications reach a real `shoal
//! serve`, which updates the scaler's image, and only it, to the pushed image by digest.
//! The teardown workflow removes the stack and leaves the swarm, the network and the
//! hosts as they were.
//!
//! The lab stands in: the images are busybox idling by its ENTRYPOINT under the names
//! prod uses, each node's engine is its own socket (`docker.node_host`), and the registry
//! listens on the host's end of the lab's bridge, which the nodes' engines trust without
//! TLS (the seed's `--insecure-registry`).

use std::path::Path;

use crate::support::lab::Lab;
use crate::support::registry::{Registry, TOKEN};
use crate::support::serve_daemon::ServeDaemon;
use crate::support::{free_tcp_port, git};
use crate::test_repo::{Run, TestRepo, project_root, shoal};

const SCALER_IMAGE: &str = "docker.io/yupeek/maiev:scaler_docker-latest";

/// The images of shoal.yml's `prod`, stood in on every node.
const STAND_INS: &[&str] = &[
    SCALER_IMAGE,
    "docker.io/yupeek/maiev:overseer-latest",
    "docker.io/yupeek/maiev:trigger-latest",
    "docker.io/yupeek/maiev:monitorer_rabbitmq-latest",
    "rabbitmq:3-management",
    "mongo:7.0",
];

const MONGO_URIS: &str = "mongodb://mongodb:27017/maiev";

fn shipped(path: &str) -> String {
    std::fs::read_to_string(project_root().join("examples/maiev").join(path))
        .expect("a shipped file")
}

/// The shipped workflows and stack, with an environment `test` for the lab in place of
/// `prod`: managers nodes 1 to 3, workers 4 and 5, the scaler on node 1 (the manager it
/// drives), MongoDB on node 4; the CA in `ca`.
fn repo(lab: &Lab, ca: &Path) -> TestRepo {
    let images = STAND_INS
        .iter()
        .zip([
            "scaler_docker",
            "overseer",
            "trigger",
            "monitorer_rabbitmq",
            "rabbitmq",
            "mongodb",
        ])
        .map(|(image, name)| format!("        {name}: \"{image}\"\n"))
        .collect::<String>();
    let read = |name: &str| std::fs::read_to_string(ca.join(name)).expect("the CA's files");
    let mut repo = TestRepo::new()
        .file(
            "shoal.yml",
            &format!(
                "environments:\n  test:\n    docker:\n      host: \"{}\"\n      node_host: \"unix://{}/{{{{ host.name }}}}/docker.sock\"\n    hosts:\n      managers: [{}]\n      workers: [{}]\n      scaler: [{}]\n      mongodb: [{}]\n    vars:\n      docker_manager: \"{}\"\n      mongo_uris: \"{MONGO_URIS}\"\n      images:\n{images}    secrets:\n      ca_key: {{ file: ca-key.pem }}\n",
                lab.docker_socket(1),
                lab.folder().display(),
                lab.hosts([1, 2, 3]),
                lab.hosts([4, 5]),
                lab.hosts([1]),
                lab.hosts([4]),
                lab.nodes[0],
            ),
        )
        .file("ca-key.pem", &read("ca-key.pem"))
        .file("pki/ca.pem", &read("ca.pem"));
    for file in [
        "workflows/swarm.yml",
        "workflows/workloads.yml",
        "workflows/scaler-image.yml",
        "workflows/teardown.yml",
        "stacks/maiev.yml",
    ] {
        repo = repo.file(file, &shipped(file));
    }
    repo
}

fn assert_code(run: &Run, code: i32) {
    assert_eq!(run.code, code, "{}{}", run.stdout, run.stderr);
}

/// `docker service inspect --format FORMAT service` on node 1.
fn inspect(lab: &Lab, service: &str, format: &str) -> String {
    lab.run_docker(1, &["service", "inspect", "--format", format, service])
}

/// The first line of each PEM block of `bundle`, in order.
fn pem_kinds(bundle: &str) -> Vec<&str> {
    bundle
        .lines()
        .filter(|line| line.starts_with("-----BEGIN "))
        .collect()
}

/// Waits until `service` runs one task, on `node`, of `image`; panics after a minute.
fn wait_for_task(lab: &Lab, service: &str, node: &str, image: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let wanted = format!("{node} {image} Running");
    loop {
        let tasks = lab.run_docker(
            1,
            &[
                "service",
                "ps",
                service,
                "--filter",
                "desired-state=running",
                "--format",
                "{{.Node}} {{.Image}} {{.CurrentState}}",
            ],
        );
        if tasks.lines().count() == 1 && tasks.starts_with(&wanted) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{service} does not run {image} on {node}:\n{tasks}"
        );
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
}

/// `shoal runs show` of a run of the daemon whose state is in `state`.
fn runs_show(state: &Path, run: &serde_json::Value) -> String {
    let shown = Run::from(
        shoal()
            .args(["runs", "show", &run["id"].to_string(), "--state"])
            .arg(state)
            .output()
            .expect("runs show"),
    );
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    shown.stdout
}

#[test]
fn maiev_from_bare_hosts_to_its_stack_a_registry_push_and_back() {
    let lab = Lab::start_with_docker(5);
    lab.import_stand_in_images(STAND_INS);
    let work = tempfile::tempdir().expect("a folder");
    let ca = work.path().join("ca");
    let made = Run::from(
        shoal()
            .args(["ca", "create", "--common-name", "maiev CA", "--out"])
            .arg(&ca)
            .output()
            .expect("shoal runs"),
    );
    assert_code(&made, 0);
    let repo = repo(&lab, &ca);

    let apply = repo.run(&["apply", "--env", "test"]);
    assert_code(&apply, 0);
    assert!(
        apply
            .stderr
            .contains("note: workflow `teardown` not rendered: its input `confirm` is required"),
        "{}",
        apply.stderr
    );
    assert!(
        apply.stderr.contains(
            "note: workflow `scaler-image` not rendered: it runs on registry pushes only, for the image pushed (`shoal serve`); plan it with --workflow scaler-image\n"
        ),
        "{}",
        apply.stderr
    );

    // The swarm, through the Engine API (the docker CLI on node 1).
    assert_eq!(
        lab.swarm_nodes(),
        [
            "node1 Ready manager",
            "node2 Ready manager",
            "node3 Ready manager",
            "node4 Ready worker",
            "node5 Ready worker"
        ]
    );
    assert_eq!(lab.node_labels("node1"), r#"{"maiev.scaler":"true"}"#);
    assert_eq!(lab.node_labels("node4"), r#"{"maiev.mongodb":"true"}"#);
    for node in ["node2", "node3", "node5"] {
        assert_eq!(lab.node_labels(node), "{}", "{node}");
    }

    // The network, with the seed's subnet, and every service on it.
    assert_eq!(
        lab.run_docker(
            1,
            &[
                "network",
                "inspect",
                "maiev",
                "--format",
                "{{.Driver}} {{.Scope}} {{range .IPAM.Config}}{{.Subnet}}{{end}}"
            ]
        ),
        "overlay swarm 10.0.9.0/24"
    );
    let network = lab.run_docker(1, &["network", "inspect", "maiev", "--format", "{{.Id}}"]);
    let mut services: Vec<String> = lab
        .run_docker(1, &["service", "ls", "--format", "{{.Name}}"])
        .lines()
        .map(str::to_owned)
        .collect();
    services.sort();
    assert_eq!(
        services,
        [
            "maiev_mongodb",
            "maiev_monitorer_rabbitmq",
            "maiev_overseer",
            "maiev_rabbitmq",
            "maiev_scaler_docker",
            "maiev_trigger"
        ]
    );
    for service in &services {
        assert_eq!(
            inspect(
                &lab,
                service,
                "{{range .Spec.TaskTemplate.Networks}}{{.Target}}{{end}}"
            ),
            network,
            "{service}"
        );
        assert_eq!(lab.placed(service).len(), 1, "{service} runs one task");
    }
    // Placed by the labels: the scaler on the manager it drives, MongoDB with its data.
    assert_eq!(lab.placed("maiev_scaler_docker"), ["node1"]);
    assert_eq!(lab.placed("maiev_mongodb"), ["node4"]);
    assert_eq!(
        inspect(
            &lab,
            "maiev_mongodb",
            "{{range .Spec.TaskTemplate.ContainerSpec.Mounts}}{{.Type}} {{.Source}} {{.Target}}{{end}}"
        ),
        "volume maiev_mongodb-data /data/db"
    );
    for service in [
        "maiev_overseer",
        "maiev_trigger",
        "maiev_monitorer_rabbitmq",
    ] {
        assert_eq!(
            inspect(
                &lab,
                service,
                "{{json .Spec.TaskTemplate.ContainerSpec.Env}}"
            ),
            format!("[\"MONGO_URIS={MONGO_URIS}\"]"),
            "{service}"
        );
    }

    // The scaler: the seed's environment, and its certificate, key and CA in the secret
    // where the image reads it.
    let scaler = "maiev_scaler_docker";
    assert_eq!(
        inspect(
            &lab,
            scaler,
            "{{json .Spec.TaskTemplate.ContainerSpec.Env}}"
        ),
        format!(
            "[\"DOCKER_CERT_PATH=/app\",\"DOCKER_HOST=tcp://{}:2376\",\"DOCKER_TLS_VERIFY=1\"]",
            lab.nodes[0]
        )
    );
    let secret = inspect(
        &lab,
        scaler,
        "{{range .Spec.TaskTemplate.ContainerSpec.Secrets}}{{.SecretName}} {{.File.Name}}{{end}}",
    );
    let (secret_name, target) = secret.split_once(' ').expect("one secret");
    assert!(
        secret_name.starts_with("docker_manager_tls.pem-"),
        "{secret}"
    );
    assert_eq!(target, "docker_manager_tls.pem");
    let container = lab.run_docker(
        1,
        &[
            "ps",
            "--quiet",
            "--filter",
            &format!("label=com.docker.swarm.service.name={scaler}"),
        ],
    );
    let bundle = lab.run_docker(
        1,
        &[
            "exec",
            &container,
            "cat",
            "/run/secrets/docker_manager_tls.pem",
        ],
    );
    assert_eq!(
        pem_kinds(&bundle),
        [
            "-----BEGIN CERTIFICATE-----",
            "-----BEGIN PRIVATE KEY-----",
            "-----BEGIN CERTIFICATE-----"
        ]
    );
    let ca_certificate = std::fs::read_to_string(ca.join("ca.pem")).expect("the CA");
    assert!(
        bundle.ends_with(ca_certificate.trim()),
        "the CA's certificate last"
    );

    // Nothing to do the second time, for every workflow.
    let again = repo.run(&["plan", "--env", "test"]);
    assert_code(&again, 0);

    // TLS verification turned off by hand in the scaler is drift, named by the plan,
    // healed by apply.
    lab.run_docker(
        1,
        &[
            "service",
            "update",
            "--detach",
            "--env-add",
            "DOCKER_TLS_VERIFY=0",
            scaler,
        ],
    );
    let drift = repo.run(&["plan", "--env", "test", "--workflow", "workloads"]);
    assert_code(&drift, 2);
    assert!(
        drift.stdout.contains(
            "    ~ update service maiev_scaler_docker\n        \
             TaskTemplate.ContainerSpec.Env:\n          \
             - \"DOCKER_TLS_VERIFY=0\"\n          \
             + \"DOCKER_TLS_VERIFY=1\"\n    = 5 unchanged\n"
        ),
        "{}",
        drift.stdout
    );
    assert_code(
        &repo.run(&["apply", "--env", "test", "--workflow", "workloads"]),
        0,
    );
    assert!(
        inspect(
            &lab,
            scaler,
            "{{json .Spec.TaskTemplate.ContainerSpec.Env}}"
        )
        .contains("\"DOCKER_TLS_VERIFY=1\""),
        "healed"
    );
    assert_code(&repo.run(&["plan", "--env", "test"]), 0);

    // The seed's live update upon push: `shoal serve` on the repo's main branch, told of
    // pushes by a real registry.
    git(repo.path(), &["init", "-q", "-b", "main"]);
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "maiev"]);
    let token_file = work.path().join("registry-token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).expect("the token");
    let state = work.path().join("state");
    let shoal_port = free_tcp_port();
    let daemon = ServeDaemon::start_with_docker(
        shoal_port,
        &state,
        repo.path(),
        &lab.docker_socket(1),
        &[
            "--registry-token-file".into(),
            token_file.into_os_string(),
            "--secrets-folder".into(),
            repo.path().as_os_str().to_owned(),
        ],
    );
    // The daemon's first runs, on main's head, find nothing to change.
    for workflow in ["swarm", "workloads"] {
        let first =
            daemon.wait_for_run(|run| run["event"] == "push" && run["workflow"] == workflow);
        assert_eq!(first["status"], "success", "{first}");
        let steps: Vec<String> = runs_show(&state, &first)
            .lines()
            .filter(|line| line.trim_start().starts_with("test "))
            .map(str::to_owned)
            .collect();
        assert!(
            steps.len() >= 2
                && steps
                    .iter()
                    .all(|line| line.contains(" success ") && line.ends_with(" 0 changes")),
            "{workflow}: {steps:#?}"
        );
    }
    let registry = Registry::start(lab.host_address(), work.path(), shoal_port);
    let pushed = format!("{}/maiev/scaler:1.1", registry.host);
    lab.run_docker(1, &["tag", SCALER_IMAGE, &pushed]);
    let output = lab.run_docker(1, &["push", &pushed]);
    let digest = output
        .split_whitespace()
        .find(|word| word.starts_with("sha256:"))
        .unwrap_or_else(|| panic!("no digest in the output of docker push:\n{output}"))
        .to_owned();
    let reference = format!("{}/maiev/scaler@{digest}", registry.host);
    let updated = daemon.wait_for_run(|run| run["event"] == "registry_push");
    assert_eq!(
        (updated["status"].as_str(), updated["workflow"].as_str()),
        (Some("success"), Some("scaler-image")),
        "{updated}\n{}",
        daemon.log()
    );
    // Only the image changed: the environment and the secret stay.
    assert_eq!(
        inspect(
            &lab,
            scaler,
            "{{.Spec.TaskTemplate.ContainerSpec.Image}} {{json .Spec.TaskTemplate.ContainerSpec.Env}} {{range .Spec.TaskTemplate.ContainerSpec.Secrets}}{{.SecretName}}{{end}}"
        ),
        format!(
            "{reference} [\"DOCKER_CERT_PATH=/app\",\"DOCKER_HOST=tcp://{}:2376\",\"DOCKER_TLS_VERIFY=1\"] {secret_name}",
            lab.nodes[0]
        )
    );
    wait_for_task(&lab, scaler, "node1", &reference);
    let shown = runs_show(&state, &updated);
    // The engine keeps Docker Hub's images by their familiar names.
    let deployed = SCALER_IMAGE.trim_start_matches("docker.io/");
    assert!(
        shown.contains(&format!(
            "        TaskTemplate.ContainerSpec.Image: \"{deployed}\" -> \"{reference}\""
        )),
        "{shown}"
    );
    drop(registry);
    drop(daemon);
    // The stack still names the image of `vars.images.scaler_docker`: its next run would
    // put it back (see workflows/scaler-image.yml).
    let next = repo.run(&["plan", "--env", "test", "--workflow", "workloads"]);
    assert_code(&next, 2);
    assert!(
        next.stdout.contains(&format!(
            "        TaskTemplate.ContainerSpec.Image: \"{reference}\" -> \"{deployed}\"\n"
        )),
        "{}",
        next.stdout
    );

    // Teardown: the stack goes; the swarm, the network, the scaler's secret and
    // MongoDB's volume on its node stay.
    let teardown = repo.run(&[
        "apply",
        "--env",
        "test",
        "--workflow",
        "teardown",
        "--input",
        "confirm=test",
    ]);
    assert_code(&teardown, 0);
    assert_eq!(lab.run_docker(1, &["service", "ls", "--quiet"]), "");
    assert_eq!(
        lab.run_docker(
            1,
            &[
                "network",
                "ls",
                "--filter",
                "name=maiev",
                "--format",
                "{{.Name}}"
            ]
        ),
        "maiev"
    );
    assert_eq!(
        lab.run_docker(1, &["secret", "ls", "--format", "{{.Name}}"]),
        secret_name
    );
    assert_eq!(
        lab.run_docker(4, &["volume", "ls", "--format", "{{.Name}}"]),
        "maiev_mongodb-data"
    );
    assert_eq!(
        lab.run_docker(1, &["node", "ls", "--quiet"])
            .lines()
            .count(),
        5
    );
    assert_code(
        &repo.run(&["plan", "--env", "test", "--workflow", "swarm"]),
        0,
    );
}
