//! Seed 003 as shipped (`examples/tls-swarm`), on five lab nodes (three managers, two
//! workers), each with a dockerd of its own and in no swarm: before, each node's Docker
//! API answers in plain TCP; one
//! `shoal apply` (through node 1's plain API, the environment's TLS endpoint not being on
//! yet) issues each node's server certificate and a client certificate, writes
//! daemon.json with TLS, checks it, restarts dockerd and confirms it answers over TLS,
//! then makes the five one swarm through their TLS endpoints (`docker.node_host` with
//! shoal's own client certificate, from the same CA). After, the API answers only over
//! TLS with a certificate from the CA, and shoal's next plan through the environment's
//! own TLS endpoint shows no changes and restarts nothing. A manager demoted by hand is
//! drift that the daily check (the daemon's run) reports and apply heals. A daemon.json
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

use shoal::trigger::RunMode;

use crate::pipeline_parity::Commit;
use crate::support::lab::Lab;
use crate::support::run;
use crate::test_repo::{Run, TestRepo, project_root, shoal};

fn shipped(path: &str) -> String {
    std::fs::read_to_string(project_root().join("examples/tls-swarm").join(path))
        .expect("a shipped file")
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

/// Stops the nodes' dockerd when dropped (before the lab): once restarted from a node,
/// it is no longer one of the processes the lab stops.
struct NodeDockerd<'a>(&'a Lab);

