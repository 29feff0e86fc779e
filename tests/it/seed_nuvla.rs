//! Seed 001 as shipped (the project root's `shoal.yml`, `workflows/`, `hosts/`, `stacks/`
//! and `pki/`), end to end on five bare lab nodes, each with a dockerd of its own: one
//! `shoal apply --env staging` writes the firewall table and the NFS server's exports on
//! the hosts, makes three managers and two workers one swarm, labels the NFS server's
//! node, and deploys the traefik-public network, Traefik with its certificate from the
//! environment's CA, Prometheus and Grafana, and MinIO on the labelled node; a second
//! plan changes nothing; a label removed by hand is drift that `plan` and the hourly
//! scheduled check (the daemon's run) name, healed by the schedule's apply; the teardown workflow removes the stacks and leaves the swarm, the network
//! and the hosts as they were. Last, the infrastructure is deployed again through the
//! three managers (`docker.hosts`), and the leader's dockerd is killed in the middle: the
//! run completes through another manager and the swarm keeps its quorum.
//!
//! What the lab cannot run is stood in, as in seed_hosts.rs: the images are busybox
//! idling by its ENTRYPOINT (the `offline` environment's names, healthchecks off),
//! `exportfs` and `systemctl` are scripts that record their calls, the share is a folder
//! of the test's, and each node's engine is its own socket (`docker.node_host`).

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::Stdio;
use std::time::Duration;

use shoal::store::RunStatus;
use shoal::trigger::RunMode;

use crate::pipeline_parity::Commit;
use crate::support::lab::Lab;
use crate::support::nuvla_lab::{STAND_IN_PROGRAMS, STAND_INS, write_config_repo};
use crate::test_repo::{Run, TestRepo, shoal};

fn assert_code(run: &Run, code: i32) {
    assert_eq!(run.code, code, "{}{}", run.stdout, run.stderr);
}

#[test]
fn the_nuvla_infrastructure_from_bare_hosts_to_its_stacks_and_back() {
    let lab = Lab::start_with_docker(5);
    lab.import_stand_in_images(STAND_INS);
    lab.install_stand_in_programs(STAND_IN_PROGRAMS);
    let share_parent = tempfile::tempdir().expect("a folder");
    let share = share_parent.path().join("nfs-root");
    let repo = TestRepo::new();
    write_config_repo(&lab, &share, repo.path());

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
            lab.on_node(node, "iptables -S INPUT")
                .contains("-A INPUT -j SHOAL-INPUT"),
            "node {node}"
        );
    }
    assert!(
        lab.on_node(4, "cat /etc/exports")
            .contains(&share.display().to_string()),
        "node 4 exports the share"
    );
    assert!(share.is_dir());

    // The swarm, through the Engine API (the docker CLI on node 1).
    assert_eq!(
        lab.swarm_nodes(),
        [
            "node1 Ready manager",
            "node2 Ready manager",
            "node3 Ready manager",
            "node4 Ready worker",
            "node5 Ready worker"
        ]
    );
    assert_eq!(lab.node_labels("node4"), r#"{"nfs-server":"true"}"#);

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
    let traefik = lab.placed("traefik_traefik");
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
        lab.placed("monitoring_node-exporter"),
        ["node1", "node2", "node3", "node4", "node5"]
    );
    assert_eq!(
        lab.placed("monitoring_cadvisor"),
        ["node1", "node2", "node3", "node4", "node5"]
    );
    assert_eq!(lab.placed("minio_minio"), ["node4"]);

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
    // The hourly schedule of workflows/hosts.yml, as `shoal serve` runs it: a drift check
    // reports the label; with `heal: true` the schedule applies, and the label is back.
    let commit = Commit::of(repo.path(), "seed 001");
    let (checked, log) = commit.execute_workflow(
        "hosts",
        "staging",
        RunMode::DriftCheck,
        "schedule",
        repo.path(),
    );
    assert!(checked.drift, "{checked:?}\n{}", log.join("\n"));
    assert_eq!(checked.summary, "drift: 1 to update", "{checked:?}");
    assert_eq!(
        lab.node_labels("node4"),
        "{}",
        "a drift check changes nothing"
    );
    let (healed, log) =
        commit.execute_workflow("hosts", "staging", RunMode::Apply, "schedule", repo.path());
    assert_eq!(
        healed.status,
        RunStatus::Success,
        "{healed:?}\n{}",
        log.join("\n")
    );
    assert_eq!(lab.node_labels("node4"), r#"{"nfs-server":"true"}"#);

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
            lab.on_node(node, "iptables -S INPUT")
                .contains("-A INPUT -j SHOAL-INPUT"),
            "node {node} keeps its firewall"
        );
    }

    manager_failover_while_traefik_is_awaited(&lab, &repo);
}

