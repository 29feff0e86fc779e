//! The transport of `ssh://USER@HOST[:PORT][/path/to/docker.sock]` hosts: one SSH
//! connection (russh, see [`crate::ssh`]) per endpoint carries every connection of the
//! pool, each a channel forwarded to the daemon's socket on the host
//! (`direct-streamlocal@openssh.com`; default `/var/run/docker.sock`). Where the server
//! forbids that (`AllowStreamLocalForwarding no`), each is a `docker system dial-stdio`
//! run over an exec channel instead, as the docker CLI does; the log says which. The
//! connection sends keepalives, and one that dropped is made again for the next
//! connection the pool opens.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::SshLogin;
use super::engine_connector::EngineStream;
use crate::ssh::{SshError, SshSession, SshSettings, SshTarget, shell_quote};

/// Where the daemon listens on the host when the URL names no socket.
pub const DEFAULT_REMOTE_SOCKET: &str = "/var/run/docker.sock";

/// How many `dial-stdio` channels are open at once: each is a session, and OpenSSH allows
/// 10 sessions per connection by default (`MaxSessions`); more requests wait for one of
/// these, kept alive in the pool. Forwarded sockets are not sessions and are not counted.
const DIAL_STDIO_CHANNELS: usize = 8;

#[derive(Clone)]
pub struct SshConnector {
    shared: Arc<Shared>,
}

struct Shared {
    /// The host URL, as the log names it.
    host: String,
    target: SshTarget,
    socket: String,
    settings: SshSettings,
    session: tokio::sync::Mutex<Option<SshSession>>,
    route: Mutex<Route>,
    dial_stdio_channels: Arc<Semaphore>,
}

/// How a connection reaches the daemon's socket, once the server has said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    NotYetKnown,
    Forwarding,
    DialStdio,
}

/// The parts of an `ssh://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshDockerHost {
    pub user: Option<String>,
    pub address: String,
    pub port: u16,
    pub socket: String,
}

impl SshDockerHost {
    /// Reads `ssh://[USER@]HOST[:PORT][/path/to/docker.sock]` (an IPv6 host in brackets).
    pub fn parse(host: &str) -> Result<SshDockerHost, String> {
        let invalid = |why: &str| {
            format!(
                "invalid ssh:// Docker host `{host}`: {why} (ssh://USER@HOST[:PORT][/path/to/docker.sock])"
            )
        };
        let rest = host
            .strip_prefix("ssh://")
            .ok_or_else(|| invalid("it does not start with ssh://"))?;
        let (authority, path) = match rest.find('/') {
            Some(slash) => rest.split_at(slash),
            None => (rest, ""),
        };
        let (user, host_port) = match authority.rsplit_once('@') {
            Some((user, host_port)) if !user.is_empty() => (Some(user.to_owned()), host_port),
            Some(_) => return Err(invalid("the user before `@` is empty")),
            None => (None, authority),
        };
        let (address, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
            let (address, after) = bracketed
                .split_once(']')
                .ok_or_else(|| invalid("an IPv6 address lacks its `]`"))?;
            (address, after.strip_prefix(':'))
        } else {
            match host_port.split_once(':') {
                Some((address, port)) => (address, Some(port)),
                None => (host_port, None),
            }
        };
        if address.is_empty() {
            return Err(invalid("it names no host"));
        }
        let port = match port {
            Some(port) => port
                .parse::<u16>()
                .ok()
                .filter(|port| *port > 0)
                .ok_or_else(|| invalid("the port is not a number from 1 to 65535"))?,
            None => 22,
        };
        let socket = if path.is_empty() || path == "/" {
            DEFAULT_REMOTE_SOCKET.to_owned()
        } else {
            path.to_owned()
        };
        Ok(SshDockerHost {
            user,
            address: address.to_owned(),
            port,
            socket,
        })
    }
}

