//! The lab of tests/lab: nodes that answer SSH with their own hostname, and a firewall
//! inside one node's namespace that shuts out only that node.

use crate::support::lab::Lab;
use crate::support::run;
use std::process::Command;
use std::time::Duration;

fn stdout(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[test]
fn each_node_answers_ssh_with_its_own_hostname_as_root_and_with_sudo() {
    let lab = Lab::start(2);
    assert_eq!(stdout(&lab.ssh(1, "root", "hostname", 10)), "node1");
    assert_eq!(stdout(&lab.ssh(2, "root", "hostname", 10)), "node2");
    assert_eq!(
        stdout(&lab.ssh(2, "shoal-lab", "whoami; sudo -n whoami", 10)),
        "shoal-lab\nroot"
    );
}

#[test]
fn a_firewall_in_one_node_shuts_out_only_that_node() {
    let lab = Lab::start(2);
    let host_rules = || {
        String::from_utf8_lossy(
            &run(Command::new("iptables").arg("-S"), Duration::from_secs(30)).stdout,
        )
        .into_owned()
    };
    let before = host_rules();
    let drop_ssh = [
        "iptables", "-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "DROP",
    ];
    stdout(&lab.in_node(1, &drop_ssh));

    let shut_out = lab.ssh(1, "root", "hostname", 3);
    assert_eq!(shut_out.status.code(), Some(255), "ssh to node 1 must fail");
    assert!(
        String::from_utf8_lossy(&shut_out.stderr).contains("timed out"),
        "{}",
        String::from_utf8_lossy(&shut_out.stderr)
    );
    assert_eq!(stdout(&lab.ssh(2, "root", "hostname", 10)), "node2");
    assert_eq!(host_rules(), before, "the host's own rules are untouched");
    assert!(stdout(&lab.in_node(1, &["iptables", "-S", "INPUT"])).contains("--dport 22 -j DROP"));
}
