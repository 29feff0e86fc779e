//! OpenSSH's `known_hosts`, read to decide whether an ssh server's host key is the one
//! on record. Supported: host name lists with `*`/`?` wildcards and `!` negations,
//! `[host]:port` for other ports than 22, hashed names (`|1|salt|hash`, as
//! `HashKnownHosts` writes them) and `@revoked` lines. `@cert-authority` lines (host
//! certificates) are not supported and are ignored. One reader for git's ssh remotes,
//! the SSH transport (`ssh/`: host steps and ssh:// Docker hosts); it also appends the
//! key of a new host when trust on first use is asked for.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use hmac::{Hmac, Mac as _};
use sha2::{Digest as _, Sha256};

pub struct KnownHosts {
    path: PathBuf,
    entries: Vec<KnownHostEntry>,
}

/// A server's public host key, as the ssh wire format encodes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostKey {
    blob: Vec<u8>,
}

/// Why a host key is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostKeyProblem {
    #[error(
        "the host key of {host} ({key}) is not in {known_hosts}; check its fingerprint with the host's owner, then add it there"
    )]
    Unknown {
        host: String,
        key: String,
        known_hosts: String,
    },
    #[error(
        "the host key of {host} has changed: it offered {key}, which is not the key recorded in {known_hosts} line {line}; refused (the connection may be intercepted, or the host's key was replaced)"
    )]
    Changed {
        host: String,
        key: String,
        known_hosts: String,
        line: usize,
    },
    #[error(
        "the host key of {host} ({key}) is not in {known_hosts}, which holds only {key_types} keys for it (line {line})"
    )]
    OtherKeyTypes {
        host: String,
        key: String,
        key_types: String,
        known_hosts: String,
        line: usize,
    },
    #[error("the host key of {host} ({key}) is marked @revoked in {known_hosts} line {line}")]
    Revoked {
        host: String,
        key: String,
        known_hosts: String,
        line: usize,
    },
}

struct KnownHostEntry {
    line: usize,
    marker: Marker,
    hosts: HostPatterns,
    key: HostKey,
}

#[derive(PartialEq, Eq)]
enum Marker {
    None,
    Revoked,
    CertificateAuthority,
}

enum HostPatterns {
    Hashed { salt: Vec<u8>, hash: Vec<u8> },
    List(Vec<HostPattern>),
}

struct HostPattern {
    negated: bool,
    pattern: String,
}

impl KnownHosts {
    pub fn read(path: &Path) -> std::io::Result<KnownHosts> {
        Ok(KnownHosts::parse(path, &std::fs::read_to_string(path)?))
    }

