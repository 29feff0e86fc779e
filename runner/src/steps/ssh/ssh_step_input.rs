//! `ssh:` as written in a workflow: the hosts, the files to put on them, the commands to
//! run and the commands that follow a change.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::yaml::Spanned;

/// `ssh:` puts files on hosts and runs commands there, over SSH.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SshStepInput {
    /// Host groups of the environment's `hosts`, or hosts (`address`, `user@address:port`).
    pub hosts: Vec<Spanned<String>>,
    /// Run commands and write files as this user, through `sudo -n`; the login user when
    /// absent.
    #[serde(rename = "become", default)]
    pub become_user: Option<Spanned<String>>,
    /// How many hosts are worked on at once (default 10).
    #[serde(default)]
    pub parallel: Option<Spanned<usize>>,
    /// Rolling batches of this many hosts; a failed batch stops the rest.
    #[serde(default)]
    pub batch: Option<Spanned<usize>>,
    /// Files rendered per host and written where they differ.
    #[serde(default)]
    pub files: Vec<HostFileInput>,
    /// Commands run in order, after the files.
    #[serde(default)]
    pub commands: Vec<HostCommandInput>,
    /// Commands run once per host, after the commands, only when a file changed there.
    #[serde(default)]
    pub on_change: Vec<Spanned<String>>,
    /// Arm a timer on each host before `on_change` that restores the previous files and
    /// runs `on_change` again unless shoal can log in again afterwards, e.g. `60s`.
    #[serde(default)]
    pub rollback_if_unreachable: Option<Spanned<String>>,
}

/// A file to put on each host.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HostFileInput {
    /// A template, relative to the repo root, rendered for each host (`host` in the context).
    pub src: Spanned<String>,
    /// The absolute path on the host.
    pub dest: Spanned<String>,
    /// Octal permission bits, e.g. `"0644"`.
    #[serde(default)]
    pub mode: Option<Spanned<String>>,
    #[serde(default)]
    pub owner: Option<Spanned<String>>,
    #[serde(default)]
    pub group: Option<Spanned<String>>,
}

/// A command: a shell string run by the login shell.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HostCommandInput {
    pub run: Spanned<String>,
    /// A read-only check run first (by `plan` too): exit 0 means already done, and `run`
    /// is not run.
    #[serde(default)]
    pub unless: Option<Spanned<String>>,
    /// Environment variables of `run` and `unless` (templates; secrets allowed: their
    /// values are never shown or logged).
    #[serde(default)]
    pub env: IndexMap<String, Spanned<String>>,
}
