//! `service:` as written in a workflow.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::yaml::Spanned;

/// `service:` changes one existing service without a compose file, then waits until it
/// converged. Give `scale`, `image` and `force_update` in any combination, or `rollback`
/// alone.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceInput {
    /// The service's full name (`<stack>_<service>` for a stack's service); a template.
    pub name: Spanned<String>,
    /// How many replicas a replicated service runs.
    #[serde(default)]
    pub scale: Option<Spanned<u64>>,
    /// The image its tasks run; a template, e.g. `{{ trigger.image.reference }}` in a
    /// workflow a registry push starts (the image by its digest).
    #[serde(default)]
    pub image: Option<Spanned<String>>,
    /// Replace the service's tasks at every apply, even when nothing else changed (as
    /// `docker service update --force`).
    #[serde(default)]
    pub force_update: bool,
    /// Put back the spec the service had before its last update (Swarm's previous spec,
    /// as `docker service rollback`). Alone: not with `scale`, `image` or `force_update`.
    #[serde(default)]
    pub rollback: bool,
    /// Wait until the service converged (default true).
    #[serde(default = "default_wait")]
    pub wait: bool,
}

fn default_wait() -> bool {
    true
}
