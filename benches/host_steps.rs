//! Benchmark, side by side with `ansible-playbook` and `pyinfra` on the same 10 lab nodes:
//! three templated files per host and a handler that runs when one of them changed,
//! written as a shoal `ssh` step, an Ansible playbook and a pyinfra deploy. Timed: (a) a
//! run that changes nothing, (b) a run that changes one file on every host. Goals: shoal
//! at least 10 times faster than ansible-playbook on (a) and 5 times on (b), and faster
//! than pyinfra on both. Run with `scripts/install-bench-tools` (the test dependencies,
//! then ansible-core and pyinfra from PyPI) and `cargo bench --bench host_steps`, as
//! root. It reports figures; it asserts nothing about time, but it checks that every
//! tool did the work (the files' content, and how often each host's handler ran).
//!
//! The nodes share this machine's filesystem, so each tool writes under a folder of its
//! own, and each host under a subfolder named after its address. Every tool logs in as
//! root with the lab's key and checks host keys against the lab's known_hosts. Ansible
//! runs as its documentation advises for speed: `pipelining = True`, no fact gathering,
//! 10 forks, and its default `ControlPersist=60s`, which keeps its SSH connections open
//! from one run to the next (shoal and pyinfra connect afresh every run). The order of
//! the tools rotates from round to round. shoal also greets the environment's Docker
//! engine (a private one here) in every run, as it does whatever the steps.

#[path = "../tests/it/support/mod.rs"]
#[expect(dead_code, reason = "the benchmark uses part of the test support")]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use support::PrivateSwarm;
use support::lab::Lab;

/// What the test support expects of the test crate: where the project is.
mod test_repo {
    pub fn project_root() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("workspace root")
            .to_path_buf()
    }
}

const NODES: usize = 10;
/// Timed runs of each tool in each case.
const ROUNDS: usize = 7;
/// The templated files each host gets; the first changes in case (b).
const FILES: [&str; 3] = ["app", "limits", "motd"];

#[derive(Clone, Copy, PartialEq)]
enum Tool {
    Shoal,
    Ansible,
    Pyinfra,
}

const TOOLS: [Tool; 3] = [Tool::Shoal, Tool::Ansible, Tool::Pyinfra];

impl Tool {
    fn folder_name(self) -> &'static str {
        match self {
            Tool::Shoal => "shoal",
            Tool::Ansible => "ansible",
            Tool::Pyinfra => "pyinfra",
        }
    }

    /// How each tool's templates name the host they are rendered for.
    fn host_name(self) -> &'static str {
        match self {
            Tool::Shoal | Tool::Pyinfra => "{{ host.name }}",
            Tool::Ansible => "{{ inventory_hostname }}",
        }
    }
}

fn main() {
    let shoal = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/shoal");
    assert!(
        shoal.exists(),
        "build shoal first: cargo build --release ({} missing)",
        shoal.display()
    );
    for program in ["ansible-playbook", "pyinfra"] {
        let found = Command::new(program)
            .arg("--version")
            .output()
            .is_ok_and(|output| output.status.success());
        assert!(
            found,
            "{program} is missing: scripts/install-bench-tools installs it"
        );
    }
    // shoal opens the environment's Docker engine in every run, ssh steps or not.
    let swarm = PrivateSwarm::shared();
    let lab = Lab::start(NODES);
    let folder = tempfile::tempdir().expect("temporary folder");
    let bench = Bench {
        swarm,
        lab: &lab,
        shoal,
        folder: folder.path().to_owned(),
    };
    bench.write_tools();
    bench.write_templates(0);

    // Each tool's first run writes every file and runs every handler once; not timed.
    for tool in TOOLS {
        bench.run(tool);
        bench.check(tool, 0, 1);
    }

    // (a) Nothing to change.
    let mut unchanged = Samples::default();
    for round in 0..ROUNDS {
        for tool in order(round) {
            unchanged.push(tool, bench.run(tool));
        }
    }
    for tool in TOOLS {
        bench.check(tool, 0, 1);
    }

    // (b) The first file's template changes in each round, on every host.
    let mut one_changed = Samples::default();
    for round in 0..ROUNDS {
        bench.write_templates(round + 1);
        for tool in order(round) {
            one_changed.push(tool, bench.run(tool));
            bench.check(tool, round + 1, round + 2);
        }
    }

    println!(
        "{NODES} lab nodes, {} templated files per host and a handler, {ROUNDS} runs of \
         each tool per case, in rotating order; median (min to max):",
        FILES.len()
    );
    for (name, samples) in [
        ("(a) nothing changes", unchanged),
        ("(b) one file changes", one_changed),
    ] {
        let shoal = Summary::of(samples.shoal);
        let ansible = Summary::of(samples.ansible);
        let pyinfra = Summary::of(samples.pyinfra);
        println!(
            "{name:<21} shoal apply {shoal}   ansible-playbook {ansible} ({:.1}x)   \
             pyinfra {pyinfra} ({:.1}x)",
            ansible.median / shoal.median,
            pyinfra.median / shoal.median,
        );
    }
}