impl Drop for NodeDockerd<'_> {
    fn drop(&mut self) {
        for node in 1..=self.0.nodes.len() {
            let pid_file = self.0.folder().join(format!("node{node}/docker.pid"));
            let Ok(pid) = std::fs::read_to_string(pid_file) else {
                continue;
            };
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

/// A client certificate for shoal itself, from the CA in `ca` (made with `openssl`,
/// the oracle): `ca.pem`, `cert.pem` and `key.pem` in `folder`, as DOCKER_CERT_PATH holds
/// them.
fn runner_certificate(ca: &Path, folder: &Path) {
    std::fs::create_dir_all(folder).expect("a folder");
    std::fs::copy(ca.join("ca.pem"), folder.join("ca.pem")).expect("copy");
    let made = run(
        Command::new("sh").arg("-c").arg(format!(
            "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=shoal \
               -keyout {folder}/key.pem -out {folder}/request.pem 2>/dev/null &&
             printf 'extendedKeyUsage = clientAuth\n' > {folder}/extensions &&
             openssl x509 -req -in {folder}/request.pem -CA {ca}/ca.pem -CAkey {ca}/ca-key.pem \
               -CAcreateserial -days 1 -extfile {folder}/extensions -out {folder}/cert.pem 2>/dev/null",
            folder = folder.display(),
            ca = ca.display(),
        )),
        Duration::from_secs(30),
    );
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
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
fn the_tls_swarm_workflow_turns_on_mutual_tls_makes_the_swarm_over_tls_and_then_changes_nothing() {
    let lab = Lab::start_with_docker(5);
    let _stops = NodeDockerd(&lab);
    let address = lab.nodes[0].clone();
    let node_folder = lab.folder().join("node1");
    for node in 1..=5 {
        lab.on_node(
            node,
            &format!(
                "cat > /usr/local/sbin/dockerd <<'EOF'\n{VALIDATE_STAND_IN}EOF\n\
                 cat > /usr/local/sbin/shoal-lab-restart-dockerd <<'EOF'\n{}EOF\n\
                 chmod 755 /usr/local/sbin/dockerd /usr/local/sbin/shoal-lab-restart-dockerd",
                restart_stand_in(
                    &lab.folder().join(format!("node{node}")),
                    &lab.nodes[node - 1]
                )
            ),
        );
    }

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
    let runner = folder.path().join("runner");
    runner_certificate(&folder.path().join("ca"), &runner);
    let shipped_workflow = shipped("workflows/docker-tls.yml");
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
                    docker:
                      host: \"tcp://{address}:2376\"
                      node_host: \"tcp://{{{{ host.address }}}}:2376\"
                      tls: {{ cert_path: \"{runner}\" }}
                    ssh:
                      user: root
                      identity: \"{key}\"
                      known_hosts: \"{known_hosts}\"
                      connect_timeout: 15s
                    hosts:
                      managers: [{managers}]
                      workers: [{workers}]
                    vars:
                      docker:
                        config: /etc/docker/daemon.json
                        socket: \"unix://{node}/docker.sock\"
                        tls_dir: /etc/docker/tls
                        restart: shoal-lab-restart-dockerd
                        systemd: false
                    secrets: {{ ca_key: {{ file: ca-key.pem }} }}
                ",
                runner = runner.display(),
                managers = lab.hosts(1..=3),
                workers = lab.hosts(4..=5),
                key = lab.key.display(),
                known_hosts = lab.known_hosts.display(),
                node = node_folder.display(),
            ),
        )
        .file("ca-key.pem", &read("ca-key.pem"))
        .file("pki/ca.pem", &read("ca.pem"))
        // The shipped workflow, with a shorter wait for dockerd and guard, for the test's
        // sake.
        .file("workflows/docker-tls.yml", &workflow)
        .file("workflows/swarm.yml", &shipped("workflows/swarm.yml"))
        // Each lab node's socket is a path of its own on this machine.
        .file(
            "hosts/docker/daemon.json",
            &shipped("hosts/docker/daemon.json").replace(
                "{{ vars.docker.socket }}",
                &format!(
                    "unix://{}/{{{{ host.name }}}}/docker.sock",
                    lab.folder().display()
                ),
            ),
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

    // The first run reaches node 1's plain API (the environment's is TLS, not on yet);
    // the nodes' engines are reached as the environment says, over TLS, once the earlier
    // steps turned it on.
    let first =
        |command: &str| repo.run(&[command, "--env", "lab", "--docker-host", &lab.docker_tcp(1)]);
    // The plan cannot read the engines' TLS endpoints yet: the swarm workflow is planned
    // again, its engines read again, once docker-tls has applied; the plan says so.
    let plan = first("plan");
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains(&format!(
            "    = the engine of node1 ({address}) at tcp://{address}:2376 cannot be read yet (cannot connect to the Docker daemon at tcp://{address}:2376: {address}:2376: Connection refused (os error 111)): planned again once workflow docker-tls has applied\n"
        )),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("+ certificate dockerd@")
            && plan.stdout.contains("+ certificate dockerd-check@"),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("PRIVATE KEY"), "{}", plan.stdout);
    let applied = first("apply");
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
    let daemon_json = lab.on_node(1, "cat /etc/docker/daemon.json");
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
        let text = lab.on_node(1, &format!("cat /etc/docker/tls/check/{file}"));
        std::fs::write(client.join(file), text).expect("write");
    }
    let path = |file: &str| client.join(file).display().to_string();
    let (ca, cert, key) = (path("ca.pem"), path("cert.pem"), path("key.pem"));
    // The docker CLI's flags for TLS with the check certificate.
    let with_client = [
        "--tlsverify",
        "--tlscacert",
        ca.as_str(),
        "--tlscert",
        cert.as_str(),
        "--tlskey",
        key.as_str(),
    ];
    // The docker CLI over TLS with the check certificate, which must succeed; its output.
    let tls_docker = |args: &[&str]| {
        let output = run(
            Command::new("docker")
                .args(with_client)
                .args(["-H", &tls_host])
                .args(args)
                .env("DOCKER_CONFIG", folder.path())
                .stdin(Stdio::null()),
            Duration::from_secs(30),
        );
        assert!(
            output.status.success(),
            "docker {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    };
    let no_certificate = docker(&["--tlsverify", "--tlscacert", &ca], &tls_host);
    assert!(
        !no_certificate.status.success(),
        "let in without a client certificate"
    );
    let with_certificate = docker(&with_client, &tls_host);
    assert!(
        with_certificate.status.success(),
        "{}",
        String::from_utf8_lossy(&with_certificate.stderr)
    );
    let server_certificate = lab.on_node(
        1,
        "openssl x509 -in /etc/docker/tls/cert.pem -noout -ext subjectAltName",
    );
    assert!(
        server_certificate.contains(&format!("IP Address:{address}")),
        "{server_certificate}"
    );
    let pid = std::fs::read_to_string(node_folder.join("docker.pid")).expect("a pid");

    // The swarm was made over TLS: three managers and two workers, each joined through
    // its TLS endpoint (the managers one by one, the workers at once).
    assert!(
        applied.stdout.contains(&format!(
            "    created swarm on node1 ({address})\n    joined node node2 ({}) as manager\n    joined node node3 ({}) as manager\n",
            lab.nodes[1], lab.nodes[2]
        )),
        "{}",
        applied.stdout
    );
    for worker in 4..=5 {
        assert!(
            applied.stdout.contains(&format!(
                "    joined node node{worker} ({}) as worker\n",
                lab.nodes[worker - 1]
            )),
            "{}",
            applied.stdout
        );
    }
    let managers = tls_docker(&[
        "node",
        "ls",
        "--format",
        "{{.Hostname}} {{.Status}} {{.ManagerStatus}}",
    ]);
    let mut listed: Vec<String> = managers
        .lines()
        .map(|line| line.replace("Leader", "Reachable").trim_end().to_owned())
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            "node1 Ready Reachable",
            "node2 Ready Reachable",
            "node3 Ready Reachable",
            "node4 Ready",
            "node5 Ready"
        ]
    );

    // The environment's own endpoint is TLS now: shoal's next plan, over TLS with its
    // client certificate, changes nothing, the swarm included.
    let over_tls = |command: &str| repo.run(&[command, "--env", "lab"]);
    let next = over_tls("plan");
    assert_eq!(next.code, 0, "{}{}", next.stdout, next.stderr);
    assert!(
        next.stdout.contains("= certificate dockerd@")
            && next
                .stdout
                .contains(": 3 managers, 2 workers\n    = 5 unchanged\n")
            && next.stdout.contains("no changes"),
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

    // A manager demoted by hand is drift: the daily check (the daemon's run) reports it
    // without changing anything, and apply promotes it again, over TLS.
    tls_docker(&["node", "demote", "node3"]);
    let drift = repo.run(&["plan", "--env", "lab", "--workflow", "swarm"]);
    assert_eq!(drift.code, 2, "{}{}", drift.stdout, drift.stderr);
    assert!(
        drift.stdout.contains(&format!(
            "    ~ update node node3 ({})\n        Role: \"worker\" -> \"manager\"\n",
            lab.nodes[2]
        )),
        "{}",
        drift.stdout
    );
    let commit = Commit::of(repo.path(), "seed 003");
    let (checked, log) =
        commit.execute_workflow("swarm", "lab", RunMode::DriftCheck, "schedule", repo.path());
    assert!(checked.drift, "{checked:?}\n{}", log.join("\n"));
    assert_eq!(checked.summary, "drift: 1 to update", "{checked:?}");
    let role = |node: &str| tls_docker(&["node", "inspect", node, "--format", "{{.Spec.Role}}"]);
    assert_eq!(role("node3"), "worker", "a drift check changes nothing");
    let healed = over_tls("apply");
    assert_eq!(healed.code, 0, "{}{}", healed.stdout, healed.stderr);
    assert_eq!(role("node3"), "manager");

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
    assert_eq!(lab.on_node(1, "cat /etc/docker/daemon.json"), daemon_json);
    let back = docker(&with_client, &tls_host);
    assert!(
        back.status.success(),
        "dockerd is not back: {}",
        String::from_utf8_lossy(&back.stderr)
    );
}
