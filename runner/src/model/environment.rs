//! An environment of `shoal.yml`, its variables already merged with the global ones.

use indexmap::IndexMap;

use super::UnimplementedSetting;
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
    /// What the `docker` block asks for that shoal cannot do yet (an npipe://
    /// host). A command that would connect to the environment's daemon through
    /// that block refuses to; one told to use another daemon (`--docker-host`) does not.
    pub unimplemented_docker_settings: Vec<UnimplementedSetting>,
}
