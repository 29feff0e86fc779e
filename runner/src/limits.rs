//! The bounds on what untrusted input may cost: the files of a config repo (a pull request
//! carries them), the templates they render, and requests to `shoal serve`. Every limit
//! and its default lives here; docs/config-format.md ("Limits") lists them for users.

use std::time::Duration;

/// The largest file shoal reads from a config repo (a workflow, `shoal.yml`, a compose
/// file, a template, an env file), checked before the file is read.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The most nodes (scalars, lists and maps) one YAML document may hold once its aliases
/// are expanded. An alias copies the whole value it names, so aliases of aliases multiply
/// (a "billion laughs"); the alias that would cross this is refused before it is copied.
pub const MAX_YAML_NODES: usize = 250_000;

/// The most bytes of scalar text one YAML document may hold once its aliases are
/// expanded (a long string aliased many times).
pub const MAX_YAML_TEXT_BYTES: usize = 8 * 1024 * 1024;

/// How deep aliases may nest: an alias of a value that holds an alias of a value that
/// holds an alias, and so on.
pub const MAX_YAML_ALIAS_DEPTH: usize = 10;

/// How deep lists and maps may nest in a YAML document, aliases expanded.
pub const MAX_YAML_NESTING: usize = 64;

/// The fuel of one template render: minijinja spends one unit on most instructions it
/// runs (an output, a lookup, a filter call, one turn of a loop body's instructions).
/// The shipped example spends at most 128 on one file, the fixtures at most 39.
pub const TEMPLATE_FUEL: u64 = 1_000_000;

/// The largest output of one rendered file.
pub const MAX_RENDERED_BYTES: usize = 4 * 1024 * 1024;

/// The most bytes loading and rendering one commit may read from its files and write in
/// renders, all files and renders together (`load::CommitBudget`).
pub const MAX_COMMIT_BYTES: u64 = 64 * 1024 * 1024;

/// The most YAML nodes (aliases expanded) the documents of one commit may hold together:
/// its workflows, `shoal.yml` and every rendered compose file.
pub const MAX_COMMIT_YAML_NODES: u64 = 2_000_000;

/// The most template fuel the renders of one commit may spend together.
pub const MAX_COMMIT_FUEL: u64 = 10_000_000;

/// How long loading and rendering one commit may take in `shoal serve`
/// (see [`crate::deadline::run_with_deadline`]).
pub const COMMIT_DEADLINE: Duration = Duration::from_secs(30);

/// The bounds on one connection to `shoal serve`'s HTTP API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpLimits {
    /// The largest webhook body (GitHub caps its payloads at 25 MB).
    pub max_webhook_body_bytes: usize,
    /// The largest registry notification, API call or other body: a registry sends a few
    /// events per request, each well under 2 KB.
    pub max_body_bytes: usize,
    /// The largest request head (request line and headers).
    pub max_header_bytes: usize,
    /// How long a client may take to send a request's head, from its first byte.
    pub header_read_timeout: Duration,
    /// How long a client may take to send a request's body.
    pub body_read_timeout: Duration,
    /// How long a connection may stay open, whatever it does: a log followed live
    /// (`/api/v1/runs/ID/logs`, `shoal dispatch --follow`) ends then too.
    pub connection_timeout: Duration,
}

impl Default for HttpLimits {
    fn default() -> HttpLimits {
        HttpLimits {
            max_webhook_body_bytes: 25 * 1024 * 1024,
            max_body_bytes: 1024 * 1024,
            max_header_bytes: 64 * 1024,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            connection_timeout: Duration::from_secs(3600),
        }
    }
}

/// A size in bytes as people say it: `1 MiB`, `64 KiB`, `100 bytes`.
pub fn describe_bytes(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * KIB;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}
