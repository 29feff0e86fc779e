//! Where the config repo lives, as the mirror needs to know it: a path on this machine
//! (watched for new commits), an https or git:// URL, or an ssh host whose key is checked
//! against known_hosts. Parsed the way git reads remote URLs, scp-like `user@host:path`
//! included.

use std::fmt;
use std::path::PathBuf;

use super::GitError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteUrl {
    /// The URL as given, which is what libgit2 is told.
    text: String,
    kind: RemoteKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteKind {
    /// A repository on this machine: a path or a `file://` URL.
    Local { path: PathBuf },
    /// `https://` (or plain `http://`).
    Http { host: String },
    /// `ssh://[user@]host[:port]/path` or scp-like `[user@]host:path`.
    Ssh {
        user: Option<String>,
        host: String,
        port: u16,
    },
    /// `git://`, unauthenticated.
    Git,
}

impl RemoteUrl {
    pub fn parse(text: &str) -> Result<RemoteUrl, GitError> {
        let unsupported = || GitError::UnsupportedUrl { url: redact(text) };
        let kind = if let Some(path) = text.strip_prefix("file://") {
            RemoteKind::Local {
                path: PathBuf::from(path),
            }
        } else if let Some((scheme, rest)) = text.split_once("://") {
            let authority = rest.split('/').next().unwrap_or_default();
            let (user, host_and_port) = match authority.rsplit_once('@') {
                Some((user, host)) => (Some(user), host),
                None => (None, authority),
            };
            let (host, port) = split_port(host_and_port).ok_or_else(unsupported)?;
            if host.is_empty() {
                return Err(unsupported());
            }
            match scheme {
                "https" | "http" => RemoteKind::Http { host },
                "ssh" | "git+ssh" | "ssh+git" => RemoteKind::Ssh {
                    // A password in an ssh URL is never used: keys only.
                    user: user.map(|user| user.split(':').next().unwrap_or(user).to_owned()),
                    host,
                    port: port.unwrap_or(22),
                },
                "git" => RemoteKind::Git,
                _ => return Err(unsupported()),
            }
        } else if let Some((authority, _)) = scp_like(text) {
            let (user, host) = match authority.rsplit_once('@') {
                Some((user, host)) => (Some(user.to_owned()), host),
                None => (None, authority),
            };
            RemoteKind::Ssh {
                user,
                host: host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_owned(),
                port: 22,
            }
        } else {
            RemoteKind::Local {
                path: PathBuf::from(text),
            }
        };
        Ok(RemoteUrl {
            text: text.to_owned(),
            kind,
        })
    }

    pub fn kind(&self) -> &RemoteKind {
        &self.kind
    }

    /// The URL for libgit2, exactly as given.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The repository's path when it is on this machine.
    pub fn local_path(&self) -> Option<&std::path::Path> {
        match &self.kind {
            RemoteKind::Local { path } => Some(path),
            _ => None,
        }
    }
}

/// The URL with any password of its user part replaced by `***`, for messages.
impl fmt::Display for RemoteUrl {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&redact(&self.text))
    }
}

/// Splits `host`, `host:port`, `[v6]` or `[v6]:port`; `None` when the port is not a number.
fn split_port(text: &str) -> Option<(String, Option<u16>)> {
    if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(port) => Some(port.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        return Some((host.to_owned(), port));
    }
    match text.rsplit_once(':') {
        Some((host, "")) => Some((host.to_owned(), None)),
        Some((host, port)) => Some((host.to_owned(), Some(port.parse().ok()?))),
        None => Some((text.to_owned(), None)),
    }
}

/// git's rule for scp-like syntax: a colon before the first slash (and not a bracketed
/// IPv6 address alone). Returns the part before the colon and the path.
fn scp_like(text: &str) -> Option<(&str, &str)> {
    let colon = if text.starts_with('[') {
        text.find("]:")? + 1
    } else {
        text.find(':')?
    };
    let slash = text.find('/').unwrap_or(usize::MAX);
    (colon < slash && colon > 0).then(|| (&text[..colon], &text[colon + 1..]))
}

/// Replaces the password in `scheme://user:password@host/...` with `***`.
fn redact(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rsplit_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}{}", &rest[authority_end..])
        }
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: RemoteKind) {
        assert_eq!(RemoteUrl::parse(text).expect(text).kind, expected, "{text}");
    }

    fn ssh(user: Option<&str>, host: &str, port: u16) -> RemoteKind {
        RemoteKind::Ssh {
            user: user.map(str::to_owned),
            host: host.to_owned(),
            port,
        }
    }

    #[test]
    fn urls_are_read_as_git_reads_them() {
        check(
            "ssh://git@forge.example.org:2222/infra.git",
            ssh(Some("git"), "forge.example.org", 2222),
        );
        check(
            "ssh://forge.example.org/infra.git",
            ssh(None, "forge.example.org", 22),
        );
        check(
            "ssh://git@[::1]:2200/srv/infra",
            ssh(Some("git"), "::1", 2200),
        );
        check(
            "git@github.com:acme/infra.git",
            ssh(Some("git"), "github.com", 22),
        );
        check("forge:infra.git", ssh(None, "forge", 22));
        check(
            "https://gitea.example.org:3000/acme/infra.git",
            RemoteKind::Http {
                host: "gitea.example.org".into(),
            },
        );
        check("git://127.0.0.1:9418/infra", RemoteKind::Git);
        check(
            "file:///srv/infra",
            RemoteKind::Local {
                path: "/srv/infra".into(),
            },
        );
        check(
            "/srv/infra:old",
            RemoteKind::Local {
                path: "/srv/infra:old".into(),
            },
        );
        check(
            "./infra",
            RemoteKind::Local {
                path: "./infra".into(),
            },
        );
        assert!(RemoteUrl::parse("ftp://example.org/infra").is_err());
        assert!(RemoteUrl::parse("ssh://host:notaport/infra").is_err());
    }

    #[test]
    fn a_password_in_a_url_is_never_shown() {
        let url = RemoteUrl::parse("https://bot:hunter2@forge.example.org/infra.git").expect("url");
        assert_eq!(
            url.to_string(),
            "https://bot:***@forge.example.org/infra.git"
        );
        assert_eq!(
            url.as_str(),
            "https://bot:hunter2@forge.example.org/infra.git"
        );
        let error = RemoteUrl::parse("ftp://bot:hunter2@example.org/x").expect_err("ftp");
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }
}
