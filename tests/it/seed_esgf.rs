//! Seed 002 as shipped (`examples/esgf`), end to end on five bare lab nodes, each with a
//! dockerd of its own: one `shoal apply` opens the swarm ports on every node, makes three
//! managers and two workers one swarm, labels the data node and deploys the stack (a
//! global service on every node, a replicated one on the labelled node); a second plan
//! changes nothing; under `shoal serve`, a label removed by hand is drift the plan names,
//! healed by the next tick of swarm.yml's schedule (`heal: true`; the test's cron ticks
//! every minute);
//! the teardown workflow removes the stack and leaves the swarm and the hosts as they
//! were. The lab stands in: images are busybox imported on every node, and each node's
//! engine is its own socket (`docker.node_host`).

use serde_json::json;

use crate::pipeline_parity::Commit;
use crate::support::free_tcp_port;
use crate::support::lab::Lab;
use crate::support::serve_daemon::ServeDaemon;
use crate::test_repo::{Run, TestRepo, project_root};

const IMAGE: &str = "shoal-test/busybox:esgf";

fn shipped(path: &str) -> String {
    std::fs::read_to_string(project_root().join("examples/esgf").join(path))
        .expect("a shipped file")
}

fn repo(lab: &Lab) -> TestRepo {
    let mut repo = TestRepo::new().file(
        "shoal.yml",
        &format!(
            "environments:\n  test:\n    docker:\n      host: \"{}\"\n      node_host: \"unix://{}/{{{{ host.name }}}}/docker.sock\"\n    ssh:\n      user: root\n      identity: \"{}\"\n      known_hosts: \"{}\"\n    hosts:\n      nodes: [{}]\n      managers: [{}]\n      workers: [{}]\n      data: [{}]\n    vars:\n      images: {{ proxy: \"{IMAGE}\", index: \"{IMAGE}\" }}\n",
            lab.docker_socket(1),
            lab.folder().display(),
            lab.key.display(),
            lab.known_hosts.display(),
            lab.hosts([1, 2, 3, 4, 5]),
            lab.hosts([1, 2, 3]),
            lab.hosts([4, 5]),
            lab.hosts([4]),
        ),
    );
    for file in [
        "workflows/swarm-ports.yml",
        "workflows/swarm.yml",
        "workflows/workloads.yml",
        "workflows/teardown.yml",
        "hosts/swarm-ports.rules",
        "stacks/esgf.yml",
    ] {
        repo = repo.file(file, &shipped(file));
    }
    repo
}

fn assert_code(run: &Run, code: i32) {
    assert_eq!(run.code, code, "{}{}", run.stdout, run.stderr);
}

#[test]
fn the_esgf_swarm_from_bare_hosts_to_its_stack_and_back() {
    let lab = Lab::start_with_docker(5);
    lab.import_image(IMAGE);
    let repo = repo(&lab);

    let apply = repo.run(&["apply", "--env", "test"]);
    assert_code(&apply, 0);

    // The firewall on every node, over SSH.
    for node in 1..=5 {
        let rules = lab.ssh(node, "root", "iptables -S INPUT", 10);
        assert!(
            String::from_utf8_lossy(&rules.stdout).contains("-A INPUT -j SHOAL-SWARM"),
            "node {node}: {}",
            String::from_utf8_lossy(&rules.stderr)
        );
    }
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
    assert_eq!(lab.node_labels("node4"), r#"{"esgf.data":"true"}"#);
    // The stack: the global service on every node, the other on the data node.
    assert_eq!(
        lab.placed("esgf-stack_proxy"),
        ["node1", "node2", "node3", "node4", "node5"]
    );
    assert_eq!(lab.placed("esgf-stack_index"), ["node4"]);

    // Nothing to do the second time.
    let again = repo.run(&["plan", "--env", "test"]);
    assert_code(&again, 0);

    // The hourly schedule of swarm.yml (`heal: true`), ticking in `shoal serve`. The
    // test's one change to the shipped workflow is its cron, every minute rather than
    // at 7 past the hour. serve first runs the commit's push workflows, which find
    // nothing to change.
    let swarm_yml = repo.path().join("workflows/swarm.yml");
    let shipped_cron = "cron: \"7 * * * *\"";
    let workflow = std::fs::read_to_string(&swarm_yml).expect("swarm.yml");
    assert!(workflow.contains(shipped_cron), "{workflow}");
    std::fs::write(
        &swarm_yml,
        workflow.replace(shipped_cron, "cron: \"* * * * *\""),
    )
    .expect("writes swarm.yml");
    let commit = Commit::of(repo.path(), "seed 002, swarm checked every minute");
    let state = tempfile::tempdir().expect("a state folder");
    let daemon = ServeDaemon::start_with_docker(
        free_tcp_port(),
        state.path(),
        repo.path(),
        &lab.docker_socket(1),
        &[],
    );
    for workflow in ["swarm-ports", "swarm", "workloads"] {
        let run = daemon.wait_for_run(|run| {
            run["commit"] == commit.sha.as_str()
                && run["event"] == "push"
                && run["workflow"] == workflow
        });
        assert_eq!(
            (&run["status"], &run["summary"]),
            (&json!("success"), &json!("test: Applied 0 changes to test")),
            "{run}\n{}",
            daemon.log()
        );
    }
    let before = daemon
        .runs()
        .first()
        .map_or(0, |run| run["id"].as_i64().unwrap_or(0));

    // A label removed by hand is drift, named by the plan, healed by the next tick.
    lab.run_docker(1, &["node", "update", "--label-rm", "esgf.data", "node4"]);
    let drift = repo.run(&["plan", "--env", "test", "--workflow", "swarm"]);
    assert_code(&drift, 2);
    assert!(
        drift.stdout.contains(&format!(
            "    ~ update node node4 ({})\n        Labels.esgf.data: (none) -> \"true\"\n",
            lab.nodes[3]
        )),
        "{}",
        drift.stdout
    );
    // The schedule is checked every 20 s and falls due every minute.
    let healed = daemon.wait_for_run(|run| {
        run["id"].as_i64().unwrap_or(0) > before
            && run["event"] == "schedule"
            && run["workflow"] == "swarm"
            && run["summary"] != "test: Applied 0 changes to test"
    });
    assert_eq!(
        (&healed["mode"], &healed["status"], &healed["summary"]),
        (
            &json!("apply"),
            &json!("success"),
            &json!("test: Applied 1 change to test")
        ),
        "{healed}\n{}",
        daemon.log()
    );
    assert_eq!(lab.node_labels("node4"), r#"{"esgf.data":"true"}"#);
    drop(daemon);
    let checked = repo.run(&["plan", "--env", "test", "--workflow", "swarm"]);
    assert_code(&checked, 0);

    // Teardown: the stack goes; the swarm and the firewall stay.
    let teardown = repo.run(&[
        "apply",
        "--env",
        "test",
        "--workflow",
        "teardown",
        "--input",
        "confirm=test",
    ]);
    assert_code(&teardown, 0);
    assert_eq!(lab.run_docker(1, &["service", "ls", "--quiet"]), "");
    assert_eq!(
        lab.run_docker(1, &["node", "ls", "--quiet"])
            .lines()
            .count(),
        5
    );
    let after = repo.run(&["plan", "--env", "test", "--workflow", "swarm"]);
    assert_code(&after, 0);
    let ports = repo.run(&["plan", "--env", "test", "--workflow", "swarm-ports"]);
    assert_code(&ports, 0);
}
