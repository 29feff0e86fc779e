//! `remove:` as written in a workflow.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::yaml::Spanned;

/// `remove:` tears a stack down: its services, then its networks, configs and secrets.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoveInput {
    pub stack: Spanned<String>,
}
