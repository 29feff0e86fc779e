//! A compose configuration once loaded: what `docker stack deploy` holds after it has
//! parsed, interpolated, checked and merged the compose files (docker's `types.Config`).
//! Short syntaxes are expanded, `env_file`s are read, durations are nanoseconds. Empty
//! strings and zeros mean "not set", as in docker's Go structs, so that merging several
//! files follows docker's rules. Values that later checks may reject carry an [`Origin`].

use std::collections::BTreeMap;

use crate::source::Span;

/// Where a value was written: the index of its compose file and its span there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub file: usize,
    pub span: Span,
}

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Located<T> {
    pub value: T,
    pub origin: Origin,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ComposeConfig {
    /// Sorted by name.
    pub services: Vec<ServiceConfig>,
    pub networks: BTreeMap<String, NetworkConfig>,
    pub volumes: BTreeMap<String, VolumeConfig>,
    pub secrets: BTreeMap<String, FileObjectConfig>,
    pub configs: BTreeMap<String, FileObjectConfig>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceConfig {
    pub name: String,
    /// The service's key in the first file that declares it.
    pub origin: Origin,
    pub image: Option<Located<String>>,
    /// `entrypoint`, split into words; empty when not set.
    pub entrypoint: Vec<String>,
    /// `command`, split into words; empty when not set.
    pub command: Vec<String>,
    /// `env_file`s, then `environment`, with values missing or empty taken from the
    /// variables; `None` is a variable named without a value (`- NAME`).
    pub environment: BTreeMap<String, Option<String>>,
    /// Container labels (`labels`).
    pub labels: BTreeMap<String, String>,
    pub deploy: DeployConfig,
    pub healthcheck: Option<HealthCheckConfig>,
    pub ports: Vec<PortConfig>,
    /// Empty means the stack's `default` network.
    pub networks: BTreeMap<String, ServiceNetwork>,
    pub volumes: Vec<ServiceVolumeConfig>,
    pub configs: Vec<FileReference>,
    pub secrets: Vec<FileReference>,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub dns: Option<Vec<String>>,
    pub dns_search: Option<Vec<String>>,
    /// `host:ip` pairs, in the order written.
    pub extra_hosts: Vec<String>,
    pub hostname: String,
    pub user: String,
    pub working_dir: String,
    pub stop_signal: String,
    pub isolation: String,
    pub init: Option<bool>,
    pub tty: bool,
    pub stdin_open: bool,
    pub read_only: bool,
    pub stop_grace_period: Option<i64>,
    pub sysctls: BTreeMap<String, String>,
    pub ulimits: BTreeMap<String, Ulimit>,
    pub logging: Option<LoggingConfig>,
    /// The `restart` policy, used only when `deploy.restart_policy` is absent.
    pub restart: Option<Located<String>>,
    pub credential_spec: CredentialSpec,
    pub oom_score_adj: i64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeployConfig {
    pub mode: Option<Located<String>>,
    pub replicas: Option<Located<u64>>,
    /// Service labels (`deploy.labels`).
    pub labels: BTreeMap<String, String>,
    pub update_config: Option<UpdateConfig>,
    pub rollback_config: Option<UpdateConfig>,
    pub resources: Resources,
    pub restart_policy: Option<RestartPolicy>,
    pub placement: Placement,
    /// `vip`, `dnsrr` or empty, lower case.
    pub endpoint_mode: Option<Located<String>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdateConfig {
    pub parallelism: Option<u64>,
    pub delay: i64,
    pub failure_action: String,
    pub monitor: i64,
    pub max_failure_ratio: f32,
    pub order: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resources {
    pub limits: Option<ResourceLimits>,
    pub reservations: Option<ResourceReservations>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceLimits {
    pub nano_cpus: Option<i64>,
    pub memory_bytes: i64,
    pub pids: i64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceReservations {
    pub nano_cpus: Option<i64>,
    pub memory_bytes: i64,
    /// `(kind, value)` of each `discrete_resource_spec`.
    pub generic_resources: Vec<(String, i64)>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RestartPolicy {
    pub condition: String,
    pub delay: Option<i64>,
    pub max_attempts: Option<u64>,
    pub window: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Placement {
    pub constraints: Vec<String>,
    /// The `spread` descriptor of each preference.
    pub preferences: Vec<String>,
    pub max_replicas_per_node: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HealthCheckConfig {
    pub origin: Origin,
    /// `["CMD-SHELL", text]` for a string, the list as written otherwise.
    pub test: Vec<String>,
    pub timeout: Option<i64>,
    pub interval: Option<i64>,
    pub start_period: Option<i64>,
    pub start_interval: Option<i64>,
    pub retries: Option<u64>,
    pub disable: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortConfig {
    /// `ingress`, `host` or empty (ingress).
    pub mode: String,
    pub target: u32,
    pub published: u32,
    /// `tcp`, `udp`, `sctp` or empty (tcp).
    pub protocol: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceNetwork {
    pub origin: Origin,
    /// `None` when listed without settings.
    pub config: Option<ServiceNetworkConfig>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceNetworkConfig {
    pub aliases: Vec<String>,
    pub driver_opts: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceVolumeConfig {
    pub origin: Origin,
    /// `volume`, `bind`, `tmpfs` or `npipe`.
    pub kind: String,
    pub source: String,
    pub target: String,
    pub read_only: bool,
    pub consistency: String,
    /// `bind.propagation`, when a `bind` section or a propagation option is given.
    pub bind_propagation: Option<String>,
    /// `volume.nocopy`, when a `volume` section or the `nocopy` option is given.
    pub volume_nocopy: Option<bool>,
    /// `tmpfs.size`, when a `tmpfs` section is given.
    pub tmpfs_size: Option<i64>,
}

/// A service's use of a config or secret.
#[derive(Debug, Clone, PartialEq)]
pub struct FileReference {
    pub origin: Origin,
    /// The key under the top-level `configs:` or `secrets:`.
    pub source: String,
    pub target: String,
    pub uid: String,
    pub gid: String,
    pub mode: Option<u32>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ulimit {
    pub single: i64,
    pub soft: i64,
    pub hard: i64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoggingConfig {
    pub driver: String,
    pub options: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CredentialSpec {
    pub file: String,
    pub registry: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NetworkConfig {
    pub origin: Origin,
    /// The Swarm name when set (`name:`, or the key for an external network).
    pub name: String,
    pub driver: String,
    pub driver_opts: BTreeMap<String, String>,
    pub ipam_driver: String,
    pub ipam_subnets: Vec<String>,
    pub external: bool,
    pub internal: bool,
    pub attachable: bool,
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VolumeConfig {
    pub name: String,
    pub driver: String,
    /// `None` when not written: docker sets a driver config only for a driver or options.
    pub driver_opts: Option<BTreeMap<String, String>>,
    pub external: bool,
    pub labels: BTreeMap<String, String>,
}

/// A top-level config or secret.
#[derive(Debug, Clone, PartialEq)]
pub struct FileObjectConfig {
    pub origin: Origin,
    /// The Swarm name when set (`name:`, or the key for an external object).
    pub name: String,
    /// The repo path of the content, resolved against the compose file's folder.
    pub file: Option<Located<String>>,
    pub external: bool,
    pub labels: BTreeMap<String, String>,
}
