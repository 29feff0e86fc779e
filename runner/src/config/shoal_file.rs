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
    /// Where failures, drift and recoveries of every environment are announced.
    #[serde(default)]
    pub notify: Vec<super::NotifyTargetInput>,
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
    /// Host groups, e.g. `managers: [10.0.0.1, "deploy@10.0.0.2:2222"]`, for `ssh` steps
    /// and templates; a host is `address`, `user@address:port` or a map.
    #[serde(default)]
    pub hosts: IndexMap<String, Vec<HostEntryInput>>,
    /// Variables for templates, as `vars.NAME` and `environment.vars.NAME`.
    #[serde(default)]
    pub vars: IndexMap<String, serde_json::Value>,
    /// Secret values for templates, as `secrets.NAME`; never printed.
    #[serde(default)]
    pub secrets: IndexMap<String, Spanned<SecretSource>>,
    /// Where failures, drift and recoveries of this environment are announced, besides
    /// the top-level `notify`.
    #[serde(default)]
    pub notify: Vec<super::NotifyTargetInput>,
}

/// The Docker Engine API endpoint of an environment: one `host`, several managers of one
/// swarm (`hosts`, tried in order, failing over), or a docker CLI `context`; exactly one
/// of the three.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DockerInput {
    /// Like DOCKER_HOST: `unix:///var/run/docker.sock`, `tcp://host:2376`, `ssh://user@host`.
    #[serde(default)]
    pub host: Option<Spanned<String>>,
    /// Several managers of one swarm, any mix of schemes: shoal uses the first that answers
    /// as a manager of the swarm it knows, and moves to the next when one stops answering.
    #[serde(default)]
    pub hosts: Option<Vec<Spanned<String>>>,
    /// A docker CLI context (`docker context ls`), read from `$DOCKER_CONFIG/contexts` or
    /// `~/.docker/contexts`: its host and TLS material.
    #[serde(default)]
    pub context: Option<Spanned<String>>,
    /// Mutual TLS for `tcp://` hosts; see [`TlsInput`].
    #[serde(default)]
    pub tls: Option<TlsInput>,
    /// Each node's own engine, for `swarm` steps: a template over `host` giving any
    /// endpoint shoal reaches, e.g. `tcp://{{ host.address }}:2376` (with `tls`),
    /// `ssh://root@{{ host.address }}` or a unix socket path per node.
    #[serde(default)]
    pub node_host: Option<Spanned<String>>,
}

impl DockerInput {
    /// The hosts given as `host` or `hosts`, in order; none for a `context`.
    pub fn host_list(&self) -> Vec<&Spanned<String>> {
        match (&self.host, &self.hosts) {
            (Some(host), _) => vec![host],
            (None, Some(hosts)) => hosts.iter().collect(),
            (None, None) => Vec::new(),
        }
    }
}

/// Mutual TLS for a `tcp://` Docker host, as `docker --tlsverify` speaks it: the CA that
/// signed the daemon's certificate (the only one trusted), and the client certificate and
/// key shoal presents. Each comes from a file (`ca`, `cert`, `key`), from a secret of the
/// environment (`ca_secret`, `cert_secret`, `key_secret`), or else from `cert_path`'s
/// folder under docker's names (`ca.pem`, `cert.pem`, `key.pem`). Paths are on the machine
/// shoal runs on; a relative one is taken from where relative secret files are.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsInput {
    /// A folder holding `ca.pem`, `cert.pem` and `key.pem`, like DOCKER_CERT_PATH.
    #[serde(default)]
    pub cert_path: Option<Spanned<String>>,
    /// The CA certificate file (PEM).
    #[serde(default)]
    pub ca: Option<Spanned<String>>,
    /// The secret of this environment that holds the CA certificate.
    #[serde(default)]
    pub ca_secret: Option<Spanned<String>>,
    /// The client certificate file (PEM).
    #[serde(default)]
    pub cert: Option<Spanned<String>>,
    /// The secret of this environment that holds the client certificate.
    #[serde(default)]
    pub cert_secret: Option<Spanned<String>>,
    /// The client key file (PEM).
    #[serde(default)]
    pub key: Option<Spanned<String>>,
    /// The secret of this environment that holds the client key.
    #[serde(default)]
    pub key_secret: Option<Spanned<String>>,
}

