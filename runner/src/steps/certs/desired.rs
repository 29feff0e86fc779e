//! What a `certs` step wants, from its render: the CA, and each certificate's request and
//! secrets. Which certificates are issued is known only against the live swarm:
//! [`settle`](super::settle) fills [`DesiredCerts::outcomes`] before planning; which are
//! issued to hosts only against the hosts: [`settle_hosts`](super::settle_hosts) fills
//! [`DesiredCerts::host_files`].

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::render::{
    CA_CERT, CA_CERT_PATH, CA_KEY, FORCE, common_name_key, host_common_name_key, host_count_key,
    host_dir_key, host_san_key, san_key, secret_key,
};
use super::{
    CertificateDecision, CertificateExpiry, CertificateRequest, CertsStep, HostCertificate,
};
use crate::plan::DesiredContext;
use crate::render::RenderedStep;
use crate::secret_text::SecretText;
use crate::steps::ssh::{RenderedHost, command_key};
use crate::swarm::ObjectSpec;

#[derive(Debug, Clone)]
pub struct DesiredCerts {
    /// The CA certificate's path in the repo, for errors.
    pub ca_cert_path: String,
    pub ca_cert_pem: String,
    pub key_secret: String,
    /// The CA key as rendered: the real one when trusted, a placeholder otherwise.
    pub ca_key: SecretText,
    pub force: bool,
    pub certificates: Vec<DesiredCertificate>,
    /// The labels of every object shoal creates.
    pub labels: BTreeMap<String, String>,
    /// What stops the step, e.g. `force` rendering to neither `true` nor `false`.
    pub problems: Vec<String>,
    /// One per certificate, once settled against the live swarm.
    pub outcomes: Vec<CertificateOutcome>,
    /// The files of the certificates that go to hosts, once settled against the hosts:
    /// applied as an `ssh` step's files (the keys in them are never shown).
    pub host_files: Option<crate::steps::ssh::DesiredHosts>,
    /// The expiries of the certificates on hosts, once settled against them.
    pub host_expiries: Vec<CertificateExpiry>,
}

#[derive(Debug, Clone)]
pub struct DesiredCertificate {
    pub request: CertificateRequest,
    pub renew_before: Duration,
    /// The logical names of its secrets (one for a bundle, else cert, key, CA); none
    /// when it goes to hosts only.
    pub secrets: Vec<String>,
    /// One per host it goes to (`to_hosts`).
    pub hosts: Vec<HostCertificate>,
}

/// A certificate settled against the live swarm.
#[derive(Debug, Clone)]
pub struct CertificateOutcome {
    pub name: String,
    pub decision: CertificateDecision,
    /// Each logical secret name and the name of its version services should use.
    pub current: Vec<(String, String)>,
    /// The secrets of a certificate issued now (holding its key: never shown).
    pub created: Vec<ObjectSpec>,
    /// The names of the secrets a run that cannot issue (untrusted) would create.
    pub unissued: Vec<String>,
    /// The expiry of the certificate in its secrets (Unix seconds), if any.
    pub live_not_after: Option<i64>,
    /// The expiry of the certificate issued now, if any.
    pub issued_not_after: Option<i64>,
}

impl DesiredCerts {
    /// The names of the secrets of the certificates issued by this plan, each with the
    /// name they are shown with: `NAME-(issued when applied)`. Their hash covers a key
    /// drawn at random, so `shoal plan` and a later `shoal apply` issue under different
    /// names; the plan shows neither. The secret holding the CA certificate alone is
    /// named after the CA's content, the same in both, and shown as it is.
    pub fn issued_names(&self) -> BTreeMap<String, String> {
        self.outcomes
            .iter()
            .flat_map(|outcome| {
                let certificate = self
                    .certificates
                    .iter()
                    .find(|certificate| certificate.request.name == outcome.name);
                outcome
                    .created
                    .iter()
                    .zip(&outcome.current)
                    .filter(move |(_, (logical, _))| {
                        !certificate.is_some_and(|certificate| {
                            super::settle::is_ca_secret(certificate, logical)
                        })
                    })
            })
            .map(|(object, (logical, _))| {
                (
                    object.name.clone(),
                    format!("{logical}-{}", super::settle::UNISSUED_SUFFIX),
                )
            })
            .collect()
    }

