//! `network:` as written in a workflow.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::yaml::Spanned;

/// `network:` ensures an overlay network exists with these options.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkInput {
    pub name: Spanned<String>,
    #[serde(default = "default_driver")]
    pub driver: String,
    #[serde(default)]
    pub attachable: bool,
    #[serde(default)]
    pub internal: bool,
    /// Encrypt traffic between nodes (IPsec).
    #[serde(default)]
    pub encrypted: bool,
    /// e.g. `10.10.0.0/16`.
    #[serde(default)]
    pub subnet: Option<Spanned<String>>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

fn default_driver() -> String {
    "overlay".to_owned()
}
