//! `shoal.yml`, the root of a config repo: the environments a workflow can target,
//! how to reach each one's swarm, and the variables and secrets its templates see.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::yaml::Spanned;

/// The root file of a config repo.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "shoal.yml")]
pub struct ShoalFile {
    /// Variables every environment starts from; an environment's own `vars` override them key by key.
    #[serde(default)]
    pub vars: IndexMap<String, serde_json::Value>,
    /// The environments, in the order workflows apply them by default.
    pub environments: IndexMap<Spanned<String>, EnvironmentInput>,
}

/// One environment: a swarm and the values its templates are rendered with.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentInput {
    /// How to reach the swarm's Docker Engine API (a manager node).
    #[serde(default)]
    pub docker: Option<DockerInput>,
    /// How host-level steps log in to the environment's hosts.
    #[serde(default)]
    pub ssh: Option<SshInput>,
    /// Host groups, e.g. `managers: [10.0.0.1]`, for host-level steps and templates.
    #[serde(default)]
    pub hosts: IndexMap<String, Vec<String>>,
    /// Variables for templates, as `vars.NAME` and `environment.vars.NAME`.
    #[serde(default)]
    pub vars: IndexMap<String, serde_json::Value>,
    /// Secret values for templates, as `secrets.NAME`; never printed.
    #[serde(default)]
    pub secrets: IndexMap<String, Spanned<SecretSource>>,
}

/// The Docker Engine API endpoint of an environment.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DockerInput {
    /// Like DOCKER_HOST: `unix:///var/run/docker.sock`, `tcp://host:2376`, `ssh://user@host`.
    pub host: Spanned<String>,
    /// Mutual TLS for `tcp://` hosts; paths relative to the config repo or absolute.
    #[serde(default)]
    pub tls: Option<TlsInput>,
}

/// Client certificate, key and CA bundle for a TLS-secured Docker API.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsInput {
    pub ca: String,
    pub cert: String,
    pub key: String,
}

/// SSH login for host-level steps.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SshInput {
    pub user: String,
    /// Private key file.
    #[serde(default)]
    pub identity: Option<String>,
    /// known_hosts file that host keys are checked against.
    #[serde(default)]
    pub known_hosts: Option<String>,
}

/// Where a secret's value comes from; the value itself never lives in the repo.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SecretSource {
    /// An environment variable of the shoal process.
    Env(String),
    /// A file on the machine shoal runs on.
    File(String),
}