impl SshConnector {
    /// The connector for `host`, logging in as the URL's user, else the `ssh` block's,
    /// else the local user's (`USER`), with the `ssh` block's identity and known_hosts
    /// (else the ssh-agent and `~/.ssh/known_hosts`).
    pub fn new(host: &str, login: Option<&SshLogin>) -> Result<SshConnector, String> {
        let parsed = SshDockerHost::parse(host)?;
        let user = parsed
            .user
            .or_else(|| login.and_then(|login| login.user.clone()))
            .or_else(|| std::env::var("USER").ok().filter(|user| !user.is_empty()))
            .ok_or_else(|| {
                format!("no user to log in to {host} as: write ssh://USER@HOST, or set `ssh.user` of the environment")
            })?;
        let settings = match login {
            Some(login) => login.settings.clone(),
            None => SshSettings::new(SshSettings::user_known_hosts().ok_or_else(|| {
                format!("no known_hosts to check {host} against: HOME is not set")
            })?),
        };
        Ok(SshConnector {
            shared: Arc::new(Shared {
                host: host.to_owned(),
                target: SshTarget::new(&user, &parsed.address, parsed.port),
                socket: parsed.socket,
                settings,
                session: tokio::sync::Mutex::new(None),
                route: Mutex::new(Route::NotYetKnown),
                dial_stdio_channels: Arc::new(Semaphore::new(DIAL_STDIO_CHANNELS)),
            }),
        })
    }

    /// A new connection to the daemon: a channel of the endpoint's SSH connection, made
    /// (again, if it dropped) as needed.
    pub async fn connect(&self) -> Result<Pin<Box<dyn EngineStream>>, String> {
        let session = self.session().await?;
        match self.open(&session).await {
            // The connection dropped since it was last used: make it again, once.
            Err(OpenFailure::ConnectionClosed(_)) => {
                self.forget(&session).await;
                let session = self.session().await?;
                self.open(&session).await.map_err(OpenFailure::into_message)
            }
            opened => opened.map_err(OpenFailure::into_message),
        }
    }

    /// Drops `session` from the endpoint, unless another connection replaced it already.
    async fn forget(&self, session: &SshSession) {
        let mut slot = self.shared.session.lock().await;
        if slot
            .as_ref()
            .is_some_and(|current| current.same_connection(session))
        {
            tracing::warn!(
                "the SSH connection to {} (Docker at {}) dropped; connecting again",
                self.shared.target,
                self.shared.host
            );
            *slot = None;
        }
    }

    /// The endpoint's SSH connection; made when there is none or it has closed.
    async fn session(&self) -> Result<SshSession, String> {
        let shared = &self.shared;
        let mut slot = shared.session.lock().await;
        if let Some(session) = slot.as_ref().filter(|session| !session.is_closed()) {
            return Ok(session.clone());
        }
        if slot.is_some() {
            tracing::warn!(
                "the SSH connection to {} (Docker at {}) dropped; connecting again",
                shared.target,
                shared.host
            );
        }
        let session = SshSession::connect(&shared.target, &shared.settings)
            .await
            .map_err(|error| error.to_string())?;
        *slot = Some(session.clone());
        Ok(session)
    }

