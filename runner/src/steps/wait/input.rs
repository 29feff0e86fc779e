//! `wait:` as written in a workflow.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::yaml::Spanned;

/// `wait:` blocks until services converged or a URL answers.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WaitInput {
    /// Full service names (`<stack>_<service>`) that must have converged.
    #[serde(default)]
    pub services: Vec<String>,
    /// An HTTP URL that must answer with `status`.
    #[serde(default)]
    pub url: Option<Spanned<String>>,
    #[serde(default = "default_status")]
    pub status: u16,
    /// How long to wait before failing, e.g. `5m` (default 5m).
    #[serde(default)]
    pub timeout: Option<Spanned<String>>,
}

fn default_status() -> u16 {
    200
}
