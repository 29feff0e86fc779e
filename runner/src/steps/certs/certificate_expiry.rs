//! When a certificate expires, as a plan found it: what the daemon's
//! `shoal_certificate_expiry_timestamp_seconds` metric reports.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateExpiry {
    pub certificate: String,
    /// The host it is on; empty for a certificate in Swarm secrets.
    pub host: String,
    /// The expiry of the certificate in place (Unix seconds); `None` when there is none.
    pub live_not_after: Option<i64>,
    /// The expiry of the certificate the plan issued in its place, if it issued one.
    pub issued_not_after: Option<i64>,
}

impl CertificateExpiry {
    /// The expiry in place once the plan was applied (`applied`) or not.
    pub fn not_after(&self, applied: bool) -> Option<i64> {
        if applied {
            self.issued_not_after.or(self.live_not_after)
        } else {
            self.live_not_after
        }
    }
}
