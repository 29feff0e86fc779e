//! An environment of `shoal.yml`, its variables already merged with the global ones.

use indexmap::IndexMap;

use super::UnimplementedSetting;
use crate::config::{DockerInput, SecretSource, SshInput};

#[derive(Debug, Clone)]
pub struct Environment {
    pub name: String,
    pub docker: Option<DockerInput>,
    pub ssh: Option<SshInput>,
    /// Each host group's addresses, as templates see them (`environment.hosts.GROUP`).
    pub hosts: IndexMap<String, Vec<String>>,
    /// Each host group's hosts, with the `ssh` block's user and port where a host names
    /// none: what `ssh` steps log in to.
    pub host_groups: IndexMap<String, Vec<crate::hosts::HostTarget>>,
    /// Global `vars` overridden by the environment's own.
    pub vars: IndexMap<String, serde_json::Value>,
    pub secrets: IndexMap<String, SecretSource>,
    /// Its own `notify:` list.
    pub notify: Vec<super::NotifyTarget>,
    /// What the `docker` block asks for that shoal cannot do yet (an npipe://
    /// host). A command that would connect to the environment's daemon through
    /// that block refuses to; one told to use another daemon (`--docker-host`) does not.
    pub unimplemented_docker_settings: Vec<UnimplementedSetting>,
}

impl Environment {
    /// The login user and port of a host that names none: the `ssh` block's, else none
    /// (an `ssh` step then refuses the host) and 22.
    pub fn ssh_defaults(&self) -> (String, u16) {
        let ssh = self.ssh.as_ref();
        let user = ssh.and_then(|ssh| ssh.user.clone()).unwrap_or_default();
        let port = ssh
            .and_then(|ssh| ssh.port.as_ref())
            .map_or(22, |port| port.value);
        (user, port)
    }
}
