//! Docker over ssh://: `plan` and `apply` through a lab node's OpenSSH sshd in front of
//! the private engine's socket (a path-named Unix socket is the same file in every
//! network namespace, so the node's sshd reaches it), the environment's `ssh` block for
//! the login; a changed host key refused before anything is sent; and, with socket
//! forwarding turned off in sshd_config, the `docker system dial-stdio` fallback; one SSH
//! connection for every call, made again when it drops.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::support::lab::Lab;
use crate::support::tcp_relay::TcpRelay;
use crate::support::{PrivateSwarm, run_successfully};
use crate::test_repo::TestRepo;

fn stack_repo(host: &str, known_hosts: &Path, lab: &Lab, stack: &str, image: &str) -> TestRepo {
    TestRepo::new()
        .file(
            "shoal.yml",
            &format!(
                "environments:\n  prod:\n    docker: {{ host: \"{host}\" }}\n    ssh:\n      \
                 user: root\n      identity: {}\n      known_hosts: {}\n",
                lab.key.display(),
                known_hosts.display()
            ),
        )
        .file(
            "stacks/app.yml",
            &format!("services:\n  web:\n    image: {image}\n"),
        )
        .file(
            "workflows/deploy.yml",
            &format!("steps:\n  - stack: {{ name: {stack}, compose: stacks/app.yml }}\n"),
        )
}

fn service_names(swarm: &PrivateSwarm) -> String {
    swarm.run_docker(&["service", "ls", "--format", "{{.Name}}"])
}

/// The host URL of the private engine's socket, reached through node 1's sshd. The URL
/// names no user: the `ssh` block's `root` logs in.
fn ssh_host(swarm: &PrivateSwarm, lab: &Lab) -> String {
    let socket = swarm
        .docker_host()
        .strip_prefix("unix://")
        .expect("a unix socket");
    format!("ssh://{}{socket}", lab.nodes[0])
}

