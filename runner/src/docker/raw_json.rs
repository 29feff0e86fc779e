//! Engine API JSON as the daemon reads and writes it, without a typed model in between:
//! bollard's model drops keys it spells differently (a service's `Healthcheck`), so a spec
//! read back must come raw to hold everything the daemon stores, or plans would never
//! settle; and a spec sent raw reaches the daemon exactly as shoal made it, with no
//! translation to pay for on each of a stack's services.

use std::time::Duration;

use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;

use super::EngineConnections;

/// Why a raw call failed: the daemon could not be reached, or did not answer in time
/// (`Transport`, which another manager may not suffer), or it answered with an error
/// (`Answer`).
#[derive(Debug)]
pub enum RawError {
    Transport(String),
    Answer(String),
}

/// One GET of `path` (e.g. `/v1.41/services`) from the daemon `connections` reach, decoded from
/// JSON: into a `serde_json::Value` to keep every key, or into a type that names only the
/// keys it needs, so that the others are skipped rather than built.
pub async fn get_json<T: serde::de::DeserializeOwned>(
    connections: &EngineConnections,
    path: &str,
    timeout: Duration,
) -> Result<T, RawError> {
    let request = hyper::Request::get(path)
        .header(hyper::header::HOST, "docker")
        .header(hyper::header::ACCEPT, "application/json")
        .body(Full::new(Bytes::new()))
        .map_err(|error| RawError::Answer(error.to_string()))?;
    let body = json_exchange(connections, request, timeout).await?;
    serde_json::from_slice(&body)
        .map_err(|error| RawError::Answer(format!("cannot read the daemon's answer: {error}")))
}

/// One POST of `body` to `path` (e.g. `/v1.41/services/create`) at the daemon `connections` reach;
/// the daemon's answer as JSON (`null` when it has no body).
pub async fn post_json(
    connections: &EngineConnections,
    path: &str,
    body: &serde_json::Value,
    timeout: Duration,
) -> Result<serde_json::Value, RawError> {
    let body = serde_json::to_vec(body).map_err(|error| RawError::Answer(error.to_string()))?;
    let request = hyper::Request::post(path)
        .header(hyper::header::HOST, "docker")
        .header(hyper::header::ACCEPT, "application/json")
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|error| RawError::Answer(error.to_string()))?;
    let body = json_exchange(connections, request, timeout).await?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Value::Null);
    }
    serde_json::from_slice(&body)
        .map_err(|error| RawError::Answer(format!("cannot read the daemon's answer: {error}")))
}

/// Sends `request` and reads the whole answer, within `timeout`; an answer that is not a
/// success is an error with the daemon's message.
async fn json_exchange(
    connections: &EngineConnections,
    request: hyper::Request<Full<Bytes>>,
    timeout: Duration,
) -> Result<Bytes, RawError> {
    let exchange = async {
        let response = connections
            .send(request)
            .await
            .map_err(RawError::Transport)?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|error| RawError::Transport(error.to_string()))?
            .to_bytes();
        if status.is_success() {
            return Ok(body);
        }
        let message = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|value| value.get("message")?.as_str().map(str::to_owned));
        Err(RawError::Answer(
            message.unwrap_or_else(|| status.to_string()),
        ))
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| RawError::Transport(format!("no answer within {} s", timeout.as_secs())))?
}

/// The highest API version the daemon speaks, from the `API-Version` header of `/_ping`:
/// the cheapest way to agree on a version (`/version` gathers every component's version).
pub async fn api_version(
    connections: &EngineConnections,
    timeout: Duration,
) -> Result<String, String> {
    let request = hyper::Request::get("/_ping")
        .header(hyper::header::HOST, "docker")
        .body(Full::new(Bytes::new()))
        .map_err(|error| error.to_string())?;
    let exchange = async {
        let response = connections
            .send(request)
            .await
            .map_err(|reason| explain_plain_to_tls(connections, reason))?;
        if response.status() == hyper::StatusCode::BAD_REQUEST && !connections.is_tls() {
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|error| error.to_string())?
                .to_bytes();
            let answer = String::from_utf8_lossy(&body);
            return Err(if answer.contains("HTTP request to an HTTPS server") {
                SPEAKS_TLS.to_owned()
            } else {
                format!(
                    "the daemon's /_ping answered 400 Bad Request: {}",
                    answer.trim()
                )
            });
        }
        let version = response
            .headers()
            .get("api-version")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| {
                "the daemon's /_ping has no API-Version header; is it a Docker daemon?".to_owned()
            })?;
        // Read to its end (`OK`), so that the connection carries the run's next call: a
        // connection whose answer was dropped unread is closed, and over TLS the next
        // call would pay a handshake again.
        response
            .into_body()
            .collect()
            .await
            .map_err(|error| error.to_string())?;
        Ok(version)
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| format!("no answer within {} s", timeout.as_secs()))?
}

/// A daemon that speaks TLS, asked in plain HTTP: Go's TLS servers answer "Client sent an
/// HTTP request to an HTTPS server", older ones a TLS alert, which the docker CLI reports
/// as a "malformed HTTP response".
const SPEAKS_TLS: &str = "the daemon speaks TLS, but no TLS is configured for it: add \
    `docker.tls` to the environment (`ca`, `cert`, `key`, or `cert_path`), or with \
    `--docker-host` set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH as for the docker CLI";

/// A plain-HTTP request whose answer is not HTTP (a TLS alert), in words.
fn explain_plain_to_tls(connections: &EngineConnections, reason: String) -> String {
    // hyper's parse errors: "invalid HTTP version parsed", "invalid HTTP status-code parsed".
    if !connections.is_tls() && reason.contains("invalid HTTP") {
        format!("{SPEAKS_TLS} (it answered with something that is not HTTP: {reason})")
    } else {
        reason
    }
}
