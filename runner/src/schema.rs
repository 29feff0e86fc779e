//! The JSON Schemas of `shoal.yml` and of workflow files, generated from the input types
//! and committed under `schemas/` for editors and for CI.

use schemars::generate::SchemaSettings;

use crate::config::{ShoalFile, WorkflowFile};

/// `(file name, schema text)` for each schema, as committed under `schemas/`.
pub fn schemas() -> Vec<(&'static str, String)> {
    let generator = || SchemaSettings::draft07().into_generator();
    let shoal = generator().into_root_schema_for::<ShoalFile>();
    let workflow = generator().into_root_schema_for::<WorkflowFile>();
    [
        ("shoal.schema.json", shoal),
        ("workflow.schema.json", workflow),
    ]
    .into_iter()
    .map(|(name, schema)| {
        let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
        text.push('\n');
        (name, text)
    })
    .collect()
}