    /// Reads `path`; a file that does not exist yet holds no host.
    pub fn read_if_exists(path: &Path) -> std::io::Result<KnownHosts> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(KnownHosts::parse(path, &text)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                Ok(KnownHosts::parse(path, ""))
            }
            Err(error) => Err(error),
        }
    }

    /// Appends a line recording `key` for `host` on `port` to the file at `path`,
    /// creating the file (mode 0600, as OpenSSH does) and its folder if needed.
    pub fn append(path: &Path, host: &str, port: u16, key: &HostKey) -> std::io::Result<()> {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        if let Some(folder) = path
            .parent()
            .filter(|folder| !folder.as_os_str().is_empty())
        {
            std::fs::create_dir_all(folder)?;
        }
        let ends_with_newline = match std::fs::read(path) {
            Ok(bytes) => bytes.last().is_none_or(|last| *last == b'\n'),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => true,
            Err(error) => return Err(error),
        };
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)?;
        let separator = if ends_with_newline { "" } else { "\n" };
        writeln!(
            file,
            "{separator}{} {} {}",
            host_name(host, port),
            key.key_type(),
            STANDARD.encode(&key.blob)
        )
    }

    /// Reads the lines it understands; others (comments, malformed lines) are skipped,
    /// as OpenSSH skips them.
    pub fn parse(path: &Path, text: &str) -> KnownHosts {
        let entries = text
            .lines()
            .enumerate()
            .filter_map(|(index, line)| KnownHostEntry::parse(index + 1, line))
            .collect();
        KnownHosts {
            path: path.to_owned(),
            entries,
        }
    }

    /// Accepts `key` for `host` on `port` when a line for that host holds that key.
    pub fn check(&self, host: &str, port: u16, key: &HostKey) -> Result<(), HostKeyProblem> {
        let name = host_name(host, port);
        let known_hosts = self.path.display().to_string();
        if let Some(revoked) = self
            .entries
            .iter()
            .find(|entry| entry.marker == Marker::Revoked && entry.key == *key)
        {
            return Err(HostKeyProblem::Revoked {
                host: name,
                key: key.to_string(),
                known_hosts,
                line: revoked.line,
            });
        }
        let for_host: Vec<&KnownHostEntry> = self
            .entries
            .iter()
            .filter(|entry| entry.marker == Marker::None && entry.hosts.matches(&name))
            .collect();
        if for_host.iter().any(|entry| entry.key == *key) {
            return Ok(());
        }
        let key_type = key.key_type();
        // A key of the same type that differs is a changed key; keys of other types
        // only say that this one was never recorded (OpenSSH asks, shoal refuses).
        if let Some(same_type) = for_host
            .iter()
            .find(|entry| entry.key.key_type() == key_type)
        {
            return Err(HostKeyProblem::Changed {
                host: name,
                key: key.to_string(),
                known_hosts,
                line: same_type.line,
            });
        }
        match for_host.first() {
            Some(first) => {
                let mut key_types: Vec<String> =
                    for_host.iter().map(|entry| entry.key.key_type()).collect();
                key_types.dedup();
                Err(HostKeyProblem::OtherKeyTypes {
                    host: name,
                    key: key.to_string(),
                    key_types: key_types.join(", "),
                    known_hosts,
                    line: first.line,
                })
            }
            None => Err(HostKeyProblem::Unknown {
                host: name,
                key: key.to_string(),
                known_hosts,
            }),
        }
    }
}

impl HostKey {
    pub fn from_blob(blob: &[u8]) -> HostKey {
        HostKey {
            blob: blob.to_vec(),
        }
    }

    /// The key's type as the blob names it (`ssh-ed25519`, `ecdsa-sha2-nistp256`, ...).
    pub fn key_type(&self) -> String {
        let length = self
            .blob
            .get(..4)
            .and_then(|bytes| <[u8; 4]>::try_from(bytes).ok())
            .map_or(0, |bytes| u32::from_be_bytes(bytes) as usize);
        self.blob
            .get(4..4 + length)
            .map(|name| String::from_utf8_lossy(name).into_owned())
            .unwrap_or_else(|| "unknown".to_owned())
    }

    /// OpenSSH's fingerprint: `SHA256:` and the unpadded base64 of the blob's digest.
    pub fn fingerprint(&self) -> String {
        format!(
            "SHA256:{}",
            STANDARD_NO_PAD.encode(Sha256::digest(&self.blob))
        )
    }
}

impl fmt::Display for HostKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} {}", self.key_type(), self.fingerprint())
    }
}

/// How known_hosts names a host: `host` on port 22, `[host]:port` otherwise.
fn host_name(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_owned()
    } else {
        format!("[{host}]:{port}")
    }
}

impl KnownHostEntry {
    fn parse(line_number: usize, line: &str) -> Option<KnownHostEntry> {
        let mut fields = line.split_whitespace();
        let mut first = fields.next()?;
        if first.starts_with('#') {
            return None;
        }
        let marker = match first {
            "@revoked" => Marker::Revoked,
            "@cert-authority" => Marker::CertificateAuthority,
            _ => Marker::None,
        };
        if marker != Marker::None {
            first = fields.next()?;
        }
        let _key_type = fields.next()?;
        let key = STANDARD.decode(fields.next()?).ok()?;
        Some(KnownHostEntry {
            line: line_number,
            marker,
            hosts: HostPatterns::parse(first)?,
            key: HostKey { blob: key },
        })
    }
}

