//! One authenticated SSH connection to a host, shared by cloning: each command and each
//! forwarded socket is a channel of its own on it, so many run at once on one
//! connection. russh queues a bounded number of messages per channel and stops reading
//! the connection while a channel's queue is full, so every channel opened here is read
//! as long as it lives: [`SshSession::exec`] hands output to a callback that must not
//! block, and an [`SshStream`] is read by whoever holds it (hyper, for Docker).

use std::sync::Arc;
use std::time::Duration;

use russh::client::{Handle, Msg};
use russh::{ChannelMsg, ChannelOpenFailure, ChannelWriteHalf};
use tokio::time::Instant;

use super::authentication::authenticate;
use super::host_key_check::{HandshakeError, HostKeyCheck};
use super::quick_ack::QuickAckStream;
use super::{OutputStream, RemoteExit, SshError, SshSettings, SshTarget};

/// A byte stream to a Unix socket on the host (`direct-streamlocal@openssh.com`); the
/// channel closes when it is dropped.
pub type SshStream = russh::ChannelStream<Msg>;

#[derive(Clone)]
pub struct SshSession {
    connection: Arc<Connection>,
}

struct Connection {
    handle: Handle<HostKeyCheck>,
    target: SshTarget,
    /// Bounds opening a channel and each request on it (not a command's run).
    channel_timeout: Duration,
}

impl SshSession {
    /// Connects to `target`, checks its host key against known_hosts before sending
    /// anything else, and logs in. `settings.connect_timeout` bounds it all.
    pub async fn connect(
        target: &SshTarget,
        settings: &SshSettings,
    ) -> Result<SshSession, SshError> {
        let deadline = Instant::now() + settings.connect_timeout;
        let address = target.socket_address();
        let stream = tokio::time::timeout_at(
            deadline,
            tokio::net::TcpStream::connect((target.address.as_str(), target.port)),
        )
        .await
        .map_err(|_| SshError::ConnectTimeout {
            address: address.clone(),
            timeout: settings.connect_timeout,
        })?
        .map_err(|source| SshError::Connect {
            address: address.clone(),
            source,
        })?;
        let _ = stream.set_nodelay(true);
        let config = Arc::new(russh::client::Config {
            keepalive_interval: Some(settings.keepalive_interval),
            keepalive_max: 3,
            inactivity_timeout: None,
            ..Default::default()
        });
        let check = HostKeyCheck::new(target, settings.known_hosts.clone(), settings.accept_new);
        let login = async {
            let stream = QuickAckStream::new(stream);
            let mut handle = russh::client::connect_stream(config, stream, check)
                .await
                .map_err(|error| match error {
                    HandshakeError::Refused(refused) => refused,
                    HandshakeError::Protocol(error) => SshError::Protocol {
                        target: target.to_string(),
                        reason: error.to_string(),
                    },
                })?;
            authenticate(
                &mut handle,
                target,
                settings.identity.as_deref(),
                settings.agent_socket.as_deref(),
            )
            .await?;
            Ok(handle)
        };
        let handle = tokio::time::timeout_at(deadline, login)
            .await
            .map_err(|_| SshError::Timeout {
                target: target.to_string(),
                what: "the SSH handshake and login".to_owned(),
                timeout: settings.connect_timeout,
            })??;
        Ok(SshSession {
            connection: Arc::new(Connection {
                handle,
                target: target.clone(),
                channel_timeout: settings.connect_timeout,
            }),
        })
    }

    pub fn target(&self) -> &SshTarget {
        &self.connection.target
    }

    /// Whether `other` is a clone of this session (the same connection).
    pub fn same_connection(&self, other: &SshSession) -> bool {
        Arc::ptr_eq(&self.connection, &other.connection)
    }

    /// Whether the connection has ended (closed by the server, or keepalives unanswered).
    pub fn is_closed(&self) -> bool {
        self.connection.handle.is_closed()
    }

