//! What the mirror needs to reach a remote that asks who it is and must prove what it is:
//! a token for https, a key for ssh, the known_hosts file that ssh host keys are checked
//! against, and extra certificate authorities. It becomes libgit2's credential and
//! certificate callbacks, so a token is handed over on request and never written into a
//! URL, a log or an error.

use std::cell::RefCell;
use std::fmt;
use std::path::PathBuf;

use git2::{CertificateCheckStatus, Cred, CredentialType, RemoteCallbacks};

use super::{CertificateAuthorities, RemoteKind, RemoteUrl};
use crate::known_hosts::{HostKey, KnownHosts};

/// The user name of a token sent as HTTP basic auth, as GitHub expects it (Gitea and
/// Forgejo take any name with a token).
const TOKEN_USER: &str = "x-access-token";

#[derive(Default)]
pub struct RemoteAccess {
    pub token: Option<GitToken>,
    /// A private key file (OpenSSH or PEM format, without passphrase).
    pub ssh_key: Option<PathBuf>,
    /// The known_hosts file ssh host keys must be in; without one, no ssh host is trusted.
    pub known_hosts: Option<PathBuf>,
    pub certificate_authorities: Option<CertificateAuthorities>,
}

/// Why the callbacks of one fetch stopped it, in shoal's words.
#[derive(Default)]
pub(crate) struct RefusalReasons {
    refusal: RefCell<Option<String>>,
    /// Why the extra certificate authorities did not vouch for the server; it explains a
    /// certificate error only, since the system's authorities may have vouched instead.
    certificate: RefCell<Option<String>>,
}

impl RefusalReasons {
    /// `error`, or the reason a callback gave for it.
    pub(crate) fn explain(&self, error: git2::Error) -> git2::Error {
        if let Some(reason) = self.refusal.take() {
            return git2::Error::from_str(&reason);
        }
        match self.certificate.take() {
            // libgit2 reports an untrusted certificate as a generic error of class Ssl.
            Some(reason) if error.class() == git2::ErrorClass::Ssl => {
                git2::Error::from_str(&reason)
            }
            _ => error,
        }
    }
}

/// An access token for an https remote. Its `Debug` does not show it.
pub struct GitToken(String);

impl GitToken {
    pub fn new(token: String) -> GitToken {
        GitToken(token)
    }
}

impl fmt::Debug for GitToken {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("GitToken(***)")
    }
}

