//! A Docker daemon that hangs or is gone gives a clear error in bounded time, never a hang,
//! and nothing is written.

use std::net::TcpListener;
use std::os::unix::net::UnixListener;
use std::time::{Duration, Instant};

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
fn plan_and_apply_refuse_docker_tls_before_connecting() {
    // Stands for the environment's daemon: nothing may connect to it.
    let daemon = TcpListener::bind(("127.0.0.1", 0)).expect("a port");
    daemon.set_nonblocking(true).expect("non-blocking");
    let port = daemon.local_addr().expect("an address").port();
    let repo = repo().file(
        "shoal.yml",
        &format!(
            "environments:\n  staging:\n    docker:\n      host: tcp://127.0.0.1:{port}\n      \
             tls: {{ ca: ca.pem, cert: cert.pem, key: key.pem }}\n"
        ),
    );
    for command in ["plan", "apply"] {
        let run = repo.run(&[command, "--env", "staging"]);
        assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
        assert_eq!(
            run.stderr,
            "error: environment `staging` cannot be reached: shoal.yml:5:7: `docker.tls` is \
             not implemented yet (issue 12): shoal refuses to connect to this environment's \
             Docker daemon rather than connect without TLS\n  \
             = help: use `--docker-host` to name a daemon to use instead (a unix socket, or a \
             tcp:// address that needs no TLS, such as an SSH tunnel's)\n"
        );
    }
    assert_eq!(
        daemon.accept().map(|_| ()).map_err(|error| error.kind()),
        Err(std::io::ErrorKind::WouldBlock),
        "shoal connected"
    );
}

#[test]
fn an_ssh_docker_host_is_refused_before_connecting() {
    let run = repo().run(&[
        "plan",
        "--env",
        "local",
        "--docker-host",
        "ssh://shoal@192.0.2.20",
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(
            "ssh:// Docker hosts are not implemented yet (issue 12): shoal refuses to \
             connect to `ssh://shoal@192.0.2.20`; use unix:///path/to/docker.sock or \
             tcp://HOST:PORT"
        ),
        "{}",
        run.stderr
    );
}
