//! Seed 003 as shipped (`examples/tls-swarm`), on a lab node with a dockerd of its own in
//! a one-manager swarm: before, the node's Docker API answers in plain TCP; `shoal apply`
//! issues the node's server certificate and a client certificate, writes daemon.json
//! with TLS, checks it, restarts dockerd and confirms it answers over TLS; after, the
//! API answers only over TLS with a certificate from the CA, and shoal's next plan, over
//! TLS with that client certificate, shows no changes and restarts nothing. A daemon.json
//! with which dockerd does not come back is undone by the host's lock-out guard, and
//! dockerd answers over TLS again.
//!
//! What the lab stands in: the node's dockerd is started by the lab, not systemd, so
//! `vars.docker.restart` is a script that stops it and starts it again with the node's
//! daemon.json; and Debian's dockerd (20.10) has no `--validate` (Docker 23 added it), so
//! a `dockerd` in the node's /usr/local/sbin checks the file as JSON whose certificate
//! files exist, and runs the real dockerd for anything else.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::lab::Lab;
use crate::support::run;
use crate::test_repo::{Run, TestRepo, project_root, shoal};

fn shipped(path: &str) -> String {
    std::fs::read_to_string(project_root().join("examples/tls-swarm").join(path))
        .expect("a shipped file")
}

fn on_node(lab: &Lab, command: &str) -> String {
    let output = lab.ssh(1, "root", command, 5);
    assert!(
        output.status.success(),
        "`{command}`: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `dockerd --validate --config-file FILE` for a dockerd that lacks it.
const VALIDATE_STAND_IN: &str = r#"#!/bin/sh
if [ "$1" = --validate ] && [ "$2" = --config-file ]; then
    python3 - "$3" <<'PY' || exit 1
import json, os, sys
config = json.load(open(sys.argv[1]))
for key in ("tlscacert", "tlscert", "tlskey"):
    if key in config and not os.path.exists(config[key]):
        sys.exit(f"{key}: {config[key]} does not exist")
PY
    echo "configuration OK"
    exit 0
fi
exec /usr/sbin/dockerd "$@"
"#;

/// Stops the node's dockerd and starts it again: with daemon.json when there is one,
/// else as the lab started it.
fn restart_stand_in(node: &Path, address: &str) -> String {
    let node = node.display();
    format!(
        r#"#!/bin/sh
pid=$(cat {node}/docker.pid 2>/dev/null)
if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null
    for attempt in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
fi
if [ -e /etc/docker/daemon.json ]; then
    set -- --config-file /etc/docker/daemon.json
else
    set -- -H unix://{node}/docker.sock -H tcp://{address}:2375 --tls=false
fi
DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 setsid /usr/sbin/dockerd "$@" \
    --data-root {node}/docker --exec-root {node}/docker-exec --pidfile {node}/docker.pid \
    --bridge none --iptables=false --ip6tables=false </dev/null >>{node}/dockerd.log 2>&1 &
"#
    )
}

/// Stops the node's dockerd when dropped (before the lab): once restarted from the
/// node, it is no longer one of the processes the lab stops.
struct NodeDockerd<'a>(&'a Lab);

impl Drop for NodeDockerd<'_> {
    fn drop(&mut self) {
        let pid_file = self.0.folder().join("node1/docker.pid");
        if let Ok(pid) = std::fs::read_to_string(pid_file) {
            let pid = pid.trim().to_owned();
            let _ = run(
                Command::new("sh").args([
                    "-c",
                    &format!(
                        "kill -TERM {pid}; for i in $(seq 100); do kill -0 {pid} 2>/dev/null || exit 0; sleep 0.2; done; kill -KILL {pid}"
                    ),
                ]),
                Duration::from_secs(30),
            );
        }
    }
}

/// `docker version` against `host`, with the TLS settings in `args`.
fn docker(args: &[&str], host: &str) -> std::process::Output {
    let config = tempfile::tempdir().expect("temp");
    run(
        Command::new("docker")
            .args(args)
            .args(["-H", host, "version", "--format", "{{.Server.Os}}"])
            .env("DOCKER_CONFIG", config.path())
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_TLS_VERIFY")
            .env_remove("DOCKER_CERT_PATH")
            .stdin(Stdio::null()),
        Duration::from_secs(30),
    )
}

