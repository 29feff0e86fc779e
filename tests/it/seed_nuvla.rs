//! Seed 001 as shipped (the project root's `shoal.yml`, `workflows/`, `hosts/`, `stacks/`
//! and `pki/`), end to end on five bare lab nodes, each with a dockerd of its own: one
//! `shoal apply --env staging` writes the firewall table and the NFS server's exports on
//! the hosts, makes three managers and two workers one swarm, labels the NFS server's
//! node, and deploys the traefik-public network, Traefik with its certificate from the
//! environment's CA, Prometheus and Grafana, and MinIO on the labelled node; a second
//! plan changes nothing; a label removed by hand is drift the hourly check names, healed
//! by apply; the teardown workflow removes the stacks and leaves the swarm, the network
//! and the hosts as they were.
//!
//! What the lab cannot run is stood in, as in seed_hosts.rs: the images are busybox
//! idling by its ENTRYPOINT (the `offline` environment's names, healthchecks off),
//! `exportfs` and `systemctl` are scripts that record their calls, the share is a folder
//! of the test's, and each node's engine is its own socket (`docker.node_host`).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::lab::Lab;
use crate::support::{run_successfully, write_file};
use crate::test_repo::{Run, TestRepo, project_root};

/// The `offline` environment's stand-in images, which the lab's staging uses.
const STAND_INS: &[&str] = &[
    "shoal-standin/traefik:v3.3",
    "shoal-standin/prometheus:v2.53.4",
    "shoal-standin/grafana:11.5.2",
    "shoal-standin/node-exporter:v0.16.0",
    "shoal-standin/cadvisor:v0.49.1",
    "shoal-standin/minio:RELEASE.2025-04-22T22-12-26Z",
];

/// A stand-in for a program the lab does not run (see seed_hosts.rs).
const STAND_IN_PROGRAM: &str = r#"#!/bin/sh
echo "$(basename "$0") $*" >> /etc/shoal-lab-standins
if [ "$(basename "$0")" = systemctl ]; then
  case "$1" in
    is-enabled) test -e "/etc/shoal-lab-enabled-$3" ;;
    enable) touch "/etc/shoal-lab-enabled-$3" ;;
  esac
fi
"#;

/// The shipped config repo, its `staging` environment replaced by the lab's: managers
/// nodes 1 to 3, workers 4 and 5, node 4 the NFS server.
fn seed_repo(lab: &Lab, share: &Path) -> TestRepo {
    let root = project_root();
    let listed = run_successfully(
        Command::new("git")
            .args([
                "ls-files",
                "shoal.yml",
                "workflows",
                "stacks",
                "hosts",
                "pki",
            ])
            .current_dir(&root),
        Duration::from_secs(30),
    );
    let repo = TestRepo::new();
    for path in listed.lines() {
        let text = std::fs::read_to_string(root.join(path)).expect("a shipped file");
        write_file(repo.path(), path, &text);
    }
    let shipped = std::fs::read_to_string(root.join("shoal.yml")).expect("shoal.yml");
    let start = shipped
        .find("\n  staging:\n")
        .expect("shoal.yml has a staging environment");
    let end = shipped
        .find("\n  prod:\n")
        .expect("and a prod one after it");
    // The comment before `prod` goes with it.
    let end = shipped[..end].rfind("\n\n").map_or(end, |blank| blank + 1);
    let shoal_yml = format!(
        "{}\n{}{}",
        &shipped[..start],
        lab_staging(lab, share),
        &shipped[end..]
    );
    write_file(repo.path(), "shoal.yml", &shoal_yml);
    // The lab's staging signs with the throwaway CA of `local` (its key is in
    // `local`'s secrets, which the lab's staging uses).
    let local_ca = std::fs::read_to_string(root.join("pki/local/ca.pem")).expect("local's CA");
    write_file(repo.path(), "pki/staging/ca.pem", &local_ca);
    repo
}

