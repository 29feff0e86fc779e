//! Load-time checks of a `swarm` step: at least one manager, addresses and durations that
//! parse, values Docker takes.

use super::{DEFAULT_LISTEN_ADDR, SwarmInput, SwarmSettings, SwarmStep};
use crate::load::WorkflowChecker;
use crate::source::Diagnostics;
use crate::yaml::{Node, Spanned};

/// The shortest node certificate Docker issues.
const SHORTEST_CERT_EXPIRY: std::time::Duration = std::time::Duration::from_secs(3600);

pub fn check(
    input: SwarmInput,
    node: &Node,
    checker: &WorkflowChecker<'_>,
    diagnostics: &mut Diagnostics,
) -> SwarmStep {
    let kind_span = node.entry("swarm").map_or(node.span, |(key, _)| key.span);
    if input.managers.is_empty() {
        diagnostics.push(checker.error(
            kind_span,
            "`swarm` needs at least one manager: `managers: [GROUP]`",
        ));
    }
    for entry in input.managers.iter().chain(&input.workers) {
        checker.template_syntax(entry, "hosts", diagnostics);
    }
    for template in [&input.advertise_addr, &input.listen_addr]
        .into_iter()
        .flatten()
    {
        checker.template_syntax(template, "advertise_addr", diagnostics);
    }
    if let Some(pools) = &input.default_addr_pool {
        for pool in pools {
            if !is_ipv4_subnet(&pool.value) {
                diagnostics.push(checker.error(
                    pool.span,
                    format!(
                        "`{}` is not a subnet: write it as ADDRESS/PREFIX, e.g. 10.20.0.0/16",
                        pool.value
                    ),
                ));
            }
        }
    }
    if let Some(size) = &input.subnet_size
        && !(1..=29).contains(&size.value)
    {
        diagnostics.push(checker.error(
            size.span,
            format!(
                "`subnet_size` {} is out of range: give a prefix length from 1 to 29",
                size.value
            ),
        ));
    }
    if let Some(port) = &input.data_path_port
        && !(1024..=49151).contains(&port.value)
    {
        diagnostics.push(checker.error(
            port.span,
            format!(
                "`data_path_port` {} is out of range: Docker takes 1024 to 49151",
                port.value
            ),
        ));
    }
    if let Some(limit) = &input.task_history_limit
        && limit.value < 0
    {
        diagnostics.push(checker.error(limit.span, "`task_history_limit` cannot be negative"));
    }
    let duration = |text: &Option<Spanned<String>>, diagnostics: &mut Diagnostics| {
        text.as_ref()
            .and_then(|text| checker.duration(text, diagnostics))
    };
    let dispatcher_heartbeat = duration(&input.dispatcher_heartbeat, diagnostics);
    let cert_expiry = duration(&input.cert_expiry, diagnostics);
    if let (Some(expiry), Some(text)) = (cert_expiry, &input.cert_expiry)
        && expiry < SHORTEST_CERT_EXPIRY
    {
        diagnostics.push(checker.error(
            text.span,
            format!(
                "`cert_expiry` {} is shorter than Docker's shortest, 1h",
                text.value
            ),
        ));
    }
    SwarmStep {
        managers: input.managers.into_iter().map(|m| m.value).collect(),
        workers: input.workers.into_iter().map(|w| w.value).collect(),
        advertise_addr: input.advertise_addr.map(|a| a.value),
        listen_addr: input
            .listen_addr
            .map_or_else(|| DEFAULT_LISTEN_ADDR.to_owned(), |l| l.value),
        settings: SwarmSettings {
            default_addr_pool: input
                .default_addr_pool
                .map(|pools| pools.into_iter().map(|p| p.value).collect()),
            subnet_size: input.subnet_size.map(|s| s.value),
            data_path_port: input.data_path_port.map(|p| p.value),
            task_history_limit: input.task_history_limit.map(|l| l.value),
            dispatcher_heartbeat,
            cert_expiry,
            autolock: input.autolock,
        },
        remove_missing: input.remove_missing,
    }
}

fn is_ipv4_subnet(text: &str) -> bool {
    let Some((address, prefix)) = text.split_once('/') else {
        return false;
    };
    address.parse::<std::net::Ipv4Addr>().is_ok()
        && prefix.parse::<u8>().is_ok_and(|prefix| prefix <= 32)
}
