//! A certificate authority: its certificate (public, in the config repo) and its private
//! key (from the environment's `secrets`), which issues the certificates of a `certs`
//! step; and how `shoal ca create` makes a new one. Keys are ECDSA P-256; serial numbers
//! are random; `not_before` lies a few minutes in the past for clocks that run behind.

use std::net::IpAddr;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, SanType, SerialNumber,
};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::CertificateUsage;
use crate::secret_text::SecretText;

/// How far back `not_before` lies, for hosts whose clock runs behind.
const CLOCK_SKEW: time::Duration = time::Duration::minutes(5);

#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    #[error("the CA certificate {path} is not a PEM certificate: {reason}")]
    CaCertificate { path: String, reason: String },
    /// The key's text is never quoted: it is a secret.
    #[error("the CA key (secret `{secret}`) is not a PEM private key shoal can sign with")]
    CaKey { secret: String },
    #[error("the CA key (secret `{secret}`) does not belong to the CA certificate {path}")]
    KeyMismatch { secret: String, path: String },
    #[error("cannot issue certificate `{name}`: {reason}")]
    Issue { name: String, reason: String },
}

/// What a certificate is made for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRequest {
    pub name: String,
    pub common_name: String,
    pub sans: Vec<String>,
    pub usage: CertificateUsage,
    pub validity: Duration,
}

/// A certificate just issued, with its key.
#[derive(Debug, Clone)]
pub struct IssuedCertificate {
    pub certificate_pem: String,
    pub key_pem: SecretText,
    pub not_after: OffsetDateTime,
    /// SHA-256 of the certificate's DER, hex.
    pub fingerprint: String,
}

/// A new CA: its certificate and key, PEM.
pub struct NewCertificateAuthority {
    pub certificate_pem: String,
    pub key_pem: SecretText,
}

/// A CA that can issue.
pub struct CertificateAuthority {
    issuer: Issuer<'static, KeyPair>,
    fingerprint: String,
}

impl std::fmt::Debug for CertificateAuthority {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "CertificateAuthority({})", self.fingerprint)
    }
}

impl CertificateAuthority {
    /// Makes a new self-signed CA valid from a few minutes before `now` for `validity`.
    pub fn create(
        common_name: &str,
        validity: Duration,
        now: OffsetDateTime,
    ) -> Result<NewCertificateAuthority, rcgen::Error> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = distinguished_name(common_name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.serial_number = Some(random_serial());
        params.not_before = now - CLOCK_SKEW;
        params.not_after = now + validity;
        let certificate = params.self_signed(&key)?;
        Ok(NewCertificateAuthority {
            certificate_pem: certificate.pem(),
            key_pem: SecretText::new(key.serialize_pem()),
        })
    }

    /// The CA of a certificate (`path` names it in errors) and the key in secret `secret`.
    pub fn load(
        certificate_pem: &str,
        path: &str,
        key_pem: &SecretText,
        secret: &str,
    ) -> Result<CertificateAuthority, CertificateError> {
        let fingerprint = certificate_fingerprint(certificate_pem).map_err(|reason| {
            CertificateError::CaCertificate {
                path: path.to_owned(),
                reason,
            }
        })?;
        let key = KeyPair::from_pem(key_pem.expose()).map_err(|_| CertificateError::CaKey {
            secret: secret.to_owned(),
        })?;
        let public_key =
            public_key_of(certificate_pem).map_err(|reason| CertificateError::CaCertificate {
                path: path.to_owned(),
                reason,
            })?;
        if public_key != key.public_key_raw() {
            return Err(CertificateError::KeyMismatch {
                secret: secret.to_owned(),
                path: path.to_owned(),
            });
        }
        let issuer = Issuer::from_ca_cert_pem(certificate_pem, key).map_err(|error| {
            CertificateError::CaCertificate {
                path: path.to_owned(),
                reason: error.to_string(),
            }
        })?;
        Ok(CertificateAuthority {
            issuer,
            fingerprint,
        })
    }

    /// SHA-256 of the CA certificate's DER, hex.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Issues a certificate with a new key, valid from a few minutes before `now`.
    pub fn issue(
        &self,
        request: &CertificateRequest,
        now: OffsetDateTime,
    ) -> Result<IssuedCertificate, CertificateError> {
        let fail = |reason: String| CertificateError::Issue {
            name: request.name.clone(),
            reason,
        };
        let key =
            KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(|e| fail(e.to_string()))?;
        let mut params = CertificateParams::default();
        params.distinguished_name = distinguished_name(&request.common_name);
        params.subject_alt_names = request
            .sans
            .iter()
            .map(|san| subject_alt_name(san).map_err(&fail))
            .collect::<Result<_, _>>()?;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        if request.usage.server {
            params
                .extended_key_usages
                .push(ExtendedKeyUsagePurpose::ServerAuth);
        }
        if request.usage.client {
            params
                .extended_key_usages
                .push(ExtendedKeyUsagePurpose::ClientAuth);
        }
        params.use_authority_key_identifier_extension = true;
        params.serial_number = Some(random_serial());
        params.not_before = now - CLOCK_SKEW;
        params.not_after = now + request.validity;
        let certificate = params
            .signed_by(&key, &self.issuer)
            .map_err(|e| fail(e.to_string()))?;
        Ok(IssuedCertificate {
            fingerprint: hex::encode(Sha256::digest(certificate.der())),
            certificate_pem: certificate.pem(),
            key_pem: SecretText::new(key.serialize_pem()),
            not_after: params.not_after,
        })
    }
}

/// SHA-256 of the DER of the first certificate in `pem`, hex.
pub fn certificate_fingerprint(pem: &str) -> Result<String, String> {
    let (_, block) =
        x509_parser::pem::parse_x509_pem(pem.as_bytes()).map_err(|error| format!("{error}"))?;
    if block.label != "CERTIFICATE" {
        return Err(format!("found a PEM `{}` block", block.label));
    }
    Ok(hex::encode(Sha256::digest(&block.contents)))
}

fn public_key_of(pem: &str) -> Result<Vec<u8>, String> {
    let (_, block) =
        x509_parser::pem::parse_x509_pem(pem.as_bytes()).map_err(|error| format!("{error}"))?;
    let certificate = block.parse_x509().map_err(|error| format!("{error}"))?;
    Ok(certificate.public_key().subject_public_key.data.to_vec())
}

fn distinguished_name(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name);
    name
}

/// An IP address or a DNS name.
fn subject_alt_name(text: &str) -> Result<SanType, String> {
    if let Ok(address) = text.parse::<IpAddr>() {
        return Ok(SanType::IpAddress(address));
    }
    text.try_into()
        .map(SanType::DnsName)
        .map_err(|_| format!("`{text}` is neither an IP address nor a DNS name"))
}

/// 16 random bytes, the first below 0x80 so that the number is positive.
fn random_serial() -> SerialNumber {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 16];
    // The system's random source does not fail on Linux once booted; a zero serial
    // would still be valid, only not random.
    let _ = ring::rand::SystemRandom::new().fill(&mut bytes);
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;
    SerialNumber::from_slice(&bytes)
}
