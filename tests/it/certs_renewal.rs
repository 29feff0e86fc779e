//! Certificates as the shipped config repo issues and renews them, against a real private
//! swarm: `shoal apply --workflow infrastructure --env offline` (as scripts/quickstart
//! deploys the example) issues Traefik's default certificate from the environment's CA
//! (`pki/offline/ca.pem`; openssl verifies it, Traefik's dynamic configuration names it);
//! then `shoal dispatch renew-certs --env offline` to a real `shoal serve` keeps it (both
//! workflows decide from the same labels) and changes nothing, `force=true` renews and
//! Traefik rolls to the new secret, and the next run removes the old one. A scheduled
//! drift check reports a certificate inside `renew_before` with its days, and issues
//! nothing.

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use shoal::store::RunStatus;
use shoal::trigger::RunMode;

use crate::pipeline_parity::Commit;
use crate::support::serve_daemon::ServeDaemon;
use crate::support::{PrivateSwarm, git, run, run_successfully, write_file};
use crate::test_repo::{Run, TestRepo, project_root, shoal};

const OPENSSL_TIMEOUT: Duration = Duration::from_secs(30);
const TOKEN: &str = "renew-token-0123456789";

/// The secrets of `swarm` whose names start with `prefix`.
fn versions(swarm: &PrivateSwarm, prefix: &str) -> Vec<String> {
    swarm
        .run_docker(&["secret", "ls", "--format", "{{.Name}}"])
        .lines()
        .filter(|name| name.starts_with(prefix))
        .map(str::to_owned)
        .collect()
}

