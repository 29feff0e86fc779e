//! The networks a stack creates, as docker's `convert.Networks` decides them: only those
//! some service uses (`default` for a service that lists none), named `<stack>_<name>`
//! unless `name:` says otherwise, with the `overlay` driver unless another is given.
//! External networks are only referenced, and must exist already.

use std::collections::BTreeSet;

use super::{ConvertOptions, object_labels, scoped};
use crate::compose::{ComposeConfig, NetworkConfig};
use crate::swarm::{IpamConfig, NetworkSpec};

/// The name docker gives the network of services that list none.
pub const DEFAULT_NETWORK: &str = "default";

/// The networks to create (sorted by name) and the external networks services use.
pub fn convert_networks(
    config: &ComposeConfig,
    options: &ConvertOptions<'_>,
) -> (Vec<NetworkSpec>, Vec<String>) {
    let used: BTreeSet<&str> = config
        .services
        .iter()
        .flat_map(|service| -> Vec<&str> {
            if service.networks.is_empty() {
                vec![DEFAULT_NETWORK]
            } else {
                service.networks.keys().map(String::as_str).collect()
            }
        })
        .collect();
    let mut networks = Vec::new();
    let mut external = Vec::new();
    for key in used {
        let declared = config.networks.get(key);
        if let Some(network) = declared
            && network.external
        {
            if is_user_defined(&network.name) {
                external.push(network.name.clone());
            }
            continue;
        }
        networks.push(network_spec(key, declared, options));
    }
    networks.sort_by(|a, b| a.name.cmp(&b.name));
    external.sort();
    external.dedup();
    (networks, external)
}

/// The Swarm name a service's network entry refers to.
pub fn network_name(key: &str, declared: Option<&NetworkConfig>, stack: &str) -> String {
    match declared {
        Some(network) if !network.name.is_empty() => network.name.clone(),
        _ => scoped(stack, key),
    }
}

/// Docker's `NetworkMode.IsUserDefined`: the node-local networks every node has are not.
pub fn is_user_defined(name: &str) -> bool {
    !matches!(name, "default" | "bridge" | "host" | "none") && !name.starts_with("container:")
}

fn network_spec(
    key: &str,
    declared: Option<&NetworkConfig>,
    options: &ConvertOptions<'_>,
) -> NetworkSpec {
    let name = network_name(key, declared, options.stack);
    let Some(network) = declared else {
        return NetworkSpec {
            name,
            driver: "overlay".to_owned(),
            attachable: false,
            internal: false,
            labels: object_labels(&Default::default(), options),
            options: Default::default(),
            ipam: None,
        };
    };
    let ipam =
        (!network.ipam_driver.is_empty() || !network.ipam_subnets.is_empty()).then(|| IpamConfig {
            driver: network.ipam_driver.clone(),
            config: network
                .ipam_subnets
                .iter()
                .map(|subnet| [("Subnet".to_owned(), subnet.clone())].into())
                .collect(),
        });
    NetworkSpec {
        name,
        driver: if network.driver.is_empty() {
            "overlay".to_owned()
        } else {
            network.driver.clone()
        },
        attachable: network.attachable,
        internal: network.internal,
        labels: object_labels(&network.labels, options),
        options: network.driver_opts.clone(),
        ipam,
    }
}