#[test]
fn plan_and_apply_over_ssh_forwarding_the_engine_socket() {
    let swarm = PrivateSwarm::shared();
    let image = swarm.image("shoal-test/busybox:ssh");
    let lab = Lab::start(1);
    let stack = swarm.unique_name("ssh");
    let repo = stack_repo(
        &ssh_host(swarm, &lab),
        &lab.known_hosts,
        &lab,
        &stack,
        &image,
    );

    let apply = repo.run(&["apply", "--env", "prod"]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    assert!(
        apply.stderr.contains(&format!(
            "INFO Docker at {}: forwarding {} over SSH (direct-streamlocal)",
            ssh_host(swarm, &lab),
            swarm.docker_host().trim_start_matches("unix://")
        )),
        "{}",
        apply.stderr
    );
    assert!(
        service_names(swarm)
            .lines()
            .any(|name| name == format!("{stack}_web")),
        "{}",
        service_names(swarm)
    );
    let plan = repo.run(&["plan", "--env", "prod"]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    assert!(plan.stdout.contains("Plan: no changes."), "{}", plan.stdout);

    // DOCKER_HOST=ssh://… as for the docker CLI, with the environment's `ssh` block.
    let from_process = TestRepo::new()
        .file(
            "shoal.yml",
            &format!(
                "environments:\n  prod:\n    ssh:\n      user: root\n      identity: {}\n      \
                 known_hosts: {}\n",
                lab.key.display(),
                lab.known_hosts.display()
            ),
        )
        .file(
            "stacks/app.yml",
            &format!("services:\n  web:\n    image: {image}\n"),
        )
        .file(
            "workflows/deploy.yml",
            &format!("steps:\n  - stack: {{ name: {stack}, compose: stacks/app.yml }}\n"),
        )
        .env("DOCKER_HOST", &ssh_host(swarm, &lab));
    let plan = from_process.run(&["plan", "--env", "prod"]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    assert!(plan.stdout.contains("Plan: no changes."), "{}", plan.stdout);
    swarm.run_docker(&["service", "rm", &format!("{stack}_web")]);

    // A socket that is not there is named, not taken for forbidden forwarding.
    let wrong = format!("ssh://root@{}/nonexistent/docker.sock", lab.nodes[0]);
    let plan = repo.run(&["plan", "--env", "prod", "--docker-host", &wrong]);
    assert_eq!(plan.code, 1, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stderr.contains(&format!(
            "cannot connect to the Docker daemon at {wrong}: root@{node}:22 refused opening \
             the Unix socket /nonexistent/docker.sock: the server could not connect to it: \
             there is no Unix socket /nonexistent/docker.sock on that host (is dockerd \
             running there, and is the path right?)",
            node = lab.nodes[0]
        )),
        "{}",
        plan.stderr
    );
}

#[test]
fn a_changed_host_key_is_refused_before_anything_is_sent() {
    let swarm = PrivateSwarm::shared();
    let lab = Lab::start(1);
    let folder = tempfile::tempdir().expect("temp");
    let impostor = folder.path().join("impostor");
    run_successfully(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&impostor),
        Duration::from_secs(10),
    );
    let public = std::fs::read_to_string(impostor.with_extension("pub")).expect("reads");
    let key: Vec<&str> = public.split_whitespace().take(2).collect();
    let known_hosts = folder.path().join("known_hosts");
    std::fs::write(
        &known_hosts,
        format!("{} {}\n", lab.nodes[0], key.join(" ")),
    )
    .expect("writes");
    let stack = swarm.unique_name("ssh-changed");
    let repo = stack_repo(
        &ssh_host(swarm, &lab),
        &known_hosts,
        &lab,
        &stack,
        "busybox",
    );

    let plan = repo.run(&["plan", "--env", "prod"]);
    assert_eq!(plan.code, 1, "{}{}", plan.stdout, plan.stderr);
    let offered = run_successfully(
        Command::new("ssh-keygen")
            .args(["-l", "-F", &lab.nodes[0], "-f"])
            .arg(&lab.known_hosts),
        Duration::from_secs(10),
    );
    let fingerprint = offered
        .lines()
        .find(|line| !line.starts_with('#'))
        .and_then(|line| line.split_whitespace().nth(2))
        .expect("the node's fingerprint");
    assert!(
        plan.stderr.contains(&format!(
            "cannot connect to the Docker daemon at {}: the host key of {} has changed: it \
             offered ssh-ed25519 {fingerprint}, which is not the key recorded in {} line 1; \
             refused (the connection may be intercepted, or the host's key was replaced)",
            ssh_host(swarm, &lab),
            lab.nodes[0],
            known_hosts.display()
        )),
        "{}",
        plan.stderr
    );
}

#[test]
fn without_socket_forwarding_docker_system_dial_stdio_carries_the_calls() {
    let swarm = PrivateSwarm::shared();
    let image = swarm.image("shoal-test/busybox:ssh");
    let lab = Lab::start(1);
    forbid_socket_forwarding(&lab);

    let stack = swarm.unique_name("ssh-dial");
    let repo = stack_repo(
        &ssh_host(swarm, &lab),
        &lab.known_hosts,
        &lab,
        &stack,
        &image,
    );
    let apply = repo.run(&["apply", "--env", "prod"]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    assert!(
        apply.stderr.contains(&format!(
            "INFO Docker at {}: root@{}:22 does not allow socket forwarding; running `docker \
             system dial-stdio` over SSH instead",
            ssh_host(swarm, &lab),
            lab.nodes[0]
        )),
        "{}",
        apply.stderr
    );
    assert!(
        service_names(swarm)
            .lines()
            .any(|name| name == format!("{stack}_web")),
        "{}",
        service_names(swarm)
    );
    let plan = repo.run(&["plan", "--env", "prod"]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    assert!(plan.stdout.contains("Plan: no changes."), "{}", plan.stdout);
    swarm.run_docker(&["service", "rm", &format!("{stack}_web")]);
}

/// Turns socket forwarding off in node 1's sshd_config, and has sshd read it again.
fn forbid_socket_forwarding(lab: &Lab) {
    let node = lab.folder().join("node1");
    let config = node.join("sshd_config");
    let mut text = std::fs::read_to_string(&config).expect("reads sshd_config");
    text.push_str("AllowStreamLocalForwarding no\n");
    std::fs::write(&config, text).expect("writes sshd_config");
    let pid = std::fs::read_to_string(node.join("sshd.pid")).expect("sshd's pid");
    run_successfully(
        Command::new("kill").args(["-HUP", pid.trim()]),
        Duration::from_secs(10),
    );
    wait_for_new_sshd(&node, pid.trim());
}

/// sshd re-executes itself on SIGHUP, and says so in its log once it listens again.
fn wait_for_new_sshd(node: &Path, _old_pid: &str) {
    wait_for_sshd_restarts(node, 2);
}

/// Waits until sshd's log says it started listening `times` times.
fn wait_for_sshd_restarts(node: &Path, times: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let log = std::fs::read_to_string(node.join("sshd.log")).unwrap_or_default();
        if log.matches("Server listening").count() >= times {
            return;
        }
        assert!(Instant::now() < deadline, "sshd did not restart: {log}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_ssh_connection_is_made_again_and_reads_go_on() {
    use shoal::docker::{DockerClient, DockerEndpoint, SshLogin};
    use shoal::ssh::SshSettings;
    let swarm = PrivateSwarm::shared();
    let lab = Lab::start(1);
    let relay = TcpRelay::start(format!("{}:22", lab.nodes[0])).await;
    // The node's key, recorded for the relay's address.
    let folder = tempfile::tempdir().expect("temp");
    let known_hosts = folder.path().join("known_hosts");
    let line = std::fs::read_to_string(&lab.known_hosts)
        .expect("reads")
        .lines()
        .find(|line| line.starts_with(&format!("{} ", lab.nodes[0])))
        .expect("node 1's key")
        .replacen(&lab.nodes[0], &format!("[127.0.0.1]:{}", relay.port), 1);
    std::fs::write(&known_hosts, format!("{line}\n")).expect("writes");
    let socket = swarm.docker_host().trim_start_matches("unix://");
    let endpoint = DockerEndpoint {
        host: format!("ssh://root@127.0.0.1:{}{socket}", relay.port),
        tls: None,
        ssh: Some(SshLogin {
            user: None,
            settings: SshSettings {
                identity: Some(lab.key.clone()),
                ..SshSettings::new(known_hosts)
            },
        }),
    };
    let client = DockerClient::connect(&endpoint, Duration::from_secs(30))
        .await
        .expect("connects over ssh");
    client.live_state().await.expect("reads");
    client.live_state().await.expect("reads again");
    assert_eq!(
        relay.accepted.load(Ordering::SeqCst),
        1,
        "one SSH connection carries every call"
    );

    relay.cut();
    client
        .live_state()
        .await
        .expect("reads over a new connection");
    assert_eq!(relay.accepted.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_calls_at_once_over_dial_stdio_stay_within_sshds_session_limit() {
    use shoal::docker::{DockerClient, DockerEndpoint, SshLogin};
    use shoal::ssh::SshSettings;
    let swarm = PrivateSwarm::shared();
    let lab = Lab::start(1);
    forbid_socket_forwarding(&lab);
    // OpenSSH allows 10 sessions (exec channels) per connection by default.
    let node = lab.folder().join("node1");
    let config = node.join("sshd_config");
    let text = std::fs::read_to_string(&config).expect("reads sshd_config");
    std::fs::write(&config, text.replace("MaxSessions 100", "MaxSessions 10"))
        .expect("writes sshd_config");
    let pid = std::fs::read_to_string(node.join("sshd.pid")).expect("sshd's pid");
    run_successfully(
        Command::new("kill").args(["-HUP", pid.trim()]),
        Duration::from_secs(10),
    );
    wait_for_sshd_restarts(&node, 3);

    let endpoint = DockerEndpoint {
        host: ssh_host(swarm, &lab),
        tls: None,
        ssh: Some(SshLogin {
            user: Some("root".to_owned()),
            settings: SshSettings {
                identity: Some(lab.key.clone()),
                ..SshSettings::new(lab.known_hosts.clone())
            },
        }),
    };
    let client = DockerClient::connect(&endpoint, Duration::from_secs(60))
        .await
        .expect("connects over ssh");
    let reads = futures_util::future::join_all((0..24).map(|_| client.live_state())).await;
    for read in reads {
        read.expect("every read is answered");
    }
}
