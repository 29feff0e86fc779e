//! A certificate that goes to one host (`to_hosts`): its request, with the host's address
//! and name added to the SANs, the files it is written to, and what a `cert.pem` read
//! back from the host says of itself, as the labels a secret would carry, so that one
//! [`decide`](super::decide) serves both.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use x509_parser::extensions::GeneralName;
use x509_parser::oid_registry::{OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY};

use super::certificate_labels::{
    CERTIFICATE_CA_FINGERPRINT, CERTIFICATE_FINGERPRINT, CERTIFICATE_KEY_TYPE,
    CERTIFICATE_NOT_AFTER, CERTIFICATE_SANS, CERTIFICATE_USAGE,
};
use super::{CertificateRequest, CertificateUsage, HostsTarget, KEY_TYPE};
use crate::steps::ssh::RenderedHost;

#[derive(Debug, Clone)]
pub struct HostCertificate {
    /// The host, with the target's `on_change` rendered for it (no files yet).
    pub host: RenderedHost,
    pub request: CertificateRequest,
    /// The directory of `ca.pem`, `cert.pem` and `key.pem`, rendered.
    pub dir: String,
    pub owner: Option<String>,
    pub mode: u32,
}

impl HostCertificate {
    /// The certificate of `request` for `host`: the host's address and name are added to
    /// the SANs (once each, after those written).
    pub fn new(
        host: RenderedHost,
        mut request: CertificateRequest,
        dir: String,
        target: &HostsTarget,
    ) -> HostCertificate {
        let address = match host.target.address.parse::<IpAddr>() {
            Ok(ip) => ip.to_string(),
            Err(_) => host.target.address.clone(),
        };
        for san in [address, host.target.name.clone()] {
            if !san.is_empty() && !request.sans.contains(&san) {
                request.sans.push(san);
            }
        }
        HostCertificate {
            host,
            request,
            dir: dir.trim_end_matches('/').to_owned(),
            owner: target.owner.clone(),
            mode: target.mode,
        }
    }

    /// `dockerd@10.0.0.5`: the certificate and the host, in plans.
    pub fn shown_name(&self) -> String {
        format!("{}@{}", self.request.name, self.host.target.address)
    }

    /// The path of `file` (one of [`HostsTarget::FILES`]) on the host.
    pub fn path(&self, file: &str) -> String {
        format!("{}/{file}", self.dir)
    }
}

/// What the certificate `pem` says of itself, as the labels of a secret holding it would:
/// its expiry, SANs (in the certificate's order), usage, key type, fingerprint, and
/// `ca_fingerprint` as its CA's when the CA certificate `ca_pem` signed it (else none).
pub fn labels_of_pem(
    pem: &str,
    ca_pem: &str,
    ca_fingerprint: &str,
) -> Result<BTreeMap<String, String>, String> {
    let (_, block) =
        x509_parser::pem::parse_x509_pem(pem.as_bytes()).map_err(|error| format!("{error}"))?;
    let certificate = block.parse_x509().map_err(|error| format!("{error}"))?;
    let (_, ca_block) =
        x509_parser::pem::parse_x509_pem(ca_pem.as_bytes()).map_err(|error| format!("{error}"))?;
    let ca = ca_block.parse_x509().map_err(|error| format!("{error}"))?;
    let mut labels = BTreeMap::new();
    labels.insert(
        CERTIFICATE_NOT_AFTER.to_owned(),
        certificate.validity().not_after.timestamp().to_string(),
    );
    if certificate.verify_signature(Some(ca.public_key())).is_ok() {
        labels.insert(
            CERTIFICATE_CA_FINGERPRINT.to_owned(),
            ca_fingerprint.to_owned(),
        );
    }
    let sans: Vec<String> = match certificate.subject_alternative_name() {
        Ok(Some(extension)) => extension
            .value
            .general_names
            .iter()
            .filter_map(|name| match name {
                GeneralName::DNSName(dns) => Some((*dns).to_owned()),
                GeneralName::IPAddress(bytes) => ip_text(bytes),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    labels.insert(CERTIFICATE_SANS.to_owned(), sans.join(","));
    let usage = match certificate.extended_key_usage() {
        Ok(Some(extension)) => CertificateUsage {
            server: extension.value.server_auth,
            client: extension.value.client_auth,
        },
        _ => CertificateUsage {
            server: false,
            client: false,
        },
    };
    labels.insert(CERTIFICATE_USAGE.to_owned(), usage.label());
    let algorithm = &certificate.public_key().algorithm;
    let curve = algorithm
        .parameters
        .as_ref()
        .and_then(|parameters| parameters.as_oid().ok());
    if algorithm.algorithm == OID_KEY_TYPE_EC_PUBLIC_KEY && curve.as_ref() == Some(&OID_EC_P256) {
        labels.insert(CERTIFICATE_KEY_TYPE.to_owned(), KEY_TYPE.to_owned());
    }
    labels.insert(
        CERTIFICATE_FINGERPRINT.to_owned(),
        super::certificate_fingerprint(pem)?,
    );
    Ok(labels)
}

fn ip_text(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => {
            let octets: [u8; 4] = bytes.try_into().ok()?;
            Some(Ipv4Addr::from(octets).to_string())
        }
        16 => {
            let octets: [u8; 16] = bytes.try_into().ok()?;
            Some(Ipv6Addr::from(octets).to_string())
        }
        _ => None,
    }
}
