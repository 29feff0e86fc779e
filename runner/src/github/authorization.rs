//! The bearer token of each request: a personal or fine-grained token as given, or an App
//! installation token, fetched with the App's JWT, kept, and fetched again shortly before
//! it expires or after GitHub refused it.

use chrono::Utc;
use hyper::Method;
use tokio::sync::Mutex;

use super::app_auth::{AppAuthError, AppKey, InstallationToken};
use super::client::{ClientError, GitHubClient};
use super::settings::Credentials;
use crate::secret_text::SecretText;

#[derive(Debug, thiserror::Error)]
pub enum AuthorizationError {
    #[error(transparent)]
    App(#[from] AppAuthError),
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(
        "get an installation token for installation {installation_id}: GitHub answered {status}: {message}"
    )]
    Refused {
        installation_id: u64,
        status: u16,
        message: String,
    },
}

pub struct Authorization {
    identity: Identity,
    installation_token: Mutex<Option<InstallationToken>>,
}

enum Identity {
    App {
        key: Box<AppKey>,
        installation_id: u64,
    },
    Token(SecretText),
}

impl Authorization {
    /// Reads the App's private key now, so that a wrong key stops `shoal serve` at start.
    pub fn new(credentials: &Credentials) -> Result<Authorization, AppAuthError> {
        let identity = match credentials {
            Credentials::App {
                app_id,
                installation_id,
                private_key,
            } => Identity::App {
                key: Box::new(AppKey::from_pem(*app_id, private_key)?),
                installation_id: *installation_id,
            },
            Credentials::Token(token) => Identity::Token(token.clone()),
        };
        Ok(Authorization {
            identity,
            installation_token: Mutex::new(None),
        })
    }

    /// GitHub lets only Apps write check runs; a token writes commit statuses.
    pub fn writes_check_runs(&self) -> bool {
        matches!(self.identity, Identity::App { .. })
    }

    /// The token for the next request.
    pub async fn bearer(&self, client: &GitHubClient) -> Result<SecretText, AuthorizationError> {
        let (key, installation_id) = match &self.identity {
            Identity::Token(token) => return Ok(token.clone()),
            Identity::App {
                key,
                installation_id,
            } => (key, *installation_id),
        };
        let mut cached = self.installation_token.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| !t.needs_refresh(Utc::now())) {
            return Ok(token.token.clone());
        }
        let jwt = key.jwt(Utc::now())?;
        let path = format!("/app/installations/{installation_id}/access_tokens");
        let answer = client.send(Method::POST, &path, &jwt, None).await?;
        if !answer.is_success() {
            return Err(AuthorizationError::Refused {
                installation_id,
                status: answer.status,
                message: answer.message(),
            });
        }
        let token = InstallationToken::from_answer(&answer.body)?;
        tracing::debug!(expires_at = %token.expires_at, "new GitHub installation token");
        let bearer = token.token.clone();
        *cached = Some(token);
        Ok(bearer)
    }

    /// Drops the kept installation token after GitHub refused it (401).
    pub async fn forget_installation_token(&self) {
        *self.installation_token.lock().await = None;
    }
}
