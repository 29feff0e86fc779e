//! What can go wrong reaching a host over SSH, each message saying what to fix. No
//! message carries a key's contents (only its type and `SHA256:` fingerprint), nor a
//! command or its environment.

use std::time::Duration;

use crate::known_hosts::HostKeyProblem;

#[derive(Debug, thiserror::Error)]
pub enum SshError {
    #[error("cannot connect to {address}: {source}")]
    Connect {
        address: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "connecting to {address} timed out after {}: the host does not answer on that port (is it up, is sshd listening there, does a firewall drop the packets?)",
        seconds(*timeout)
    )]
    ConnectTimeout { address: String, timeout: Duration },
    #[error("{0}")]
    HostKey(HostKeyProblem),
    #[error("{address} offered an OpenSSH host certificate; shoal checks plain host keys only")]
    HostCertificate { address: String },
    #[error("cannot read known_hosts {path}: {source}")]
    KnownHosts {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot add the host key of {host} to known_hosts {path}: {source}")]
    KnownHostsWrite {
        host: String,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot use the identity {path}: {reason}")]
    Identity { path: String, reason: String },
    #[error(
        "no identity is set and the ssh-agent cannot be used: {reason} (set the identity, or start ssh-agent with a key and set SSH_AUTH_SOCK)"
    )]
    Agent { reason: String },
    #[error(
        "{target} refused the login: tried {tried}; add the public key to ~{user}/.ssh/authorized_keys there, or set the identity that is"
    )]
    AuthenticationRefused {
        target: String,
        user: String,
        tried: String,
    },
    #[error("the SSH connection to {target} failed: {reason}")]
    Protocol { target: String, reason: String },
    #[error("{what} on {target} timed out after {}", seconds(*timeout))]
    Timeout {
        target: String,
        what: String,
        timeout: Duration,
    },
    #[error("{target} refused {what}: {reason}")]
    ChannelRefused {
        target: String,
        what: String,
        reason: String,
    },
    #[error(
        "{target} does not allow forwarding to the Unix socket {path} (AllowStreamLocalForwarding is off in its sshd_config)"
    )]
    ForwardingProhibited { target: String, path: String },
    /// The connection ended (closed by the server, cut, or keepalives unanswered): a
    /// new [`super::SshSession`] is needed.
    #[error("{what} on {target} failed: the connection has closed")]
    ConnectionClosed { target: String, what: String },
    #[error("{what} on {target} failed: {reason}")]
    Channel {
        target: String,
        what: String,
        reason: String,
    },
    #[error("the environment variable name `{name}` is not a valid shell name")]
    EnvironmentName { name: String },
}

fn seconds(duration: Duration) -> String {
    humantime::format_duration(duration).to_string()
}
