//! A Docker daemon that hangs or is gone gives a clear error in bounded time, never a hang,
//! and nothing is written.

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