#[test]
fn the_tls_swarm_workflow_turns_on_mutual_tls_and_the_next_plan_over_tls_changes_nothing() {
    let lab = Lab::start_with_docker(1);
    let _stops = NodeDockerd(&lab);
    lab.make_swarm_of_managers();
    let address = lab.nodes[0].clone();
    let node_folder = lab.folder().join("node1");
    on_node(
        &lab,
        &format!(
            "cat > /usr/local/sbin/dockerd <<'EOF'\n{VALIDATE_STAND_IN}EOF\n\
             cat > /usr/local/sbin/shoal-lab-restart-dockerd <<'EOF'\n{}EOF\n\
             chmod 755 /usr/local/sbin/dockerd /usr/local/sbin/shoal-lab-restart-dockerd",
            restart_stand_in(&node_folder, &address)
        ),
    );

    let folder = tempfile::tempdir().expect("a folder");
    let made = Run::from(
        shoal()
            .args(["ca", "create", "--common-name", "swarm CA", "--out"])
            .arg(folder.path().join("ca"))
            .output()
            .expect("shoal runs"),
    );
    assert_eq!(made.code, 0, "{}{}", made.stdout, made.stderr);
    let read = |name: &str| {
        std::fs::read_to_string(folder.path().join("ca").join(name)).expect("the CA's files")
    };
    let shipped_workflow = shipped("workflows/tls-swarm.yml");
    let workflow = shipped_workflow.replace("$(seq 60)", "$(seq 15)").replace(
        "rollback_if_unreachable: 150s",
        "rollback_if_unreachable: 40s",
    );
    assert_ne!(workflow, shipped_workflow);
    let repo = TestRepo::new()
        .file(
            "shoal.yml",
            &format!(
                "
                environments:
                  lab:
                    docker: {{ host: \"{plain}\" }}
                    ssh:
                      user: root
                      identity: \"{key}\"
                      known_hosts: \"{known_hosts}\"
                      connect_timeout: 15s
                    hosts:
                      managers: [\"{address}\"]
                    vars:
                      docker:
                        config: /etc/docker/daemon.json
                        socket: \"unix://{node}/docker.sock\"
                        tls_dir: /etc/docker/tls
                        restart: shoal-lab-restart-dockerd
                        systemd: false
                    secrets: {{ ca_key: {{ file: ca-key.pem }} }}
                ",
                plain = lab.docker_tcp(1),
                key = lab.key.display(),
                known_hosts = lab.known_hosts.display(),
                node = node_folder.display(),
            ),
        )
        .file("ca-key.pem", &read("ca-key.pem"))
        .file("pki/ca.pem", &read("ca.pem"))
        // The shipped workflow, with a shorter wait for dockerd and guard, for the test's
        // sake.
        .file("workflows/tls-swarm.yml", &workflow)
        .file(
            "hosts/docker/daemon.json",
            &shipped("hosts/docker/daemon.json"),
        )
        .file(
            "hosts/docker/shoal-tls.conf",
            &shipped("hosts/docker/shoal-tls.conf"),
        );

    // Before: the plain API answers.
    let plain = docker(&[], &lab.docker_tcp(1));
    assert!(
        plain.status.success(),
        "{}",
        String::from_utf8_lossy(&plain.stderr)
    );

    let plan = repo.run(&["plan", "--env", "lab"]);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains("+ certificate dockerd@")
            && plan.stdout.contains("+ certificate dockerd-check@"),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("PRIVATE KEY"), "{}", plan.stdout);
    let applied = repo.run(&["apply", "--env", "lab"]);
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    assert!(
        applied.stdout.contains("configuration OK"),
        "daemon.json was validated: {}",
        applied.stdout
    );
    assert!(
        !applied.stdout.contains("PRIVATE KEY"),
        "{}",
        applied.stdout
    );

    // After: no plain API; TLS only, and only with a certificate from the CA.
    let daemon_json = on_node(&lab, "cat /etc/docker/daemon.json");
    assert!(
        daemon_json.contains("\"tlsverify\": true")
            && daemon_json.contains(&format!("\"tcp://{address}:2376\"")),
        "{daemon_json}"
    );
    let refused = docker(&[], &lab.docker_tcp(1));
    assert!(!refused.status.success(), "the plain API still answers");
    let tls_host = format!("tcp://{address}:2376");
    let client = folder.path().join("client");
    std::fs::create_dir(&client).expect("a folder");
    for file in ["ca.pem", "cert.pem", "key.pem"] {
        let text = on_node(&lab, &format!("cat /etc/docker/tls/check/{file}"));
        std::fs::write(client.join(file), text).expect("write");
    }
    let path = |file: &str| client.join(file).display().to_string();
    let no_certificate = docker(&["--tlsverify", "--tlscacert", &path("ca.pem")], &tls_host);
    assert!(
        !no_certificate.status.success(),
        "let in without a client certificate"
    );
    let with_certificate = docker(
        &[
            "--tlsverify",
            "--tlscacert",
            &path("ca.pem"),
            "--tlscert",
            &path("cert.pem"),
            "--tlskey",
            &path("key.pem"),
        ],
        &tls_host,
    );
    assert!(
        with_certificate.status.success(),
        "{}",
        String::from_utf8_lossy(&with_certificate.stderr)
    );
    let server_certificate = on_node(
        &lab,
        "openssl x509 -in /etc/docker/tls/cert.pem -noout -ext subjectAltName",
    );
    assert!(
        server_certificate.contains(&format!("IP Address:{address}")),
        "{server_certificate}"
    );
    let pid = std::fs::read_to_string(node_folder.join("docker.pid")).expect("a pid");

    // shoal's next plan, over TLS with the client certificate, changes nothing.
    let over_tls = |command: &str| {
        Run::from(
            shoal()
                .args([
                    command,
                    "--env",
                    "lab",
                    "--docker-host",
                    &tls_host,
                    "--repo",
                ])
                .arg(repo.path())
                .env("DOCKER_TLS_VERIFY", "1")
                .env("DOCKER_CERT_PATH", &client)
                .output()
                .expect("shoal runs"),
        )
    };
    let next = over_tls("plan");
    assert_eq!(next.code, 0, "{}{}", next.stdout, next.stderr);
    assert!(
        next.stdout.contains("= certificate dockerd@") && next.stdout.contains("no changes"),
        "{}",
        next.stdout
    );
    let reapplied = over_tls("apply");
    assert_eq!(
        reapplied.code, 0,
        "{}{}",
        reapplied.stdout, reapplied.stderr
    );
    assert_eq!(
        std::fs::read_to_string(node_folder.join("docker.pid")).expect("a pid"),
        pid,
        "dockerd was restarted though nothing changed"
    );

    // A daemon.json that --validate accepts but with which dockerd cannot start (an
    // address the node does not have): the guard puts the previous one back.
    std::fs::write(
        repo.path().join("hosts/docker/daemon.json"),
        shipped("hosts/docker/daemon.json")
            .replace("tcp://{{ host.address }}:2376", "tcp://192.0.2.99:2376"),
    )
    .expect("write");
    let broken = over_tls("apply");
    assert_eq!(broken.code, 1, "{}{}", broken.stdout, broken.stderr);
    assert!(
        broken.stderr.contains("dockerd did not answer in")
            && broken.stderr.contains(
                "the host undid the change: its lock-out guard restored the previous files"
            ),
        "{}{}",
        broken.stdout,
        broken.stderr
    );
    assert_eq!(on_node(&lab, "cat /etc/docker/daemon.json"), daemon_json);
    let back = docker(
        &[
            "--tlsverify",
            "--tlscacert",
            &path("ca.pem"),
            "--tlscert",
            &path("cert.pem"),
            "--tlskey",
            &path("key.pem"),
        ],
        &tls_host,
    );
    assert!(
        back.status.success(),
        "dockerd is not back: {}",
        String::from_utf8_lossy(&back.stderr)
    );
}