    /// The expiry of each certificate (and host) settled.
    pub fn expiries(&self) -> Vec<CertificateExpiry> {
        let in_secrets = self.outcomes.iter().map(|outcome| CertificateExpiry {
            certificate: outcome.name.clone(),
            host: String::new(),
            live_not_after: outcome.live_not_after,
            issued_not_after: outcome.issued_not_after,
        });
        in_secrets
            .chain(self.host_expiries.iter().cloned())
            .collect()
    }

    /// Adds to `sensitive` the keys ([`command_key`]) of the `on_change` commands of the
    /// hosts that differ between `self` and `other`, the same step rendered with other
    /// values for the secrets.
    pub fn sensitive_between(&self, other: &DesiredCerts, sensitive: &mut BTreeSet<String>) {
        let hosts = |certs: &DesiredCerts| -> Vec<RenderedHost> {
            certs
                .certificates
                .iter()
                .flat_map(|certificate| &certificate.hosts)
                .map(|host| host.host.clone())
                .collect()
        };
        for (host, other_host) in hosts(self).iter().zip(&hosts(other)) {
            let login = host.target.login();
            let commands = host.on_change.iter().zip(&other_host.on_change);
            for (index, (run, other_run)) in commands.enumerate() {
                if run != other_run {
                    sensitive.insert(command_key(&login, "on_change", index));
                }
            }
        }
    }
}

pub fn desired(
    certs: &CertsStep,
    rendered: &RenderedStep,
    context: &DesiredContext<'_>,
) -> DesiredCerts {
    let value = |key: &str| rendered.values.get(key).cloned().unwrap_or_default();
    let mut problems = Vec::new();
    // Booleans render as `true` or, from inputs, `True`.
    let force = match value(FORCE).trim().to_ascii_lowercase().as_str() {
        "true" => true,
        "false" | "" => false,
        other => {
            problems.push(format!(
                "`force` renders to `{other}`, expected true or false"
            ));
            false
        }
    };
    let mut rendered_hosts = rendered.hosts.iter();
    let certificates = certs
        .certificates
        .iter()
        .enumerate()
        .map(|(index, certificate)| {
            let host_count: usize = value(&host_count_key(index)).parse().unwrap_or(0);
            let hosts = rendered_hosts
                .by_ref()
                .take(host_count)
                .enumerate()
                .filter_map(|(number, host)| {
                    let to_hosts = certificate.to_hosts.as_ref()?;
                    let sans = (0..certificate.sans.len())
                        .map(|san| value(&host_san_key(index, number, san)))
                        .collect();
                    Some(HostCertificate::new(
                        host.clone(),
                        CertificateRequest {
                            name: certificate.name.clone(),
                            common_name: value(&host_common_name_key(index, number)),
                            sans,
                            usage: certificate.usage,
                            validity: certificate.validity,
                        },
                        value(&host_dir_key(index, number)),
                        to_hosts,
                    ))
                })
                .collect();
            DesiredCertificate {
                request: CertificateRequest {
                    name: certificate.name.clone(),
                    common_name: value(&common_name_key(index)),
                    sans: (0..certificate.sans.len())
                        .map(|san| value(&san_key(index, san)))
                        .collect(),
                    usage: certificate.usage,
                    validity: certificate.validity,
                },
                renew_before: certificate.renew_before,
                secrets: certificate
                    .target
                    .iter()
                    .flat_map(|target| target.names())
                    .enumerate()
                    .map(|(secret, _)| value(&secret_key(index, secret)))
                    .collect(),
                hosts,
            }
        })
        .collect();
    DesiredCerts {
        ca_cert_path: value(CA_CERT_PATH),
        ca_cert_pem: value(CA_CERT),
        key_secret: certs.key_secret.clone(),
        ca_key: SecretText::new(value(CA_KEY)),
        force,
        certificates,
        labels: context.labels.clone(),
        problems,
        outcomes: Vec::new(),
        host_files: None,
        host_expiries: Vec::new(),
    }
}