fn lab_staging(lab: &Lab, share: &Path) -> String {
    let host = |node: usize| {
        format!(
            "{{ address: \"{}\", name: node{node} }}",
            lab.nodes[node - 1]
        )
    };
    let folder = lab.folder().display();
    format!(
        "  staging:
    docker:
      host: \"{docker}\"
      node_host: \"unix://{folder}/{{{{ host.name }}}}/docker.sock\"
    ssh:
      user: root
      identity: \"{key}\"
      known_hosts: \"{known_hosts}\"
      connect_timeout: 3s
    hosts:
      managers: [{n1}, {n2}, {n3}]
      workers: [{n4}, {n5}]
      nfs: [{n4}]
    vars:
      domain: staging.example.org
      tls_mode: self-signed
      traefik_dashboard: true
      firewall:
        management: [{lab_host}]
        nuvla: [192.0.2.200]
        users: [any]
      placement:
        minio: [\"node.labels.nfs-server == true\"]
      nfs_share: {share}
      minio_data_path: {share}
      healthchecks: false
      resources: *local_resources
      docker_socket: {folder}/node1/docker.sock
      docker_data_root: {folder}
      images:
        traefik: \"{traefik}\"
        prometheus: \"{prometheus}\"
        grafana: \"{grafana}\"
        node_exporter: \"{node_exporter}\"
        cadvisor: \"{cadvisor}\"
        minio: \"{minio}\"
    secrets: *local_secrets
",
        docker = lab.docker_socket(1),
        key = lab.key.display(),
        known_hosts = lab.known_hosts.display(),
        n1 = host(1),
        n2 = host(2),
        n3 = host(3),
        n4 = host(4),
        n5 = host(5),
        lab_host = lab_host(lab),
        share = share.display(),
        traefik = STAND_INS[0],
        prometheus = STAND_INS[1],
        grafana = STAND_INS[2],
        node_exporter = STAND_INS[3],
        cadvisor = STAND_INS[4],
        minio = STAND_INS[5],
    )
}

/// The lab's host, where shoal runs: .254 on the lab's bridge.
fn lab_host(lab: &Lab) -> String {
    let node = &lab.nodes[0];
    format!("{}.254", &node[..node.rfind('.').expect("an IPv4 address")])
}

fn on_node(lab: &Lab, node: usize, command: &str) -> String {
    let output = lab.ssh(node, "root", command, 5);
    assert!(
        output.status.success(),
        "`{command}` on node {node}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn install_stand_in_programs(lab: &Lab) {
    for node in 1..=lab.nodes.len() {
        for program in ["exportfs", "systemctl"] {
            on_node(
                lab,
                node,
                &format!(
                    "cat > /usr/local/sbin/{program} <<'EOF'\n{STAND_IN_PROGRAM}EOF\nchmod 755 /usr/local/sbin/{program}"
                ),
            );
        }
    }
}

fn assert_code(run: &Run, code: i32) {
    assert_eq!(run.code, code, "{}{}", run.stdout, run.stderr);
}

/// The hostnames of the nodes running a task of `service`.
fn placed(lab: &Lab, service: &str) -> Vec<String> {
    let mut nodes: Vec<String> = lab
        .run_docker(
            1,
            &[
                "service",
                "ps",
                service,
                "--filter",
                "desired-state=running",
                "--format",
                "{{.Node}} {{.CurrentState}}",
            ],
        )
        .lines()
        .filter(|line| line.contains("Running"))
        .map(|line| line.split(' ').next().unwrap_or_default().to_owned())
        .collect();
    nodes.sort();
    nodes
}

fn labels_of(lab: &Lab, node: &str) -> String {
    lab.run_docker(
        1,
        &["node", "inspect", node, "--format", "{{json .Spec.Labels}}"],
    )
}

#[test]
fn the_nuvla_infrastructure_from_bare_hosts_to_its_stacks_and_back() {
    let lab = Lab::start_with_docker(5);
    lab.import_stand_in_images(STAND_INS);
    install_stand_in_programs(&lab);
    let share_parent = tempfile::tempdir().expect("a folder");
    let share = share_parent.path().join("nfs-root");
    let repo = seed_repo(&lab, &share);

    // On bare hosts, the plan reads every node's engine, changes nothing and names the
    // swarm it would make.
    let plan = repo.run(&["plan", "--env", "staging", "--workflow", "hosts"]);
    assert_code(&plan, 2);
    assert!(
        plan.stdout
            .contains(&format!("    + create swarm on node1 ({})\n", lab.nodes[0])),
        "{}",
        plan.stdout
    );

    let apply = repo.run(&["apply", "--env", "staging"]);
    assert_code(&apply, 0);
    assert!(
        apply
            .stderr
            .contains("note: workflow `teardown` not rendered: its input `confirm` is required"),
        "{}",
        apply.stderr
    );

    // The hosts, over SSH: the firewall on every node, the NFS server on node 4.
    for node in 1..=5 {
        assert!(
            on_node(&lab, node, "iptables -S INPUT").contains("-A INPUT -j SHOAL-INPUT"),
            "node {node}"
        );
    }
    assert!(
        on_node(&lab, 4, "cat /etc/exports").contains(&share.display().to_string()),
        "node 4 exports the share"
    );
    assert!(share.is_dir());

    // The swarm, through the Engine API (the docker CLI on node 1).
    let mut nodes: Vec<String> = lab
        .run_docker(
            1,
            &[
                "node",
                "ls",
                "--format",
                "{{.Hostname}} {{.Status}} {{if .ManagerStatus}}manager{{else}}worker{{end}}",
            ],
        )
        .lines()
        .map(str::to_owned)
        .collect();
    nodes.sort();
    assert_eq!(
        nodes,
        [
            "node1 Ready manager",
            "node2 Ready manager",
            "node3 Ready manager",
            "node4 Ready worker",
            "node5 Ready worker"
        ]
    );
    assert_eq!(labels_of(&lab, "node4"), r#"{"nfs-server":"true"}"#);

    // The stacks: the network, Traefik on a manager with its certificate, monitoring with
    // its exporters on every node, MinIO on the NFS server's node.
    assert_eq!(
        lab.run_docker(
            1,
            &[
                "network",
                "inspect",
                "traefik-public",
                "--format",
                "{{.Driver}} {{.Attachable}}"
            ]
        ),
        "overlay true"
    );
    let traefik = placed(&lab, "traefik_traefik");
    assert_eq!(traefik.len(), 1, "{traefik:?}");
    assert!(
        ["node1", "node2", "node3"].contains(&traefik[0].as_str()),
        "{traefik:?}"
    );
    assert!(
        lab.run_docker(1, &["secret", "ls", "--format", "{{.Name}}"])
            .contains("traefik-default-cert.pem-"),
        "Traefik's certificate was issued"
    );
    assert_eq!(
        placed(&lab, "monitoring_node-exporter"),
        ["node1", "node2", "node3", "node4", "node5"]
    );
    assert_eq!(
        placed(&lab, "monitoring_cadvisor"),
        ["node1", "node2", "node3", "node4", "node5"]
    );
    assert_eq!(placed(&lab, "minio_minio"), ["node4"]);

    // Nothing to do the second time, for every workflow.
    let again = repo.run(&["plan", "--env", "staging"]);
    assert_code(&again, 0);

    // A label removed by hand is drift, named by the plan, healed by apply.
    lab.run_docker(1, &["node", "update", "--label-rm", "nfs-server", "node4"]);
    let drift = repo.run(&["plan", "--env", "staging", "--workflow", "hosts"]);
    assert_code(&drift, 2);
    assert!(
        drift.stdout.contains(&format!(
            "    ~ update node node4 ({})\n        Labels.nfs-server: (none) -> \"true\"\n",
            lab.nodes[3]
        )),
        "{}",
        drift.stdout
    );
    assert_code(
        &repo.run(&["apply", "--env", "staging", "--workflow", "hosts"]),
        0,
    );
    assert_eq!(labels_of(&lab, "node4"), r#"{"nfs-server":"true"}"#);

    // Teardown: the stacks go; the swarm, the network and the firewall stay.
    let teardown = repo.run(&[
        "apply",
        "--env",
        "staging",
        "--workflow",
        "teardown",
        "--input",
        "confirm=staging",
    ]);
    assert_code(&teardown, 0);
    assert_eq!(lab.run_docker(1, &["service", "ls", "--quiet"]), "");
    assert_eq!(
        lab.run_docker(
            1,
            &[
                "network",
                "ls",
                "--filter",
                "name=traefik-public",
                "--format",
                "{{.Name}}"
            ]
        ),
        "traefik-public"
    );
    assert_eq!(
        lab.run_docker(1, &["node", "ls", "--quiet"])
            .lines()
            .count(),
        5
    );
    for node in 1..=5 {
        assert!(
            on_node(&lab, node, "iptables -S INPUT").contains("-A INPUT -j SHOAL-INPUT"),
            "node {node} keeps its firewall"
        );
    }
}
