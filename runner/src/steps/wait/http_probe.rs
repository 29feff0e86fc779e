//! The HTTP check of a `wait` step: a GET over plain HTTP, answered with a status code.

use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// One GET of an `http://` URL; the response's status code.
pub async fn http_status(url: &str, timeout: Duration) -> Result<u16, String> {
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        format!("waiting for `{url}` is not implemented yet: only http:// URLs are waited for")
    })?;
    let (authority, path) = match rest.find('/') {
        Some(index) => (&rest[..index], &rest[index..]),
        None => (rest, "/"),
    };
    let address = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let request = async {
        let mut stream = tokio::net::TcpStream::connect(&address)
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        let head = format!(
            "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: shoal\r\nConnection: close\r\n\r\n"
        );
        stream
            .write_all(head.as_bytes())
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        let mut buffer = vec![0_u8; 64];
        let read = stream
            .read(&mut buffer)
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        let line = String::from_utf8_lossy(&buffer[..read]).into_owned();
        line.split_whitespace()
            .nth(1)
            .and_then(|code| code.parse::<u16>().ok())
            .ok_or_else(|| format!("{url}: not an HTTP response"))
    };
    tokio::time::timeout(timeout, request)
        .await
        .map_err(|_| format!("{url}: no answer within {} s", timeout.as_secs()))?
}
