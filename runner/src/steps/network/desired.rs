//! The network a `network` step wants: its options, and the labels of the run.

use std::collections::BTreeMap;

use super::NetworkStep;
use crate::plan::DesiredContext;
use crate::render::RenderedStep;
use crate::swarm::{IpamConfig, NetworkSpec};

pub fn desired(
    network: &NetworkStep,
    rendered: &RenderedStep,
    context: &DesiredContext<'_>,
) -> NetworkSpec {
    let object = rendered.object.clone().unwrap_or_default();
    let mut network_labels = network.labels.clone();
    network_labels.extend(context.labels.clone());
    let mut options = BTreeMap::new();
    if network.encrypted {
        options.insert("encrypted".to_owned(), String::new());
    }
    NetworkSpec {
        name: object,
        driver: network.driver.clone(),
        attachable: network.attachable,
        internal: network.internal,
        labels: network_labels,
        options,
        ipam: network.subnet.as_ref().map(|subnet| IpamConfig {
            driver: "default".to_owned(),
            config: vec![BTreeMap::from([("Subnet".to_owned(), subnet.clone())])],
        }),
    }
}
