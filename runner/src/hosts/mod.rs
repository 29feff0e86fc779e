//! The port to the machines that `ssh` steps change: connect to a host, read the state of
//! files, write a file atomically, run a command, arm and disarm the lock-out guard.
//! [`HostConnector`] and [`HostSession`] are the port; [`FakeHosts`] is an in-memory one
//! for unit tests, and `ssh_hosts` the real one over SSH.

mod fake_hosts;
mod host_connector;
mod host_error;
mod host_target;
mod live_file;
mod lockout_guard;
mod remote_script;
mod ssh_hosts;

pub use fake_hosts::{FakeHost, FakeHosts};
pub use host_connector::{
    CommandExit, FileWrite, FileWritten, HostCommand, HostConnector, HostFuture, HostSession,
    OutputSink, OutputStream, STDERR_TAIL_LINES, Survey, WriteReport,
};
pub use host_error::HostError;
pub use host_target::HostTarget;
pub use live_file::{DIFF_LIMIT, LiveFile, sha256_hex};
pub use lockout_guard::{GuardedFile, LockoutGuard, PREVIOUS_SUFFIX};
pub use ssh_hosts::SshHosts;
