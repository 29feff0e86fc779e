//! Settles a `certs` step against the live swarm, before planning: for each certificate,
//! whether it is kept or issued, and the secret versions services should use. Issuing
//! happens here, when the run may read the CA key (trusted): the new secrets are then
//! planned and applied like any other, and a compose file's `external: true, name: NAME`
//! reference moves to the new version in the same plan. Untrusted (a pull request's
//! plan), nothing is issued: the plan says what would be, with a placeholder name.
//!
//! Reads the operating system's random source (keys, serial numbers); the time comes in
//! as a value.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use super::certificate_labels::{
    CERTIFICATE_CA_FINGERPRINT, CERTIFICATE_FINGERPRINT, CERTIFICATE_KEY_TYPE, CERTIFICATE_NAME,
    CERTIFICATE_NOT_AFTER, CERTIFICATE_SANS, CERTIFICATE_USAGE,
};
use super::{
    CertificateAuthority, CertificateOutcome, DesiredCertificate, DesiredCerts, IssuedCertificate,
    KEY_TYPE, certificate_fingerprint, decide,
};
use crate::swarm::{
    CONTENT_HASH, LiveObject, LiveState, OBJECT_NAME, ObjectKind, ObjectNameKey, ObjectSpec,
};

/// The name a secret to be issued is shown with when nothing can be issued (untrusted).
pub const UNISSUED_SUFFIX: &str = "(issued when applied)";

/// Fills `certs.outcomes` (or `certs.problems`). `can_issue` is false for an untrusted
/// run, whose CA key is a placeholder.
pub fn settle(
    certs: &mut DesiredCerts,
    live: &LiveState,
    now: OffsetDateTime,
    key: &ObjectNameKey,
    can_issue: bool,
) {
    let ca_fingerprint = match certificate_fingerprint(&certs.ca_cert_pem) {
        Ok(fingerprint) => fingerprint,
        Err(reason) => {
            certs.problems.push(format!(
                "the CA certificate {} is not a PEM certificate: {reason}",
                certs.ca_cert_path
            ));
            return;
        }
    };
    let mut authority = None;
    let mut outcomes = Vec::new();
    // A certificate that goes to hosts only is settled against them (`settle_hosts`).
    for certificate in certs.certificates.iter().filter(|c| !c.secrets.is_empty()) {
        let found = newest_version(live, certificate);
        let decision = decide(
            certificate,
            found.map(|object| &object.labels),
            &ca_fingerprint,
            certs.force,
            now,
        );
        let name = certificate.request.name.clone();
        let live_not_after = found
            .and_then(|object| object.labels.get(CERTIFICATE_NOT_AFTER))
            .and_then(|seconds| seconds.parse::<i64>().ok());
        if let (false, Some(found)) = (decision.issues(), found) {
            let fingerprint = found.labels.get(CERTIFICATE_FINGERPRINT);
            let current: Option<Vec<(String, String)>> = certificate
                .secrets
                .iter()
                .map(|logical| {
                    version_with(live, logical, fingerprint)
                        .or_else(|| ca_version(live, certs, certificate, logical, key))
                        .map(|object| (logical.clone(), object.name.clone()))
                })
                .collect();
            if let Some(current) = current {
                outcomes.push(CertificateOutcome {
                    name,
                    decision,
                    current,
                    created: Vec::new(),
                    unissued: Vec::new(),
                    live_not_after,
                    issued_not_after: None,
                });
                continue;
            }
        }
        if !can_issue {
            let current: Vec<(String, String)> = certificate
                .secrets
                .iter()
                .map(|logical| (logical.clone(), format!("{logical}-{UNISSUED_SUFFIX}")))
                .collect();
            outcomes.push(CertificateOutcome {
                name,
                decision,
                unissued: current.iter().map(|(_, name)| name.clone()).collect(),
                current,
                created: Vec::new(),
                live_not_after,
                issued_not_after: None,
            });
            continue;
        }
        if authority.is_none() {
            match CertificateAuthority::load(
                &certs.ca_cert_pem,
                &certs.ca_cert_path,
                &certs.ca_key,
                &certs.key_secret,
            ) {
                Ok(loaded) => authority = Some(loaded),
                Err(error) => {
                    certs.problems.push(error.to_string());
                    return;
                }
            }
        }
        let Some(authority) = &authority else {
            return;
        };
        match authority.issue(&certificate.request, now) {
            Ok(issued) => {
                let created = secrets_of(certs, certificate, &issued, &ca_fingerprint, key);
                outcomes.push(CertificateOutcome {
                    name,
                    decision,
                    current: created
                        .iter()
                        .zip(&certificate.secrets)
                        .map(|(object, logical)| (logical.clone(), object.name.clone()))
                        .collect(),
                    created,
                    unissued: Vec::new(),
                    live_not_after,
                    issued_not_after: Some(issued.not_after.unix_timestamp()),
                });
            }
            Err(error) => {
                certs.problems.push(error.to_string());
                return;
            }
        }
    }
    certs.outcomes = outcomes;
}

