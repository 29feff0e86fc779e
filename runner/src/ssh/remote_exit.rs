//! How a remote command ended: its exit code, or the signal that killed it.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteExit {
    /// The exit status the server reported; `None` when it reported a signal or nothing.
    pub code: Option<u32>,
    /// The signal that ended the command (`TERM`, `KILL`, ...), without `SIG`.
    pub signal: Option<String>,
}

impl RemoteExit {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

impl fmt::Display for RemoteExit {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.code, &self.signal) {
            (Some(code), _) => write!(formatter, "exit code {code}"),
            (None, Some(signal)) => write!(formatter, "killed by signal {signal}"),
            (None, None) => formatter.write_str("no exit status (the connection closed)"),
        }
    }
}
