//! The lock-out guard (`rollback_if_unreachable`), as iptables-apply does it: before the
//! `on_change` commands of a host run, a timer armed on the host itself restores the
//! previous files and runs `on_change` again unless shoal, over a fresh connection,
//! disarms it in time.

use std::time::Duration;

/// Beside a destination, the previous content kept while a guard may restore it:
/// `/etc/exports` → `/etc/exports.shoal-previous`.
pub const PREVIOUS_SUFFIX: &str = ".shoal-previous";

/// What the host does when the timer runs out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockoutGuard {
    pub delay: Duration,
    pub files: Vec<GuardedFile>,
    /// Run again, in order, after the files are restored.
    pub on_change: Vec<String>,
}

/// A file the guard restores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardedFile {
    pub dest: String,
    /// The file existed before: its previous content is at `dest` + [`PREVIOUS_SUFFIX`].
    /// Otherwise restoring removes it.
    pub had_previous: bool,
}
