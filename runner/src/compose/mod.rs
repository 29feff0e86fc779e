//! Compose files as `docker stack deploy` reads them: parsed with positions, interpolated
//! (`$VAR`), checked against docker's compose schema (version 3.0 to 3.13), with docker's
//! forbidden, unsupported and deprecated keys, and merged in order into a
//! [`ComposeConfig`]. Pure: files are read through [`LoadOptions::files`]. The conversion of
//! a `ComposeConfig` into Swarm specs is [`crate::convert`]'s.

mod compose_config;
mod compose_file;
mod env_file;
mod image_reference;
mod interpolation;
mod loader;
mod merge;
mod port_spec;
mod properties;
mod service_loader;
mod shell_words;
mod template;
mod units;
mod values;
mod version_check;
mod volume_spec;
mod yaml_scalar;

pub use compose_config::*;
pub use image_reference::image_with_tag;
pub use loader::{LoadOptions, load_compose};