impl HostPatterns {
    fn parse(text: &str) -> Option<HostPatterns> {
        if let Some(hashed) = text.strip_prefix("|1|") {
            let (salt, hash) = hashed.split_once('|')?;
            return Some(HostPatterns::Hashed {
                salt: STANDARD.decode(salt).ok()?,
                hash: STANDARD.decode(hash).ok()?,
            });
        }
        Some(HostPatterns::List(
            text.split(',')
                .map(|pattern| match pattern.strip_prefix('!') {
                    Some(pattern) => HostPattern {
                        negated: true,
                        pattern: pattern.to_lowercase(),
                    },
                    None => HostPattern {
                        negated: false,
                        pattern: pattern.to_lowercase(),
                    },
                })
                .collect(),
        ))
    }

    fn matches(&self, name: &str) -> bool {
        match self {
            HostPatterns::Hashed { salt, hash } => {
                let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(salt) else {
                    return false;
                };
                mac.update(name.as_bytes());
                mac.verify_slice(hash).is_ok()
            }
            HostPatterns::List(patterns) => {
                let name = name.to_lowercase();
                let matching = |pattern: &&HostPattern| wildcard_match(&pattern.pattern, &name);
                !patterns
                    .iter()
                    .filter(|pattern| pattern.negated)
                    .any(|pattern| matching(&pattern))
                    && patterns
                        .iter()
                        .filter(|pattern| !pattern.negated)
                        .any(|pattern| matching(&pattern))
            }
        }
    }
}