/// The tools in the order they run in `round`: rotating, so that none always goes first.
fn order(round: usize) -> [Tool; 3] {
    let mut tools = TOOLS;
    tools.rotate_left(round % TOOLS.len());
    tools
}

struct Bench<'a> {
    swarm: &'a PrivateSwarm,
    lab: &'a Lab,
    shoal: PathBuf,
    /// Each tool's files in `TOOL/`, and what it writes in `out/TOOL/ADDRESS/`.
    folder: PathBuf,
}

impl Bench<'_> {
    fn tool_folder(&self, tool: Tool) -> PathBuf {
        self.folder.join(tool.folder_name())
    }

    /// Where `tool` writes the files of all hosts, each in a subfolder named after it.
    fn out(&self, tool: Tool) -> PathBuf {
        self.folder.join("out").join(tool.folder_name())
    }

    /// Writes the shoal config repo, the Ansible project and the pyinfra deploy, and
    /// makes each host's output folder.
    fn write_tools(&self) {
        for tool in TOOLS {
            for node in &self.lab.nodes {
                std::fs::create_dir_all(self.out(tool).join(node)).expect("a host's folder");
            }
            std::fs::create_dir_all(self.tool_folder(tool).join("templates")).expect("folders");
        }
        let key = self.lab.key.display();
        let known_hosts = self.lab.known_hosts.display();

        let shoal = self.tool_folder(Tool::Shoal);
        let nodes: Vec<String> = self
            .lab
            .nodes
            .iter()
            .map(|node| format!("\"{node}\""))
            .collect();
        write(
            &shoal.join("shoal.yml"),
            &format!(
                "environments:\n  bench:\n    docker: {{ host: \"{}\" }}\n    \
                 ssh: {{ user: root, identity: \"{key}\", known_hosts: \"{known_hosts}\" }}\n    \
                 hosts:\n      nodes: [{}]\n    vars: {{ dir: \"{}\" }}\n",
                self.swarm.docker_host(),
                nodes.join(", "),
                self.out(Tool::Shoal).display()
            ),
        );
        let mut workflow = String::from(
            "steps:\n  - id: files\n    ssh:\n      hosts: [nodes]\n      parallel: 10\n      files:\n",
        );
        for file in FILES {
            workflow.push_str(&format!(
                "        - {{ src: templates/{file}.j2, dest: \"{{{{ vars.dir }}}}/{{{{ host.address }}}}/{file}.conf\", mode: \"0644\" }}\n"
            ));
        }
        workflow.push_str(
            "      on_change:\n        - echo handled >> {{ vars.dir }}/{{ host.address }}/handled\n",
        );
        write(&shoal.join("workflows/hosts.yml"), &workflow);
        self.git(&["init", "--quiet", "--initial-branch=main"]);

        let ansible = self.tool_folder(Tool::Ansible);
        write(
            &ansible.join("ansible.cfg"),
            &format!(
                "[defaults]\ninventory = inventory.ini\nforks = 10\nhost_key_checking = True\n\
                 gathering = explicit\ninterpreter_python = /usr/bin/python3\n\
                 remote_user = root\nprivate_key_file = {key}\nretry_files_enabled = False\n\
                 [ssh_connection]\npipelining = True\ncontrol_path_dir = {cp}\n\
                 ssh_args = -C -o ControlMaster=auto -o ControlPersist=60s \
                 -o UserKnownHostsFile={known_hosts} -o StrictHostKeyChecking=yes\n",
                cp = ansible.join("cp").display(),
            ),
        );
        write(
            &ansible.join("inventory.ini"),
            &format!("[nodes]\n{}\n", self.lab.nodes.join("\n")),
        );
        write(
            &ansible.join("site.yml"),
            &format!(
                "- hosts: nodes\n  gather_facts: false\n  vars:\n    dir: \"{}\"\n  tasks:\n    \
                 - name: files\n      ansible.builtin.template:\n        \
                 src: \"templates/{{{{ item }}}}.j2\"\n        \
                 dest: \"{{{{ dir }}}}/{{{{ inventory_hostname }}}}/{{{{ item }}}}.conf\"\n        \
                 mode: \"0644\"\n      loop: [{}]\n      notify: handled\n  handlers:\n    \
                 - name: handled\n      ansible.builtin.shell: \
                 \"echo handled >> {{{{ dir }}}}/{{{{ inventory_hostname }}}}/handled\"\n",
                self.out(Tool::Ansible).display(),
                FILES.join(", ")
            ),
        );

        let pyinfra = self.tool_folder(Tool::Pyinfra);
        let hosts: Vec<String> = self
            .lab
            .nodes
            .iter()
            .map(|node| {
                format!(
                    "    (\"{node}\", {{\"ssh_user\": \"root\", \"ssh_key\": \"{key}\", \
                     \"ssh_known_hosts_file\": \"{known_hosts}\", \
                     \"ssh_strict_host_key_checking\": \"yes\", \"dir\": \"{}\"}}),\n",
                    self.out(Tool::Pyinfra).display()
                )
            })
            .collect();
        write(
            &pyinfra.join("inventory.py"),
            &format!("nodes = [\n{}]\n", hosts.concat()),
        );
        let files: Vec<String> = FILES.iter().map(|file| format!("\"{file}\"")).collect();
        write(
            &pyinfra.join("deploy.py"),
            &format!(
                "from pyinfra import host\n\
                 from pyinfra.operations import files, server\n\
                 from pyinfra.operations.util import any_changed\n\n\
                 written = [\n    files.template(\n        name=f\"{{name}}.conf\",\n        \
                 src=f\"templates/{{name}}.j2\",\n        \
                 dest=f\"{{host.data.dir}}/{{host.name}}/{{name}}.conf\",\n        \
                 mode=\"644\",\n    )\n    for name in ({})\n]\n\
                 server.shell(\n    name=\"handled\",\n    \
                 commands=[f\"echo handled >> {{host.data.dir}}/{{host.name}}/handled\"],\n    \
                 _if=any_changed(*written),\n)\n",
                files.join(", ")
            ),
        );
    }

    /// The three templates of every tool, the first at `revision`; shoal's committed.
    fn write_templates(&self, revision: usize) {
        for tool in TOOLS {
            for (index, file) in FILES.iter().enumerate() {
                let revision = if index == 0 { revision } else { 0 };
                write(
                    &self.tool_folder(tool).join(format!("templates/{file}.j2")),
                    &template(file, tool.host_name(), revision),
                );
            }
        }
        self.git(&["add", "--all"]);
        self.git(&[
            "commit",
            "--quiet",
            "--message",
            &format!("Revision {revision}"),
        ]);
    }

    fn git(&self, args: &[&str]) {
        let status = Command::new("git")
            .arg("-C")
            .arg(self.tool_folder(Tool::Shoal))
            .args([
                "-c",
                "user.name=bench",
                "-c",
                "user.email=bench@example.org",
            ])
            .args(args)
            .status()
            .expect("git runs (scripts/install-test-deps installs it)");
        assert!(status.success(), "git {args:?} failed");
    }

    /// Runs `tool` once, which must succeed; how long it took, in milliseconds.
    fn run(&self, tool: Tool) -> f64 {
        let folder = self.tool_folder(tool);
        let mut command = match tool {
            Tool::Shoal => {
                let mut command = Command::new(&self.shoal);
                command
                    .args(["apply", "--env", "bench", "--repo"])
                    .arg(&folder);
                command
            }
            Tool::Ansible => {
                let mut command = Command::new("ansible-playbook");
                command
                    .arg("site.yml")
                    .env("ANSIBLE_CONFIG", folder.join("ansible.cfg"));
                command
            }
            Tool::Pyinfra => {
                let mut command = Command::new("pyinfra");
                command.args(["-y", "--parallel", "10", "inventory.py", "deploy.py"]);
                command
            }
        };
        command.current_dir(&folder);
        let started = Instant::now();
        let output = command.output().expect("runs");
        let elapsed = started.elapsed();
        assert!(
            output.status.success(),
            "{:?} failed:\n{}{}",
            command,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        elapsed.as_secs_f64() * 1000.0
    }

    /// Checks that `tool` wrote every host's files, the first at `revision`, and ran each
    /// host's handler `handled` times in all.
    fn check(&self, tool: Tool, revision: usize, handled: usize) {
        for node in &self.lab.nodes {
            let folder = self.out(tool).join(node);
            for (index, file) in FILES.iter().enumerate() {
                let revision = if index == 0 { revision } else { 0 };
                let path = folder.join(format!("{file}.conf"));
                let content = std::fs::read_to_string(&path)
                    .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
                assert_eq!(
                    content,
                    template(file, node, revision),
                    "{} wrote {}",
                    tool.folder_name(),
                    path.display()
                );
            }
            let log = std::fs::read_to_string(folder.join("handled")).unwrap_or_default();
            assert_eq!(
                log.lines().count(),
                handled,
                "{}'s handler runs on {node}",
                tool.folder_name()
            );
        }
    }
}

