//! An environment of `shoal.yml`, its variables already merged with the global ones.

use indexmap::IndexMap;

use crate::config::{DockerInput, SecretSource, SshInput};

#[derive(Debug, Clone)]
pub struct Environment {
    pub name: String,
    pub docker: Option<DockerInput>,
    pub ssh: Option<SshInput>,
    pub hosts: IndexMap<String, Vec<String>>,
    /// Global `vars` overridden by the environment's own.
    pub vars: IndexMap<String, serde_json::Value>,
    pub secrets: IndexMap<String, SecretSource>,
}
