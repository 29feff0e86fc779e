//! The load-time checks of a `network` step.

use super::{NetworkInput, NetworkStep};
use crate::load::WorkflowChecker;
use crate::source::Diagnostics;

pub fn check(
    network: NetworkInput,
    checker: &WorkflowChecker<'_>,
    diagnostics: &mut Diagnostics,
) -> NetworkStep {
    checker.object_name(&network.name, diagnostics);
    if let Some(subnet) = &network.subnet
        && !is_cidr(&subnet.value)
    {
        diagnostics.push(checker.error(
            subnet.span,
            format!(
                "invalid subnet `{}`: expected CIDR notation such as 10.10.0.0/16",
                subnet.value
            ),
        ));
    }
    NetworkStep {
        name: network.name.value,
        driver: network.driver,
        attachable: network.attachable,
        internal: network.internal,
        encrypted: network.encrypted,
        subnet: network.subnet.map(|s| s.value),
        labels: network.labels,
    }
}

fn is_cidr(text: &str) -> bool {
    let Some((address, prefix)) = text.split_once('/') else {
        return false;
    };
    let Ok(prefix) = prefix.parse::<u8>() else {
        return false;
    };
    match address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => prefix <= 32,
        Ok(std::net::IpAddr::V6(_)) => prefix <= 128,
        Err(_) => false,
    }
}
