//! Configs and secrets: every one the compose files declare (used or not, as docker
//! creates them all) becomes an [`ObjectSpec`] with a content-hashed name; external ones
//! are only referenced, and must exist already.

use std::collections::BTreeMap;

use super::{ConvertOptions, object_labels, scoped};
use crate::compose::{ComposeConfig, FileObjectConfig};
use crate::source::{Diagnostic, Diagnostics, SourceFile};
use crate::swarm::{CONTENT_HASH, ExternalReferences, OBJECT_NAME, ObjectKind, ObjectSpec};

/// The objects to create, and the Swarm name each compose key stands for.
pub struct Objects {
    /// Sorted by name.
    pub specs: Vec<ObjectSpec>,
    pub config_names: BTreeMap<String, String>,
    pub secret_names: BTreeMap<String, String>,
    /// External configs and secrets that services use (networks are added later).
    pub external: ExternalReferences,
}

pub fn convert_objects(
    files: &[SourceFile],
    config: &ComposeConfig,
    options: &ConvertOptions<'_>,
    diagnostics: &mut Diagnostics,
) -> Objects {
    let mut objects = Objects {
        specs: Vec::new(),
        config_names: BTreeMap::new(),
        secret_names: BTreeMap::new(),
        external: ExternalReferences::default(),
    };
    for (kind, declared) in [
        (ObjectKind::Config, &config.configs),
        (ObjectKind::Secret, &config.secrets),
    ] {
        for (key, object) in declared {
            let name = if object.external {
                object.name.clone()
            } else {
                match object_spec(files, kind, key, object, options, diagnostics) {
                    Some(spec) => {
                        let name = spec.name.clone();
                        objects.specs.push(spec);
                        name
                    }
                    None => continue,
                }
            };
            let names = match kind {
                ObjectKind::Config => &mut objects.config_names,
                ObjectKind::Secret => &mut objects.secret_names,
            };
            names.insert(key.clone(), name);
        }
    }
    for service in &config.services {
        for reference in &service.configs {
            if let Some(object) = config.configs.get(&reference.source)
                && object.external
            {
                objects.external.configs.push(object.name.clone());
            }
        }
        for reference in &service.secrets {
            if let Some(object) = config.secrets.get(&reference.source)
                && object.external
            {
                objects.external.secrets.push(object.name.clone());
            }
        }
    }
    for names in [&mut objects.external.configs, &mut objects.external.secrets] {
        names.sort();
        names.dedup();
    }
    objects
        .specs
        .sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    objects
}

fn object_spec(
    files: &[SourceFile],
    kind: ObjectKind,
    key: &str,
    object: &FileObjectConfig,
    options: &ConvertOptions<'_>,
    diagnostics: &mut Diagnostics,
) -> Option<ObjectSpec> {
    let file = object.file.as_ref()?;
    let Some(data) = (options.files)(&file.value) else {
        diagnostics.push(Diagnostic::error(
            &files[file.origin.file],
            file.origin.span,
            format!("file `{}` not found", file.value),
        ));
        return None;
    };
    let base = if object.name.is_empty() {
        scoped(options.stack, key)
    } else {
        object.name.clone()
    };
    let mut labels = object_labels(&object.labels, options);
    labels.insert(OBJECT_NAME.to_owned(), base.clone());
    labels.insert(CONTENT_HASH.to_owned(), ObjectSpec::content_hash(&data));
    Some(ObjectSpec {
        kind,
        name: ObjectSpec::hashed_name(&base, &data),
        labels,
        data,
    })
}