    /// Runs `command` with the login user's shell, writes `stdin` (if any) and closes
    /// it, and hands stdout and stderr to `output` as they arrive, read concurrently
    /// with the writing. `output` must not block: it runs on the path that reads the
    /// channel. A command runs until it ends; the caller bounds it by dropping this
    /// future (under its own timeout), which closes the channel; OpenSSH leaves the
    /// command itself running (see `CloseOnDrop`), so bound it on the host too
    /// (`timeout 60 COMMAND`) where that matters. The command line is
    /// never logged: it may carry environment values ([`super::with_environment`]).
    pub async fn exec(
        &self,
        command: &str,
        stdin: Option<Vec<u8>>,
        mut output: impl FnMut(OutputStream, &[u8]) + Send,
    ) -> Result<RemoteExit, SshError> {
        let what = "running a command";
        let channel = self
            .bounded(what, self.connection.handle.channel_open_session())
            .await?
            .map_err(|error| self.channel_error(what, error))?;
        self.bounded(what, channel.exec(true, command))
            .await?
            .map_err(|error| self.channel_error(what, error))?;
        let (mut reader, writer) = channel.split();
        let writer = CloseOnDrop::new(writer);
        let outcome = {
            let write_input = async {
                if let Some(input) = stdin {
                    writer.half().data(input.as_slice()).await?;
                }
                writer.half().eof().await
            };
            let read_output = async {
                let mut exit = RemoteExit {
                    code: None,
                    signal: None,
                };
                while let Some(message) = reader.wait().await {
                    match message {
                        ChannelMsg::Data { data } => output(OutputStream::Stdout, &data),
                        ChannelMsg::ExtendedData { data, ext: 1 } => {
                            output(OutputStream::Stderr, &data);
                        }
                        ChannelMsg::ExitStatus { exit_status } => exit.code = Some(exit_status),
                        ChannelMsg::ExitSignal { signal_name, .. } => {
                            exit.signal = Some(signal_text(&signal_name));
                        }
                        ChannelMsg::Failure => return Err(ExecFailure::Refused),
                        ChannelMsg::Close => return Ok(exit),
                        _ => {}
                    }
                }
                // The channel ended without the server closing it: the connection did.
                if exit.code.is_none() && exit.signal.is_none() {
                    Err(ExecFailure::ConnectionClosed)
                } else {
                    Ok(exit)
                }
            };
            // A command that exits without reading its input ends the channel while the
            // input is still being written: the outcome is the reading's, whatever the
            // writing's.
            tokio::pin!(write_input, read_output);
            let mut writing = true;
            loop {
                tokio::select! {
                    _ = &mut write_input, if writing => writing = false,
                    outcome = &mut read_output => break outcome,
                }
            }
        };
        writer.closed();
        let target = self.connection.target.to_string();
        outcome.map_err(|failure| match failure {
            ExecFailure::Refused => SshError::ChannelRefused {
                target,
                what: what.to_owned(),
                reason: "the server refused the exec request".to_owned(),
            },
            ExecFailure::ConnectionClosed => SshError::ConnectionClosed {
                target,
                what: what.to_owned(),
            },
        })
    }

    /// Opens a stream to the Unix socket at `path` on the host, forwarded by sshd
    /// (`direct-streamlocal@openssh.com`). A server that calls the channel prohibited
    /// gives [`SshError::ForwardingProhibited`]; OpenSSH answers "connect failed"
    /// ([`SshError::ChannelRefused`]) both when its config forbids forwarding
    /// (`AllowStreamLocalForwarding no`) and when nothing listens at `path`.
    pub async fn open_unix_socket(&self, path: &str) -> Result<SshStream, SshError> {
        let what = format!("opening the Unix socket {path}");
        let channel = self
            .bounded(
                &what,
                self.connection.handle.channel_open_direct_streamlocal(path),
            )
            .await?
            .map_err(|error| match error {
                russh::Error::ChannelOpenFailure(
                    ChannelOpenFailure::AdministrativelyProhibited,
                ) => SshError::ForwardingProhibited {
                    target: self.connection.target.to_string(),
                    path: path.to_owned(),
                },
                other => self.channel_error(&what, other),
            })?;
        Ok(channel.into_stream())
    }

