//! A file as it is on a host: what the plan compares a desired file with.

use sha2::{Digest, Sha256};

/// The largest file whose content is read to show a diff; larger files are compared by
/// hash and size only.
pub const DIFF_LIMIT: u64 = 256 * 1024;

/// A file that exists on a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveFile {
    pub size: u64,
    /// Lowercase hex.
    pub sha256: String,
    /// Permission bits, e.g. `0o644`.
    pub mode: u32,
    pub owner: String,
    pub group: String,
    /// The content, when it is at most [`DIFF_LIMIT`] bytes.
    pub content: Option<Vec<u8>>,
}

impl LiveFile {
    /// A file with `content`, as a host would describe it.
    pub fn of(content: &[u8], mode: u32, owner: &str, group: &str) -> LiveFile {
        LiveFile {
            size: content.len() as u64,
            sha256: sha256_hex(content),
            mode,
            owner: owner.to_owned(),
            group: group.to_owned(),
            content: (content.len() as u64 <= DIFF_LIMIT).then(|| content.to_vec()),
        }
    }
}

pub fn sha256_hex(content: &[u8]) -> String {
    hex::encode(Sha256::digest(content))
}
