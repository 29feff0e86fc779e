//! `config:` and `secret:` as written in a workflow.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::yaml::Spanned;

/// `config:` or `secret:` makes a Swarm object from a file of the repo.
/// Give `template` (rendered per environment) or `file` (taken as it is).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigInput {
    /// The object's name; shoal appends a hash of the content so that changes roll out.
    pub name: Spanned<String>,
    /// A template, relative to the repo root, rendered for each environment.
    #[serde(default)]
    pub template: Option<Spanned<String>>,
    /// A file, relative to the repo root, taken as it is.
    #[serde(default)]
    pub file: Option<Spanned<String>>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}
