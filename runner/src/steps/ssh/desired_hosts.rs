//! What an `ssh` step wants on its hosts, once rendered: the planner's and the applier's
//! input.

use std::collections::BTreeSet;
use std::time::Duration;

use super::{RenderedHost, SshStep};

#[derive(Debug, Clone, PartialEq)]
pub struct DesiredHosts {
    pub hosts: Vec<RenderedHost>,
    pub become_user: Option<String>,
    pub parallel: usize,
    pub batch: Option<usize>,
    pub rollback_if_unreachable: Option<Duration>,
    /// The step's `timeout`: how long each host may take.
    pub timeout: Option<Duration>,
    /// The keys of the files and commands that depend on a secret ([`file_key`],
    /// [`command_key`]), once the run has compared its renders: such a command is logged
    /// and named in errors as `(sensitive)`.
    pub sensitive: BTreeSet<String>,
}

impl DesiredHosts {
    pub fn new(step: &SshStep, hosts: Vec<RenderedHost>) -> DesiredHosts {
        DesiredHosts {
            hosts,
            become_user: step.become_user.clone(),
            parallel: step.parallel,
            batch: step.batch,
            rollback_if_unreachable: step.rollback_if_unreachable,
            timeout: None,
            sensitive: BTreeSet::new(),
        }
    }

    /// How a command is shown: as written, or `(sensitive)`.
    pub fn shown_command<'a>(
        &self,
        login: &str,
        list: &str,
        index: usize,
        run: &'a str,
    ) -> &'a str {
        if self.sensitive.contains(&command_key(login, list, index)) {
            crate::plan::Concealment::Sensitive.text()
        } else {
            run
        }
    }

    /// Adds to `sensitive` the keys ([`file_key`], [`command_key`]) of what differs
    /// between `self` and `other`, the same step rendered with other values for the
    /// secrets: their content depends on a secret.
    pub fn sensitive_between(&self, other: &DesiredHosts, sensitive: &mut BTreeSet<String>) {
        for (host, other_host) in self.hosts.iter().zip(&other.hosts) {
            let login = host.target.login();
            for (file, other_file) in host.files.iter().zip(&other_host.files) {
                if file.content != other_file.content || file.dest != other_file.dest {
                    sensitive.insert(file_key(&login, &file.dest));
                }
            }
            let commands = host.commands.iter().zip(&other_host.commands);
            for (index, (command, other_command)) in commands.enumerate() {
                if command.run != other_command.run || command.unless != other_command.unless {
                    sensitive.insert(command_key(&login, "commands", index));
                }
            }
            let handlers = host.on_change.iter().zip(&other_host.on_change);
            for (index, (run, other_run)) in handlers.enumerate() {
                if run != other_run {
                    sensitive.insert(command_key(&login, "on_change", index));
                }
            }
        }
    }
}

/// What the rendered `step` wants on its hosts.
pub fn desired(step: &SshStep, rendered: &crate::render::RenderedStep) -> DesiredHosts {
    DesiredHosts::new(step, rendered.hosts.clone())
}

/// The key of a host's file among the sensitive values.
pub fn file_key(login: &str, dest: &str) -> String {
    format!("host {login} file {dest}")
}

/// The key of a host's command (`commands` or `on_change`, by position).
pub fn command_key(login: &str, list: &str, index: usize) -> String {
    format!("host {login} {list} {index}")
}
