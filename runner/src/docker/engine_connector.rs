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
