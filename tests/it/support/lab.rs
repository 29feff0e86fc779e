//! A lab of N nodes on this machine for host steps over SSH: each node a network
//! namespace on the lab's bridge with its own hostname and OpenSSH sshd, started by
//! `tests/lab/lab supervise`, which stops the lab when the test process lets go of it
//! (on drop, or however the process ends).

use super::run;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// How long a lab may take to start, and a command in it to finish.
const TIMEOUT: Duration = Duration::from_secs(60);

/// A running lab; dropping it stops the lab and deletes its folder.
pub struct Lab {
    supervisor: Child,
    stdin: Option<ChildStdin>,
    slot: String,
    /// The nodes' addresses, node 1 first.
    pub nodes: Vec<String>,
    /// The private key that logs in as root and as `shoal-lab` on every node.
    pub key: PathBuf,
    /// A known_hosts file with every node's host key.
    pub known_hosts: PathBuf,
}

impl Lab {
    /// Starts a lab of `count` nodes.
    pub fn start(count: usize) -> Lab {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let folder = format!(
            "/tmp/shoal-lab-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut supervisor = Command::new(crate::test_repo::project_root().join("tests/lab/lab"))
            .args(["supervise", &count.to_string(), &folder])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("tests/lab/lab starts");
        let stdin = supervisor.stdin.take();
        let mut values = std::collections::HashMap::new();
        let stdout = supervisor.stdout.take().expect("piped stdout");
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("the lab's output is text");
            if line == "# ready" {
                break;
            }
            if let Some((name, value)) = line.split_once('=') {
                values.insert(name.to_owned(), value.trim_matches('"').to_owned());
            }
        }
        let value = |name: &str| {
            values
                .get(name)
                .cloned()
                .unwrap_or_else(|| panic!("the lab in {folder} did not start (no {name})"))
        };
        Lab {
            slot: value("LAB_SLOT"),
            nodes: value("LAB_NODES").split(' ').map(str::to_owned).collect(),
            key: value("LAB_KEY").into(),
            known_hosts: value("LAB_KNOWN_HOSTS").into(),
            supervisor,
            stdin,
        }
    }

    /// Runs `command` on node `node` (1-based) as `user` with OpenSSH's client, checking
    /// the node's host key; a connection that does not answer in `connect_timeout` fails.
    pub fn ssh(&self, node: usize, user: &str, command: &str, connect_timeout: u64) -> Output {
        run(
            Command::new("ssh")
                .arg("-i")
                .arg(&self.key)
                .arg("-o")
                .arg(format!("UserKnownHostsFile={}", self.known_hosts.display()))
                .args(["-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes"])
                .args(["-o", &format!("ConnectTimeout={connect_timeout}")])
                .arg(format!("{user}@{}", self.nodes[node - 1]))
                .arg(command)
                .stdin(Stdio::null()),
            TIMEOUT,
        )
    }

    /// The lab's folder: the key, known_hosts, and a folder `nodeI` per node with its
    /// `sshd_config`, `sshd.pid` and `sshd.log`.
    pub fn folder(&self) -> &std::path::Path {
        self.key.parent().expect("the key is in the lab's folder")
    }

    /// Runs a program inside node `node`'s network namespace (not through `ip netns
    /// exec`, which remounts /sys).
    pub fn in_node(&self, node: usize, program: &[&str]) -> Output {
        run(
            Command::new("nsenter")
                .arg(format!("--net=/var/run/netns/shlab-{}-{node}", self.slot))
                .args(program)
                .stdin(Stdio::null()),
            TIMEOUT,
        )
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        // Closing its standard input tells the supervisor to stop the lab.
        drop(self.stdin.take());
        let _ = self.supervisor.wait();
    }
}