impl RemoteAccess {
    /// libgit2's callbacks for one fetch from `remote`. Why a callback refused to go on
    /// is kept in `reasons`: libgit2 replaces some of those messages with its own vaguer
    /// ones ("invalid or unknown remote ssh hostkey").
    pub(crate) fn callbacks<'a>(
        &'a self,
        remote: &'a RemoteUrl,
        reasons: &'a RefusalReasons,
    ) -> RemoteCallbacks<'a> {
        let mut callbacks = RemoteCallbacks::new();
        let mut offered_token = false;
        let mut offered_key = false;
        let refused = move |error: git2::Error| {
            reasons.refusal.replace(Some(error.message().to_owned()));
            error
        };
        callbacks.credentials(move |_url, user_from_url, allowed| {
            self.credentials(
                remote,
                user_from_url,
                allowed,
                &mut offered_token,
                &mut offered_key,
            )
            .map_err(refused)
        });
        callbacks.certificate_check(move |certificate, host| {
            if let Some(host_key) = certificate.as_hostkey() {
                return self.check_host_key(remote, host_key).map_err(refused);
            }
            if let (Some(x509), Some(authorities)) =
                (certificate.as_x509(), &self.certificate_authorities)
            {
                match authorities.check(x509.data(), host) {
                    Ok(()) => return Ok(CertificateCheckStatus::CertificateOk),
                    Err(reason) => {
                        reasons.certificate.replace(Some(format!(
                            "the certificate of {host} is trusted neither by the system nor by {} ({reason})",
                            authorities.path().display()
                        )));
                    }
                }
            }
            // libgit2 decides with the system's certificate authorities.
            Ok(CertificateCheckStatus::CertificatePassthrough)
        });
        callbacks
    }

    /// Each credential is offered once: asked again, the remote has refused it.
    fn credentials(
        &self,
        remote: &RemoteUrl,
        user_from_url: Option<&str>,
        allowed: CredentialType,
        offered_token: &mut bool,
        offered_key: &mut bool,
    ) -> Result<Cred, git2::Error> {
        if allowed.contains(CredentialType::SSH_KEY) {
            let offered = std::mem::replace(offered_key, true);
            self.ssh_credentials(remote, user_from_url, offered)
        } else if allowed.contains(CredentialType::USERNAME) {
            Cred::username(&ssh_user(remote, user_from_url))
        } else if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
            let offered = std::mem::replace(offered_token, true);
            self.token_credentials(remote, offered)
        } else {
            Err(git2::Error::from_str(
                "the remote asks for a kind of credentials shoal cannot give",
            ))
        }
    }

    fn token_credentials(&self, remote: &RemoteUrl, offered: bool) -> Result<Cred, git2::Error> {
        if self.token.is_some() && !remote.as_str().starts_with("https://") {
            return Err(git2::Error::from_str(
                "the remote asks for credentials over plain http; shoal sends its token only over https",
            ));
        }
        match &self.token {
            None => Err(git2::Error::from_str(
                "the remote asks for credentials; give a token with --git-token-file or SHOAL_GIT_TOKEN",
            )),
            Some(_) if offered => Err(git2::Error::from_str(
                "the remote refused the token (from --git-token-file or SHOAL_GIT_TOKEN)",
            )),
            Some(GitToken(token)) => Cred::userpass_plaintext(TOKEN_USER, token),
        }
    }

    fn ssh_credentials(
        &self,
        remote: &RemoteUrl,
        user_from_url: Option<&str>,
        offered: bool,
    ) -> Result<Cred, git2::Error> {
        let user = ssh_user(remote, user_from_url);
        match &self.ssh_key {
            None => Err(git2::Error::from_str(
                "the remote asks for an ssh key; give one with --git-ssh-key or SHOAL_GIT_SSH_KEY",
            )),
            Some(key) if offered => Err(git2::Error::from_str(&format!(
                "the remote refused the ssh key {} for user `{user}`",
                key.display()
            ))),
            Some(key) => Cred::ssh_key(&user, None, key, None).map_err(|error| {
                git2::Error::from_str(&format!(
                    "cannot use the ssh key {}: {}",
                    key.display(),
                    error.message()
                ))
            }),
        }
    }

    fn check_host_key(
        &self,
        remote: &RemoteUrl,
        host_key: &git2::cert::CertHostkey<'_>,
    ) -> Result<CertificateCheckStatus, git2::Error> {
        let RemoteKind::Ssh { host, port, .. } = remote.kind() else {
            return Err(git2::Error::from_str(
                "an ssh host key was offered for a remote that is not an ssh URL",
            ));
        };
        let Some(blob) = host_key.hostkey() else {
            return Err(git2::Error::from_str(&format!(
                "the ssh library did not give the host key of {host} to check"
            )));
        };
        let Some(path) = &self.known_hosts else {
            return Err(git2::Error::from_str(&format!(
                "no known_hosts file to check the host key of {host} ({}) against (--git-known-hosts)",
                HostKey::from_blob(blob)
            )));
        };
        let known_hosts = KnownHosts::read(path).map_err(|error| {
            git2::Error::from_str(&format!(
                "cannot read known_hosts {}: {error}",
                path.display()
            ))
        })?;
        known_hosts
            .check(host, *port, &HostKey::from_blob(blob))
            .map(|()| CertificateCheckStatus::CertificateOk)
            .map_err(|problem| git2::Error::from_str(&problem.to_string()))
    }
}

/// The ssh user: the URL's, else `git` as forges expect.
fn ssh_user(remote: &RemoteUrl, user_from_url: Option<&str>) -> String {
    let from_remote = match remote.kind() {
        RemoteKind::Ssh { user, .. } => user.as_deref(),
        _ => None,
    };
    user_from_url.or(from_remote).unwrap_or("git").to_owned()
}
