//! A GitHub App's identity: a JWT signed RS256 with the App's private key, traded at
//! `POST /app/installations/{id}/access_tokens` for an installation token that expires
//! after an hour. Pure: the time is given; the exchange itself is in `authorization`.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, TimeDelta, Utc};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};

use crate::secret_text::SecretText;

/// A token is refreshed this long before GitHub says it expires.
pub const REFRESH_MARGIN: TimeDelta = TimeDelta::minutes(5);

#[derive(Debug, thiserror::Error)]
pub enum AppAuthError {
    #[error("read the GitHub App private key: {0}")]
    PrivateKey(&'static str),
    #[error("sign the GitHub App JWT")]
    Signing,
    #[error("read the installation token GitHub answered: {0}")]
    TokenAnswer(String),
}

/// The App's ID and private key.
pub struct AppKey {
    app_id: u64,
    key_pair: RsaKeyPair,
}

impl std::fmt::Debug for AppKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "AppKey {{ app_id: {}, key: *** }}", self.app_id)
    }
}

impl AppKey {
    /// Reads a PEM private key, as GitHub hands it out (`BEGIN RSA PRIVATE KEY`, PKCS#1)
    /// or converted to PKCS#8 (`BEGIN PRIVATE KEY`). Errors never quote the key.
    pub fn from_pem(app_id: u64, pem: &SecretText) -> Result<AppKey, AppAuthError> {
        let text = pem.expose();
        let (label, der) = pem_block(text).ok_or(AppAuthError::PrivateKey(
            "no PEM block (-----BEGIN … PRIVATE KEY-----)",
        ))?;
        let key_pair = match label {
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der),
            "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&der),
            _ => return Err(AppAuthError::PrivateKey("not an RSA private key")),
        }
        .map_err(|_| AppAuthError::PrivateKey("the key is not a valid RSA key"))?;
        Ok(AppKey { app_id, key_pair })
    }

    /// The JWT that authenticates as the App: issued 60 s in the past (GitHub's clock may
    /// be behind), expiring 9 minutes after `now` (GitHub allows at most 10).
    pub fn jwt(&self, now: DateTime<Utc>) -> Result<SecretText, AppAuthError> {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
        let claims = serde_json::json!({
            "iat": now.timestamp() - 60,
            "exp": now.timestamp() + 9 * 60,
            "iss": self.app_id.to_string(),
        });
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let message = format!("{header}.{claims}");
        let mut signature = vec![0; self.key_pair.public().modulus_len()];
        self.key_pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message.as_bytes(),
                &mut signature,
            )
            .map_err(|_| AppAuthError::Signing)?;
        Ok(SecretText::new(format!(
            "{message}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        )))
    }
}

/// An installation access token and when it expires.
#[derive(Debug, Clone)]
pub struct InstallationToken {
    pub token: SecretText,
    pub expires_at: DateTime<Utc>,
}

impl InstallationToken {
    /// Reads GitHub's answer to `POST /app/installations/{id}/access_tokens`.
    pub fn from_answer(body: &[u8]) -> Result<InstallationToken, AppAuthError> {
        #[derive(serde::Deserialize)]
        struct Answer {
            token: String,
            expires_at: String,
        }
        let answer: Answer = serde_json::from_slice(body)
            // serde's message names the field, never the value.
            .map_err(|error| AppAuthError::TokenAnswer(error.to_string()))?;
        let expires_at = DateTime::parse_from_rfc3339(&answer.expires_at)
            .map_err(|error| AppAuthError::TokenAnswer(format!("expires_at: {error}")))?
            .with_timezone(&Utc);
        Ok(InstallationToken {
            token: SecretText::new(answer.token),
            expires_at,
        })
    }

    /// True when the token expires within the refresh margin.
    pub fn needs_refresh(&self, now: DateTime<Utc>) -> bool {
        now + REFRESH_MARGIN >= self.expires_at
    }
}

/// The label and bytes of the first PEM block of `text`.
fn pem_block(text: &str) -> Option<(&str, Vec<u8>)> {
    let start = text.find("-----BEGIN ")?;
    let rest = &text[start + "-----BEGIN ".len()..];
    let (label, rest) = rest.split_once("-----")?;
    let end = rest.find(&format!("-----END {label}-----"))?;
    let base64: String = rest[..end]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    Some((label, STANDARD.decode(base64).ok()?))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    #[test]
    fn a_key_that_is_not_one_is_refused_without_quoting_it() {
        for text in [
            "ghp_not_a_key",
            "-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0LWJ5dGVz\n-----END RSA PRIVATE KEY-----\n",
            "-----BEGIN CERTIFICATE-----\nc2VjcmV0\n-----END CERTIFICATE-----\n",
        ] {
            let error = AppKey::from_pem(1, &SecretText::new(text)).expect_err("refused");
            let message = error.to_string();
            assert!(
                !message.contains("c2VjcmV0") && !message.contains("ghp_"),
                "{message}"
            );
        }
    }

    #[test]
    fn an_installation_token_is_refreshed_five_minutes_before_it_expires() {
        let token = InstallationToken::from_answer(
            br#"{"token":"ghs_16C7e42F292c6912E7710c838347Ae178B4a","expires_at":"2026-11-22T07:00:00Z","permissions":{"checks":"write"}}"#,
        )
        .expect("an answer");
        assert!(!format!("{token:?}").contains("ghs_"));
        let at = |hour, minute| {
            Utc.with_ymd_and_hms(2026, 11, 22, hour, minute, 0)
                .single()
                .expect("a time")
        };
        assert!(!token.needs_refresh(at(6, 54)));
        assert!(token.needs_refresh(at(6, 55)));
        let error = InstallationToken::from_answer(br#"{"token":"ghs_x"}"#).expect_err("no expiry");
        assert!(!error.to_string().contains("ghs_x"), "{error}");
    }
}