    /// Runs `command` and makes its standard input and output a stream (its standard
    /// error is read and dropped): `docker system dial-stdio`'s way to reach a socket
    /// where forwarding is forbidden. The channel closes when the stream is dropped.
    pub async fn exec_stream(&self, command: &str) -> Result<SshStream, SshError> {
        let what = "running a command";
        let channel = self
            .bounded(what, self.connection.handle.channel_open_session())
            .await?
            .map_err(|error| self.channel_error(what, error))?;
        self.bounded(what, channel.exec(true, command))
            .await?
            .map_err(|error| self.channel_error(what, error))?;
        Ok(channel.into_stream())
    }

    async fn bounded<T>(&self, what: &str, future: impl Future<Output = T>) -> Result<T, SshError> {
        tokio::time::timeout(self.connection.channel_timeout, future)
            .await
            .map_err(|_| SshError::Timeout {
                target: self.connection.target.to_string(),
                what: what.to_owned(),
                timeout: self.connection.channel_timeout,
            })
    }

    fn channel_error(&self, what: &str, error: russh::Error) -> SshError {
        let target = self.connection.target.to_string();
        match error {
            russh::Error::ChannelOpenFailure(failure) => SshError::ChannelRefused {
                target,
                what: what.to_owned(),
                reason: match failure {
                    ChannelOpenFailure::AdministrativelyProhibited => {
                        "administratively prohibited".to_owned()
                    }
                    ChannelOpenFailure::ConnectFailed => {
                        "the server could not connect to it".to_owned()
                    }
                    ChannelOpenFailure::UnknownChannelType => {
                        "the server does not know this kind of channel".to_owned()
                    }
                    ChannelOpenFailure::ResourceShortage => {
                        "the server is short of resources (MaxSessions?)".to_owned()
                    }
                    ChannelOpenFailure::Other { reason, .. } => reason,
                },
            },
            russh::Error::SendError | russh::Error::Disconnect => SshError::ConnectionClosed {
                target,
                what: what.to_owned(),
            },
            other => SshError::Channel {
                target,
                what: what.to_owned(),
                reason: other.to_string(),
            },
        }
    }
}

/// Why an exec channel gave no exit status.
enum ExecFailure {
    Refused,
    ConnectionClosed,
}

/// The writing half of an exec channel. When the exec future is dropped before the
/// channel ended (a caller's timeout), the command is sent SIGTERM and the channel is
/// closed. OpenSSH's sshd refuses `signal` requests ("session signalling requires
/// privilege separation", up to 9.x at least), and closing the channel does not end a
/// command without a terminal: it runs on until it ends or writes to its closed output
/// (SIGPIPE). A caller that must bound it on the host runs it under `timeout`.
struct CloseOnDrop {
    half: Option<ChannelWriteHalf<Msg>>,
}

impl CloseOnDrop {
    fn new(half: ChannelWriteHalf<Msg>) -> CloseOnDrop {
        CloseOnDrop { half: Some(half) }
    }

    fn half(&self) -> &ChannelWriteHalf<Msg> {
        self.half.as_ref().expect("present until closed or dropped")
    }

    /// The channel ended by itself: nothing to close.
    fn closed(mut self) {
        self.half = None;
    }
}

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        if let Some(half) = self.half.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                let _ = half.signal(russh::Sig::TERM).await;
                let _ = half.close().await;
            });
        }
    }
}

fn signal_text(signal: &russh::Sig) -> String {
    match signal {
        russh::Sig::Custom(name) => name.clone(),
        other => format!("{other:?}"),
    }
}
