//! A Docker daemon that hangs or is gone gives a clear error in bounded time, never a hang,
//! and nothing is written.

use std::net::TcpListener;
use std::os::unix::net::UnixListener;
use std::time::{Duration, Instant};

use crate::support::test_pki::TestCa;
use crate::test_repo::TestRepo;

fn repo() -> TestRepo {
    TestRepo::new()
        .file("shoal.yml", "environments: { local: {} }")
        .file(
            "stacks/app.yml",
            "version: \"3.8\"\nservices:\n  app:\n    image: busybox\n",
        )
        .file(
            "workflows/deploy.yml",
            "steps:\n  - stack: { name: app, compose: stacks/app.yml }\n",
        )
}

#[test]
fn a_daemon_that_never_answers_times_out_with_a_clear_error() {
    let folder = tempfile::tempdir().expect("temp");
    let socket = folder.path().join("silent.sock");
    // Accepts connections and keeps them open without ever answering.
    let listener = UnixListener::bind(&socket).expect("bind");
    let accepted = std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(4) {
            held.push(stream);
        }
        std::thread::sleep(Duration::from_secs(10));
    });
    let started = Instant::now();
    let host = format!("unix://{}", socket.display());
    let run = repo().run(&[
        "apply",
        "--env",
        "local",
        "--docker-host",
        &host,
        "--docker-timeout",
        "2s",
    ]);
    let elapsed = started.elapsed();
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "Docker daemon at {host} did not answer the version handshake within 2 s"
        )),
        "{}",
        run.stderr
    );
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
    drop(accepted);
}

#[test]
fn a_daemon_that_is_gone_is_reported_at_once() {
    let folder = tempfile::tempdir().expect("temp");
    let host = format!("unix://{}", folder.path().join("no-daemon.sock").display());
    let run = repo().run(&["plan", "--env", "local", "--docker-host", &host]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains(&format!("cannot connect to the Docker daemon at {host}")),
        "{}",
        run.stderr
    );
}

#[test]
fn tls_material_that_cannot_be_used_is_reported_before_connecting() {
    // Stands for the environment's daemon: nothing may connect to it.
    let daemon = TcpListener::bind(("127.0.0.1", 0)).expect("a port");
    daemon.set_nonblocking(true).expect("non-blocking");
    let port = daemon.local_addr().expect("an address").port();
    let shoal_yml = format!(
        "environments:\n  staging:\n    docker:\n      host: tcp://127.0.0.1:{port}\n      \
         tls: {{ ca: pki/ca.pem, cert: pki/cert.pem, key_secret: docker_key }}\n    \
         secrets: {{ docker_key: {{ env: SHOAL_TEST_DOCKER_KEY }} }}\n"
    );
    let missing = repo().file("shoal.yml", &shoal_yml);
    for command in ["plan", "apply"] {
        let run = missing.run(&[command, "--env", "staging"]);
        assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
        assert_eq!(
            run.stderr,
            format!(
                "error: environment `staging`: shoal.yml:5:18: cannot read the CA certificate \
                 {}/pki/ca.pem: No such file or directory (os error 2)\n",
                missing.path().display()
            )
        );
    }
    // A key that is not one: its text is never shown.
    let certificate = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
    let not_a_key = repo()
        .file("shoal.yml", &shoal_yml)
        .file("pki/ca.pem", "not a certificate")
        .file("pki/cert.pem", certificate)
        .env("SHOAL_TEST_DOCKER_KEY", "hunter2");
    let run = not_a_key.run(&["plan", "--env", "staging"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.stderr,
        format!(
            "error: environment `staging`: cannot connect to the Docker daemon at \
             tcp://127.0.0.1:{port} over TLS: the CA certificate {}/pki/ca.pem holds no PEM \
             certificate (-----BEGIN CERTIFICATE-----)\n",
            not_a_key.path().display()
        )
    );
    let ca = TestCa::new("shoal test CA");
    let (client, _) = ca.client("shoal");
    let read = |path: &std::path::Path| std::fs::read_to_string(path).expect("reads");
    let not_a_key = not_a_key
        .file("pki/ca.pem", &read(&ca.certificate()))
        .file("pki/cert.pem", &read(&client));
    let run = not_a_key.run(&["plan", "--env", "staging"]);
    assert_eq!(
        run.stderr,
        format!(
            "error: environment `staging`: cannot connect to the Docker daemon at \
             tcp://127.0.0.1:{port} over TLS: the client key (secret `docker_key`) holds no \
             PEM private key (-----BEGIN PRIVATE KEY-----, RSA PRIVATE KEY or EC PRIVATE KEY)\n"
        )
    );
    assert_eq!(
        daemon.accept().map(|_| ()).map_err(|error| error.kind()),
        Err(std::io::ErrorKind::WouldBlock),
        "shoal connected"
    );
}

#[test]
fn an_ssh_docker_host_that_refuses_the_connection_is_named() {
    let port = crate::support::free_tcp_port();
    let host = format!("ssh://shoal@127.0.0.1:{port}");
    let run = repo().run(&["plan", "--env", "local", "--docker-host", &host]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "cannot connect to the Docker daemon at {host}: cannot connect to \
             127.0.0.1:{port}: Connection refused (os error 111)"
        )),
        "{}",
        run.stderr
    );
}
