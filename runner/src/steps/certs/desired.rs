//! What a `certs` step wants, from its render: the CA, and each certificate's request and
//! secrets. Which certificates are issued is known only against the live swarm:
//! [`settle`](super::settle) fills [`DesiredCerts::outcomes`] before planning.

use std::collections::BTreeMap;
use std::time::Duration;

use super::render::{CA_CERT, CA_KEY, FORCE, common_name_key, san_key, secret_key};
use super::{CertificateDecision, CertificateRequest, CertsStep};
use crate::github::SecretText;
use crate::plan::DesiredContext;
use crate::render::RenderedStep;
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
}

#[derive(Debug, Clone)]
pub struct DesiredCertificate {
    pub request: CertificateRequest,
    pub renew_before: Duration,
    /// The logical names of its secrets (one for a bundle, else cert, key, CA).
    pub secrets: Vec<String>,
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
    let certificates = certs
        .certificates
        .iter()
        .enumerate()
        .map(|(index, certificate)| DesiredCertificate {
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
            secrets: (0..certificate.target.names().len())
                .map(|secret| value(&secret_key(index, secret)))
                .collect(),
        })
        .collect();
    DesiredCerts {
        ca_cert_path: certs.ca_cert.clone(),
        ca_cert_pem: value(CA_CERT),
        key_secret: certs.key_secret.clone(),
        ca_key: SecretText::new(value(CA_KEY)),
        force,
        certificates,
        labels: context.labels.clone(),
        problems,
        outcomes: Vec::new(),
    }
}
