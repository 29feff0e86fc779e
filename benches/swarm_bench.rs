//! What the benchmarks on a private swarm share (`stack_deploy`, `transport_deploy`): the
//! 50-service stack both tools deploy, removing it, waiting until the swarm is quiet
//! before a timed run, the order the tools run in, and medians. Each benchmark includes
//! this file as a module, beside the test support (`crate::support`).

use std::io::{Read as _, Write as _};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use crate::support::PrivateSwarm;

pub const SERVICES: usize = 50;
/// How long the swarm may take to become quiet before a timed run.
const QUIET_TIMEOUT: Duration = Duration::from_secs(300);
/// The window over which the engine's CPU time is sampled.
const CPU_WINDOW: Duration = Duration::from_millis(500);
/// Clock ticks (1/100 s) dockerd and containerd may use in one window and still be idle:
/// 4 % of a core. An idle engine with 100 running tasks uses about 1 %.
const IDLE_TICKS: u64 = 2;
/// Consecutive idle windows that make a quiet engine.
const IDLE_WINDOWS: usize = 2;

#[derive(Clone, Copy)]
pub enum Tool {
    Docker,
    Shoal,
}

/// The tools in the order they run in `round`: alternating, so that neither always goes
/// first.
pub fn order(round: usize) -> [Tool; 2] {
    if round.is_multiple_of(2) {
        [Tool::Docker, Tool::Shoal]
    } else {
        [Tool::Shoal, Tool::Docker]
    }
}

/// A stack of [`SERVICES`] services; `version` changes the environment of service 0 only.
pub fn compose(image: &str, version: usize) -> String {
    let mut text = String::from("version: \"3.8\"\nservices:\n");
    for index in 0..SERVICES {
        let revision = if index == 0 { version } else { 0 };
        text.push_str(&format!(
            "  svc{index:02}:\n    image: {image}\n    environment:\n      INDEX: \"{index}\"\n      REVISION: \"{revision}\"\n    labels:\n      bench.service: svc{index:02}\n    deploy:\n      replicas: 1\n      labels:\n        bench.tier: t{}\n      restart_policy: {{ condition: any, delay: 5s }}\n      resources:\n        limits: {{ memory: 32M }}\n",
            index % 5
        ));
    }
    text
}

