//! Settles the certificates of a `certs` step that go to hosts, against the hosts: for
//! each host, read `ca.pem`, `cert.pem` and `key.pem` through the host port (writing
//! nothing; the hosts read in parallel, as many at once as an `ssh` step's), decide from the certificate read back whether to issue, issue when needed,
//! and plan the three files as an `ssh` step's files, their content never shown. What
//! is applied is then [`DesiredCerts::host_files`], through the `ssh` step's applier.
//!
//! Only a trusted run settles against hosts (the CA key is read then); reads the
//! operating system's random source when it issues; the time comes in as a value.

use std::collections::{BTreeMap, BTreeSet};

use time::OffsetDateTime;

use super::certificate_labels::CERTIFICATE_NOT_AFTER;
use super::host_certificate::labels_of_pem;
use super::{
    CertificateAuthority, CertificateDecision, CertificateExpiry, DesiredCertificate, DesiredCerts,
    HostCertificate, HostsTarget, certificate_fingerprint, decide,
};
use crate::hosts::{HostConnector, HostError, LiveFile};
use crate::plan::Concealment;
use crate::steps::ssh::{
    DEFAULT_PARALLEL, DesiredHosts, HostPlan, HostReading, HostTask, RenderedHostFile, at_most,
    file_key, plan_host,
};

/// What settling against the hosts found, for the step's plans.
#[derive(Debug, Default)]
pub struct SettledHosts {
    /// One per host of each certificate.
    pub plans: Vec<HostPlan>,
    /// One decision line per host of each certificate:
    /// `= certificate dockerd@10.0.0.5 valid until 2027-11-30`.
    pub notes: Vec<String>,
    /// Hosts that could not be read, a CA that cannot issue: these forbid applying.
    pub problems: Vec<String>,
}

/// Settles the host certificates of `certs` (fills [`DesiredCerts::host_files`]).
/// `sensitive` holds the keys of the `on_change` commands that depend on a secret
/// ([`DesiredCerts::sensitive_between`]): they are shown as `(sensitive)`.
pub async fn settle_hosts(
    certs: &mut DesiredCerts,
    connector: &dyn HostConnector,
    now: OffsetDateTime,
    sensitive: &BTreeSet<String>,
) -> SettledHosts {
    let mut settled = SettledHosts::default();
    if certs.certificates.iter().all(|c| c.hosts.is_empty()) {
        return settled;
    }
    let ca_fingerprint = match certificate_fingerprint(&certs.ca_cert_pem) {
        Ok(fingerprint) => fingerprint,
        Err(reason) => {
            settled.problems.push(format!(
                "the CA certificate {} is not a PEM certificate: {reason}",
                certs.ca_cert_path
            ));
            return settled;
        }
    };
    // Every host is read first, `DEFAULT_PARALLEL` at a time, as an `ssh` step's are.
    let tasks: Vec<HostTask<'_, Result<[Option<LiveFile>; 3], HostError>>> = certs
        .certificates
        .iter()
        .flat_map(|certificate| &certificate.hosts)
        .map(|host_certificate| {
            Box::pin(read_files(connector, host_certificate)) as HostTask<'_, _>
        })
        .collect();
    let mut readings = at_most(DEFAULT_PARALLEL, tasks).await.into_iter();
    let mut authority: Option<CertificateAuthority> = None;
    let mut hosts = Vec::new();
    let mut sensitive = sensitive.clone();
    for certificate in &certs.certificates {
        for host_certificate in &certificate.hosts {
            let shown = host_certificate.shown_name();
            let Some(reading) = readings.next() else {
                break;
            };
            let files = match reading {
                Ok(files) => files,
                Err(error) => {
                    settled.problems.push(format!(
                        "host {}: {error}",
                        host_certificate.host.target.name
                    ));
                    continue;
                }
            };
            // What the host's certificate says of itself; `None` when there is none or
            // it cannot be read.
            let labels = files[1]
                .as_ref()
                .and_then(text_of)
                .and_then(|pem| labels_of_pem(&pem, &certs.ca_cert_pem, &ca_fingerprint).ok());
            let decision = host_decision(
                certs,
                certificate,
                host_certificate,
                &files,
                labels.as_ref(),
                &ca_fingerprint,
                now,
            );
            settled.notes.push(decision.line(&shown));
            let mut expiry = CertificateExpiry {
                certificate: certificate.request.name.clone(),
                host: host_certificate.host.target.name.clone(),
                live_not_after: labels
                    .as_ref()
                    .and_then(|labels| labels.get(CERTIFICATE_NOT_AFTER)?.parse().ok()),
                issued_not_after: None,
            };
            let (cert_pem, key_pem) = match (&decision, &files[1], &files[2]) {
                (CertificateDecision::Valid { .. }, Some(cert), Some(key)) => (
                    text_of(cert).unwrap_or_default(),
                    text_of(key).unwrap_or_default(),
                ),
                _ => {
                    if authority.is_none() {
                        match CertificateAuthority::load(
                            &certs.ca_cert_pem,
                            &certs.ca_cert_path,
                            &certs.ca_key,
                            &certs.key_secret,
                        ) {
                            Ok(loaded) => authority = Some(loaded),
                            Err(error) => {
                                settled.problems.push(error.to_string());
                                return settled;
                            }
                        }
                    }
                    let Some(authority) = &authority else {
                        return settled;
                    };
                    match authority.issue(&host_certificate.request, now) {
                        Ok(issued) => {
                            expiry.issued_not_after = Some(issued.not_after.unix_timestamp());
                            (issued.certificate_pem, issued.key_pem.expose().to_owned())
                        }
                        Err(error) => {
                            settled.problems.push(format!("{shown}: {error}"));
                            continue;
                        }
                    }
                }
            };
            let mut host = host_certificate.host.clone();
            let login = host.target.login();
            let contents = [certs.ca_cert_pem.clone(), cert_pem, key_pem];
            host.files = HostsTarget::FILES
                .iter()
                .zip(contents)
                .map(|(file, content)| {
                    let dest = host_certificate.path(file);
                    // The key is a secret; the certificates' diffs would only be base64:
                    // the decision line says what changes.
                    sensitive.insert(file_key(&login, &dest));
                    RenderedHostFile {
                        src: format!("certificate {}", certificate.request.name),
                        dest,
                        content,
                        mode: Some(host_certificate.mode),
                        owner: host_certificate.owner.clone(),
                        group: None,
                    }
                })
                .collect();
            let reading = HostReading {
                files: files.to_vec(),
                guards: Vec::new(),
            };
            certs.host_expiries.push(expiry);
            settled.plans.push(plan_host(
                &host,
                &reading,
                &sensitive,
                Concealment::Sensitive,
            ));
            hosts.push(host);
        }
    }
    certs.host_files = Some(DesiredHosts {
        hosts,
        become_user: None,
        parallel: DEFAULT_PARALLEL,
        batch: None,
        rollback_if_unreachable: None,
        timeout: None,
        sensitive,
    });
    settled
}

