//! The transport of `unix://` hosts: a Unix socket on this machine.

use std::pin::Pin;
use std::time::Duration;

use super::engine_connector::EngineStream;

#[derive(Debug, Clone)]
pub struct UnixConnector {
    path: String,
}

impl UnixConnector {
    pub fn new(path: &str) -> UnixConnector {
        UnixConnector {
            path: path.to_owned(),
        }
    }

    /// Connects, again while the socket's backlog is full: a Unix socket refuses a
    /// connection at once then, where TCP would wait, and writing many services at once
    /// opens many connections. The caller's timeout bounds the retries.
    pub async fn connect(&self) -> Result<Pin<Box<dyn EngineStream>>, String> {
        loop {
            match tokio::net::UnixStream::connect(&self.path).await {
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                Err(error) => return Err(format!("{}: {error}", self.path)),
                Ok(stream) => return Ok(Box::pin(stream)),
            }
        }
    }
}