/// File `name`'s template at `revision`, naming the host as `host` (a template
/// expression, or the rendered name).
fn template(name: &str, host: &str, revision: usize) -> String {
    let mut text = format!("# {name} of {host}, managed by the benchmark\nrevision = {revision}\n");
    for index in 0..20 {
        text.push_str(&format!("{name}.setting_{index:02} = value {index}\n"));
    }
    text
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("folders");
    std::fs::write(path, text).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
}

/// Timed runs of each tool in one case, in milliseconds.
#[derive(Default)]
struct Samples {
    shoal: Vec<f64>,
    ansible: Vec<f64>,
    pyinfra: Vec<f64>,
}

impl Samples {
    fn push(&mut self, tool: Tool, milliseconds: f64) {
        match tool {
            Tool::Shoal => self.shoal.push(milliseconds),
            Tool::Ansible => self.ansible.push(milliseconds),
            Tool::Pyinfra => self.pyinfra.push(milliseconds),
        }
    }
}

struct Summary {
    median: f64,
    min: f64,
    max: f64,
}

impl Summary {
    fn of(mut samples: Vec<f64>) -> Summary {
        samples.sort_by(f64::total_cmp);
        let middle = samples.len() / 2;
        let median = if samples.len().is_multiple_of(2) {
            (samples[middle - 1] + samples[middle]) / 2.0
        } else {
            samples[middle]
        };
        Summary {
            median,
            min: samples[0],
            max: samples[samples.len() - 1],
        }
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "{:>7.1} ms ({:.0} to {:.0})",
            self.median, self.min, self.max
        )
    }
}
