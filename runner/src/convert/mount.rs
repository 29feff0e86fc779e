//! A service's `volumes:` as Swarm mounts, following docker's `convert/volume.go`: named
//! volumes become `<stack>_<name>` (or their `name:`) with the stack's labels and driver,
//! bind and tmpfs mounts keep their options, and options of another mount type are errors.
//! The mount's `consistency` is not kept: Swarm has no such field and drops it.

use serde_json::{Map, Value, json};

use super::scoped;
use crate::compose::{ComposeConfig, ServiceVolumeConfig};
use crate::swarm::STACK_NAMESPACE;

/// The mount as the Engine API shows it, or why docker refuses it.
pub fn convert_mount(
    volume: &ServiceVolumeConfig,
    config: &ComposeConfig,
    stack: &str,
) -> Result<Value, String> {
    let incompatible = |options: &str| {
        Err(format!(
            "{options} options are incompatible with type {}",
            volume.kind
        ))
    };
    let mut mount = Map::new();
    mount.insert("Type".to_owned(), json!(volume.kind));
    mount.insert("Target".to_owned(), json!(volume.target));
    if volume.read_only {
        mount.insert("ReadOnly".to_owned(), json!(true));
    }
    match volume.kind.as_str() {
        "volume" => {
            if volume.tmpfs_size.is_some() {
                return incompatible("tmpfs");
            }
            if volume.bind_propagation.is_some() {
                return incompatible("bind");
            }
            if volume.source.is_empty() {
                return Ok(Value::Object(mount));
            }
            let Some(declared) = config.volumes.get(&volume.source) else {
                return Err(format!("undefined volume `{}`", volume.source));
            };
            let source = if declared.name.is_empty() {
                scoped(stack, &volume.source)
            } else {
                declared.name.clone()
            };
            mount.insert("Source".to_owned(), json!(source));
            let mut options = Map::new();
            if volume.volume_nocopy == Some(true) {
                options.insert("NoCopy".to_owned(), json!(true));
            }
            if !declared.external {
                let mut labels = declared.labels.clone();
                labels.insert(STACK_NAMESPACE.to_owned(), stack.to_owned());
                options.insert("Labels".to_owned(), json!(labels));
                if !declared.driver.is_empty() || declared.driver_opts.is_some() {
                    let mut driver = Map::new();
                    if !declared.driver.is_empty() {
                        driver.insert("Name".to_owned(), json!(declared.driver));
                    }
                    if let Some(driver_opts) =
                        declared.driver_opts.as_ref().filter(|o| !o.is_empty())
                    {
                        driver.insert("Options".to_owned(), json!(driver_opts));
                    }
                    options.insert("DriverConfig".to_owned(), Value::Object(driver));
                }
            }
            mount.insert("VolumeOptions".to_owned(), Value::Object(options));
        }
        "bind" | "npipe" => {
            if volume.volume_nocopy.is_some() {
                return incompatible("volume");
            }
            if volume.tmpfs_size.is_some() {
                return incompatible("tmpfs");
            }
            mount.insert("Source".to_owned(), json!(volume.source));
            if let Some(propagation) = volume.bind_propagation.as_ref().filter(|p| !p.is_empty()) {
                mount.insert(
                    "BindOptions".to_owned(),
                    json!({ "Propagation": propagation }),
                );
            }
        }
        "tmpfs" => {
            if !volume.source.is_empty() {
                return Err("a tmpfs mount takes no `source`".to_owned());
            }
            if volume.bind_propagation.is_some() {
                return incompatible("bind");
            }
            if volume.volume_nocopy.is_some() {
                return incompatible("volume");
            }
            if let Some(size) = volume.tmpfs_size {
                let mut options = Map::new();
                if size != 0 {
                    options.insert("SizeBytes".to_owned(), json!(size));
                }
                mount.insert("TmpfsOptions".to_owned(), Value::Object(options));
            }
        }
        other => return Err(format!("unknown volume type `{other}`")),
    }
    Ok(Value::Object(mount))
}
