//! The registry push trigger end to end: Debian's real `docker-registry` with its
//! notifications pointed at a real `shoal serve`, an image pushed to it by the private
//! swarm's engine with `docker push`, and the service rolled out by digest. The registry
//! listens on the host's end of the engine's veth pair, where the engine reaches it. Also the
//! hook's refusals: off without a token, 401 on a missing or wrong one, 413 on a body
//! too large.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::registry::{Registry, TOKEN};
use crate::support::serve_daemon::{ServeDaemon, post, runs};
use crate::support::{PrivateSwarm, free_tcp_port, git, write_file};
use crate::test_repo::shoal;

/// Starts `shoal serve` on `port` and waits for `/healthz`; the registry token from a
/// file when given, none otherwise.
fn serve(
    state: &Path,
    source: &Path,
    port: u16,
    docker_host: &str,
    token_file: Option<&Path>,
) -> ServeDaemon {
    let mut extra = Vec::new();
    if let Some(file) = token_file {
        extra.push("--registry-token-file".into());
        extra.push(file.as_os_str().to_owned());
    }
    ServeDaemon::start_with_docker(port, state, source, docker_host, &extra)
}

/// A config repo with one commit on main: `workflows/scaler.yml` deploys `stack` with
/// the pushed image when `maiev/scaler` is pushed with a `1.*` tag.
fn config_repo(folder: &Path, stack: &str) {
    let write = |path: &str, text: &str| write_file(folder, path, text);
    write("shoal.yml", "environments: { local: {} }\n");
    write(
        "stacks/maiev.yml",
        "version: \"3.8\"\nservices:\n  scaler:\n    image: \"{{ trigger.image.reference }}\"\n    \
         deploy: { labels: { maiev.tag: \"{{ trigger.image.tag }}\" } }\n",
    );
    write(
        "workflows/scaler.yml",
        &format!(
            "on:\n  registry_push: {{ repository: maiev/scaler, tags: [\"1.*\"] }}\n\
             steps:\n  - stack: {{ name: {stack}, compose: stacks/maiev.yml }}\n"
        ),
    );
    git(folder, &["init", "-q"]);
    git(folder, &["add", "-A"]);
    git(
        folder,
        &["commit", "-q", "-m", "scaler follows the registry"],
    );
}

/// The runs a registry push started.
fn registry_runs(state: &Path) -> Vec<serde_json::Value> {
    runs(state)
        .into_iter()
        .filter(|run| run["event"] == "registry_push")
        .collect()
}

