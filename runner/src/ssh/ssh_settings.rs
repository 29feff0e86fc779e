//! How to log in and whom to trust: the identity (or the ssh-agent), the known_hosts
//! file, trust on first use, and the timeouts of a connection.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshSettings {
    /// The private key to log in with; `None` asks the ssh-agent.
    pub identity: Option<PathBuf>,
    /// The ssh-agent's socket, used when no identity is set; [`SshSettings::new`] takes
    /// it from `SSH_AUTH_SOCK`.
    pub agent_socket: Option<PathBuf>,
    /// The known_hosts file host keys are checked against.
    pub known_hosts: PathBuf,
    /// Trust on first use: a host with no key in `known_hosts` has the key it offers
    /// written there and is accepted; a changed key is still refused.
    pub accept_new: bool,
    /// Bounds the TCP connection, the key exchange and the login together, and the
    /// opening of each channel.
    pub connect_timeout: Duration,
    /// How often an idle connection is checked; three unanswered checks end it.
    pub keepalive_interval: Duration,
}

impl SshSettings {
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
    pub const DEFAULT_KEEPALIVE_INTERVAL: Duration = Duration::from_secs(15);

    /// Settings that check host keys against `known_hosts` and log in through the
    /// ssh-agent at `SSH_AUTH_SOCK`, with the default timeouts.
    pub fn new(known_hosts: PathBuf) -> SshSettings {
        SshSettings {
            identity: None,
            agent_socket: std::env::var_os("SSH_AUTH_SOCK")
                .filter(|socket| !socket.is_empty())
                .map(PathBuf::from),
            known_hosts,
            accept_new: false,
            connect_timeout: SshSettings::DEFAULT_CONNECT_TIMEOUT,
            keepalive_interval: SshSettings::DEFAULT_KEEPALIVE_INTERVAL,
        }
    }

    /// The user's own known_hosts, `~/.ssh/known_hosts`, as OpenSSH reads it.
    pub fn user_known_hosts() -> Option<PathBuf> {
        std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".ssh/known_hosts"))
    }
}
