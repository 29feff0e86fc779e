//! `swarm:` as written in a workflow.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::yaml::Spanned;

/// `swarm:` makes the hosts of the named groups one swarm: a new swarm on the first
/// manager when none of them is in one, the others joined with a token read at that
/// moment. A node already in this swarm is left as it is; a node in another swarm is an
/// error, never a forced leave. Each node's engine is reached at `docker.node_host`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SwarmInput {
    /// Host groups of the environment's `hosts` (or addresses) whose hosts are managers;
    /// a new swarm is made on the first. An odd number keeps quorum (3 or 5).
    pub managers: Vec<Spanned<String>>,
    /// Host groups (or addresses) whose hosts are workers.
    #[serde(default)]
    pub workers: Vec<Spanned<String>>,
    /// The address each node advertises to the others, a template over `host` (default
    /// `{{ host.address }}`).
    #[serde(default)]
    pub advertise_addr: Option<Spanned<String>>,
    /// Where each node listens for the swarm's traffic (default `0.0.0.0:2377`).
    #[serde(default)]
    pub listen_addr: Option<Spanned<String>>,
    /// Subnets overlay networks are carved from, e.g. `[10.20.0.0/16]`; only when the
    /// swarm is made.
    #[serde(default)]
    pub default_addr_pool: Option<Vec<Spanned<String>>>,
    /// The prefix length of each network taken from `default_addr_pool` (default 24).
    #[serde(default)]
    pub subnet_size: Option<Spanned<u32>>,
    /// The UDP port of overlay traffic (VXLAN, default 4789); only when the swarm is made.
    #[serde(default)]
    pub data_path_port: Option<Spanned<u32>>,
    /// How many old tasks of each service the swarm keeps (default 5).
    #[serde(default)]
    pub task_history_limit: Option<Spanned<i64>>,
    /// How often nodes report to the managers, e.g. `5s`.
    #[serde(default)]
    pub dispatcher_heartbeat: Option<Spanned<String>>,
    /// How long node certificates are valid, e.g. `2160h` (90 days, the default).
    #[serde(default)]
    pub cert_expiry: Option<Spanned<String>>,
    /// Lock the managers' keys: a restarted manager needs the unlock key (read it on a
    /// manager with `docker swarm unlock-key`; shoal never shows it).
    #[serde(default)]
    pub autolock: Option<bool>,
    /// Nodes of the swarm that are no longer in the groups are drained, leave and are
    /// removed (a manager is demoted first).
    #[serde(default)]
    pub remove_missing: bool,
}