/// One of the three PEM documents of [`TlsInput`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsPart {
    Ca,
    Cert,
    Key,
}

impl TlsPart {
    pub const ALL: [TlsPart; 3] = [TlsPart::Ca, TlsPart::Cert, TlsPart::Key];

    /// Its key in `docker.tls`: `ca`, `cert`, `key`.
    pub fn key(self) -> &'static str {
        match self {
            TlsPart::Ca => "ca",
            TlsPart::Cert => "cert",
            TlsPart::Key => "key",
        }
    }

    /// Its file's name in a `cert_path` folder, as docker names it.
    pub fn file_name(self) -> &'static str {
        match self {
            TlsPart::Ca => "ca.pem",
            TlsPart::Cert => "cert.pem",
            TlsPart::Key => "key.pem",
        }
    }

    /// What it is, for messages.
    pub fn description(self) -> &'static str {
        match self {
            TlsPart::Ca => "the CA certificate",
            TlsPart::Cert => "the client certificate",
            TlsPart::Key => "the client key",
        }
    }
}

impl TlsInput {
    /// The file and the secret `part` may come from.
    pub fn sources(&self, part: TlsPart) -> (Option<&Spanned<String>>, Option<&Spanned<String>>) {
        match part {
            TlsPart::Ca => (self.ca.as_ref(), self.ca_secret.as_ref()),
            TlsPart::Cert => (self.cert.as_ref(), self.cert_secret.as_ref()),
            TlsPart::Key => (self.key.as_ref(), self.key_secret.as_ref()),
        }
    }
}

/// SSH login for host-level steps.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SshInput {
    /// The login user of hosts that do not name one.
    #[serde(default)]
    pub user: Option<String>,
    /// The port of hosts that do not name one (default 22).
    #[serde(default)]
    pub port: Option<Spanned<u16>>,
    /// Private key file; without one, the keys of the ssh-agent at `SSH_AUTH_SOCK`.
    #[serde(default)]
    pub identity: Option<String>,
    /// known_hosts file that host keys are checked against (default
    /// `~/.ssh/known_hosts`); `accept-new` trusts and records the key of a host not in
    /// it yet (and still refuses a changed key).
    #[serde(default)]
    pub known_hosts: Option<String>,
    /// How long connecting and logging in to one host may take (default `10s`).
    #[serde(default)]
    pub connect_timeout: Option<Spanned<String>>,
}

/// A host of a group: `address`, `user@address:port`, or a map.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(untagged)]
pub enum HostEntryInput {
    Address(Spanned<String>),
    Host(HostInput),
}

/// A host with its own settings.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HostInput {
    /// A name or an IP address, without the port.
    pub address: Spanned<String>,
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub user: Option<String>,
    /// How the host is shown (default: its address).
    #[serde(default)]
    pub name: Option<String>,
    /// Values its templates see as `host.vars`.
    #[serde(default)]
    pub vars: IndexMap<String, serde_json::Value>,
}

impl<'de> Deserialize<'de> for HostEntryInput {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<AddressOrHost>::deserialize(deserializer)?;
        Ok(match spanned.value {
            AddressOrHost::Address(text) => {
                HostEntryInput::Address(Spanned::new(spanned.span, text))
            }
            AddressOrHost::Host(host) => HostEntryInput::Host(host),
        })
    }
}

enum AddressOrHost {
    Address(String),
    Host(HostInput),
}

impl<'de> Deserialize<'de> for AddressOrHost {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AddressOrHostVisitor;

        impl<'de> serde::de::Visitor<'de> for AddressOrHostVisitor {
            type Value = AddressOrHost;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a host (`user@address:port`) or a map with `address`")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<AddressOrHost, E> {
                Ok(AddressOrHost::Address(text.to_owned()))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<AddressOrHost, A::Error> {
                HostInput::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(AddressOrHost::Host)
            }
        }

        deserializer.deserialize_any(AddressOrHostVisitor)
    }
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