/// The newest secret holding the certificate (its first secret's logical name).
fn newest_version<'a>(
    live: &'a LiveState,
    certificate: &DesiredCertificate,
) -> Option<&'a LiveObject> {
    let first = certificate.secrets.first()?;
    live.objects
        .iter()
        .filter(|object| object.kind == ObjectKind::Secret)
        .filter(|object| object.labels.get(OBJECT_NAME) == Some(first))
        .filter(|object| object.labels.contains_key(CERTIFICATE_FINGERPRINT))
        .max_by(|a, b| a.created_at.cmp(&b.created_at))
}

/// The secret `logical` holding the certificate with `fingerprint`.
fn version_with<'a>(
    live: &'a LiveState,
    logical: &str,
    fingerprint: Option<&String>,
) -> Option<&'a LiveObject> {
    live.objects.iter().find(|object| {
        object.kind == ObjectKind::Secret
            && object.labels.get(OBJECT_NAME).map(String::as_str) == Some(logical)
            && object.labels.get(CERTIFICATE_FINGERPRINT) == fingerprint
    })
}

/// The secret holding the CA certificate of three secrets (`ca`), found by its name: its
/// content is the CA's, the same for every certificate the CA issues, so a renewal makes
/// no new version of it and its labels stay those of the certificate that made it.
fn ca_version<'a>(
    live: &'a LiveState,
    certs: &DesiredCerts,
    certificate: &DesiredCertificate,
    logical: &str,
    key: &ObjectNameKey,
) -> Option<&'a LiveObject> {
    if !is_ca_secret(certificate, logical) {
        return None;
    }
    let name = key.hashed_name(logical, certs.ca_cert_pem.as_bytes());
    live.objects
        .iter()
        .find(|object| object.kind == ObjectKind::Secret && object.name == name)
}

/// Whether `logical` is the secret holding the CA certificate alone (`to_secret.ca`).
pub(super) fn is_ca_secret(certificate: &DesiredCertificate, logical: &str) -> bool {
    certificate.secrets.len() == 3 && certificate.secrets[2] == logical
}

/// The secrets of a certificate just issued: one bundle (certificate, key, CA), or the
/// certificate, the key and the CA apart; each labelled with what the next run decides
/// from.
fn secrets_of(
    certs: &DesiredCerts,
    certificate: &DesiredCertificate,
    issued: &IssuedCertificate,
    ca_fingerprint: &str,
    key: &ObjectNameKey,
) -> Vec<ObjectSpec> {
    let contents: Vec<String> = if certificate.secrets.len() == 1 {
        vec![format!(
            "{}{}{}",
            issued.certificate_pem,
            issued.key_pem.expose(),
            certs.ca_cert_pem
        )]
    } else {
        vec![
            issued.certificate_pem.clone(),
            issued.key_pem.expose().to_owned(),
            certs.ca_cert_pem.clone(),
        ]
    };
    let mut labels: BTreeMap<String, String> = certs.labels.clone();
    labels.insert(
        CERTIFICATE_NAME.to_owned(),
        certificate.request.name.clone(),
    );
    labels.insert(
        CERTIFICATE_NOT_AFTER.to_owned(),
        issued.not_after.unix_timestamp().to_string(),
    );
    labels.insert(
        CERTIFICATE_SANS.to_owned(),
        certificate.request.sans.join(","),
    );
    labels.insert(
        CERTIFICATE_USAGE.to_owned(),
        certificate.request.usage.label(),
    );
    labels.insert(CERTIFICATE_KEY_TYPE.to_owned(), KEY_TYPE.to_owned());
    labels.insert(
        CERTIFICATE_CA_FINGERPRINT.to_owned(),
        ca_fingerprint.to_owned(),
    );
    labels.insert(
        CERTIFICATE_FINGERPRINT.to_owned(),
        issued.fingerprint.clone(),
    );
    certificate
        .secrets
        .iter()
        .zip(contents)
        .map(|(logical, content)| {
            let data = content.into_bytes();
            let mut labels = labels.clone();
            labels.insert(OBJECT_NAME.to_owned(), logical.clone());
            labels.insert(CONTENT_HASH.to_owned(), key.content_hash(&data));
            ObjectSpec {
                kind: ObjectKind::Secret,
                name: key.hashed_name(logical, &data),
                labels,
                data,
            }
        })
        .collect()
}
