//! An environment's `hosts` groups, checked: each host parsed (`user@address:port` or a
//! map), the `ssh` block's user and port filled in, every problem at its position.

use indexmap::IndexMap;

use crate::config::{EnvironmentInput, HostEntryInput};
use crate::hosts::HostTarget;
use crate::load::Document;
use crate::source::Diagnostics;

/// How long connecting to one host may take when `ssh.connect_timeout` does not say.
pub const DEFAULT_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The environment's host groups: their addresses (for templates) and their hosts.
pub fn host_inventory(
    document: &Document,
    input: &EnvironmentInput,
    diagnostics: &mut Diagnostics,
) -> (
    IndexMap<String, Vec<String>>,
    IndexMap<String, Vec<HostTarget>>,
) {
    let ssh = input.ssh.clone().unwrap_or_default();
    if let Some(timeout) = &ssh.connect_timeout {
        match humantime::parse_duration(&timeout.value) {
            Ok(duration) if !duration.is_zero() => {}
            _ => diagnostics.push(document.error(
                timeout.span,
                format!(
                    "invalid duration `{}`: expected e.g. `10s` or `1m`, longer than zero",
                    timeout.value
                ),
            )),
        }
    }
    if let Some(port) = &ssh.port
        && port.value == 0
    {
        diagnostics.push(document.error(port.span, "port 0 cannot be connected to"));
    }
    let user = ssh.user.clone().unwrap_or_default();
    let port = ssh.port.as_ref().map_or(22, |port| port.value);
    let mut addresses = IndexMap::new();
    let mut groups = IndexMap::new();
    for (group, entries) in &input.hosts {
        let mut targets = Vec::new();
        for entry in entries {
            let target = match entry {
                HostEntryInput::Address(text) => {
                    match HostTarget::parse(&text.value, &user, port) {
                        Ok(target) => target,
                        Err(problem) => {
                            diagnostics.push(document.error(text.span, problem));
                            continue;
                        }
                    }
                }
                HostEntryInput::Host(host) => {
                    let given_user = host.user.as_deref().unwrap_or(&user);
                    let mut target = match HostTarget::parse(
                        &host.address.value,
                        given_user,
                        host.port.unwrap_or(port),
                    ) {
                        Ok(target) => target,
                        Err(problem) => {
                            diagnostics.push(document.error(host.address.span, problem));
                            continue;
                        }
                    };
                    if host.address.value.contains('@') || host.address.value.contains("]:") {
                        diagnostics.push(document.error(
                            host.address.span,
                            "in a map, give the user and port as `user` and `port`, not in \
                             `address`",
                        ));
                    }
                    if let Some(name) = &host.name {
                        target.name = name.clone();
                    }
                    target.vars = host.vars.clone();
                    target
                }
            };
            targets.push(target);
        }
        addresses.insert(
            group.clone(),
            targets
                .iter()
                .map(|target| target.address.clone())
                .collect(),
        );
        groups.insert(group.clone(), targets);
    }
    (addresses, groups)
}
