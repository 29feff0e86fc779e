//! A lab of N nodes on this machine for host steps over SSH: each node a network
//! namespace on the lab's bridge with its own hostname and OpenSSH sshd (and, with
//! [`Lab::start_with_docker`], a dockerd of its own), started by `tests/lab/lab supervise`,
//! which stops the lab when the test process lets go of it (on drop, or however the
//! process ends).

use super::run;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// How long a lab may take to start, and a command in it to finish.
const TIMEOUT: Duration = Duration::from_secs(60);

/// See [`Lab::install_stand_in_programs`].
const STAND_IN_PROGRAM: &str = r#"#!/bin/sh
echo "$(basename "$0") $*" >> /etc/shoal-lab-standins
if [ "$(basename "$0")" = systemctl ]; then
  case "$1" in
    is-enabled) test -e "/etc/shoal-lab-enabled-$3" ;;
    enable) touch "/etc/shoal-lab-enabled-$3" ;;
  esac
fi
"#;

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
        Lab::launch(count, &[])
    }

    /// Starts a lab of `count` nodes, each with a dockerd of its own, at
    /// [`Lab::docker_socket`] and, without TLS, at [`Lab::docker_tcp`].
    pub fn start_with_docker(count: usize) -> Lab {
        Lab::launch(count, &["--docker"])
    }

    fn launch(count: usize, options: &[&str]) -> Lab {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let folder = format!(
            "/tmp/shoal-lab-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut supervisor = Command::new(crate::test_repo::project_root().join("tests/lab/lab"))
            .args(["supervise", &count.to_string(), &folder])
            .args(options)
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

    /// Runs `command` on node `node` as root over SSH, which must succeed; its standard
    /// output.
    pub fn on_node(&self, node: usize, command: &str) -> String {
        let output = self.ssh(node, "root", command, 5);
        assert!(
            output.status.success(),
            "`{command}` on node {node}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Puts a stand-in for each of `programs` (a program the lab does not run, such as
    /// `exportfs` or `systemctl`) in every node's /usr/local/sbin: it appends its name
    /// and arguments to /etc/shoal-lab-standins (the node's own /etc); `systemctl
    /// is-enabled UNIT` holds once `systemctl enable --now UNIT` was run.
    pub fn install_stand_in_programs(&self, programs: &[&str]) {
        for node in 1..=self.nodes.len() {
            for program in programs {
                self.on_node(
                    node,
                    &format!(
                        "cat > /usr/local/sbin/{program} <<'EOF'\n{STAND_IN_PROGRAM}EOF\nchmod 755 /usr/local/sbin/{program}"
                    ),
                );
            }
        }
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

/// Docker in the lab's nodes.
impl Lab {
    /// `unix://…` of node `node`'s dockerd (1-based).
    pub fn docker_socket(&self, node: usize) -> String {
        format!("unix://{}/node{node}/docker.sock", self.folder().display())
    }

    /// The host's address on the lab's bridge, which every node reaches: a service the
    /// test runs there (a registry, which the nodes' engines trust without TLS) listens
    /// on it.
    pub fn host_address(&self) -> std::net::Ipv4Addr {
        format!("10.213.{}.254", self.slot)
            .parse()
            .expect("the lab's slot makes an address")
    }

    /// `tcp://ADDRESS:2375` of node `node`'s dockerd: plain TCP, on the lab's bridge.
    pub fn docker_tcp(&self, node: usize) -> String {
        format!("tcp://{}:2375", self.nodes[node - 1])
    }

    /// The docker CLI for node `node`'s dockerd, through its socket.
    pub fn docker(&self, node: usize) -> Command {
        let mut command = Command::new("docker");
        command
            .args(["-H", &self.docker_socket(node)])
            .env("DOCKER_CONFIG", self.folder().join("docker-cli"))
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_TLS_VERIFY")
            .env_remove("DOCKER_CERT_PATH")
            .stdin(Stdio::null());
        command
    }

    /// Runs the docker CLI on node `node`; its standard output, trimmed.
    pub fn run_docker(&self, node: usize, args: &[&str]) -> String {
        super::run_successfully(self.docker(node).args(args), TIMEOUT)
            .trim()
            .to_owned()
    }

    /// Makes the nodes one swarm whose managers are all of them: `swarm init` on node 1,
    /// the others join as managers; each advertises its own address.
    pub fn make_swarm_of_managers(&self) {
        let listen = |node: usize| format!("{}:2377", self.nodes[node - 1]);
        self.run_docker(
            1,
            &[
                "swarm",
                "init",
                "--advertise-addr",
                &self.nodes[0],
                "--listen-addr",
                &listen(1),
            ],
        );
        let token = self.run_docker(1, &["swarm", "join-token", "--quiet", "manager"]);
        for node in 2..=self.nodes.len() {
            self.run_docker(
                node,
                &[
                    "swarm",
                    "join",
                    "--token",
                    &token,
                    "--advertise-addr",
                    &self.nodes[node - 1],
                    "--listen-addr",
                    &listen(node),
                    &listen(1),
                ],
            );
        }
    }

    /// Imports the test image (see `PrivateSwarm::image`) as `tag` on every node.
    pub fn import_image(&self, tag: &str) {
        for node in 1..=self.nodes.len() {
            let root = self
                .folder()
                .join(format!("node{node}"))
                .join(format!("image-{}", tag.replace(['/', ':'], "-")));
            super::private_swarm::import_busybox_image(&mut self.docker(node), &root, tag);
        }
    }

    /// Imports a stand-in for each of `tags` on every node: busybox idling by its
    /// ENTRYPOINT, whatever command a service gives it (imported once per node, then
    /// tagged).
    pub fn import_stand_in_images(&self, tags: &[&str]) {
        let Some((first, others)) = tags.split_first() else {
            return;
        };
        for node in 1..=self.nodes.len() {
            let root = self.folder().join(format!("node{node}/stand-in"));
            super::private_swarm::import_stand_in_image(&mut self.docker(node), &root, first);
            for tag in others {
                self.run_docker(node, &["tag", first, tag]);
            }
        }
    }

    /// Nodes `nodes` (1-based) as hosts of shoal.yml, a flow sequence's items named
    /// `nodeI`: `{ address: "10.213.1.4", name: node4 }, …`.
    pub fn hosts(&self, nodes: impl IntoIterator<Item = usize>) -> String {
        nodes
            .into_iter()
            .map(|node| {
                format!(
                    "{{ address: \"{}\", name: node{node} }}",
                    self.nodes[node - 1]
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The labels of swarm node `node` (its hostname) as JSON, as node 1 sees them.
    pub fn node_labels(&self, node: &str) -> String {
        self.run_docker(
            1,
            &["node", "inspect", node, "--format", "{{json .Spec.Labels}}"],
        )
    }

    /// The swarm's nodes as node 1 sees them, sorted: `HOSTNAME STATUS ROLE` each
    /// (`node4 Ready worker`).
    pub fn swarm_nodes(&self) -> Vec<String> {
        let mut nodes: Vec<String> = self
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
        nodes
    }

    /// The hostnames of the nodes running a task of `service`, sorted (from node 1).
    pub fn placed(&self, service: &str) -> Vec<String> {
        let mut nodes: Vec<String> = self
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

    /// Kills node `node`'s dockerd at once (SIGKILL), as a machine that dies would stop.
    pub fn kill_dockerd(&self, node: usize) {
        let pid_file = self.folder().join(format!("node{node}/docker.pid"));
        let pid = std::fs::read_to_string(&pid_file).expect("the node's dockerd has a pid file");
        run(Command::new("kill").args(["-KILL", pid.trim()]), TIMEOUT);
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        // Closing its standard input tells the supervisor to stop the lab.
        drop(self.stdin.take());
        let _ = self.supervisor.wait();
    }
}