/// `*` matches any run of characters, `?` any one character.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            backtrack = Some((p, t));
            p += 1;
        } else if let Some((star, matched)) = backtrack {
            p = star + 1;
            t = matched + 1;
            backtrack = Some((star, matched + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    // Two real ed25519 public keys (from ssh-keygen), as known_hosts holds them.
    const KEY_A: &str = "AAAAC3NzaC1lZDI1NTE5AAAAINyPRsN3j2heyximpwAApLeGBEBhSAGHSMSxW2geLlqY";
    const KEY_B: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIJmCNhled96qDLu1YsD8yhLFefAk9A2LqI3NIgqTRKtW";

    fn key(text: &str) -> HostKey {
        HostKey::from_blob(&STANDARD.decode(text).expect("base64"))
    }

    fn known_hosts(text: &str) -> KnownHosts {
        KnownHosts::parse(Path::new("known_hosts"), text)
    }

    #[test]
    fn a_host_key_is_accepted_only_as_recorded() {
        let hosts = known_hosts(&format!(
            "# comment\nforge.example.org,10.0.0.7 ssh-ed25519 {KEY_A}\n[127.0.0.1]:2222 ssh-ed25519 {KEY_B}\n*.example.com,!evil.example.com ssh-ed25519 {KEY_A}\n"
        ));
        assert_eq!(hosts.check("forge.example.org", 22, &key(KEY_A)), Ok(()));
        assert_eq!(hosts.check("10.0.0.7", 22, &key(KEY_A)), Ok(()));
        assert_eq!(hosts.check("127.0.0.1", 2222, &key(KEY_B)), Ok(()));
        assert_eq!(hosts.check("git.example.com", 22, &key(KEY_A)), Ok(()));
        let changed = hosts
            .check("forge.example.org", 22, &key(KEY_B))
            .expect_err("changed");
        assert_eq!(
            changed.to_string(),
            format!(
                "the host key of forge.example.org has changed: it offered ssh-ed25519 {}, which is not the key recorded in known_hosts line 2; refused (the connection may be intercepted, or the host's key was replaced)",
                key(KEY_B).fingerprint()
            )
        );
        // The port matters: port 22 of 127.0.0.1 is another host.
        assert!(matches!(
            hosts.check("127.0.0.1", 22, &key(KEY_B)),
            Err(HostKeyProblem::Unknown { .. })
        ));
        assert!(matches!(
            hosts.check("evil.example.com", 22, &key(KEY_A)),
            Err(HostKeyProblem::Unknown { .. })
        ));
    }

    #[test]
    fn a_host_known_by_another_key_type_only_is_not_called_changed() {
        // A real ECDSA public key from ssh-keygen.
        let ecdsa = "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEwxtgvWWMt3ENWxAqvLLvI9IOR2YSeajTwByiZiVLtJ6vAEzGQc54SpkdGttkQvetnDL3xvscQ2ON2E5WpqpkU=";
        let hosts = known_hosts(&format!("forge.example.org ecdsa-sha2-nistp256 {ecdsa}\n"));
        let problem = hosts
            .check("forge.example.org", 22, &key(KEY_A))
            .expect_err("unknown type");
        assert_eq!(
            problem.to_string(),
            format!(
                "the host key of forge.example.org (ssh-ed25519 {}) is not in known_hosts, which holds only ecdsa-sha2-nistp256 keys for it (line 1)",
                key(KEY_A).fingerprint()
            )
        );
    }

    #[test]
    fn hashed_names_and_revoked_keys_are_understood() {
        // `ssh-keygen -H` would write this line for [127.0.0.1]:2222: HMAC-SHA1 of the
        // name, keyed by a random salt.
        let salt = b"0123456789abcdefghij";
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(salt).expect("key");
        mac.update(b"[127.0.0.1]:2222");
        let hash = mac.finalize().into_bytes();
        let hosts = known_hosts(&format!(
            "|1|{}|{} ssh-ed25519 {KEY_A}\n@revoked * ssh-ed25519 {KEY_B}\n",
            STANDARD.encode(salt),
            STANDARD.encode(hash)
        ));
        assert_eq!(hosts.check("127.0.0.1", 2222, &key(KEY_A)), Ok(()));
        assert!(matches!(
            hosts.check("127.0.0.1", 2223, &key(KEY_A)),
            Err(HostKeyProblem::Unknown { .. })
        ));
        assert!(matches!(
            hosts.check("127.0.0.1", 2222, &key(KEY_B)),
            Err(HostKeyProblem::Revoked { line: 2, .. })
        ));
    }

    #[test]
    fn an_appended_key_is_then_accepted() {
        let folder = tempfile::tempdir().expect("temp");
        let path = folder.path().join("ssh/known_hosts");
        assert!(matches!(
            KnownHosts::read_if_exists(&path)
                .expect("absent is empty")
                .check("10.0.0.7", 2222, &key(KEY_A)),
            Err(HostKeyProblem::Unknown { .. })
        ));
        std::fs::create_dir_all(path.parent().expect("folder")).expect("folder");
        std::fs::write(&path, format!("forge.example.org ssh-ed25519 {KEY_B}")).expect("writes");
        KnownHosts::append(&path, "10.0.0.7", 2222, &key(KEY_A)).expect("appends");
        assert_eq!(
            std::fs::read_to_string(&path).expect("reads"),
            format!("forge.example.org ssh-ed25519 {KEY_B}\n[10.0.0.7]:2222 ssh-ed25519 {KEY_A}\n")
        );
        let hosts = KnownHosts::read(&path).expect("reads");
        assert_eq!(hosts.check("10.0.0.7", 2222, &key(KEY_A)), Ok(()));
        assert_eq!(hosts.check("forge.example.org", 22, &key(KEY_B)), Ok(()));
    }

    #[test]
    fn fingerprints_read_as_ssh_keygen_prints_them() {
        let key = key(KEY_A);
        assert_eq!(key.key_type(), "ssh-ed25519");
        // `ssh-keygen -lf` of that key's .pub file.
        assert_eq!(
            key.fingerprint(),
            "SHA256:RzqtWEK2pN2N8ipz1n0MclnFeq87NwcRNtK/7i5/xBU"
        );
    }

    #[test]
    fn wildcards_match_like_openssh() {
        assert!(wildcard_match("*.example.org", "git.example.org"));
        assert!(wildcard_match("git?.example.org", "git1.example.org"));
        assert!(!wildcard_match("git?.example.org", "git.example.org"));
        assert!(wildcard_match("*", "anything"));
        assert!(!wildcard_match("*.org", "example.com"));
    }
}
