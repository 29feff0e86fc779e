//! Seed 004 as shipped (`examples/maiev`): the scaler's client certificate issued into
//! the secret `docker_manager_tls.pem` (certificate, key, CA, in that order), mounted
//! where the image reads it, with `DOCKER_HOST=tcp://…:2376` and `DOCKER_TLS_VERIFY=1`.
//! The proof is a real dockerd with `--tlsverify` that trusts the CA: the bundle, read
//! from inside the running scaler and split as the image splits it, lets the docker CLI
//! in over `DOCKER_HOST` with `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH`, as the scaler
//! would.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::{PrivateSwarm, run};
use crate::test_repo::{Run, TestRepo, project_root, shoal};

fn shipped(path: &str) -> String {
    std::fs::read_to_string(project_root().join("examples/maiev").join(path))
        .expect("a shipped file")
}

/// The PEM blocks of `bundle`, in order.
fn pem_blocks(bundle: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in bundle.lines() {
        if line.starts_with("-----BEGIN ") {
            current = Some(String::new());
        }
        if let Some(block) = &mut current {
            block.push_str(line);
            block.push('\n');
        }
        if line.starts_with("-----END ") {
            blocks.extend(current.take());
        }
    }
    blocks
}

/// The docker CLI as the scaler runs it: from its environment only.
fn docker_as_the_scaler(docker_host: &str, cert_path: &Path) -> std::process::Output {
    let config = tempfile::tempdir().expect("temp");
    run(
        Command::new("docker")
            .args(["info", "--format", "{{.Swarm.LocalNodeState}}"])
            .env("DOCKER_HOST", docker_host)
            .env("DOCKER_TLS_VERIFY", "1")
            .env("DOCKER_CERT_PATH", cert_path)
            .env("DOCKER_CONFIG", config.path())
            .env_remove("DOCKER_CONTEXT")
            .stdin(Stdio::null()),
        Duration::from_secs(60),
    )
}

#[test]
fn maievs_scaler_gets_a_bundle_that_a_tlsverify_dockerd_lets_in() {
    let folder = tempfile::tempdir().expect("a folder");
    let made = Run::from(
        shoal()
            .args(["ca", "create", "--common-name", "team CA", "--out"])
            .arg(folder.path().join("ca"))
            .output()
            .expect("shoal runs"),
    );
    assert_eq!(made.code, 0, "{}{}", made.stdout, made.stderr);
    let read = |name: &str| {
        std::fs::read_to_string(folder.path().join("ca").join(name)).expect("the CA's files")
    };
    // The engine trusts the team's CA for its clients, and serves a certificate from it.
    let swarm = PrivateSwarm::with_tls(&folder.path().join("ca"));
    let image = swarm.image("shoal-test/busybox:maiev");
    // The shipped workflow and stack; an environment for this swarm, the busybox image
    // standing in for Maiev's.
    let repo = TestRepo::new()
        .file(
            "shoal.yml",
            &format!(
                "
                environments:
                  local:
                    docker: {{ host: \"{host}\" }}
                    vars:
                      docker_manager: \"{address}\"
                      mongo_uris: \"mongodb://mongodb:27017/maiev\"
                      images:
                        scaler_docker: \"{image}\"
                        rabbitmq: \"{image}\"
                        mongodb: \"{image}\"
                        overseer: \"{image}\"
                        trigger: \"{image}\"
                        monitorer_rabbitmq: \"{image}\"
                    secrets: {{ ca_key: {{ file: ca-key.pem }} }}
                ",
                host = swarm.docker_host(),
                address = swarm.address(),
            ),
        )
        .file("ca-key.pem", &read("ca-key.pem"))
        .file("pki/ca.pem", &read("ca.pem"))
        .file(
            "workflows/workloads.yml",
            &shipped("workflows/workloads.yml"),
        )
        .file("stacks/maiev.yml", &shipped("stacks/maiev.yml"));
    // This one node is the scaler's and MongoDB's (on a swarm of several,
    // workflows/swarm.yml labels them: seed_maiev_lab.rs).
    let node = swarm.run_docker(&["info", "--format", "{{.Swarm.NodeID}}"]);
    swarm.run_docker(&[
        "node",
        "update",
        "--label-add",
        "maiev.scaler=true",
        "--label-add",
        "maiev.mongodb=true",
        node.trim(),
    ]);

    let plan = repo.run(&["plan", "--env", "local"]);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains("    + certificate scaler: missing\n")
            && plan
                .stdout
                .contains("    + create secret docker_manager_tls.pem-(issued when applied)\n"),
        "{}",
        plan.stdout
    );
    let applied = repo.run(&["apply", "--env", "local"]);
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    assert!(
        !applied.stdout.contains("PRIVATE KEY") && !applied.stderr.contains("PRIVATE KEY"),
        "a key was shown"
    );
    let service = "maiev_scaler_docker";
    swarm.wait_for_running_tasks(service, 1, Duration::from_secs(90));
    let container = swarm
        .run_docker(&[
            "ps",
            "-q",
            "--filter",
            &format!("label=com.docker.swarm.service.name={service}"),
        ])
        .lines()
        .next()
        .expect("a running scaler")
        .to_owned();

    // The scaler's environment, as the seed sets it.
    let environment = swarm.run_docker(&["exec", &container, "env"]);
    let docker_host = environment
        .lines()
        .find_map(|line| line.strip_prefix("DOCKER_HOST="))
        .expect("DOCKER_HOST")
        .to_owned();
    assert_eq!(docker_host, swarm.tls_host());
    assert!(
        environment
            .lines()
            .any(|line| line == "DOCKER_TLS_VERIFY=1")
            && environment
                .lines()
                .any(|line| line == "DOCKER_CERT_PATH=/app"),
        "{environment}"
    );

    // The bundle where the image reads it: certificate, key, CA.
    let bundle = swarm.run_docker(&[
        "exec",
        &container,
        "cat",
        "/run/secrets/docker_manager_tls.pem",
    ]);
    let blocks = pem_blocks(&bundle);
    let kinds: Vec<&str> = blocks
        .iter()
        .map(|block| block.lines().next().unwrap_or_default())
        .collect();
    assert_eq!(
        kinds,
        [
            "-----BEGIN CERTIFICATE-----",
            "-----BEGIN PRIVATE KEY-----",
            "-----BEGIN CERTIFICATE-----"
        ]
    );
    assert_eq!(blocks[2], read("ca.pem"), "the CA's certificate last");

    // Split as the image does, into DOCKER_CERT_PATH: the docker CLI gets in.
    let cert_path = folder.path().join("app");
    std::fs::create_dir(&cert_path).expect("a folder");
    for (block, file) in blocks.iter().zip(["cert.pem", "key.pem", "ca.pem"]) {
        std::fs::write(cert_path.join(file), block).expect("write");
    }
    let answered = docker_as_the_scaler(&docker_host, &cert_path);
    assert!(
        answered.status.success(),
        "{}",
        String::from_utf8_lossy(&answered.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&answered.stdout).trim(), "active");

    // Without the client certificate, the daemon refuses.
    std::fs::remove_file(cert_path.join("cert.pem")).expect("remove");
    std::fs::remove_file(cert_path.join("key.pem")).expect("remove");
    let refused = docker_as_the_scaler(&docker_host, &cert_path);
    assert!(!refused.status.success(), "let in without a certificate");

    // The next run keeps the certificate.
    let again = repo.run(&["plan", "--env", "local"]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert!(
        again
            .stdout
            .contains("    = certificate scaler valid until "),
        "{}",
        again.stdout
    );
}
