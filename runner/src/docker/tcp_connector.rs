//! The transport of `tcp://` hosts: plain TCP, without TLS.

use std::pin::Pin;

use super::engine_connector::EngineStream;

#[derive(Debug, Clone)]
pub struct TcpConnector {
    /// `HOST:PORT`.
    address: String,
}

impl TcpConnector {
    pub fn new(address: &str) -> TcpConnector {
        TcpConnector {
            address: address.trim_end_matches('/').to_owned(),
        }
    }

    pub async fn connect(&self) -> Result<Pin<Box<dyn EngineStream>>, String> {
        let stream = tokio::net::TcpStream::connect(&self.address)
            .await
            .map_err(|error| format!("{}: {error}", self.address))?;
        // Requests are small and answered at once: do not hold them back.
        let _ = stream.set_nodelay(true);
        Ok(Box::pin(stream))
    }
}
