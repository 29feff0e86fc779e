//! `certs:` as written in a workflow.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::yaml::Spanned;

/// `certs:` issues certificates from the environment's CA and keeps them in Swarm
/// secrets, renewing them when they come close to their expiry.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CertsInput {
    /// The CA that issues the certificates.
    pub ca: CaInput,
    /// The certificates to issue and keep.
    pub certificates: Vec<CertificateInput>,
    /// Renew every certificate of the step whatever its dates: `true`, `false`, or a
    /// template that renders to one, e.g. `"{{ inputs.force }}"` in a dispatched workflow.
    #[serde(default)]
    pub force: Option<Spanned<String>>,
}

/// The CA: its certificate is a file of the repo (public), its key a secret.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaInput {
    /// The CA certificate (PEM), relative to the repo root. Templates allowed, e.g.
    /// `pki/{{ environment.name }}/ca.pem` for one CA per environment.
    pub cert: Spanned<String>,
    /// The name of the secret (in the environment's `secrets`) holding the CA's private key
    /// (PEM).
    pub key_secret: Spanned<String>,
}

/// One certificate.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateInput {
    /// The certificate's name in plans, unique in the step.
    pub name: Spanned<String>,
    /// `server`, `client`, or both as a list: the extended key usages.
    pub usage: Spanned<UsageInput>,
    /// The subject's common name (default: `name`). Templates allowed.
    #[serde(default)]
    pub common_name: Option<Spanned<String>>,
    /// Subject alternative names: DNS names and IP addresses. Templates allowed.
    #[serde(default)]
    pub sans: Vec<Spanned<String>>,
    /// How long a new certificate is valid, e.g. `365d` (the default).
    #[serde(default)]
    pub validity: Option<Spanned<String>>,
    /// A certificate that expires within this is issued again, e.g. `30d` (the default).
    #[serde(default)]
    pub renew_before: Option<Spanned<String>>,
    /// The Swarm secret(s) the certificate and its key go to.
    #[serde(default)]
    pub to_secret: Option<SecretTargetInput>,
    /// Hosts the certificate is written to over SSH: one certificate per host, with the
    /// host's address and name added to its SANs.
    #[serde(default)]
    pub to_hosts: Option<Spanned<HostsTargetInput>>,
}

/// One secret holding the certificate, its key and the CA's certificate, in that order
/// (`bundle`), or three secrets (`cert`, `key`, `ca`). The names are logical: the secret
/// gets a hash of its content appended, and a compose file refers to it as
/// `external: true, name: NAME`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretTargetInput {
    #[serde(default)]
    pub bundle: Option<Spanned<String>>,
    #[serde(default)]
    pub cert: Option<Spanned<String>>,
    #[serde(default)]
    pub key: Option<Spanned<String>>,
    #[serde(default)]
    pub ca: Option<Spanned<String>>,
}

/// Where on hosts a certificate goes: `ca.pem`, `cert.pem` and `key.pem` in `dir` of
/// each host, written over SSH as the `ssh` step writes files.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HostsTargetInput {
    /// Host groups of the environment (`hosts` in shoal.yml) or addresses.
    pub hosts: Vec<Spanned<String>>,
    /// The absolute directory the three files go to, e.g. `/etc/docker/tls`.
    pub dir: Spanned<String>,
    /// The owner of the three files (default: the login user's).
    #[serde(default)]
    pub owner: Option<Spanned<String>>,
    /// Their permission bits, octal, e.g. `"0600"` (the default).
    #[serde(default)]
    pub mode: Option<Spanned<String>>,
    /// Commands run on a host after one of its files changed, e.g.
    /// `systemctl restart docker`. Templates allowed (`host` among the values).
    #[serde(default)]
    pub on_change: Vec<String>,
}

/// `server`, `client`, or a list of them.
#[derive(Debug, Clone, PartialEq, Eq, JsonSchema)]
#[schemars(untagged)]
pub enum UsageInput {
    One(UsageName),
    Several(Vec<UsageName>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum UsageName {
    Server,
    Client,
}

impl<'de> Deserialize<'de> for UsageInput {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct UsageVisitor;
        impl<'de> serde::de::Visitor<'de> for UsageVisitor {
            type Value = UsageInput;
            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("`server`, `client` or a list of them")
            }
            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<UsageInput, E> {
                usage_name(value).map(UsageInput::One)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut sequence: A,
            ) -> Result<UsageInput, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = sequence.next_element::<String>()? {
                    names.push(usage_name(&name)?);
                }
                Ok(UsageInput::Several(names))
            }
        }
        deserializer.deserialize_any(UsageVisitor)
    }
}

fn usage_name<E: serde::de::Error>(value: &str) -> Result<UsageName, E> {
    match value {
        "server" => Ok(UsageName::Server),
        "client" => Ok(UsageName::Client),
        other => Err(E::custom(format!(
            "unknown usage `{other}`, expected `server` or `client`"
        ))),
    }
}