/// The host's `ca.pem`, `cert.pem` and `key.pem`, as found.
async fn read_files(
    connector: &dyn HostConnector,
    certificate: &HostCertificate,
) -> Result<[Option<LiveFile>; 3], HostError> {
    let mut session = connector.connect(&certificate.host.target).await?;
    let mut files: [Option<LiveFile>; 3] = [None, None, None];
    for (slot, file) in files.iter_mut().zip(HostsTarget::FILES) {
        *slot = session.read_file(&certificate.path(file), None).await?;
    }
    Ok(files)
}

/// Whether the host's certificate is kept, from `cert.pem` read back (`labels`: what it
/// says of itself); a certificate kept needs its key beside it.
fn host_decision(
    certs: &DesiredCerts,
    certificate: &DesiredCertificate,
    host_certificate: &HostCertificate,
    files: &[Option<LiveFile>; 3],
    labels: Option<&BTreeMap<String, String>>,
    ca_fingerprint: &str,
    now: OffsetDateTime,
) -> CertificateDecision {
    if files[1].is_none() {
        return CertificateDecision::Missing;
    }
    let Some(labels) = labels else {
        return CertificateDecision::Renew {
            reason: "cert.pem is not a certificate shoal can read".to_owned(),
        };
    };
    let desired = DesiredCertificate {
        request: host_certificate.request.clone(),
        renew_before: certificate.renew_before,
        secrets: Vec::new(),
        hosts: Vec::new(),
    };
    let decision = decide(&desired, Some(labels), ca_fingerprint, certs.force, now);
    let key_readable = files[2].as_ref().and_then(text_of).is_some();
    if !decision.issues() && !key_readable {
        return CertificateDecision::Renew {
            reason: "key.pem is missing".to_owned(),
        };
    }
    decision
}

/// A file's content as text, when it was read whole and is text.
fn text_of(file: &LiveFile) -> Option<String> {
    String::from_utf8(file.content.clone()?).ok()
}
