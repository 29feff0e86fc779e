//! Docker over mutual TLS: `plan`, `apply` and `serve` through a private engine started with
//! `dockerd --tlsverify`, with certificates made for the test by `openssl`, the docker CLI
//! with the same client certificate as the oracle; and each TLS failure with its message,
//! against that engine or against `openssl s_server` and busybox's `httpd` on loopback.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::pipeline_parity::Commit;
use crate::support::serve_daemon::ServeDaemon;
use crate::support::test_pki::{TestCa, Validity};
use crate::support::{PrivateSwarm, free_tcp_port, run_successfully};
use crate::test_repo::{Run, TestRepo, shoal};

fn stack_repo(shoal_yml: &str, stack: &str, image: &str) -> TestRepo {
    TestRepo::new()
        .file("shoal.yml", shoal_yml)
        .file(
            "stacks/app.yml",
            &format!("services:\n  web:\n    image: {image}\n"),
        )
        .file(
            "workflows/deploy.yml",
            &format!("steps:\n  - stack: {{ name: {stack}, compose: stacks/app.yml }}\n"),
        )
}

/// `docker --tlsverify` with the client certificate, against `host`.
fn docker_over_tls(ca: &Path, cert: &Path, key: &Path, host: &str, args: &[&str]) -> String {
    let config = tempfile::tempdir().expect("temp");
    run_successfully(
        Command::new("docker")
            .arg("--tlsverify")
            .arg("--tlscacert")
            .arg(ca)
            .arg("--tlscert")
            .arg(cert)
            .arg("--tlskey")
            .arg(key)
            .args(["-H", host])
            .args(args)
            .env("DOCKER_CONFIG", config.path())
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_TLS_VERIFY")
            .env_remove("DOCKER_CERT_PATH")
            .stdin(Stdio::null()),
        Duration::from_secs(60),
    )
}

fn failed(run: &Run) -> String {
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    run.stderr.clone()
}