    async fn open(&self, session: &SshSession) -> Result<Pin<Box<dyn EngineStream>>, OpenFailure> {
        let shared = &self.shared;
        let route = *shared.route.lock().expect("route");
        if route != Route::DialStdio {
            match session.open_unix_socket(&shared.socket).await {
                Ok(stream) => {
                    if route == Route::NotYetKnown {
                        *shared.route.lock().expect("route") = Route::Forwarding;
                        tracing::info!(
                            "Docker at {}: forwarding {} over SSH (direct-streamlocal)",
                            shared.host,
                            shared.socket
                        );
                    }
                    return Ok(Box::pin(stream));
                }
                // OpenSSH answers "connect failed", not "prohibited", when its config
                // forbids forwarding: the host tells which it was.
                Err(
                    error @ (SshError::ForwardingProhibited { .. }
                    | SshError::ChannelRefused { .. }),
                ) if route == Route::NotYetKnown => {
                    self.check_dial_stdio(session, &error)
                        .await
                        .map_err(OpenFailure::Other)?;
                    *shared.route.lock().expect("route") = Route::DialStdio;
                    tracing::info!(
                        "Docker at {}: {} does not allow socket forwarding; running `docker system dial-stdio` over SSH instead",
                        shared.host,
                        shared.target
                    );
                }
                Err(error) => return Err(OpenFailure::from(error)),
            }
        }
        let command = format!(
            "docker -H {} system dial-stdio",
            shell_quote(&format!("unix://{}", shared.socket))
        );
        let permit = shared
            .dial_stdio_channels
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| OpenFailure::Other("the connector has closed".to_owned()))?;
        let stream = session
            .exec_stream(&command)
            .await
            .map_err(OpenFailure::from)?;
        Ok(Box::pin(CountedStream {
            stream,
            _permit: permit,
        }))
    }

    /// Whether forwarding failed because sshd forbids it (the socket is there) and the
    /// fallback can run (the docker CLI is there too); without it, every request would
    /// only see its connection close.
    async fn check_dial_stdio(
        &self,
        session: &SshSession,
        refusal: &SshError,
    ) -> Result<(), String> {
        const NO_SOCKET: u32 = 3;
        const NO_DOCKER: u32 = 4;
        let shared = &self.shared;
        let probe = format!(
            "test -S {} || exit {NO_SOCKET}; command -v docker >/dev/null || exit {NO_DOCKER}",
            shell_quote(&shared.socket)
        );
        let exit = session
            .exec(&probe, None, |_, _| {})
            .await
            .map_err(|error| error.to_string())?;
        match exit.code {
            Some(0) => Ok(()),
            Some(NO_SOCKET) => Err(format!(
                "{refusal}: there is no Unix socket {} on that host (is dockerd running there, and is the path right?)",
                shared.socket
            )),
            Some(NO_DOCKER) => Err(format!(
                "{refusal}, although the socket is there: its sshd forbids forwarding to it (AllowStreamLocalForwarding), and the host has no `docker` command to run `docker system dial-stdio` instead"
            )),
            _ => Err(format!(
                "{refusal}; checking the socket on the host ended with {exit}"
            )),
        }
    }
}

/// A `dial-stdio` channel, holding one of the [`DIAL_STDIO_CHANNELS`] while it is open.
struct CountedStream {
    stream: crate::ssh::SshStream,
    _permit: OwnedSemaphorePermit,
}

impl AsyncRead for CountedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(context, buffer)
    }
}

impl AsyncWrite for CountedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(context, buffer)
    }

    fn poll_flush(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(context)
    }

    fn poll_shutdown(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(context)
    }
}

/// Why a connection could not be opened: the SSH connection under it has ended (make it
/// again), or anything else, in words.
enum OpenFailure {
    ConnectionClosed(String),
    Other(String),
}

impl OpenFailure {
    fn into_message(self) -> String {
        match self {
            OpenFailure::ConnectionClosed(message) | OpenFailure::Other(message) => message,
        }
    }
}

impl From<SshError> for OpenFailure {
    fn from(error: SshError) -> OpenFailure {
        match error {
            SshError::ConnectionClosed { .. } => OpenFailure::ConnectionClosed(error.to_string()),
            other => OpenFailure::Other(other.to_string()),
        }
    }
}

impl std::fmt::Debug for SshConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshConnector")
            .field("target", &self.shared.target)
            .field("socket", &self.shared.socket)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_hosts_read_as_the_docker_cli_reads_them() {
        assert_eq!(
            SshDockerHost::parse("ssh://deploy@manager.example.org"),
            Ok(SshDockerHost {
                user: Some("deploy".to_owned()),
                address: "manager.example.org".to_owned(),
                port: 22,
                socket: DEFAULT_REMOTE_SOCKET.to_owned(),
            })
        );
        assert_eq!(
            SshDockerHost::parse("ssh://[fd00::7]:2222/run/user/1000/docker.sock"),
            Ok(SshDockerHost {
                user: None,
                address: "fd00::7".to_owned(),
                port: 2222,
                socket: "/run/user/1000/docker.sock".to_owned(),
            })
        );
        assert_eq!(
            SshDockerHost::parse("ssh://root@10.0.0.7:0"),
            Err("invalid ssh:// Docker host `ssh://root@10.0.0.7:0`: the port is not a number from 1 to 65535 (ssh://USER@HOST[:PORT][/path/to/docker.sock])".to_owned())
        );
        assert!(SshDockerHost::parse("ssh://@10.0.0.7").is_err());
        assert!(SshDockerHost::parse("ssh:///var/run/docker.sock").is_err());
    }
}
