//! The transport of `tcp://` hosts with mutual TLS, as `docker --tlsverify` speaks it: the
//! daemon's certificate must be signed by the one CA shoal was given (never the system's
//! roots) and name the host's address or DNS name among its subject alternative names,
//! and shoal presents its client certificate. Every failure says what to fix.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{AlertDescription, CertificateError, ClientConfig, RootCertStore};

use super::TlsMaterial;
use super::engine_connector::EngineStream;

#[derive(Clone)]
pub struct TlsConnector {
    /// `HOST:PORT`.
    address: String,
    /// The host, which the daemon's certificate must name.
    server_name: ServerName<'static>,
    config: Arc<ClientConfig>,
    /// Where the CA and the client certificate came from, for messages.
    ca_origin: String,
    cert_origin: String,
}

/// The address and where the certificates came from: the configuration holds the key.
impl fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConnector")
            .field("address", &self.address)
            .field("ca", &self.ca_origin)
            .field("cert", &self.cert_origin)
            .finish_non_exhaustive()
    }
}

impl TlsConnector {
    /// The connector for `address` (`HOST:PORT`) with `material`; fails when a PEM holds
    /// nothing usable, without showing its text.
    pub fn new(address: &str, material: &TlsMaterial) -> Result<TlsConnector, String> {
        let address = address.trim_end_matches('/').to_owned();
        let host = address
            .rsplit_once(':')
            .map_or(address.as_str(), |(host, _)| host);
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let server_name = ServerName::try_from(host.to_owned())
            .map_err(|_| format!("`{host}` is neither an IP address nor a DNS name"))?;

        let mut roots = RootCertStore::empty();
        for certificate in CertificateDer::pem_slice_iter(&material.ca.pem) {
            let certificate = certificate.map_err(|_| {
                format!("the CA certificate {} is not valid PEM", material.ca.origin)
            })?;
            roots.add(certificate).map_err(|error| {
                format!(
                    "the CA certificate {} cannot be used: {error}",
                    material.ca.origin
                )
            })?;
        }
        if roots.is_empty() {
            return Err(format!(
                "the CA certificate {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                material.ca.origin
            ));
        }
        let chain = CertificateDer::pem_slice_iter(&material.cert.pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| {
                format!(
                    "the client certificate {} is not valid PEM",
                    material.cert.origin
                )
            })?;
        if chain.is_empty() {
            return Err(format!(
                "the client certificate {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                material.cert.origin
            ));
        }
        // The parser's error is not shown: it could quote the key's text.
        let key = PrivateKeyDer::from_pem_slice(&material.key.pem).map_err(|_| {
            format!(
                "the client key {} holds no PEM private key (-----BEGIN PRIVATE KEY-----, \
                 RSA PRIVATE KEY or EC PRIVATE KEY)",
                material.key.origin
            )
        })?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|error| error.to_string())?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .map_err(|error| {
                format!(
                    "the client certificate {} and key {} cannot be used together: {error}",
                    material.cert.origin, material.key.origin
                )
            })?;
        Ok(TlsConnector {
            address,
            server_name,
            config: Arc::new(config),
            ca_origin: material.ca.origin.clone(),
            cert_origin: material.cert.origin.clone(),
        })
    }

    /// Connects and completes the TLS handshake; a failure says what to fix.
    pub async fn connect(&self) -> Result<Pin<Box<dyn EngineStream>>, String> {
        let stream = tokio::net::TcpStream::connect(&self.address)
            .await
            .map_err(|error| format!("{}: {error}", self.address))?;
        let _ = stream.set_nodelay(true);
        let connector = tokio_rustls::TlsConnector::from(self.config.clone());
        let stream = connector
            .connect(self.server_name.clone(), stream)
            .await
            .map_err(|error| match tls_error(&error) {
                Some(error) => self.explain(error),
                None => format!("{}: TLS handshake failed: {error}", self.address),
            })?;
        Ok(Box::pin(stream))
    }

    /// What went wrong in TLS terms, and what to do about it.
    pub fn explain(&self, error: &rustls::Error) -> String {
        let address = &self.address;
        let ca = &self.ca_origin;
        match error {
            rustls::Error::InvalidCertificate(certificate) => match certificate {
                CertificateError::UnknownIssuer | CertificateError::BadSignature => format!(
                    "the daemon's TLS certificate is not signed by the CA {ca}: give shoal \
                     the CA that signed the daemon's certificate (`docker.tls.ca`)"
                ),
                CertificateError::NotValidForNameContext {
                    expected,
                    presented,
                } => {
                    let names = if presented.is_empty() {
                        "no address or DNS name".to_owned()
                    } else {
                        presented
                            .iter()
                            .map(|name| plain_name(name))
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    format!(
                        "the daemon's TLS certificate is not valid for {}: its subject \
                         alternative names are {names}; connect to one of those, or give the \
                         daemon a certificate whose SANs include {}",
                        expected.to_str(),
                        san_for(expected),
                    )
                }
                CertificateError::ExpiredContext { not_after, .. } => format!(
                    "the daemon's TLS certificate expired on {}: give the daemon a new one \
                     (dockerd's --tlscert)",
                    utc(not_after.as_secs())
                ),
                CertificateError::NotValidYetContext { not_before, .. } => format!(
                    "the daemon's TLS certificate is not valid before {}: check this \
                     machine's clock, or the certificate's dates",
                    utc(not_before.as_secs())
                ),
                other => format!("the daemon's TLS certificate is refused: {other:?}"),
            },
            rustls::Error::AlertReceived(
                alert @ (AlertDescription::BadCertificate
                | AlertDescription::UnknownCA
                | AlertDescription::CertificateRequired
                | AlertDescription::CertificateUnknown
                | AlertDescription::CertificateExpired
                | AlertDescription::CertificateRevoked
                | AlertDescription::UnsupportedCertificate
                | AlertDescription::DecryptError),
            ) => format!(
                "the daemon refused shoal's client certificate {} (TLS alert: {}): it must \
                 be signed by the CA the daemon trusts (dockerd's --tlscacert) and be valid \
                 for client authentication",
                self.cert_origin,
                alert_name(*alert),
            ),
            rustls::Error::InvalidMessage(_) => format!(
                "{address} does not speak TLS (it answered the TLS handshake with something \
                 else, such as plain HTTP): remove `docker.tls` (or DOCKER_TLS_VERIFY) if the \
                 daemon listens without TLS, or point the host at the daemon's TLS port"
            ),
            other => format!("{address}: TLS failed: {other}"),
        }
    }
}

