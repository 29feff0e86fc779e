//! Which transport reaches a Docker daemon, chosen from its host URL: one connector per
//! transport, each in a file of its own. Every request shoal makes to a daemon, through
//! bollard or as raw JSON, goes over a connection one of them opened.

use std::pin::Pin;

use hyper::body::{Body, Bytes, Incoming};
use hyper_util::rt::TokioIo;

use super::DockerError;
use super::tcp_connector::TcpConnector;
use super::unix_connector::UnixConnector;

/// A byte stream to a daemon, whatever carries it.
pub trait EngineStream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin {}

impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin> EngineStream for T {}

/// How to open a connection to one daemon. A new transport (TLS, `ssh://`) is one more
/// variant and one more file.
#[derive(Debug, Clone)]
pub enum EngineConnector {
    /// `unix:///path/to/docker.sock`
    Unix(UnixConnector),
    /// `tcp://HOST:PORT` (or `http://HOST:PORT`): plain TCP, no TLS.
    Tcp(TcpConnector),
}

impl EngineConnector {
    /// The connector for `host`, by its scheme.
    pub fn for_host(host: &str) -> Result<EngineConnector, DockerError> {
        if let Some(path) = host.strip_prefix("unix://") {
            return Ok(EngineConnector::Unix(UnixConnector::new(path)));
        }
        if let Some(address) = host
            .strip_prefix("tcp://")
            .or_else(|| host.strip_prefix("http://"))
        {
            return Ok(EngineConnector::Tcp(TcpConnector::new(address)));
        }
        Err(DockerError::UnsupportedHost {
            host: host.to_owned(),
        })
    }

    /// Opens a new connection; errors name the socket or address.
    pub async fn connect(&self) -> Result<Pin<Box<dyn EngineStream>>, String> {
        match self {
            EngineConnector::Unix(unix) => unix.connect().await,
            EngineConnector::Tcp(tcp) => tcp.connect().await,
        }
    }

    /// Sends one HTTP/1.1 request over a new connection and returns the answer, whose body
    /// is read from that connection as the caller reads it. The request's URI may be
    /// absolute (bollard makes them so): only its path and query are sent.
    pub async fn send<B>(
        &self,
        request: hyper::Request<B>,
    ) -> Result<hyper::Response<Incoming>, String>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (mut parts, body) = request.into_parts();
        if let Some(path) = parts.uri.path_and_query().cloned() {
            parts.uri = hyper::Uri::from(path);
        }
        parts
            .headers
            .entry(hyper::header::HOST)
            .or_insert(hyper::header::HeaderValue::from_static("docker"));
        let stream = self.connect().await?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|error| error.to_string())?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        sender
            .send_request(hyper::Request::from_parts(parts, body))
            .await
            .map_err(|error| error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;
    use crate::docker::DockerClient;

    /// A daemon that answers `/_ping` with an API version and anything else with "not
    /// found", over whatever stream it is given; records each request line.
    async fn answer(mut stream: impl EngineStream, requests: Arc<Mutex<Vec<String>>>) {
        let mut head = Vec::new();
        let mut byte = [0_u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if stream.read(&mut byte).await.unwrap_or(0) == 0 {
                return;
            }
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head).into_owned();
        let line = head.lines().next().unwrap_or_default();
        let line = line.trim_end_matches(" HTTP/1.1").to_owned();
        let response = if line.ends_with("/_ping") {
            "HTTP/1.1 200 OK\r\nAPI-Version: 1.41\r\nContent-Length: 2\r\n\r\nOK".to_owned()
        } else {
            let body = r#"{"message":"network web_default not found"}"#;
            format!(
                "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
        };
        requests.lock().expect("requests").push(line);
        let _ = stream.write_all(response.as_bytes()).await;
    }

    /// Agrees on a version, then makes a call through bollard: both reach the daemon over
    /// the connector's transport, as origin-form requests.
    async fn check_transport(host: &str, requests: &Arc<Mutex<Vec<String>>>) {
        let client = DockerClient::connect(host, std::time::Duration::from_secs(5))
            .await
            .expect("connects");
        let error = client
            .remove_network("web_default")
            .await
            .expect_err("not found");
        assert_eq!(
            error.to_string(),
            "removing network web_default failed: network web_default not found"
        );
        assert_eq!(
            *requests.lock().expect("requests"),
            ["GET /_ping", "DELETE /v1.41/networks/web_default"]
        );
    }

    #[tokio::test]
    async fn tcp_carries_every_request() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binds");
        let address = listener.local_addr().expect("address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = requests.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(answer(stream, recorded.clone()));
            }
        });
        check_transport(&format!("tcp://{address}"), &requests).await;
    }

    #[tokio::test]
    async fn a_unix_socket_carries_every_request() {
        let folder = tempfile::tempdir().expect("temp");
        let socket = folder.path().join("docker.sock");
        let listener = tokio::net::UnixListener::bind(&socket).expect("binds");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = requests.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(answer(stream, recorded.clone()));
            }
        });
        check_transport(&format!("unix://{}", socket.display()), &requests).await;
    }

    #[test]
    fn a_host_without_a_transport_is_refused() {
        let error =
            EngineConnector::for_host("npipe:////./pipe/docker_engine").expect_err("no transport");
        assert_eq!(
            error.to_string(),
            "unsupported Docker host `npipe:////./pipe/docker_engine`: use unix:///path/to/docker.sock or tcp://HOST:PORT"
        );
    }
}