/// The secret `service` uses under target `target`.
fn secret_name_used(swarm: &PrivateSwarm, service: &str, target: &str) -> String {
    let format = format!(
        "{{{{range .Spec.TaskTemplate.ContainerSpec.Secrets}}}}{{{{if eq .File.Name \"{target}\"}}}}{{{{.SecretName}}}}{{{{end}}}}{{{{end}}}}"
    );
    swarm
        .run_docker(&["service", "inspect", "--format", &format, service])
        .trim()
        .to_owned()
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

/// Copies the shipped config repo into `to` with the workflows named (and what they
/// use), its `docker_socket` the private engine's: Traefik and cAdvisor mount it.
fn copy_shipped_repo(to: &Path, workflows: &[&str], swarm: &PrivateSwarm) {
    let root = project_root();
    let listed = run_successfully(
        Command::new("git")
            .args(["ls-files", "shoal.yml", "stacks", "hosts", "pki"])
            .args(workflows)
            .current_dir(&root),
        Duration::from_secs(30),
    );
    for path in listed.lines() {
        let text = std::fs::read_to_string(root.join(path)).expect("a shipped file");
        write_file(to, path, &text);
    }
    let shipped = std::fs::read_to_string(to.join("shoal.yml")).expect("shoal.yml");
    let socket = swarm.folder().join("docker.sock");
    let shoal_yml = shipped.replace(
        "docker_socket: /var/run/docker.sock",
        &format!("docker_socket: {}", socket.display()),
    );
    assert_ne!(shoal_yml, shipped, "shoal.yml names docker_socket");
    write_file(to, "shoal.yml", &shoal_yml);
}

/// The image of Traefik in environment `offline`: a stand-in, an idle busybox.
const TRAEFIK_STAND_IN: &str = "shoal-standin/traefik:v3.3";

#[test]
fn infrastructure_issues_traefiks_certificate_and_shoal_dispatch_renew_certs_renews_it() {
    let swarm = PrivateSwarm::shared();
    swarm.image(TRAEFIK_STAND_IN);
    let service = "traefik_traefik";
    let prefix = "traefik-default-cert.pem-";

    // The example as scripts/quickstart deploys it: workflows/infrastructure.yml issues
    // Traefik's certificate from the environment's CA.
    let whole = tempfile::tempdir().expect("temp");
    copy_shipped_repo(whole.path(), &["workflows"], swarm);
    // The test image idles by its CMD, which the monitoring and MinIO services' commands
    // replace (scripts/quickstart's stand-ins use an ENTRYPOINT): Traefik only, on a
    // `host` infrastructure (no MinIO), monitoring skipped.
    let shoal_yml = std::fs::read_to_string(whole.path().join("shoal.yml")).expect("read");
    let host_infrastructure =
        shoal_yml.replace("\n  infrastructure: target\n", "\n  infrastructure: host\n");
    assert_ne!(host_infrastructure, shoal_yml);
    write_file(whole.path(), "shoal.yml", &host_infrastructure);
    let socket = swarm.folder().join("docker.sock");
    let infrastructure = Run::from(run(
        shoal()
            .args(["apply", "--env", "offline", "--workflow", "infrastructure"])
            .args(["--docker-host", swarm.docker_host(), "--repo"])
            .arg(whole.path())
            .args(["--input", "skip_monitoring=true", "--input"])
            .arg(format!("docker_socket={}", socket.display()))
            .arg("--input")
            .arg(format!(
                "docker_data_root={}",
                swarm.folder().join("data").display()
            )),
        Duration::from_secs(600),
    ));
    assert_eq!(
        infrastructure.code, 0,
        "{}{}",
        infrastructure.stdout, infrastructure.stderr
    );
    assert!(
        infrastructure
            .stdout
            .contains("+ certificate traefik: missing"),
        "{}",
        infrastructure.stdout
    );
    swarm.wait_for_running_tasks(service, 1, Duration::from_secs(90));
    let issued = versions(swarm, prefix);
    assert_eq!(issued.len(), 1, "{issued:?}");

    // `shoal serve` on the same config repo, with renew-certs its only workflow (the
    // others would start on the first commit).
    let source = tempfile::tempdir().expect("temp");
    copy_shipped_repo(source.path(), &["workflows/renew-certs.yml"], swarm);
    git(source.path(), &["init", "-q", "-b", "main"]);
    git(source.path(), &["add", "-A"]);
    git(
        source.path(),
        &["commit", "-q", "-m", "the shipped config repo"],
    );

    let state = tempfile::tempdir().expect("temp");
    let token_file = state.path().join("api-token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).expect("token");
    let state_folder = state.path().join("state");
    // `local` and `offline` read their secrets from files of the repo
    // (stacks/local-secrets/): the secrets folder is the repo's.
    let args: Vec<OsString> = vec![
        "--api-token-file".into(),
        token_file.into_os_string(),
        "--secrets-folder".into(),
        source.path().as_os_str().to_owned(),
    ];
    let daemon = ServeDaemon::start(&state_folder, source.path(), swarm, &args);
    let dispatch = |inputs: &[&str]| -> serde_json::Value {
        let mut command = shoal();
        command
            .args(["dispatch", "renew-certs", "--env", "offline"])
            .args(inputs)
            .env("SHOAL_SERVER", format!("http://127.0.0.1:{}", daemon.port))
            .env("SHOAL_API_TOKEN", TOKEN);
        let queued = Run::from(run(&mut command, Duration::from_secs(60)));
        assert_eq!(
            queued.code,
            0,
            "{}{}\n{}",
            queued.stdout,
            queued.stderr,
            daemon.log()
        );
        let id: i64 = queued
            .stdout
            .strip_prefix("run ")
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("no run ID in {}", queued.stdout));
        let finished = daemon.wait_for_run(|run| run["id"] == id);
        let logs = Run::from(
            shoal()
                .args(["runs", "logs", &id.to_string(), "--state"])
                .arg(&state_folder)
                .output()
                .expect("shoal runs"),
        );
        assert_eq!(
            finished["status"],
            "success",
            "{finished}\n{}{}\n{}",
            logs.stdout,
            logs.stderr,
            daemon.log()
        );
        assert!(!logs.stdout.contains("PRIVATE KEY"), "{}", logs.stdout);
        serde_json::json!({ "run": finished, "log": logs.stdout })
    };
    // Both workflows decide from the same labels: renew-certs keeps the certificate
    // infrastructure issued, and deploys Traefik as it did.
    let first = dispatch(&[]);
    let log = first["log"].as_str().unwrap_or_default();
    assert!(log.contains("= certificate traefik valid until "), "{log}");
    assert_eq!(
        first["run"]["summary"], "offline: Applied 0 changes to offline",
        "{first}"
    );
    assert_eq!(versions(swarm, prefix), issued);
    assert_eq!(
        secret_name_used(swarm, service, "traefik_default_cert"),
        issued[0]
    );
    let folder = tempfile::tempdir().expect("temp");
    let files = folder.path();
    std::fs::copy(
        project_root().join("pki/offline/ca.pem"),
        files.join("ca.pem"),
    )
    .expect("the shipped CA");
    let certificate = secret_in_service(swarm, service, "traefik_default_cert");
    std::fs::write(files.join("traefik.pem"), &certificate).expect("write");
    std::fs::write(
        files.join("traefik-key.pem"),
        secret_in_service(swarm, service, "traefik_default_key"),
    )
    .expect("write");
    let openssl = |args: &[&str]| {
        run_successfully(
            Command::new("openssl").args(args).current_dir(files),
            OPENSSL_TIMEOUT,
        )
    };
    assert_eq!(
        openssl(&["verify", "-CAfile", "ca.pem", "traefik.pem"]).trim(),
        "traefik.pem: OK"
    );
    let text = openssl(&["x509", "-in", "traefik.pem", "-noout", "-text"]);
    assert!(text.contains("DNS:localhost, DNS:*.localhost"), "{text}");
    assert!(text.contains("TLS Web Server Authentication"), "{text}");
    assert!(text.contains("Subject: CN = localhost"), "{text}");
    assert_eq!(
        openssl(&["pkey", "-in", "traefik-key.pem", "-pubout"]),
        openssl(&["x509", "-in", "traefik.pem", "-noout", "-pubkey"]),
        "the key is the certificate's"
    );
    // Traefik's dynamic configuration names the files as mounted.
    let dynamic = swarm.run_docker(&[
        "exec",
        swarm
            .run_docker(&[
                "ps",
                "-q",
                "--filter",
                &format!("label=com.docker.swarm.service.name={service}"),
            ])
            .lines()
            .next()
            .expect("a container"),
        "cat",
        "/etc/traefik/dynamic.yaml",
    ]);
    assert!(
        dynamic.contains("certFile: /run/secrets/traefik_default_cert")
            && dynamic.contains("keyFile: /run/secrets/traefik_default_key"),
        "{dynamic}"
    );

    // Unchanged: nothing is issued, nothing changes.
    let unchanged = dispatch(&[]);
    let log = unchanged["log"].as_str().unwrap_or_default();
    assert!(log.contains("= certificate traefik valid until "), "{log}");
    assert_eq!(
        unchanged["run"]["summary"], "offline: Applied 0 changes to offline",
        "{unchanged}"
    );
    assert_eq!(versions(swarm, prefix), issued);

    // Forced: a new certificate, and Traefik rolls to it.
    let forced = dispatch(&["--input", "force=true"]);
    let log = forced["log"].as_str().unwrap_or_default();
    assert!(
        log.contains("~ certificate traefik: renewal forced"),
        "{log}"
    );
    assert!(
        log.contains("+ create secret traefik-default-cert.pem-(issued when applied)"),
        "the plan shows no name it would not create: {log}"
    );
    swarm.wait_for_running_tasks(service, 1, Duration::from_secs(90));
    let renewed = secret_name_used(swarm, service, "traefik_default_cert");
    assert!(renewed.starts_with(prefix), "{renewed}");
    assert_ne!(renewed, issued[0], "Traefik rolled to the new secret");
    assert_ne!(
        secret_in_service(swarm, service, "traefik_default_cert"),
        certificate
    );

    // The next run removes the version no service uses any more.
    let after = dispatch(&[]);
    let log = after["log"].as_str().unwrap_or_default();
    assert!(
        log.contains(&format!("removed secret {}", issued[0]))
            || log.contains(&format!("remove secret {}", issued[0])),
        "{log}"
    );
    assert_eq!(versions(swarm, prefix), [renewed], "{log}");
}

#[test]
fn a_drift_check_reports_a_certificate_inside_renew_before_with_its_days() {
    let swarm = PrivateSwarm::shared();
    let image = swarm.image("shoal-test/busybox:certs-drift");
    let stack = swarm.unique_name("drift");
    let folder = tempfile::tempdir().expect("a folder");
    let made = Run::from(
        shoal()
            .args(["ca", "create", "--out"])
            .arg(folder.path().join("ca"))
            .output()
            .expect("shoal runs"),
    );
    assert_eq!(made.code, 0, "{}{}", made.stdout, made.stderr);
    let read = |name: &str| std::fs::read_to_string(folder.path().join("ca").join(name));
    let workflow = |timing: &str| {
        format!(
            "on:\n  schedule:\n    - cron: \"0 6 * * *\"\n\
             steps:\n  - certs:\n      ca: {{ cert: pki/ca.pem, key_secret: ca_key }}\n      \
             certificates:\n        - {{ name: dockerd, usage: server, {timing}\
             to_secret: {{ bundle: {stack}.pem }} }}\n  \
             - stack: {{ name: {stack}, compose: stacks/app.yml }}\n"
        )
    };
    // Issued for 13 days; then the workflow renews within 30 days (the default), so the
    // certificate is inside its window with 12 whole days left.
    let repo = TestRepo::new()
        .file(
            "shoal.yml",
            &format!(
                "environments:\n  local:\n    docker: {{ host: \"{}\" }}\n    \
                 secrets: {{ ca_key: {{ file: ca-key.pem }} }}\n",
                swarm.docker_host()
            ),
        )
        .file("ca-key.pem", &read("ca-key.pem").expect("the key"))
        .file("pki/ca.pem", &read("ca.pem").expect("the CA"))
        .file(
            "stacks/app.yml",
            &format!(
                "services:\n  app:\n    image: {image}\n    secrets: [tls]\n\
                 secrets:\n  tls: {{ external: true, name: {stack}.pem }}\n"
            ),
        )
        .file(
            "workflows/deploy.yml",
            &workflow("validity: 13d, renew_before: 5d, "),
        );
    let applied = repo.run(&["apply", "--env", "local"]);
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    let before = versions(swarm, &format!("{stack}.pem-"));
    assert_eq!(before.len(), 1, "{before:?}");
    let repo = repo.file("workflows/deploy.yml", &workflow(""));

    let commit = Commit::of(repo.path(), "certificates");
    let (outcome, log) = commit.execute(RunMode::DriftCheck, "schedule", repo.path());
    assert_eq!(outcome.status, RunStatus::Failure, "{outcome:?}");
    assert!(outcome.drift, "{outcome:?}");
    assert_eq!(
        outcome.summary,
        "drift: certificate dockerd: expires in 12 days; 1 to create, 1 to update"
    );
    assert!(
        log.iter()
            .any(|line| line.trim() == "~ certificate dockerd: expires in 12 days"),
        "{log:?}"
    );
    // Its expiry is the metric's.
    let expiry = &outcome.certificates[0];
    assert_eq!(expiry.certificate, "dockerd");
    assert!(expiry.live_not_after.is_some(), "{expiry:?}");
    // A drift check changes nothing.
    assert_eq!(versions(swarm, &format!("{stack}.pem-")), before);
}
