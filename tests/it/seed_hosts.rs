//! The host side of seed 001 as shipped (`workflows/hosts.yml` with `hosts/`), applied to
//! lab nodes: the NFS server's exports, share and commands on the `nfs` node, and the
//! firewall table of a `target` infrastructure on every node, in the node's own network
//! namespace; then the lock-out guard undoing a rule set that shuts shoal out. What the
//! lab cannot run is stood in: `exportfs` and `systemctl` are scripts in each node's own
//! /usr/local/sbin that record how they were called (the lab runs no NFS server and no
//! systemd), and the share is a folder of the test's instead of /nfs-root (the nodes share
//! this machine's folders outside /etc). The guard waits 5 s here instead of the
//! workflow's 60 s, and the workflow targets only the lab's `staging`.

use std::path::Path;

use crate::support::PrivateSwarm;
use crate::support::lab::Lab;
use crate::test_repo::{TestRepo, project_root};

fn shipped(path: &str) -> String {
    std::fs::read_to_string(project_root().join(path)).expect("a shipped file")
}

/// The config repo: the shipped workflow and templates, and a `staging` environment whose
/// managers are node 1 (also the NFS server) and workers node 2, with the guard's delay
/// shortened to `guard`.
fn seed_repo(lab: &Lab, share: &Path, management: &str, guard: &str) -> TestRepo {
    // The swarm and node steps at the end need a dockerd on each node: seed_nuvla.rs
    // runs the whole workflow on a lab with Docker.
    let whole = shipped("workflows/hosts.yml");
    let host_steps = whole
        .split("\n  # The guide's swarm:")
        .next()
        .expect("a first part");
    assert_ne!(host_steps.len(), whole.len(), "hosts.yml has a swarm step");
    let workflow = host_steps
        .replace(
            "rollback_if_unreachable: 60s",
            &format!("rollback_if_unreachable: {guard}"),
        )
        .replace("environments: [staging, prod]", "environments: [staging]");
    TestRepo::new()
        .file("workflows/hosts.yml", &workflow)
        .file(
            "hosts/firewall/shoal-input.rules",
            &shipped("hosts/firewall/shoal-input.rules"),
        )
        .file("hosts/nfs/exports", &shipped("hosts/nfs/exports"))
        .file("shoal.yml", &shoal_yml(lab, share, management))
}