/// The infrastructure deployed again through the three managers (`docker.hosts`); the
/// leader's dockerd (node 1, which made the swarm) is killed while the run waits for
/// Traefik, and the run completes through another manager; the swarm keeps its quorum.
/// Monitoring is skipped: its global services would wait for node 1's tasks.
fn manager_failover_while_traefik_is_awaited(lab: &Lab, repo: &TestRepo) {
    let shoal_yml = std::fs::read_to_string(repo.path().join("shoal.yml")).expect("shoal.yml");
    let one_manager = format!("      host: \"{}\"\n", lab.docker_socket(1));
    let managers: Vec<String> = (1..=3)
        .map(|node| format!("\"{}\"", lab.docker_socket(node)))
        .collect();
    let three_managers = format!("      hosts: [{}]\n", managers.join(", "));
    assert!(shoal_yml.contains(&one_manager), "{shoal_yml}");
    std::fs::write(
        repo.path().join("shoal.yml"),
        shoal_yml.replace(&one_manager, &three_managers),
    )
    .expect("shoal.yml is writable");
    assert_eq!(
        lab.run_docker(
            1,
            &[
                "node",
                "inspect",
                "self",
                "--format",
                "{{.ManagerStatus.Leader}}"
            ]
        ),
        "true",
        "node 1 leads"
    );

    let state = tempfile::tempdir().expect("a folder");
    let mut apply = shoal()
        .args(["apply", "--env", "staging", "--workflow", "infrastructure"])
        .args(["--input", "skip_monitoring=true", "--repo"])
        .arg(repo.path())
        .env("SHOAL_KNOWN_SWARMS", state.path().join("known_swarms"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("shoal starts");
    let stdout = apply.stdout.take().expect("piped");
    let (lines, received) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut output = String::new();
    loop {
        let line = received
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|_| panic!("the apply never waited for Traefik: {output}"));
        output.push_str(&line);
        output.push('\n');
        if line == "==> wait for Traefik" {
            break;
        }
    }
    lab.kill_dockerd(1);
    output.extend(received.iter().map(|line| line + "\n"));
    reader.join().expect("the reader ends");
    let status = apply.wait().expect("the apply ends");
    let mut stderr = String::new();
    apply
        .stderr
        .take()
        .expect("piped")
        .read_to_string(&mut stderr)
        .expect("readable");
    assert!(status.success(), "{output}{stderr}");
    assert!(
        output.contains(&format!(
            "    moved from manager {} to ",
            lab.docker_socket(1)
        )),
        "{output}"
    );

    // Two managers of three answer: the swarm keeps its quorum, with a new leader.
    let managers = lab.run_docker(
        2,
        &[
            "node",
            "ls",
            "--filter",
            "role=manager",
            "--format",
            "{{.Hostname}} {{.ManagerStatus}}",
        ],
    );
    let mut managers: Vec<&str> = managers.lines().collect();
    managers.sort_unstable();
    assert_eq!(managers.len(), 3, "{managers:?}");
    assert_eq!(managers[0], "node1 Unreachable", "{managers:?}");
    assert!(
        managers[1..].contains(&"node2 Leader") || managers[1..].contains(&"node3 Leader"),
        "{managers:?}"
    );
    // Traefik runs at most one task per node ("1/1 (max 1 per node)").
    for service in ["traefik_traefik", "minio_minio"] {
        let replicas = lab.run_docker(
            2,
            &[
                "service",
                "ls",
                "--filter",
                &format!("name={service}"),
                "--format",
                "{{.Replicas}}",
            ],
        );
        assert_eq!(
            replicas.split(' ').next(),
            Some("1/1"),
            "{service}: {replicas}"
        );
    }
}