/// Removes both stacks: their services, then their networks. `docker stack rm` removes a
/// network only once no task uses it, and gives up at once otherwise, so it is asked again
/// while a network is left. [`wait_until_quiet`] then waits for the containers to go.
pub fn remove_stacks(swarm: &PrivateSwarm) {
    let deadline = Instant::now() + QUIET_TIMEOUT;
    loop {
        for stack in ["benchd", "benchs"] {
            // Removing a stack that is not there fails, harmlessly.
            let _ = swarm.docker().args(["stack", "rm", stack]).output();
        }
        for _ in 0..20 {
            let services = engine_get(swarm, "/services");
            let networks = engine_get(swarm, "/networks");
            let stack_networks = networks
                .as_array()
                .expect("a list of networks")
                .iter()
                .filter(|network| {
                    network
                        .pointer("/Labels/com.docker.stack.namespace")
                        .is_some()
                })
                .count();
            if services.as_array().is_some_and(Vec::is_empty) && stack_networks == 0 {
                return;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        assert!(
            Instant::now() < deadline,
            "the stacks were not removed within {QUIET_TIMEOUT:?}"
        );
    }
}

/// Waits until the swarm has finished the work earlier runs gave it: exactly `running`
/// tasks, each running, and no other task or container on its way anywhere; no service
/// updating; no stack network left when nothing runs; and dockerd and containerd idle for
/// [`IDLE_WINDOWS`] windows in a row. Panics after [`QUIET_TIMEOUT`], saying what was
/// still busy.
pub fn wait_until_quiet(swarm: &PrivateSwarm, running: usize) {
    let deadline = Instant::now() + QUIET_TIMEOUT;
    let mut idle_windows = 0;
    loop {
        let busy = match busy_objects(swarm, running) {
            Some(reason) => Some(reason),
            None => {
                let ticks = engine_cpu_ticks(swarm, CPU_WINDOW);
                (ticks > IDLE_TICKS).then(|| {
                    format!("dockerd and containerd used {ticks} clock ticks in {CPU_WINDOW:?}")
                })
            }
        };
        match busy {
            None => {
                idle_windows += 1;
                if idle_windows == IDLE_WINDOWS {
                    return;
                }
            }
            Some(reason) => {
                idle_windows = 0;
                assert!(
                    Instant::now() < deadline,
                    "the swarm was not quiet within {QUIET_TIMEOUT:?}: {reason}"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// What keeps the swarm from being quiet, as far as its tasks, containers, services and
/// networks tell; `None` when nothing does.
fn busy_objects(swarm: &PrivateSwarm, running: usize) -> Option<String> {
    let tasks = engine_get(swarm, "/tasks");
    let tasks = tasks.as_array().expect("a list of tasks");
    let text = |value: &serde_json::Value, pointer: &str| {
        value
            .pointer(pointer)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let mut tasks_running = 0;
    for task in tasks {
        let desired = text(task, "/DesiredState");
        let state = text(task, "/Status/State");
        let settled = if desired == "running" {
            state == "running"
        } else {
            [
                "shutdown", "complete", "failed", "rejected", "orphaned", "remove",
            ]
            .contains(&state.as_str())
        };
        if !settled {
            return Some(format!("a task is {state}, on its way to {desired}"));
        }
        if state == "running" {
            tasks_running += 1;
        }
    }
    if tasks_running != running {
        return Some(format!("{tasks_running} tasks run, not {running}"));
    }
    let containers = engine_get(swarm, "/containers/json?all=1");
    let containers = containers.as_array().expect("a list of containers");
    let containers_running = containers
        .iter()
        .filter(|container| text(container, "/State") == "running")
        .count();
    if let Some(container) = containers.iter().find(|container| {
        ["created", "restarting", "removing"].contains(&text(container, "/State").as_str())
    }) {
        return Some(format!("a container is {}", text(container, "/State")));
    }
    if containers_running != running {
        return Some(format!(
            "{containers_running} containers run, not {running}"
        ));
    }
    if running == 0 && !containers.is_empty() {
        return Some(format!("{} containers are left", containers.len()));
    }
    let services = engine_get(swarm, "/services");
    if let Some(service) = services
        .as_array()
        .expect("a list of services")
        .iter()
        .find(|service| text(service, "/UpdateStatus/State").ends_with("updating"))
    {
        return Some(format!(
            "service {} is updating",
            text(service, "/Spec/Name")
        ));
    }
    if running == 0 {
        let networks = engine_get(swarm, "/networks");
        if let Some(network) = networks
            .as_array()
            .expect("a list of networks")
            .iter()
            .find(|network| {
                network
                    .pointer("/Labels/com.docker.stack.namespace")
                    .is_some()
            })
        {
            return Some(format!("network {} is left", text(network, "/Name")));
        }
    }
    None
}

/// One GET of the Engine API over the engine's Unix socket, as JSON. The quiet checks poll
/// often: a `docker` process each time would itself keep the machine busy.
fn engine_get(swarm: &PrivateSwarm, path: &str) -> serde_json::Value {
    let socket = swarm
        .docker_host()
        .strip_prefix("unix://")
        .expect("the private engine listens on a Unix socket");
    let mut stream = UnixStream::connect(socket).expect("the engine accepts a connection");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("a timeout");
    // HTTP/1.0: the answer is not chunked, and ends when the engine closes the connection.
    write!(stream, "GET {path} HTTP/1.0\r\nHost: docker\r\n\r\n").expect("the request is sent");
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .expect("the engine answers");
    let split = response
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .expect("an HTTP answer");
    let (head, body) = (&response[..split], &response[split + 4..]);
    let status = String::from_utf8_lossy(head.split(|&b| b == b'\r').next().unwrap_or_default());
    assert!(
        status.contains(" 200 "),
        "GET {path}: {status}: {}",
        String::from_utf8_lossy(body)
    );
    serde_json::from_slice(body).expect("the engine answers JSON")
}

/// Clock ticks the engine's dockerd and containerd use during `window`.
fn engine_cpu_ticks(swarm: &PrivateSwarm, window: Duration) -> u64 {
    let pids: Vec<String> = ["dockerd.pid", "exec/containerd/containerd.pid"]
        .iter()
        .filter_map(|file| std::fs::read_to_string(swarm.folder().join(file)).ok())
        .map(|pid| pid.trim().to_owned())
        .collect();
    let total = || -> u64 { pids.iter().map(|pid| cpu_ticks(pid)).sum() };
    let before = total();
    std::thread::sleep(window);
    total().saturating_sub(before)
}

/// User and system time of process `pid`, in clock ticks, from /proc/PID/stat.
fn cpu_ticks(pid: &str) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // Fields after the command name, which is in parentheses and may hold spaces: state
    // is the first, utime the 12th and stime the 13th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let field = |index: usize| -> u64 {
        fields
            .get(index)
            .and_then(|value| value.parse().ok())
            .unwrap_or_default()
    };
    field(11) + field(12)
}

/// Timed runs of each tool in one case, in milliseconds.
#[derive(Default)]
pub struct Samples {
    pub docker: Vec<f64>,
    pub shoal: Vec<f64>,
}

impl Samples {
    pub fn push(&mut self, tool: Tool, milliseconds: f64) {
        match tool {
            Tool::Docker => self.docker.push(milliseconds),
            Tool::Shoal => self.shoal.push(milliseconds),
        }
    }
}

pub struct Summary {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Summary {
    pub fn of(mut samples: Vec<f64>) -> Summary {
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
            "{:>6.1} ms ({:.0} to {:.0})",
            self.median, self.min, self.max
        )
    }
}
