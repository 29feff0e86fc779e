//! The object a `config` or `secret` step wants: its content, named with its hash, and
//! labelled with its logical name, its hash and the run.

use super::ConfigStep;
use crate::plan::DesiredContext;
use crate::render::RenderedStep;
use crate::swarm::{CONTENT_HASH, OBJECT_NAME, ObjectKind, ObjectSpec};

pub fn desired(
    config: &ConfigStep,
    kind: ObjectKind,
    rendered: &RenderedStep,
    context: &DesiredContext<'_>,
) -> ObjectSpec {
    let object = rendered.object.clone().unwrap_or_default();
    let data = rendered
        .files
        .first()
        .map(|file| file.content.as_bytes().to_vec())
        .unwrap_or_default();
    let mut object_labels = config.labels.clone();
    object_labels.extend(context.labels.clone());
    object_labels.insert(OBJECT_NAME.to_owned(), object.clone());
    object_labels.insert(CONTENT_HASH.to_owned(), ObjectSpec::content_hash(&data));
    ObjectSpec {
        kind,
        name: ObjectSpec::hashed_name(&object, &data),
        labels: object_labels,
        data,
    }
}
