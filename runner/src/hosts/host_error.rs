//! What can go wrong on a host, in words that name the host's side of it.

/// Errors of the host port. Messages never hold an `env` value or a file's content.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The host could not be reached or refused the login (host key, credentials,
    /// timeout).
    #[error("cannot connect to {login}: {message}")]
    Connect { login: String, message: String },
    /// The connection broke or a channel failed.
    #[error("connection to {login} failed: {message}")]
    Transport { login: String, message: String },
    /// A script shoal runs for itself (read, write, guard) failed; a write whose upload
    /// differs in size or sha256 from what was sent is one (exit code 3).
    #[error("{what} failed with exit code {code}{}", stderr_suffix(.stderr))]
    Script {
        what: String,
        code: i32,
        stderr: Vec<String>,
    },
    /// The host answered something shoal cannot read.
    #[error("unexpected answer from the host: {0}")]
    Protocol(String),
}

fn stderr_suffix(lines: &[String]) -> String {
    if lines.is_empty() {
        String::new()
    } else {
        format!(": {}", lines.join(" / "))
    }
}
