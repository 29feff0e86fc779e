//! The check of a server's host key during the key exchange, before anything is sent
//! to it: the key must be in known_hosts, or, with trust on first use, the host must be
//! absent from it, and then its key is written there.

use std::path::PathBuf;

use russh::keys::PublicKeyOrCertificate;

use super::{SshError, SshTarget};
use crate::known_hosts::{HostKey, HostKeyProblem, KnownHosts};

/// russh's handler of one connection: it only checks the host key.
pub(super) struct HostKeyCheck {
    target: SshTarget,
    known_hosts: PathBuf,
    accept_new: bool,
}

/// Why the handshake ended: the protocol, or shoal refusing the host.
#[derive(Debug)]
pub(super) enum HandshakeError {
    Protocol(russh::Error),
    Refused(SshError),
}

impl From<russh::Error> for HandshakeError {
    fn from(error: russh::Error) -> HandshakeError {
        HandshakeError::Protocol(error)
    }
}

impl HostKeyCheck {
    pub(super) fn new(target: &SshTarget, known_hosts: PathBuf, accept_new: bool) -> HostKeyCheck {
        HostKeyCheck {
            target: target.clone(),
            known_hosts,
            accept_new,
        }
    }

    fn verify(&self, key: &HostKey) -> Result<(), SshError> {
        let path = self.known_hosts.display().to_string();
        let known_hosts = KnownHosts::read_if_exists(&self.known_hosts).map_err(|source| {
            SshError::KnownHosts {
                path: path.clone(),
                source,
            }
        })?;
        let (address, port) = (&self.target.address, self.target.port);
        match known_hosts.check(address, port, key) {
            Ok(()) => Ok(()),
            Err(HostKeyProblem::Unknown { host, .. }) if self.accept_new => {
                KnownHosts::append(&self.known_hosts, address, port, key).map_err(|source| {
                    SshError::KnownHostsWrite {
                        host: host.clone(),
                        path: path.clone(),
                        source,
                    }
                })?;
                tracing::info!("trusted the new host key of {host} ({key}), added to {path}");
                Ok(())
            }
            Err(problem) => Err(SshError::HostKey(problem)),
        }
    }
}

impl russh::client::Handler for HostKeyCheck {
    type Error = HandshakeError;

    async fn check_server_key(
        &mut self,
        offered: &PublicKeyOrCertificate,
    ) -> Result<bool, HandshakeError> {
        let PublicKeyOrCertificate::PublicKey { key, .. } = offered else {
            return Err(HandshakeError::Refused(SshError::HostCertificate {
                address: self.target.socket_address(),
            }));
        };
        let blob = key
            .to_bytes()
            .map_err(|error| HandshakeError::Protocol(russh::Error::from(error)))?;
        self.verify(&HostKey::from_blob(&blob))
            .map(|()| true)
            .map_err(HandshakeError::Refused)
    }
}