fn shoal_yml(lab: &Lab, share: &Path, management: &str) -> String {
    format!(
        "
        vars:
          infrastructure: target
          nfs_share: {share}
          firewall:
            management: [{management}]
            nuvla: [192.0.2.200]
            users: [any]
        environments:
          staging:
            docker: {{ host: \"{docker}\" }}
            ssh:
              user: root
              identity: \"{key}\"
              known_hosts: \"{known_hosts}\"
              connect_timeout: 3s
            hosts:
              managers: [\"{node1}\"]
              workers: [\"{node2}\"]
              nfs: [\"{node1}\"]
        ",
        share = share.display(),
        docker = PrivateSwarm::shared().docker_host(),
        key = lab.key.display(),
        known_hosts = lab.known_hosts.display(),
        node1 = lab.nodes[0],
        node2 = lab.nodes[1],
    )
}

fn rules_of(lab: &Lab, node: usize, chain: &str) -> String {
    let output = lab.in_node(node, &["iptables", "-S", chain]);
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn the_nuvla_hosts_workflow_sets_up_the_nfs_server_and_the_firewall() {
    let lab = Lab::start(2);
    lab.install_stand_in_programs(&["exportfs", "systemctl"]);
    let share_parent = tempfile::tempdir().expect("a folder");
    let share = share_parent.path().join("nfs-root");
    let host = lab.host_address().to_string();
    let repo = seed_repo(&lab, &share, &host, "60s");
    let (node1, node2) = (&lab.nodes[0], &lab.nodes[1]);

    let plan = repo.run(&["plan", "--env", "staging"]);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    // Node 1's /etc is this machine's until the node writes it.
    let exports = if Path::new("/etc/exports").exists() {
        "      ~ update file /etc/exports\n"
    } else {
        "      + create file /etc/exports\n"
    };
    for expected in ["      + create file /etc/shoal-firewall.rules\n", exports] {
        assert!(plan.stdout.contains(expected), "{}", plan.stdout);
    }

    let apply = repo.run(&["apply", "--env", "staging"]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);

    // NFS, on node 1 only: its own /etc/exports, the share, the server enabled, exportfs.
    assert_eq!(
        lab.on_node(1, "tail -n 1 /etc/exports"),
        format!(
            "{} {node1}(ro,sync,no_subtree_check) {node2}(ro,sync,no_subtree_check)\n",
            share.display()
        )
    );
    let metadata = std::fs::metadata(&share).expect("the share");
    assert!(metadata.is_dir());
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&metadata.permissions()) & 0o777,
        0o777
    );
    // The guard (`systemctl is-enabled`) runs in each plan too; the rest once.
    assert_eq!(
        lab.on_node(1, "grep -v is-enabled /etc/shoal-lab-standins"),
        "systemctl enable --now nfs-kernel-server\nexportfs -ra\n"
    );
    assert!(
        !lab.on_node(2, "cat /etc/exports 2>/dev/null || true")
            .contains(&share.display().to_string()),
        "node 2 is no NFS server"
    );
    assert!(
        !std::fs::read_to_string("/etc/exports")
            .unwrap_or_default()
            .contains(&share.display().to_string()),
        "this machine's /etc/exports is untouched"
    );

    // The firewall, in each node's own namespace: the target table, INPUT jumping to it.
    for node in 1..=2 {
        let rules = rules_of(&lab, node, "SHOAL-INPUT");
        for expected in [
            format!("-A SHOAL-INPUT -s {host}/32 -p tcp -m multiport --dports 22,8080 -j ACCEPT"),
            format!(
                "-A SHOAL-INPUT -s {node1}/32 -p tcp -m multiport --dports 2377,7946 -j ACCEPT"
            ),
            format!(
                "-A SHOAL-INPUT -s {node2}/32 -p udp -m multiport --dports 111,2049,33333 -j ACCEPT"
            ),
            "-A SHOAL-INPUT -s 192.0.2.200/32 -p tcp -m multiport --dports 2376:2377 -j ACCEPT"
                .to_owned(),
            "-A SHOAL-INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT".to_owned(),
            "-A SHOAL-INPUT -j DROP".to_owned(),
        ] {
            assert!(
                rules.contains(&expected),
                "node {node} lacks {expected}:\n{rules}"
            );
        }
        assert!(
            rules_of(&lab, node, "INPUT").contains("-A INPUT -j SHOAL-INPUT"),
            "node {node}'s INPUT jumps to SHOAL-INPUT"
        );
    }
    assert!(
        !rules_of(&lab, 1, "INPUT").is_empty() && lab.ssh(1, "root", "true", 3).status.success(),
        "shoal's host still logs in"
    );

    // Nothing changed: the next plan says so, and an apply runs nothing but guards.
    let again = repo.run(&["plan", "--env", "staging"]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    let apply = repo.run(&["apply", "--env", "staging"]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    assert_eq!(
        lab.on_node(1, "grep -c exportfs /etc/shoal-lab-standins"),
        "1\n",
        "exportfs ran once"
    );
}

#[test]
fn a_firewall_table_that_shuts_shoal_out_is_undone_by_the_nodes() {
    let lab = Lab::start(2);
    lab.install_stand_in_programs(&["exportfs", "systemctl"]);
    let share_parent = tempfile::tempdir().expect("a folder");
    let share = share_parent.path().join("nfs-root");
    let host = lab.host_address().to_string();

    // The first table names another management address: applying it would shut shoal
    // out for good. Each node's guard takes the chain out again after 5 s.
    let repo = seed_repo(&lab, &share, "192.0.2.1", "5s");
    let apply = repo.run(&["apply", "--env", "staging"]);
    assert_eq!(apply.code, 1, "{}{}", apply.stdout, apply.stderr);
    assert!(
        apply.stderr.contains("the host undid the change: its lock-out guard restored the previous files and ran on_change again after 5s"),
        "{}",
        apply.stderr
    );
    for node in 1..=2 {
        assert!(
            !rules_of(&lab, node, "INPUT").contains("SHOAL-INPUT"),
            "node {node}'s INPUT no longer jumps to the chain"
        );
        assert!(
            lab.ssh(node, "root", "true", 3).status.success(),
            "node {node} answers"
        );
        assert!(
            !lab.ssh(node, "root", "test -e /etc/shoal-firewall.rules", 3)
                .status
                .success(),
            "node {node}'s first rule set is gone"
        );
    }

    // A table that lets shoal in, then one that does not: the previous table comes back.
    std::fs::write(
        repo.path().join("shoal.yml"),
        crate::test_repo::dedent(&shoal_yml(&lab, &share, &host)),
    )
    .expect("shoal.yml");
    let apply = repo.run(&["apply", "--env", "staging"]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    let good = rules_of(&lab, 1, "SHOAL-INPUT");
    std::fs::write(
        repo.path().join("shoal.yml"),
        crate::test_repo::dedent(&shoal_yml(&lab, &share, "192.0.2.1")),
    )
    .expect("shoal.yml");
    let apply = repo.run(&["apply", "--env", "staging"]);
    assert_eq!(apply.code, 1, "{}{}", apply.stdout, apply.stderr);
    assert_eq!(
        rules_of(&lab, 1, "SHOAL-INPUT"),
        good,
        "node 1 has the table that let shoal in"
    );
    assert!(lab.ssh(1, "root", "true", 3).status.success());
}

#[test]
fn the_esgf_example_opens_the_swarm_ports_on_every_node() {
    let lab = Lab::start(2);
    let nodes: Vec<String> = lab.nodes.iter().map(|node| format!("\"{node}\"")).collect();
    let repo = TestRepo::new()
        .file(
            "workflows/swarm-ports.yml",
            &shipped("examples/esgf/workflows/swarm-ports.yml"),
        )
        .file(
            "hosts/swarm-ports.rules",
            &shipped("examples/esgf/hosts/swarm-ports.rules"),
        )
        .file(
            "shoal.yml",
            &format!(
                "
                environments:
                  test:
                    docker: {{ host: \"{docker}\" }}
                    ssh:
                      user: root
                      identity: \"{key}\"
                      known_hosts: \"{known_hosts}\"
                    hosts:
                      nodes: [{nodes}]
                ",
                docker = PrivateSwarm::shared().docker_host(),
                key = lab.key.display(),
                known_hosts = lab.known_hosts.display(),
                nodes = nodes.join(", "),
            ),
        );
    let apply = repo.run(&["apply", "--env", "test"]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    for node in 1..=2 {
        assert_eq!(
            rules_of(&lab, node, "SHOAL-SWARM"),
            "-N SHOAL-SWARM\n\
             -A SHOAL-SWARM -i lo -j ACCEPT\n\
             -A SHOAL-SWARM -p tcp -m tcp --dport 22 -j ACCEPT\n\
             -A SHOAL-SWARM -p tcp -m tcp --dport 2376 -j ACCEPT\n\
             -A SHOAL-SWARM -p tcp -m tcp --dport 2377 -j ACCEPT\n\
             -A SHOAL-SWARM -p tcp -m tcp --dport 7946 -j ACCEPT\n\
             -A SHOAL-SWARM -p udp -m udp --dport 7946 -j ACCEPT\n\
             -A SHOAL-SWARM -p udp -m udp --dport 4789 -j ACCEPT\n"
        );
        assert!(rules_of(&lab, node, "INPUT").contains("-A INPUT -j SHOAL-SWARM"));
    }
    let again = repo.run(&["plan", "--env", "test"]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
}
