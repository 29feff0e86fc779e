//! Which transport reaches a Docker daemon, chosen from its endpoint: one connector per
//! transport, each in a file of its own. Every request shoal makes to a daemon, through
//! bollard or as raw JSON, goes over a connection one of them opened and
//! [`super::EngineConnections`] keeps alive.

use std::pin::Pin;

use super::ssh_connector::SshConnector;
use super::tcp_connector::TcpConnector;
use super::tls_connector::TlsConnector;
use super::unix_connector::UnixConnector;
use super::{DockerEndpoint, DockerError};

/// A byte stream to a daemon, whatever carries it.
pub trait EngineStream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin {}

impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin> EngineStream for T {}

/// How to open a connection to one daemon. A new transport is one more variant and one
/// more file.
#[derive(Debug, Clone)]
pub enum EngineConnector {
    /// `unix:///path/to/docker.sock`
    Unix(UnixConnector),
    /// `tcp://HOST:PORT` (or `http://HOST:PORT`): plain TCP, no TLS.
    Tcp(TcpConnector),
    /// `tcp://HOST:PORT` with `tls`: mutual TLS.
    Tls(TlsConnector),
    /// `ssh://USER@HOST[:PORT][/path/to/docker.sock]`: channels of one SSH connection.
    Ssh(SshConnector),
}

impl EngineConnector {
    /// The connector for `endpoint`, by its host's scheme and its TLS material.
    pub fn for_endpoint(endpoint: &DockerEndpoint) -> Result<EngineConnector, DockerError> {
        let host = endpoint.host.as_str();
        let tls_refused = |reason: String| DockerError::Tls {
            host: host.to_owned(),
            reason,
        };
        if let Some(path) = host.strip_prefix("unix://") {
            if endpoint.tls.is_some() {
                return Err(tls_refused(
                    "TLS applies to tcp:// hosts; a unix socket needs none".to_owned(),
                ));
            }
            return Ok(EngineConnector::Unix(UnixConnector::new(path)));
        }
        if let Some(address) = host
            .strip_prefix("tcp://")
            .or_else(|| host.strip_prefix("http://"))
        {
            return match &endpoint.tls {
                Some(material) => TlsConnector::new(address, material)
                    .map(EngineConnector::Tls)
                    .map_err(tls_refused),
                None => Ok(EngineConnector::Tcp(TcpConnector::new(address))),
            };
        }
        if host.starts_with("ssh://") {
            if endpoint.tls.is_some() {
                return Err(tls_refused(
                    "TLS applies to tcp:// hosts; SSH encrypts ssh:// hosts itself".to_owned(),
                ));
            }
            return SshConnector::new(host, endpoint.ssh.as_ref())
                .map(EngineConnector::Ssh)
                .map_err(|reason| DockerError::Unreachable {
                    host: host.to_owned(),
                    reason,
                });
        }
        Err(DockerError::UnsupportedHost {
            host: host.to_owned(),
        })
    }

    /// Opens a new connection; errors name the socket or address, and say what to fix.
    pub async fn connect(&self) -> Result<Pin<Box<dyn EngineStream>>, String> {
        match self {
            EngineConnector::Unix(unix) => unix.connect().await,
            EngineConnector::Tcp(tcp) => tcp.connect().await,
            EngineConnector::Tls(tls) => tls.connect().await,
            EngineConnector::Ssh(ssh) => ssh.connect().await,
        }
    }

    /// Whether a read whose connection failed is sent again: over SSH, whose connection
    /// may drop during a long run and is then made again.
    pub fn retries_reads(&self) -> bool {
        matches!(self, EngineConnector::Ssh(_))
    }

    /// Whether the daemon is spoken to over TLS.
    pub fn is_tls(&self) -> bool {
        matches!(self, EngineConnector::Tls(_))
    }

    /// A TLS failure after the handshake (the daemon refusing the client certificate, in
    /// TLS 1.3), in words.
    pub fn explain_tls(&self, error: &rustls::Error) -> String {
        match self {
            EngineConnector::Tls(tls) => tls.explain(error),
            _ => error.to_string(),
        }
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
        let endpoint = crate::docker::DockerEndpoint::plain(host);
        let client = DockerClient::connect(&endpoint, std::time::Duration::from_secs(5))
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
        let endpoint = DockerEndpoint::plain("npipe:////./pipe/docker_engine");
        let error = EngineConnector::for_endpoint(&endpoint).expect_err("no transport");
        assert_eq!(
            error.to_string(),
            "unsupported Docker host `npipe:////./pipe/docker_engine`: use unix:///path/to/docker.sock, tcp://HOST:PORT or ssh://USER@HOST"
        );
    }
}
