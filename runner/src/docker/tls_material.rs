//! The certificates and key of a mutual TLS connection to a Docker daemon, as PEM, with
//! where each came from (a file or a secret), so that errors can say which one to fix.
//! The key's text never reaches a log: nothing here prints a PEM.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsMaterial {
    /// The CA that signed the daemon's certificate: the only one trusted.
    pub ca: PemText,
    /// The client certificate shoal presents (its chain, leaf first).
    pub cert: PemText,
    /// The client certificate's private key.
    pub key: PemText,
}

/// One PEM document and where it came from.
#[derive(Clone, PartialEq, Eq)]
pub struct PemText {
    /// `/etc/shoal/ca.pem`, or `secret `docker_key``: for messages.
    pub origin: String,
    pub pem: Vec<u8>,
}

/// The origin only: a key's text is a secret.
impl fmt::Debug for PemText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PemText")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_where_a_pem_came_from_never_its_text() {
        let pem = |origin: &str, text: &str| PemText {
            origin: origin.to_owned(),
            pem: text.as_bytes().to_vec(),
        };
        let material = TlsMaterial {
            ca: pem("/etc/shoal/ca.pem", "-----BEGIN CERTIFICATE-----"),
            cert: pem("/etc/shoal/cert.pem", "-----BEGIN CERTIFICATE-----"),
            key: pem(
                "(secret `docker_key`)",
                "-----BEGIN PRIVATE KEY-----\nhunter2",
            ),
        };
        let shown = format!("{material:?}");
        assert_eq!(
            shown,
            "TlsMaterial { ca: PemText { origin: \"/etc/shoal/ca.pem\", .. }, cert: PemText { \
             origin: \"/etc/shoal/cert.pem\", .. }, key: PemText { origin: \"(secret \
             `docker_key`)\", .. } }"
        );
    }
}