/// Waits until `count` registry push runs have finished; returns them, newest first.
fn wait_for_finished_runs(state: &Path, count: usize) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let found = registry_runs(state);
        let finished = found
            .iter()
            .filter(|run| !matches!(run["status"].as_str(), Some("queued" | "running")))
            .count();
        if finished >= count {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "{count} registry push runs did not finish: {:?}",
            runs(state)
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn registry_push_rolls_out_the_pushed_image_by_digest_once() {
    let swarm = PrivateSwarm::shared();
    let image = swarm.image("shoal-test/busybox:registry-push");
    let stack = swarm.unique_name("maiev");
    let source = tempfile::tempdir().expect("temp");
    config_repo(source.path(), &stack);
    let work = tempfile::tempdir().expect("temp");
    let token_file = work.path().join("registry-token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).expect("token");
    let state = work.path().join("state");
    let shoal_port = free_tcp_port();
    let _daemon = serve(
        &state,
        source.path(),
        shoal_port,
        swarm.docker_host(),
        Some(&token_file),
    );
    let registry = Registry::start(swarm.host_address(), work.path(), shoal_port);

    // A real push: the registry stores the layer blob, the config blob and the manifest,
    // and notifies shoal of each.
    let pushed = format!("{}/maiev/scaler:1.1", registry.host);
    swarm.run_docker(&["tag", &image, &pushed]);
    let output = swarm.run_docker(&["push", &pushed]);
    let digest = output
        .split_whitespace()
        .find(|word| word.starts_with("sha256:"))
        .unwrap_or_else(|| panic!("no digest in the output of docker push:\n{output}"))
        .to_owned();

    let found = wait_for_finished_runs(&state, 1);
    assert_eq!(found[0]["status"], "success", "{}", found[0]);
    assert_eq!(found[0]["mode"], "apply");
    let service = format!("{stack}_scaler");
    let spec_image = swarm.run_docker(&[
        "service",
        "inspect",
        "--format",
        "{{.Spec.TaskTemplate.ContainerSpec.Image}} {{index .Spec.Labels \"maiev.tag\"}}",
        &service,
    ]);
    assert_eq!(
        spec_image.trim(),
        format!("{}/maiev/scaler@{digest} 1.1", registry.host)
    );
    swarm.wait_for_running_tasks(&service, 1, Duration::from_secs(60));
    // The registry also notified shoal of the two blobs it stored and of its reads of
    // them (`pull` events); they started nothing.
    assert_eq!(registry_runs(&state).len(), 1, "{:?}", runs(&state));

    // The same event delivered twice (a registry retries until it is answered) starts one
    // run, which finds nothing to change; a tag outside `1.*` starts none.
    let replay = |id: &str, tag: &str| {
        serde_json::json!({ "events": [{
            "id": id, "action": "push",
            "target": {
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "repository": "maiev/scaler", "tag": tag, "digest": digest
            },
            "request": { "host": registry.host }
        }]})
        .to_string()
    };
    let bearer = [("Authorization", format!("Bearer {TOKEN}"))];
    for body in [
        replay("replayed-1", "1.1"),
        replay("replayed-1", "1.1"),
        replay("other-tag", "2.0"),
    ] {
        assert_eq!(post(shoal_port, "/hooks/registry", &bearer, &body).0, 202);
    }
    let found = wait_for_finished_runs(&state, 2);
    // Time for a wrongly started third run to show up. Two runs in all: the second
    // delivery of `replayed-1` and the push of tag 2.0 started nothing.
    std::thread::sleep(Duration::from_secs(3));
    let found_later = registry_runs(&state);
    assert_eq!(found_later.len(), 2, "{:?}", runs(&state));
    assert_eq!(found[0]["status"], "success", "{}", found[0]);
    let shown = crate::test_repo::Run::from(
        shoal()
            .args(["runs", "show", &found[0]["id"].to_string(), "--state"])
            .arg(&state)
            .output()
            .expect("runs show"),
    );
    assert!(
        shown
            .stdout
            .lines()
            .any(|line| line.trim_start().starts_with("local")
                && line.contains("stack ")
                && line.contains("success")
                && line.ends_with(" 0 changes"))
            && shown.stdout.contains(&format!(
                "image pushed: maiev/scaler:1.1 ({}/maiev/scaler@{digest})",
                registry.host
            )),
        "{}",
        shown.stdout
    );
}

#[test]
fn registry_hook_needs_its_bearer_token() {
    let source = tempfile::tempdir().expect("temp");
    config_repo(source.path(), "unused");
    let work = tempfile::tempdir().expect("temp");
    let token_file = work.path().join("registry-token");
    std::fs::write(&token_file, TOKEN).expect("token");
    let body = r#"{"events": []}"#;
    // Nothing here reaches a swarm: no workflow runs.
    let unreachable = "unix:///nonexistent/docker.sock";

    let port = free_tcp_port();
    let without_token = serve(
        &work.path().join("off"),
        source.path(),
        port,
        unreachable,
        None,
    );
    let bearer = [("Authorization", format!("Bearer {TOKEN}"))];
    assert_eq!(post(port, "/hooks/registry", &bearer, body).0, 404);
    drop(without_token);

    let port = free_tcp_port();
    let _daemon = serve(
        &work.path().join("on"),
        source.path(),
        port,
        unreachable,
        Some(&token_file),
    );
    assert_eq!(post(port, "/hooks/registry", &[], body).0, 401);
    let wrong = [("Authorization", format!("Bearer {TOKEN}x"))];
    assert_eq!(post(port, "/hooks/registry", &wrong, body).0, 401);
    assert_eq!(post(port, "/hooks/registry", &bearer, body).0, 202);
    assert_eq!(
        post(port, "/hooks/registry", &bearer, "not json").0,
        400,
        "a body that is no notification"
    );
    assert_eq!(post_too_large(port, 2 << 20), 413);
}

/// POSTs `size` bytes to `/hooks/registry` with the right token; the status code. The
/// server may answer and close before the whole body is sent, so write errors are
/// expected.
fn post_too_large(port: u16, size: usize) -> u16 {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let head = format!(
        "POST /hooks/registry HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Authorization: Bearer {TOKEN}\r\nContent-Length: {size}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).expect("writes the head");
    let _ = stream.write_all(&vec![b' '; size]);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer)
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

/// Seed 004's "live update of docker image upon push": a stack deploys the scaler on a
/// push to main; a registry push updates only its image, through a `service` step, by
/// the digest the registry reported.
#[test]
fn registry_push_updates_a_service_through_a_service_step() {
    let swarm = PrivateSwarm::shared();
    let image = swarm.image("shoal-test/busybox:service-push");
    let stack = swarm.unique_name("maiev-service");
    let service = format!("{stack}_scaler");
    let source = tempfile::tempdir().expect("temp");
    let write = |path: &str, text: &str| write_file(source.path(), path, text);
    write("shoal.yml", "environments: { local: {} }\n");
    write(
        "stacks/maiev.yml",
        &format!(
            "version: \"3.8\"\nservices:\n  scaler:\n    image: {image}\n    \
             command: [\"sleep\", \"3600\"]\n"
        ),
    );
    write(
        "workflows/deploy.yml",
        &format!(
            "on: {{ push: {{ branches: [main] }} }}\n\
             steps:\n  - stack: {{ name: {stack}, compose: stacks/maiev.yml }}\n"
        ),
    );
    write(
        "workflows/scaler-image.yml",
        &format!(
            "on:\n  registry_push: {{ repository: maiev/scaler, tags: [\"1.*\"] }}\n\
             steps:\n  - service: {{ name: {service}, image: \"{{{{ trigger.image.reference }}}}\" }}\n"
        ),
    );
    git(source.path(), &["init", "-q", "-b", "main"]);
    git(source.path(), &["add", "-A"]);
    git(
        source.path(),
        &["commit", "-q", "-m", "scaler, its image from the registry"],
    );
    let work = tempfile::tempdir().expect("temp");
    let token_file = work.path().join("registry-token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).expect("token");
    let state = work.path().join("state");
    let shoal_port = free_tcp_port();
    let daemon = serve(
        &state,
        source.path(),
        shoal_port,
        swarm.docker_host(),
        Some(&token_file),
    );
    let deployed = daemon.wait_for_run(|run| run["event"] == "push");
    assert_eq!(deployed["status"], "success", "{deployed}");
    swarm.wait_for_running_tasks(&service, 1, Duration::from_secs(60));

    let registry = Registry::start(swarm.host_address(), work.path(), shoal_port);
    let pushed = format!("{}/maiev/scaler:1.2", registry.host);
    swarm.run_docker(&["tag", &image, &pushed]);
    let output = swarm.run_docker(&["push", &pushed]);
    let digest = output
        .split_whitespace()
        .find(|word| word.starts_with("sha256:"))
        .unwrap_or_else(|| panic!("no digest in the output of docker push:\n{output}"))
        .to_owned();
    let found = wait_for_finished_runs(&state, 1);
    assert_eq!(
        (found[0]["status"].as_str(), found[0]["workflow"].as_str()),
        (Some("success"), Some("scaler-image")),
        "{}",
        found[0]
    );
    let reference = format!("{}/maiev/scaler@{digest}", registry.host);
    let spec_image = swarm.run_docker(&[
        "service",
        "inspect",
        "--format",
        "{{.Spec.TaskTemplate.ContainerSpec.Image}} {{json .Spec.TaskTemplate.ContainerSpec.Args}}",
        &service,
    ]);
    // Only the image changed: the stack's command stays.
    assert_eq!(
        spec_image.trim(),
        format!("{reference} [\"sleep\",\"3600\"]")
    );
    swarm.wait_for_running_tasks(&service, 1, Duration::from_secs(60));
    let shown = crate::test_repo::Run::from(
        shoal()
            .args(["runs", "show", &found[0]["id"].to_string(), "--state"])
            .arg(&state)
            .output()
            .expect("runs show"),
    );
    assert!(
        shown.stdout.contains(&format!(
            "        TaskTemplate.ContainerSpec.Image: \"{image}\" -> \"{reference}\""
        )) && shown.stdout.contains(&format!("updated service {service}")),
        "{}",
        shown.stdout
    );
    drop(daemon);
    swarm.run_docker(&["stack", "rm", &stack]);
}
