//! Whether a certificate is issued, from the labels of the secret that holds it: missing,
//! to renew (and why), or valid until a date.

use std::collections::BTreeMap;

use serde::Serialize;
use time::OffsetDateTime;

use super::certificate_labels::{
    CERTIFICATE_CA_FINGERPRINT, CERTIFICATE_KEY_TYPE, CERTIFICATE_NOT_AFTER, CERTIFICATE_SANS,
    CERTIFICATE_USAGE,
};
use super::{DesiredCertificate, KEY_TYPE};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum CertificateDecision {
    /// Kept: valid until this date (YYYY-MM-DD, UTC).
    Valid { until: String },
    /// Issued again, for this reason.
    Renew { reason: String },
    /// Issued: no secret holds it.
    Missing,
}

impl CertificateDecision {
    pub fn issues(&self) -> bool {
        !matches!(self, CertificateDecision::Valid { .. })
    }

    /// The plan's line: `= certificate scaler valid until 2027-11-30`,
    /// `~ certificate scaler: expires in 12 days`, `+ certificate scaler: missing`.
    pub fn line(&self, name: &str) -> String {
        match self {
            CertificateDecision::Valid { until } => {
                format!("= certificate {name} valid until {until}")
            }
            CertificateDecision::Renew { reason } => format!("~ certificate {name}: {reason}"),
            CertificateDecision::Missing => format!("+ certificate {name}: missing"),
        }
    }
}

/// Decides from the labels of the newest secret holding the certificate (`None`: no
/// secret does), the CA's fingerprint and the time.
pub fn decide(
    desired: &DesiredCertificate,
    live: Option<&BTreeMap<String, String>>,
    ca_fingerprint: &str,
    force: bool,
    now: OffsetDateTime,
) -> CertificateDecision {
    let Some(labels) = live else {
        return CertificateDecision::Missing;
    };
    let label = |name: &str| labels.get(name).map(String::as_str);
    let renew = |reason: &str| CertificateDecision::Renew {
        reason: reason.to_owned(),
    };
    let not_after = label(CERTIFICATE_NOT_AFTER)
        .and_then(|seconds| seconds.parse::<i64>().ok())
        .and_then(|seconds| OffsetDateTime::from_unix_timestamp(seconds).ok());
    let Some(not_after) = not_after else {
        return renew("its secret has no expiry label");
    };
    if force {
        return renew("renewal forced");
    }
    if label(CERTIFICATE_CA_FINGERPRINT) != Some(ca_fingerprint) {
        return renew("signed by another CA");
    }
    if label(CERTIFICATE_SANS) != Some(desired.request.sans.join(",").as_str()) {
        return renew("SANs changed");
    }
    if label(CERTIFICATE_USAGE) != Some(desired.request.usage.label().as_str()) {
        return renew("usage changed");
    }
    if label(CERTIFICATE_KEY_TYPE) != Some(KEY_TYPE) {
        return renew("key type changed");
    }
    let left = not_after - now;
    if left.is_negative() {
        return CertificateDecision::Renew {
            reason: format!("expired {} ago", days(-left.whole_days())),
        };
    }
    if left.unsigned_abs() < desired.renew_before {
        return CertificateDecision::Renew {
            reason: format!("expires in {}", days(left.whole_days())),
        };
    }
    CertificateDecision::Valid {
        until: format!(
            "{:04}-{:02}-{:02}",
            not_after.year(),
            u8::from(not_after.month()),
            not_after.day()
        ),
    }
}

fn days(count: i64) -> String {
    if count == 1 {
        "1 day".to_owned()
    } else {
        format!("{count} days")
    }
}