#[test]
fn plan_apply_and_serve_through_mutual_tls_and_each_refusal_of_the_daemon() {
    let ca = TestCa::new("shoal test CA");
    let (client, client_key) = ca.client("shoal");
    let swarm = PrivateSwarm::with_tls(ca.folder());
    let host = swarm.tls_host().to_owned();
    let image = swarm.image("shoal-test/busybox:tls");

    // The oracle: the docker CLI accepts the engine's certificate, and the engine the
    // client certificate.
    let oracle = docker_over_tls(
        &ca.certificate(),
        &client,
        &client_key,
        &host,
        &["info", "--format", "{{.Swarm.ControlAvailable}}"],
    );
    assert_eq!(oracle.trim(), "true");

    // The CA and the certificate from files, the key from a secret of the environment.
    let stack = swarm.unique_name("tls");
    let repo = stack_repo(
        &format!(
            "environments:\n  prod:\n    docker:\n      host: {host}\n      tls:\n        \
             ca: {}\n        cert: {}\n        key_secret: docker_key\n    secrets:\n      \
             docker_key: {{ file: {} }}\n",
            ca.certificate().display(),
            client.display(),
            client_key.display(),
        ),
        &stack,
        &image,
    );
    let apply = repo.run(&["apply", "--env", "prod"]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    let services = docker_over_tls(
        &ca.certificate(),
        &client,
        &client_key,
        &host,
        &["service", "ls", "--format", "{{.Name}}"],
    );
    assert_eq!(services.trim(), format!("{stack}_web"));
    let plan = repo.run(&["plan", "--env", "prod"]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    assert!(plan.stdout.contains("Plan: no changes."), "{}", plan.stdout);

    // The daemon reaches the environment the same way.
    let daemon_stack = swarm.unique_name("tls-daemon");
    let daemon_repo = TestRepo::new()
        .file(
            "shoal.yml",
            &std::fs::read_to_string(repo.path().join("shoal.yml")).expect("reads"),
        )
        .file(
            "stacks/app.yml",
            &format!("services:\n  web:\n    image: {image}\n"),
        )
        .file(
            "workflows/deploy.yml",
            &format!(
                "on: {{ push: {{ branches: [main] }} }}\nsteps:\n  - stack: {{ name: \
                 {daemon_stack}, compose: stacks/app.yml }}\n"
            ),
        );
    let commit = Commit::of(daemon_repo.path(), "through TLS");
    let state = tempfile::tempdir().expect("temp");
    let port = free_tcp_port();
    let mut command = shoal();
    command
        .args(["serve", "--branch", "main", "--poll-interval", "1s"])
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--repo")
        .arg(daemon_repo.path())
        .arg("--state")
        .arg(state.path())
        .env_remove("SHOAL_DOCKER_HOST")
        .env_remove("DOCKER_HOST")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let daemon = ServeDaemon::spawn(command, port, state.path());
    let run = daemon.wait_for_commit(&commit.sha);
    assert_eq!(run["status"], "success", "{run}");
    let services = docker_over_tls(
        &ca.certificate(),
        &client,
        &client_key,
        &host,
        &["service", "ls", "--format", "{{.Name}}"],
    );
    assert!(
        services
            .lines()
            .any(|name| name == format!("{daemon_stack}_web")),
        "{services}"
    );
    drop(daemon);

    // As the docker CLI: `--docker-host` with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH.
    let cert_path = tempfile::tempdir().expect("temp");
    std::fs::copy(ca.certificate(), cert_path.path().join("ca.pem")).expect("copies");
    std::fs::copy(&client, cert_path.path().join("cert.pem")).expect("copies");
    std::fs::copy(&client_key, cert_path.path().join("key.pem")).expect("copies");
    let bare = stack_repo("environments: { prod: {} }", &stack, &image)
        .env("DOCKER_TLS_VERIFY", "1")
        .env("DOCKER_CERT_PATH", &cert_path.path().display().to_string());
    let plan = bare.run(&["plan", "--env", "prod", "--docker-host", &host]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    assert!(plan.stdout.contains("Plan: no changes."), "{}", plan.stdout);

    // A client certificate of another CA.
    let other = TestCa::new("another CA");
    let (stranger, stranger_key) = other.client("stranger");
    let refused = stack_repo(
        &format!(
            "environments:\n  prod:\n    docker:\n      host: {host}\n      tls: {{ ca: {}, \
             cert: {}, key: {} }}\n",
            ca.certificate().display(),
            stranger.display(),
            stranger_key.display(),
        ),
        &stack,
        &image,
    );
    assert_eq!(
        failed(&refused.run(&["plan", "--env", "prod"])),
        format!(
            "error: environment `prod`: cannot connect to the Docker daemon at {host}: the \
             daemon refused shoal's client certificate {} (TLS alert: bad_certificate): it \
             must be signed by the CA the daemon trusts (dockerd's --tlscacert) and be valid \
             for client authentication\n",
            stranger.display()
        )
    );

    // No TLS configured for an endpoint that speaks it.
    let plain = stack_repo("environments: { prod: {} }", &stack, &image);
    assert_eq!(
        failed(&plain.run(&["plan", "--env", "prod", "--docker-host", &host])),
        format!(
            "error: environment `prod`: cannot connect to the Docker daemon at {host}: the \
             daemon speaks TLS, but no TLS is configured for it: add `docker.tls` to the \
             environment (`ca`, `cert`, `key`, or `cert_path`), or with `--docker-host` set \
             DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH as for the docker CLI\n"
        )
    );
}

/// A TLS server on loopback that presents `certificate`, until dropped.
struct TlsServer {
    child: Child,
    port: u16,
}

impl TlsServer {
    fn start(certificate: &Path, key: &Path) -> TlsServer {
        let port = free_tcp_port();
        let child = Command::new("openssl")
            .args(["s_server", "-quiet", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("-cert")
            .arg(certificate)
            .arg("-key")
            .arg(key)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl runs");
        wait_for_port(port);
        TlsServer { child, port }
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn each_wrong_server_certificate_says_what_to_fix() {
    let ca = TestCa::new("shoal test CA");
    let (client, client_key) = ca.client("shoal");
    let cert_path = tempfile::tempdir().expect("temp");
    std::fs::copy(ca.certificate(), cert_path.path().join("ca.pem")).expect("copies");
    std::fs::copy(&client, cert_path.path().join("cert.pem")).expect("copies");
    std::fs::copy(&client_key, cert_path.path().join("key.pem")).expect("copies");
    let plan = |port: u16| {
        let repo = stack_repo(
            &format!(
                "environments:\n  prod:\n    docker:\n      host: tcp://127.0.0.1:{port}\n      \
                 tls: {{ cert_path: {} }}\n",
                cert_path.path().display()
            ),
            "tls",
            "busybox",
        );
        failed(&repo.run(&["plan", "--env", "prod", "--docker-timeout", "10s"]))
    };
    let prefix = |port: u16| {
        format!(
            "error: environment `prod`: cannot connect to the Docker daemon at \
             tcp://127.0.0.1:{port}: "
        )
    };

    let other = TestCa::new("another CA");
    let (foreign, foreign_key) = other.server("foreign", "IP:127.0.0.1");
    let server = TlsServer::start(&foreign, &foreign_key);
    assert_eq!(
        plan(server.port),
        format!(
            "{}the daemon's TLS certificate is not signed by the CA {}: give shoal the CA \
             that signed the daemon's certificate (`docker.tls.ca`)\n",
            prefix(server.port),
            cert_path.path().join("ca.pem").display()
        )
    );
    drop(server);

    let (elsewhere, elsewhere_key) = ca.server("elsewhere", "IP:192.0.2.7, DNS:docker.example");
    let server = TlsServer::start(&elsewhere, &elsewhere_key);
    assert_eq!(
        plan(server.port),
        format!(
            "{}the daemon's TLS certificate is not valid for 127.0.0.1: its subject \
             alternative names are 192.0.2.7, docker.example; connect to one of those, or give \
             the daemon a certificate whose SANs include IP:127.0.0.1\n",
            prefix(server.port)
        )
    );
    drop(server);

    let validity = Validity {
        not_before: "20200101000000Z",
        not_after: "20210101000000Z",
    };
    let (expired, expired_key) = ca.expired_server("expired", "IP:127.0.0.1", &validity);
    let server = TlsServer::start(&expired, &expired_key);
    assert_eq!(
        plan(server.port),
        format!(
            "{}the daemon's TLS certificate expired on 2021-01-01 00:00:00 UTC: give the \
             daemon a new one (dockerd's --tlscert)\n",
            prefix(server.port)
        )
    );
    drop(server);

    // TLS configured for an endpoint that speaks plain HTTP.
    let www = tempfile::tempdir().expect("temp");
    let port = free_tcp_port();
    let mut httpd = Command::new("/bin/busybox")
        .args(["httpd", "-f", "-p"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-h")
        .arg(www.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("busybox runs");
    wait_for_port(port);
    let answer = plan(port);
    let _ = httpd.kill();
    let _ = httpd.wait();
    assert_eq!(
        answer,
        format!(
            "{}127.0.0.1:{port} does not speak TLS (it answered the TLS handshake with \
             something else, such as plain HTTP): remove `docker.tls` (or DOCKER_TLS_VERIFY) \
             if the daemon listens without TLS, or point the host at the daemon's TLS port\n",
            prefix(port)
        )
    );
}
