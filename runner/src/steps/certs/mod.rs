//! The `certs` step kind: certificates issued by the environment's CA (its certificate a
//! file of the repo, its key a secret) and kept in Swarm secrets named with a hash of
//! their content, so that a renewal rolls the services that use them. A certificate is
//! issued only when it is missing, expires within `renew_before`, was signed by another
//! CA, or its SANs, usage or key type changed; what the swarm holds is known from the
//! labels of its secrets, since Swarm never returns a secret's data. A certificate may
//! also go to hosts (`to_hosts`): one per host, written over SSH through the `ssh`
//! step's machinery, decided from the `cert.pem` read back from each host.

mod apply;
mod certificate_authority;
mod certificate_expiry;
mod certificate_labels;
mod check;
mod decision;
mod desired;
mod host_certificate;
mod host_settle;
mod input;
mod plan;
mod render;
mod settle;

use std::time::Duration;

pub use apply::apply;
pub use certificate_authority::{
    CertificateAuthority, CertificateError, CertificateRequest, IssuedCertificate,
    NewCertificateAuthority, certificate_fingerprint,
};
pub use certificate_expiry::CertificateExpiry;
pub use check::check;
pub use decision::{CertificateDecision, decide};
pub use desired::{CertificateOutcome, DesiredCertificate, DesiredCerts, desired};
pub use host_certificate::{HostCertificate, labels_of_pem};
pub use host_settle::{SettledHosts, settle_hosts};
pub use input::{CertsInput, UsageInput, UsageName};
pub use plan::plan;
pub use render::render;
pub use settle::settle;

/// The kind of key every certificate has (recorded in a label, so that a change of the
/// default renews).
pub const KEY_TYPE: &str = "ecdsa-p256";

/// A checked `certs` step.
#[derive(Debug, Clone)]
pub struct CertsStep {
    /// The CA certificate's path in the repo.
    pub ca_cert: String,
    /// The secret holding the CA's key.
    pub key_secret: String,
    pub certificates: Vec<CertificateStep>,
    /// `force` as written (a template or `true`/`false`).
    pub force: Option<String>,
}

/// One certificate of a `certs` step, as written (names, SANs may be templates).
#[derive(Debug, Clone)]
pub struct CertificateStep {
    pub name: String,
    pub usage: CertificateUsage,
    pub common_name: String,
    pub sans: Vec<String>,
    pub validity: Duration,
    pub renew_before: Duration,
    /// The Swarm secrets it goes to, if any.
    pub target: Option<SecretTarget>,
    /// The hosts it goes to, if any: one certificate per host.
    pub to_hosts: Option<HostsTarget>,
}

/// Where on hosts a certificate goes: `ca.pem`, `cert.pem` and `key.pem` in `dir`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostsTarget {
    /// Host groups or addresses, as written (templates allowed).
    pub hosts: Vec<String>,
    pub dir: String,
    pub owner: Option<String>,
    /// Permission bits of the three files.
    pub mode: u32,
    pub on_change: Vec<String>,
}

impl HostsTarget {
    /// The files written in `dir`, in the order they are read and written.
    pub const FILES: [&str; 3] = ["ca.pem", "cert.pem", "key.pem"];
}

/// What a certificate may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CertificateUsage {
    pub server: bool,
    pub client: bool,
}

impl CertificateUsage {
    /// `server`, `client` or `server,client`, as in labels.
    pub fn label(self) -> String {
        let mut names = Vec::new();
        if self.server {
            names.push("server");
        }
        if self.client {
            names.push("client");
        }
        names.join(",")
    }
}

/// The Swarm secrets a certificate goes to (logical names, before their hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretTarget {
    /// Certificate, key and CA certificate in one PEM file.
    Bundle(String),
    Separate {
        cert: String,
        key: String,
        ca: String,
    },
}

impl SecretTarget {
    /// The logical names, the first one the secret whose labels are read.
    pub fn names(&self) -> Vec<&str> {
        match self {
            SecretTarget::Bundle(name) => vec![name],
            SecretTarget::Separate { cert, key, ca } => vec![cert, key, ca],
        }
    }
}

#[cfg(test)]
mod host_tests;
#[cfg(test)]
mod tests;
