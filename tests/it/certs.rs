//! The `certs` step against a real private swarm, with openssl as the oracle: `shoal ca
//! create`, then a workflow issuing a server certificate (one bundle secret) and a client
//! certificate (three secrets) that a service mounts through `external: true` names; the
//! certificates are read back from inside the service's container and checked with
//! `openssl verify` and `openssl x509`. A second apply issues nothing, a `force` input
//! renews; a certificate inside `renew_before` is issued again and the service rolls to
//! the new secret. A dockerd started with `--tlsverify` that trusts shoal's CA lets in
//! the docker CLI with the client certificate shoal issued, and refuses another CA's; the
//! server certificate serves TLS to `openssl s_client`. `shoal serve` issues on a push,
//! and a pull request's plan (no secret values) says what it would issue and issues
//! nothing.

use std::ffi::OsString;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::serve_daemon::{ServeDaemon, github_signature};
use crate::support::test_pki::TestCa;
use crate::support::{PrivateSwarm, free_tcp_port, git, run, run_successfully, write_file};
use crate::test_repo::{Run, TestRepo, shoal};

const OPENSSL_TIMEOUT: Duration = Duration::from_secs(30);

/// A CA made by `shoal ca create` in a folder of its own: (certificate, key).
fn shoal_ca(folder: &Path) -> (String, String) {
    let out = folder.join("ca");
    let made = Run::from(
        shoal()
            .args(["ca", "create", "--common-name", "test CA", "--out"])
            .arg(&out)
            .output()
            .expect("shoal runs"),
    );
    assert_eq!(made.code, 0, "{}{}", made.stdout, made.stderr);
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(out.join("ca-key.pem"))
            .expect("the key")
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "the CA key is for its owner only");
    let again = Run::from(
        shoal()
            .args(["ca", "create", "--out"])
            .arg(&out)
            .output()
            .expect("shoal runs"),
    );
    assert_eq!(again.code, 1, "{}{}", again.stdout, again.stderr);
    assert!(
        again
            .stderr
            .contains("exists already; shoal never overwrites a CA"),
        "{}",
        again.stderr
    );
    (
        std::fs::read_to_string(out.join("ca.pem")).expect("ca.pem"),
        std::fs::read_to_string(out.join("ca-key.pem")).expect("ca-key.pem"),
    )
}

