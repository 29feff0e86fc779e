//! Reads Engine API JSON as the daemon writes it, without a typed model in between:
//! bollard's model drops keys it spells differently (a service's `Healthcheck`), and a
//! spec read back must hold everything the daemon stores, or plans would never settle.

use std::time::Duration;

use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;

/// One GET of `path` (e.g. `/v1.41/services`) from the daemon at `host`, as JSON.
pub async fn get_json(
    host: &str,
    path: &str,
    timeout: Duration,
) -> Result<serde_json::Value, String> {
    tokio::time::timeout(timeout, get(host, path))
        .await
        .map_err(|_| format!("no answer within {} s", timeout.as_secs()))?
}

async fn get(host: &str, path: &str) -> Result<serde_json::Value, String> {
    let request = hyper::Request::get(path)
        .header(hyper::header::HOST, "docker")
        .header(hyper::header::ACCEPT, "application/json")
        .body(Empty::<Bytes>::new())
        .map_err(|error| error.to_string())?;
    let response = if let Some(socket) = host.strip_prefix("unix://") {
        let stream = tokio::net::UnixStream::connect(socket)
            .await
            .map_err(|error| format!("{socket}: {error}"))?;
        send(TokioIo::new(stream), request).await?
    } else {
        let address = host
            .trim_start_matches("tcp://")
            .trim_start_matches("http://");
        let stream = tokio::net::TcpStream::connect(address)
            .await
            .map_err(|error| format!("{address}: {error}"))?;
        send(TokioIo::new(stream), request).await?
    };
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|error| error.to_string())?
        .to_bytes();
    let value: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|error| format!("the daemon's answer is not JSON: {error}"))?;
    if status.is_success() {
        Ok(value)
    } else {
        Err(value
            .get("message")
            .and_then(|m| m.as_str())
            .map_or_else(|| status.to_string(), str::to_owned))
    }
}

/// Sends one request over a new connection to the daemon at `host`.
async fn exchange(
    host: &str,
    request: hyper::Request<Empty<Bytes>>,
) -> Result<hyper::Response<hyper::body::Incoming>, String> {
    if let Some(socket) = host.strip_prefix("unix://") {
        let stream = tokio::net::UnixStream::connect(socket)
            .await
            .map_err(|error| format!("{socket}: {error}"))?;
        send(TokioIo::new(stream), request).await
    } else {
        let address = host
            .trim_start_matches("tcp://")
            .trim_start_matches("http://");
        let stream = tokio::net::TcpStream::connect(address)
            .await
            .map_err(|error| format!("{address}: {error}"))?;
        send(TokioIo::new(stream), request).await
    }
}

async fn send<T>(
    io: TokioIo<T>,
    request: hyper::Request<Empty<Bytes>>,
) -> Result<hyper::Response<hyper::body::Incoming>, String>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|error| error.to_string())?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    sender
        .send_request(request)
        .await
        .map_err(|error| error.to_string())
}

/// The highest API version the daemon speaks, from the `API-Version` header of `/_ping`:
/// the cheapest way to agree on a version (`/version` gathers every component's version).
pub async fn api_version(host: &str, timeout: Duration) -> Result<String, String> {
    let request = hyper::Request::get("/_ping")
        .header(hyper::header::HOST, "docker")
        .body(Empty::<Bytes>::new())
        .map_err(|error| error.to_string())?;
    let exchange = async {
        let response = exchange(host, request).await?;
        response
            .headers()
            .get("api-version")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| {
                "the daemon's /_ping has no API-Version header; is it a Docker daemon?".to_owned()
            })
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| format!("no answer within {} s", timeout.as_secs()))?
}
