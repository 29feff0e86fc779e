//! The one way shoal calls GitHub's REST API: hyper over rustls, a timeout on every call,
//! the headers GitHub asks for, a bearer token that never reaches a log. It sends a
//! request and reads the answer; judging the answer (retry, give up) is the caller's.

use std::time::Duration;

use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::secret_text::SecretText;

/// The REST API version shoal's request bodies follow.
pub const API_VERSION: &str = "2022-11-28";

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("GitHub did not answer {method} {path} within {timeout:?}")]
    Timeout {
        method: Method,
        path: String,
        timeout: Duration,
    },
    #[error("call GitHub ({method} {path}): {message}")]
    Transport {
        method: Method,
        path: String,
        message: String,
    },
    #[error("GitHub API URL {0} is not a valid URL")]
    Url(String),
}

/// What GitHub answered: the status, the headers that say when to try again, the body.
#[derive(Debug, Clone)]
pub struct ApiAnswer {
    pub status: u16,
    /// `Retry-After`, in seconds.
    pub retry_after: Option<u64>,
    /// `x-ratelimit-remaining`.
    pub rate_limit_remaining: Option<u64>,
    /// `x-ratelimit-reset`, in seconds since the epoch.
    pub rate_limit_reset: Option<i64>,
    pub body: Bytes,
}

impl ApiAnswer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// GitHub's error `message`, or the start of the body.
    pub fn message(&self) -> String {
        serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|body| body["message"].as_str().map(str::to_owned))
            .unwrap_or_else(|| {
                String::from_utf8_lossy(&self.body)
                    .chars()
                    .take(200)
                    .collect()
            })
    }
}

#[derive(Clone)]
pub struct GitHubClient {
    http: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    api_url: String,
    timeout: Duration,
}

impl GitHubClient {
    /// A client for `api_url` (`https://api.github.com`, or `http://…` for a stand-in).
    /// Certificates are checked against the system's roots, or Mozilla's where the system
    /// has none.
    pub fn new(api_url: &str, timeout: Duration) -> Result<GitHubClient, ClientError> {
        if !(api_url.starts_with("https://") || api_url.starts_with("http://")) {
            return Err(ClientError::Url(api_url.to_owned()));
        }
        let builder = hyper_rustls::HttpsConnectorBuilder::new();
        let builder = match builder.with_native_roots() {
            Ok(native) => native,
            Err(_) => hyper_rustls::HttpsConnectorBuilder::new().with_webpki_roots(),
        };
        let connector = builder.https_or_http().enable_http1().build();
        Ok(GitHubClient {
            http: Client::builder(TokioExecutor::new()).build(connector),
            api_url: api_url.trim_end_matches('/').to_owned(),
            timeout,
        })
    }

    /// Sends one request to `path` (`/repos/…`) and reads the whole answer.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        bearer: &SecretText,
        body: Option<&serde_json::Value>,
    ) -> Result<ApiAnswer, ClientError> {
        let transport = |message: String| ClientError::Transport {
            method: method.clone(),
            path: path.to_owned(),
            message,
        };
        let bytes = body.map(|body| body.to_string()).unwrap_or_default();
        let mut request = Request::builder()
            .method(method.clone())
            .uri(format!("{}{path}", self.api_url))
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", API_VERSION)
            .header("user-agent", concat!("shoal/", env!("CARGO_PKG_VERSION")))
            .header("authorization", format!("Bearer {}", bearer.expose()));
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let request = request
            .body(Full::new(Bytes::from(bytes)))
            .map_err(|error| ClientError::Url(error.to_string()))?;
        let call = async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|error| transport(error_chain(&error)))?;
            let (parts, body) = response.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|error| transport(error.to_string()))?
                .to_bytes();
            let header = |name: &str| {
                parts
                    .headers
                    .get(name)
                    .and_then(|value| value.to_str().ok())
                    .map(str::trim)
            };
            Ok(ApiAnswer {
                status: parts.status.as_u16(),
                retry_after: header("retry-after").and_then(|v| v.parse().ok()),
                rate_limit_remaining: header("x-ratelimit-remaining").and_then(|v| v.parse().ok()),
                rate_limit_reset: header("x-ratelimit-reset").and_then(|v| v.parse().ok()),
                body,
            })
        };
        tokio::time::timeout(self.timeout, call)
            .await
            .map_err(|_| ClientError::Timeout {
                method: method.clone(),
                path: path.to_owned(),
                timeout: self.timeout,
            })?
    }
}

/// An error and its causes on one line: hyper's own message alone says little.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