/// The rustls error inside an I/O error, if there is one.
pub fn tls_error(error: &std::io::Error) -> Option<&rustls::Error> {
    error.get_ref()?.downcast_ref::<rustls::Error>()
}

/// A name as rustls presents it (`IpAddress(192.0.2.7)`, `DnsName("docker.example")`),
/// without its type.
fn plain_name(name: &str) -> &str {
    ["IpAddress(", "DnsName(\""]
        .iter()
        .find_map(|prefix| name.strip_prefix(prefix))
        .map_or(name, |inner| {
            inner.trim_end_matches(')').trim_end_matches('"')
        })
}

/// How a SAN for `name` is written in openssl's `subjectAltName`.
fn san_for(name: &ServerName<'_>) -> String {
    match name {
        ServerName::IpAddress(_) => format!("IP:{}", name.to_str()),
        _ => format!("DNS:{}", name.to_str()),
    }
}

/// `2021-01-01 00:00:00 UTC`.
fn utc(seconds: u64) -> String {
    i64::try_from(seconds)
        .ok()
        .and_then(|seconds| chrono::DateTime::from_timestamp(seconds, 0))
        .map_or_else(
            || format!("{seconds} s after 1970"),
            |time| time.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        )
}

/// An alert as the TLS specification names it: `bad_certificate`.
fn alert_name(alert: AlertDescription) -> String {
    let name = format!("{alert:?}");
    let mut snake = String::new();
    for (index, character) in name.chars().enumerate() {
        if character.is_ascii_uppercase() && index > 0 {
            snake.push('_');
        }
        snake.push(character.to_ascii_lowercase());
    }
    snake
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_as_openssl_writes_them() {
        assert_eq!(plain_name("IpAddress(192.0.2.7)"), "192.0.2.7");
        assert_eq!(plain_name("DnsName(\"docker.example\")"), "docker.example");
        assert_eq!(
            alert_name(AlertDescription::BadCertificate),
            "bad_certificate"
        );
        assert_eq!(utc(1_609_459_200), "2021-01-01 00:00:00 UTC");
        let ip = ServerName::try_from("10.0.0.1").expect("an address");
        assert_eq!(san_for(&ip), "IP:10.0.0.1");
    }
}