fn certs_repo(
    swarm: &PrivateSwarm,
    stack: &str,
    image: &str,
    ca: &(String, String),
    server_timing: &str,
) -> TestRepo {
    TestRepo::new()
        .file(
            "shoal.yml",
            &format!(
                "
                environments:
                  local:
                    docker: {{ host: \"{host}\" }}
                    vars: {{ address: \"{address}\" }}
                    secrets: {{ ca_key: {{ env: TEST_CERTS_CA_KEY }} }}
                ",
                host = swarm.docker_host(),
                address = swarm.address(),
            ),
        )
        .file("pki/ca.pem", &ca.0)
        .file(
            "stacks/app.yml",
            &format!(
                "
                version: \"3.8\"
                services:
                  app:
                    image: {image}
                    secrets: [server, client_cert, client_key, client_ca]
                secrets:
                  server: {{ external: true, name: {stack}-server.pem }}
                  client_cert: {{ external: true, name: {stack}-client-cert.pem }}
                  client_key: {{ external: true, name: {stack}-client-key.pem }}
                  client_ca: {{ external: true, name: {stack}-client-ca.pem }}
                "
            ),
        )
        .file(
            "workflows/deploy.yml",
            &format!(
                "
                on:
                  workflow_dispatch:
                    inputs:
                      force: {{ type: boolean, default: false }}
                steps:
                  - certs:
                      ca: {{ cert: pki/ca.pem, key_secret: ca_key }}
                      force: \"{{{{ inputs.force }}}}\"
                      certificates:
                        - name: dockerd
                          usage: server
                          sans: [\"{{{{ vars.address }}}}\", manager.example.org]
                          {server_timing}
                          to_secret: {{ bundle: {stack}-server.pem }}
                        - name: scaler
                          usage: client
                          common_name: scaler
                          to_secret:
                            cert: {stack}-client-cert.pem
                            key: {stack}-client-key.pem
                            ca: {stack}-client-ca.pem
                  - stack: {{ name: {stack}, compose: stacks/app.yml }}
                "
            ),
        )
        .env("TEST_CERTS_CA_KEY", &ca.1)
}

/// The content of `/run/secrets/NAME` in the running container of `service`.
fn secret_in_service(swarm: &PrivateSwarm, service: &str, name: &str) -> String {
    let containers = swarm.run_docker(&[
        "ps",
        "-q",
        "--filter",
        &format!("label=com.docker.swarm.service.name={service}"),
    ]);
    let container = containers.lines().next().expect("a running container");
    swarm.run_docker(&["exec", container, "cat", &format!("/run/secrets/{name}")])
}

/// The secret the service uses under target `target`.
fn secret_name_used(swarm: &PrivateSwarm, service: &str, target: &str) -> String {
    let format = format!(
        "{{{{range .Spec.TaskTemplate.ContainerSpec.Secrets}}}}{{{{if eq .File.Name \"{target}\"}}}}{{{{.SecretName}}}}{{{{end}}}}{{{{end}}}}"
    );
    swarm
        .run_docker(&["service", "inspect", "--format", &format, service])
        .trim()
        .to_owned()
}

fn openssl(folder: &Path, args: &[&str]) -> String {
    run_successfully(
        Command::new("openssl").args(args).current_dir(folder),
        OPENSSL_TIMEOUT,
    )
}

#[test]
fn certs_issue_certificates_openssl_verifies_and_a_second_apply_issues_nothing() {
    let swarm = PrivateSwarm::shared();
    let image = swarm.image("shoal-test/busybox:certs");
    let stack = swarm.unique_name("certs");
    let folder = tempfile::tempdir().expect("a folder");
    let ca = shoal_ca(folder.path());
    let repo = certs_repo(swarm, &stack, &image, &ca, "");

    let plan = repo.run(&["plan", "--env", "local"]);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains("    + certificate dockerd: missing\n")
            && plan.stdout.contains("    + certificate scaler: missing\n"),
        "{}",
        plan.stdout
    );
    let applied = repo.run(&["apply", "--env", "local"]);
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    for run in [&plan, &applied] {
        assert!(
            !run.stdout.contains("PRIVATE KEY") && !run.stderr.contains("PRIVATE KEY"),
            "a key was shown: {}{}",
            run.stdout,
            run.stderr
        );
    }
    let service = format!("{stack}_app");
    swarm.wait_for_running_tasks(&service, 1, Duration::from_secs(60));

    let files = folder.path();
    std::fs::write(files.join("ca.pem"), &ca.0).expect("write");
    let bundle = secret_in_service(swarm, &service, "server");
    std::fs::write(files.join("server.pem"), &bundle).expect("write");
    for (target, file) in [
        ("client_cert", "client.pem"),
        ("client_key", "client-key.pem"),
        ("client_ca", "client-ca.pem"),
    ] {
        std::fs::write(files.join(file), secret_in_service(swarm, &service, target))
            .expect("write");
    }
    // The bundle is certificate, key, CA, in that order (as seed 004's scaler reads it).
    let blocks: Vec<&str> = bundle
        .lines()
        .filter(|line| line.starts_with("-----BEGIN"))
        .collect();
    assert_eq!(
        blocks,
        [
            "-----BEGIN CERTIFICATE-----",
            "-----BEGIN PRIVATE KEY-----",
            "-----BEGIN CERTIFICATE-----"
        ]
    );
    assert_eq!(
        std::fs::read_to_string(files.join("client-ca.pem")).expect("read"),
        ca.0
    );

    for certificate in ["server.pem", "client.pem"] {
        let verified = openssl(files, &["verify", "-CAfile", "ca.pem", certificate]);
        assert_eq!(verified.trim(), format!("{certificate}: OK"));
    }
    let server = openssl(files, &["x509", "-in", "server.pem", "-noout", "-text"]);
    assert!(
        server.contains(&format!(
            "IP Address:{}, DNS:manager.example.org",
            swarm.address()
        )),
        "{server}"
    );
    assert!(server.contains("TLS Web Server Authentication"), "{server}");
    assert!(
        !server.contains("TLS Web Client Authentication"),
        "{server}"
    );
    assert!(server.contains("Issuer: CN = test CA"), "{server}");
    assert!(server.contains("Subject: CN = dockerd"), "{server}");
    let client = openssl(files, &["x509", "-in", "client.pem", "-noout", "-text"]);
    assert!(client.contains("TLS Web Client Authentication"), "{client}");
    assert!(client.contains("Subject: CN = scaler"), "{client}");
    // The key is the certificate's: the public keys match.
    let from_key = openssl(files, &["pkey", "-in", "client-key.pem", "-pubout"]);
    let from_certificate = openssl(files, &["x509", "-in", "client.pem", "-noout", "-pubkey"]);
    assert_eq!(from_key, from_certificate);
    // Valid now, for 365 days (the default): still in 364 days, no longer in 366.
    openssl(
        files,
        &[
            "x509",
            "-in",
            "server.pem",
            "-noout",
            "-checkend",
            "31449600",
        ],
    );
    let beyond = run(
        Command::new("openssl")
            .args([
                "x509",
                "-in",
                "server.pem",
                "-noout",
                "-checkend",
                "31622400",
            ])
            .current_dir(files),
        OPENSSL_TIMEOUT,
    );
    assert!(!beyond.status.success(), "valid for more than 365 days");

    // Nothing to do the second time: the labels say both certificates are valid.
    let again = repo.run(&["plan", "--env", "local"]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert!(
        again
            .stdout
            .contains("    = certificate dockerd valid until ")
            && again
                .stdout
                .contains("    = certificate scaler valid until "),
        "{}",
        again.stdout
    );
    let secrets_of_stack = || {
        swarm
            .run_docker(&["secret", "ls", "--format", "{{.Name}}"])
            .lines()
            .filter(|name| name.starts_with(&format!("{stack}-")))
            .map(str::to_owned)
            .collect::<Vec<String>>()
    };
    let secrets_before = secrets_of_stack();
    let reapplied = repo.run(&["apply", "--env", "local"]);
    assert_eq!(
        reapplied.code, 0,
        "{}{}",
        reapplied.stdout, reapplied.stderr
    );
    assert_eq!(secret_in_service(swarm, &service, "server"), bundle);
    // An unchanged run issues nothing and writes nothing.
    assert!(
        !reapplied.stdout.contains("created secret"),
        "{}",
        reapplied.stdout
    );
    assert_eq!(secrets_of_stack(), secrets_before);

    // A dispatch with `force` renews regardless of dates.
    let forced = repo.run(&["plan", "--env", "local", "--input", "force=true"]);
    assert_eq!(forced.code, 2, "{}{}", forced.stdout, forced.stderr);
    assert!(
        forced
            .stdout
            .contains("    ~ certificate dockerd: renewal forced\n")
            && forced
                .stdout
                .contains("    ~ certificate scaler: renewal forced\n"),
        "{}",
        forced.stdout
    );
}

#[test]
fn a_certificate_inside_renew_before_is_issued_again_and_the_service_rolls() {
    let swarm = PrivateSwarm::shared();
    let image = swarm.image("shoal-test/busybox:certs");
    let stack = swarm.unique_name("renew");
    let folder = tempfile::tempdir().expect("a folder");
    let ca = shoal_ca(folder.path());
    // Renewed once less than a second of its hour has gone by: on every run after the
    // first.
    let repo = certs_repo(
        swarm,
        &stack,
        &image,
        &ca,
        "validity: 1h\n                          renew_before: 59m 59s",
    );
    let service = format!("{stack}_app");
    let first = repo.run(&["apply", "--env", "local"]);
    assert_eq!(first.code, 0, "{}{}", first.stdout, first.stderr);
    swarm.wait_for_running_tasks(&service, 1, Duration::from_secs(60));
    let first_secret = secret_name_used(swarm, &service, "server");
    assert!(
        first_secret.starts_with(&format!("{stack}-server.pem-")),
        "{first_secret}"
    );
    let first_bundle = secret_in_service(swarm, &service, "server");

    std::thread::sleep(Duration::from_secs(2));
    let plan = repo.run(&["plan", "--env", "local"]);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout
            .contains("    ~ certificate dockerd: expires in 0 days\n"),
        "{}",
        plan.stdout
    );
    let second = repo.run(&["apply", "--env", "local"]);
    assert_eq!(second.code, 0, "{}{}", second.stdout, second.stderr);
    swarm.wait_for_running_tasks(&service, 1, Duration::from_secs(60));
    let second_secret = secret_name_used(swarm, &service, "server");
    assert!(
        second_secret.starts_with(&format!("{stack}-server.pem-")),
        "{second_secret}"
    );
    assert_ne!(
        second_secret, first_secret,
        "the service rolled to the new secret"
    );
    assert_ne!(secret_in_service(swarm, &service, "server"), first_bundle);

    // The first version is unused now: the next run removes it.
    std::thread::sleep(Duration::from_secs(2));
    let third = repo.run(&["apply", "--env", "local"]);
    assert_eq!(third.code, 0, "{}{}", third.stdout, third.stderr);
    assert!(
        third
            .stdout
            .contains(&format!("removed secret {first_secret}")),
        "{}",
        third.stdout
    );
    let secrets = swarm.run_docker(&["secret", "ls", "--format", "{{.Name}}"]);
    assert!(
        !secrets.lines().any(|name| name == first_secret),
        "{secrets}"
    );
}

/// `docker --tlsverify` with a client certificate, against `host`: its output.
fn docker_over_tls(folder: &Path, cert: &str, key: &str, host: &str) -> std::process::Output {
    let config = tempfile::tempdir().expect("temp");
    run(
        Command::new("docker")
            .args([
                "--tlsverify",
                "--tlscacert",
                "ca.pem",
                "--tlscert",
                cert,
                "--tlskey",
                key,
            ])
            .args(["-H", host, "version", "--format", "{{.Server.Os}}"])
            .current_dir(folder)
            .env("DOCKER_CONFIG", config.path())
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_TLS_VERIFY")
            .env_remove("DOCKER_CERT_PATH")
            .stdin(Stdio::null()),
        Duration::from_secs(60),
    )
}

#[test]
fn a_dockerd_with_tlsverify_trusts_shoals_client_certificate_and_refuses_another_cas() {
    let folder = tempfile::tempdir().expect("a folder");
    let ca = shoal_ca(folder.path());
    // The engine trusts shoal's CA for its clients (`--tlscacert`); the script issues its
    // server certificate from the same CA with openssl.
    let swarm = PrivateSwarm::with_tls(&folder.path().join("ca"));
    let image = swarm.image("shoal-test/busybox:certs-tls");
    let stack = swarm.unique_name("tls");
    let repo = certs_repo(&swarm, &stack, &image, &ca, "");
    let applied = repo.run(&["apply", "--env", "local"]);
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    let service = format!("{stack}_app");
    swarm.wait_for_running_tasks(&service, 1, Duration::from_secs(60));

    let files = folder.path();
    std::fs::write(files.join("ca.pem"), &ca.0).expect("write");
    for (target, file) in [
        ("server", "server.pem"),
        ("client_cert", "cert.pem"),
        ("client_key", "key.pem"),
    ] {
        std::fs::write(
            files.join(file),
            secret_in_service(&swarm, &service, target),
        )
        .expect("write");
    }

    // The docker CLI with shoal's client certificate.
    let host = swarm.tls_host().to_owned();
    let accepted = docker_over_tls(files, "cert.pem", "key.pem", &host);
    assert!(
        accepted.status.success(),
        "{}",
        String::from_utf8_lossy(&accepted.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&accepted.stdout).trim(), "linux");
    // shoal's next plan, over TLS with the certificate it issued, changes nothing.
    let over_tls = Run::from(
        shoal()
            .args(["plan", "--env", "local", "--docker-host", &host, "--repo"])
            .arg(repo.path())
            .env("TEST_CERTS_CA_KEY", &ca.1)
            .env("DOCKER_TLS_VERIFY", "1")
            .env("DOCKER_CERT_PATH", files)
            .output()
            .expect("shoal runs"),
    );
    assert_eq!(over_tls.code, 0, "{}{}", over_tls.stdout, over_tls.stderr);
    assert!(
        over_tls
            .stdout
            .contains("    = certificate scaler valid until "),
        "{}",
        over_tls.stdout
    );

    // A client certificate from another CA is refused.
    let other = TestCa::new("another CA");
    let (stranger, stranger_key) = other.client("stranger");
    let refused = docker_over_tls(
        files,
        &stranger.display().to_string(),
        &stranger_key.display().to_string(),
        &host,
    );
    assert!(!refused.status.success(), "another CA's client was let in");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("bad certificate"), "{said}");

    // The server certificate serves TLS to a client that checks its name against shoal's
    // CA, and asks for shoal's client certificate.
    let port = free_tcp_port();
    let mut server = Command::new("openssl")
        .args(["s_server", "-quiet", "-accept", &port.to_string()])
        .args([
            "-cert",
            "server.pem",
            "-key",
            "server.pem",
            "-CAfile",
            "ca.pem",
        ])
        .args(["-Verify", "1", "-verify_return_error"])
        .current_dir(files)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl s_server starts");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "s_server never listened"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let client = run(
        Command::new("openssl")
            .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
            .args(["-CAfile", "ca.pem", "-verify_return_error"])
            .args(["-verify_hostname", "manager.example.org"])
            .args(["-cert", "cert.pem", "-key", "key.pem"])
            .current_dir(files)
            .stdin(Stdio::null()),
        OPENSSL_TIMEOUT,
    );
    let _ = server.kill();
    let _ = server.wait();
    let said = String::from_utf8_lossy(&client.stdout);
    assert!(said.contains("Verify return code: 0 (ok)"), "{said}");
    assert!(said.contains("subject=CN = dockerd"), "{said}");
}

#[test]
fn the_daemon_issues_on_push_and_a_pull_requests_plan_issues_nothing() {
    let swarm = PrivateSwarm::shared();
    let folder = tempfile::tempdir().expect("a folder");
    let ca = shoal_ca(folder.path());
    let secret = swarm.unique_name("daemon");
    let source = tempfile::tempdir().expect("temp");
    let write = |path: &str, text: &str| write_file(source.path(), path, text);
    let workflow = |sans: &str| {
        format!(
            "on:\n  push: {{ branches: [main] }}\n  pull_request: {{ branches: [main] }}\n\
             steps:\n  - certs:\n      ca: {{ cert: pki/ca.pem, key_secret: ca_key }}\n      \
             certificates:\n        - name: dockerd\n          usage: server\n          \
             sans: [{sans}]\n          to_secret: {{ bundle: {secret}.pem }}\n"
        )
    };
    write(
        "shoal.yml",
        "environments:\n  local:\n    secrets: { ca_key: { file: ca-key.pem } }\n",
    );
    write("pki/ca.pem", &ca.0);
    write("workflows/certs.yml", &workflow("manager.example.org"));
    git(source.path(), &["init", "-q", "-b", "main"]);
    git(source.path(), &["add", "-A"]);
    git(source.path(), &["commit", "-q", "-m", "certificates"]);
    let first = git(source.path(), &["rev-parse", "HEAD"]).trim().to_owned();
    git(source.path(), &["checkout", "-q", "-b", "more-names"]);
    write(
        "workflows/certs.yml",
        &workflow("manager.example.org, api.example.org"),
    );
    git(source.path(), &["commit", "-q", "-am", "one more name"]);
    let pull = git(source.path(), &["rev-parse", "HEAD"]).trim().to_owned();
    git(source.path(), &["checkout", "-q", "main"]);

    let state = tempfile::tempdir().expect("temp");
    let hook_secret = state.path().join("webhook-secret");
    std::fs::write(&hook_secret, "hook-secret\n").expect("secret");
    let state_folder = state.path().join("state");
    let args: Vec<OsString> = vec![
        "--webhook-secret-file".into(),
        hook_secret.into_os_string(),
        "--secrets-folder".into(),
        folder.path().join("ca").into_os_string(),
    ];
    let daemon = ServeDaemon::start(&state_folder, source.path(), swarm, &args);
    let applied = daemon.wait_for_commit(&first);
    assert_eq!(applied["status"], "success", "{applied}");
    let versions = || {
        swarm
            .run_docker(&["secret", "ls", "--format", "{{.Name}}"])
            .lines()
            .filter(|name| name.starts_with(&format!("{secret}.pem-")))
            .map(str::to_owned)
            .collect::<Vec<String>>()
    };
    assert_eq!(versions().len(), 1, "{:?}", versions());

    let body = serde_json::json!({
        "action": "opened",
        "number": 8,
        "pull_request": { "base": { "ref": "main" }, "head": { "sha": pull } },
        "sender": { "login": "mallory" },
    })
    .to_string();
    let (status, answer) = daemon.post(
        "/hooks/github",
        &[
            ("X-GitHub-Event", "pull_request".into()),
            ("X-GitHub-Delivery", "pr-8-certs".into()),
            (
                "X-Hub-Signature-256",
                github_signature(b"hook-secret", &body),
            ),
        ],
        &body,
    );
    assert_eq!(status, 202, "{answer}");
    let planned = daemon.wait_for_commit(&pull);
    assert_eq!(planned["mode"], "plan", "{planned}");
    let id = planned["id"].as_i64().expect("an id").to_string();
    let logs = Run::from(
        shoal()
            .args(["runs", "logs", &id, "--state"])
            .arg(&state_folder)
            .output()
            .expect("shoal runs"),
    );
    assert!(
        logs.stdout.contains("~ certificate dockerd: SANs changed")
            && logs.stdout.contains(&format!(
                "+ create secret {secret}.pem-(issued when applied)"
            )),
        "{}{}",
        logs.stdout,
        logs.stderr
    );
    assert!(!logs.stdout.contains("PRIVATE KEY"), "{}", logs.stdout);
    // The pull request's plan made nothing.
    assert_eq!(versions().len(), 1, "{:?}", versions());
}
