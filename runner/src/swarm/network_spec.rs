//! A network to create, in the shape of the Engine API's `NetworkCreateRequest`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkSpec {
    pub name: String,
    pub driver: String,
    #[serde(default)]
    pub attachable: bool,
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Driver options, e.g. `encrypted` for overlay networks.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    #[serde(rename = "IPAM", default, skip_serializing_if = "Option::is_none")]
    pub ipam: Option<IpamConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IpamConfig {
    #[serde(default)]
    pub driver: String,
    /// `[{"Subnet": "10.0.0.0/24"}]`
    #[serde(default)]
    pub config: Vec<BTreeMap<String, String>>,
}
