//! SSH client transport on russh (no `ssh` binary): one authenticated connection per
//! host ([`SshSession`]) that carries many channels at once, commands run over exec
//! channels ([`SshSession::exec`]) and Unix sockets reached through
//! `direct-streamlocal@openssh.com` ([`SshSession::open_unix_socket`]). Host keys are
//! checked against known_hosts by [`crate::known_hosts`], the one reader, before
//! authenticating. Used by ssh:// Docker hosts and by host steps.

mod authentication;
mod host_key_check;
mod quick_ack;
mod remote_command;
mod remote_exit;
mod ssh_error;
mod ssh_session;
mod ssh_settings;
mod ssh_target;

pub use remote_command::{OutputStream, shell_quote, with_environment};
pub use remote_exit::RemoteExit;
pub use ssh_error::SshError;
pub use ssh_session::{SshSession, SshStream};
pub use ssh_settings::SshSettings;
pub use ssh_target::SshTarget;
