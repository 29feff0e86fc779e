//! The labels a certificate's secrets carry: what shoal knows of a certificate without
//! its data, which Swarm never returns.

/// The certificate's name in its step.
pub const CERTIFICATE_NAME: &str = "dev.shoal.certificate.name";
/// When it expires, in seconds since the Unix epoch.
pub const CERTIFICATE_NOT_AFTER: &str = "dev.shoal.certificate.not-after";
/// Its SANs, in the order written, comma-separated.
pub const CERTIFICATE_SANS: &str = "dev.shoal.certificate.sans";
/// `server`, `client` or `server,client`.
pub const CERTIFICATE_USAGE: &str = "dev.shoal.certificate.usage";
pub const CERTIFICATE_KEY_TYPE: &str = "dev.shoal.certificate.key-type";
/// SHA-256 of the issuing CA's certificate (DER), hex.
pub const CERTIFICATE_CA_FINGERPRINT: &str = "dev.shoal.certificate.ca-fingerprint";
/// SHA-256 of the certificate (DER), hex.
pub const CERTIFICATE_FINGERPRINT: &str = "dev.shoal.certificate.fingerprint";
