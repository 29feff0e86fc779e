//! Logging in with a public key: the identity file when one is set, else each key the
//! ssh-agent at `SSH_AUTH_SOCK` holds. Errors name the keys tried by type and
//! fingerprint, never their contents.

use std::path::Path;
use std::sync::Arc;

use russh::client::Handle;
use russh::keys::agent::AgentIdentity;
use russh::keys::agent::client::AgentClient;
use russh::keys::{PrivateKeyWithHashAlg, PublicKey};

use super::host_key_check::HostKeyCheck;
use super::{SshError, SshTarget};
use crate::known_hosts::HostKey;

/// Logs in as `target.user`; the caller bounds it with its connect timeout.
pub(super) async fn authenticate(
    handle: &mut Handle<HostKeyCheck>,
    target: &SshTarget,
    identity: Option<&Path>,
    agent_socket: Option<&Path>,
) -> Result<(), SshError> {
    let protocol = |error: russh::Error| SshError::Protocol {
        target: target.to_string(),
        reason: error.to_string(),
    };
    // For an RSA key: the best signature hash the server accepts (rsa-sha2-512 or -256).
    let rsa_hash = handle
        .best_supported_rsa_hash()
        .await
        .map_err(protocol)?
        .flatten();
    let refused = |tried: String| SshError::AuthenticationRefused {
        target: target.to_string(),
        user: target.user.clone(),
        tried,
    };
    if let Some(path) = identity {
        let key = russh::keys::load_secret_key(path, None).map_err(|error| SshError::Identity {
            path: path.display().to_string(),
            reason: match error {
                russh::keys::Error::KeyIsEncrypted => {
                    "the key is encrypted: give an unencrypted key, or load it into ssh-agent and set no identity".to_owned()
                }
                other => other.to_string(),
            },
        })?;
        let tried = format!(
            "the key {} ({})",
            path.display(),
            fingerprint(key.public_key())
        );
        let result = handle
            .authenticate_publickey(
                target.user.clone(),
                PrivateKeyWithHashAlg::new(Arc::new(key), rsa_hash),
            )
            .await
            .map_err(protocol)?;
        return if result.success() {
            Ok(())
        } else {
            Err(refused(tried))
        };
    }

    let Some(socket) = agent_socket else {
        return Err(SshError::Agent {
            reason: "SSH_AUTH_SOCK is not set".to_owned(),
        });
    };
    let mut agent = AgentClient::connect_uds(socket)
        .await
        .map_err(|error| SshError::Agent {
            reason: format!("cannot reach the agent at {}: {error}", socket.display()),
        })?;
    let identities = agent
        .request_identities()
        .await
        .map_err(|error| SshError::Agent {
            reason: format!("the agent did not list its keys: {error}"),
        })?;
    let mut tried = Vec::new();
    for identity in identities {
        // Host certificates in the agent are not offered: plain keys only.
        let AgentIdentity::PublicKey { key, .. } = identity else {
            continue;
        };
        tried.push(fingerprint(&key));
        match handle
            .authenticate_publickey_with(target.user.clone(), key, rsa_hash, &mut agent)
            .await
        {
            Ok(result) if result.success() => return Ok(()),
            Ok(_) => {}
            Err(error) => {
                tracing::debug!("the ssh-agent could not sign with a key: {error}");
            }
        }
    }
    Err(refused(if tried.is_empty() {
        "the ssh-agent, which holds no key".to_owned()
    } else {
        format!("the ssh-agent's keys {}", tried.join(", "))
    }))
}

/// `ssh-ed25519 SHA256:...`, as `ssh-keygen -l` names a key.
fn fingerprint(key: &PublicKey) -> String {
    match key.to_bytes() {
        Ok(blob) => HostKey::from_blob(&blob).to_string(),
        Err(_) => key.algorithm().to_string(),
    }
}
