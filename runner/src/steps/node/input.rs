//! `node:` as written in a workflow.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::yaml::Spanned;

/// `node:` sets the labels, availability and role of the swarm nodes of some hosts,
/// read-modify-write at the node's version. Labels set by others are left alone unless
/// `exclusive: true`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeInput {
    /// Host groups of the environment's `hosts`, or addresses. A host is the node the swarm
    /// sees at its address, or whose hostname is its inventory `name`.
    pub hosts: Vec<Spanned<String>>,
    /// Labels to set (values may be templates), e.g. `{ zone: a, nfs: "true" }`.
    #[serde(default)]
    pub labels: IndexMap<String, Spanned<String>>,
    /// `active`, `pause` or `drain`; draining waits until the node's tasks have moved.
    #[serde(default)]
    pub availability: Option<Spanned<String>>,
    /// `manager` (promote) or `worker` (demote; never the last manager, never losing
    /// quorum).
    #[serde(default)]
    pub role: Option<Spanned<String>>,
    /// The node's labels are exactly `labels`: others are removed.
    #[serde(default)]
    pub exclusive: bool,
}
