//! The dispatch form of a workflow, generated from its declared inputs (type, choices,
//! default, required, confirmation), and the inputs a submitted form gives. The values
//! are checked by the dispatcher as the API's are; its messages are shown beside the
//! field they name.

use serde::Serialize;

use crate::config::{Confirms, InputKind};
use crate::model::Workflow;

/// One field of the form.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FormField {
    pub name: String,
    /// `string`, `number`, `boolean` or `choice`.
    pub kind: &'static str,
    pub options: Vec<String>,
    /// The value shown: what was submitted, else the default.
    pub value: String,
    pub required: bool,
    pub description: Option<String>,
    /// Its value must be the environment's name, typed out.
    pub confirms_environment: bool,
    /// What the dispatcher said about this input.
    pub errors: Vec<String>,
}

/// The form of `workflow`, with `submitted` values (a refused form shown again) and the
/// dispatcher's `problems` sorted to the fields they name (`input `NAME``); the others are
/// returned apart.
pub fn form_fields(
    workflow: &Workflow,
    submitted: Option<&[(String, String)]>,
    problems: &[String],
) -> (Vec<FormField>, Vec<String>) {
    let mut general: Vec<String> = problems.to_vec();
    let declared = workflow.triggers.dispatch.as_ref();
    let fields = declared
        .into_iter()
        .flat_map(|d| d.inputs.iter())
        .map(|(name, declaration)| {
            let given = submitted.map(|values| {
                values
                    .iter()
                    .find(|(key, _)| key == &format!("input.{name}"))
                    .map(|(_, value)| value.clone())
                    .unwrap_or_default()
            });
            let default = declaration
                .default
                .as_ref()
                .map(|d| match &d.value {
                    serde_json::Value::String(text) => text.clone(),
                    other => other.to_string(),
                })
                .unwrap_or_default();
            let marker = format!("input `{name}`");
            let (errors, rest): (Vec<String>, Vec<String>) = general
                .drain(..)
                .partition(|problem| problem.contains(&marker));
            general = rest;
            FormField {
                name: name.clone(),
                kind: declaration.kind.name(),
                options: declaration.options.clone(),
                value: given.unwrap_or(default),
                required: declaration.required,
                description: declaration.description.clone(),
                confirms_environment: declaration.confirms == Some(Confirms::Environment),
                errors,
            }
        })
        .collect();
    (fields, general)
}

/// The input that confirms a manual run of `workflow` by the environment's name, if it has
/// one (a rollback passes it the name typed).
pub fn confirmation_input(workflow: &Workflow) -> Option<String> {
    workflow.triggers.dispatch.as_ref().and_then(|declared| {
        declared
            .inputs
            .iter()
            .find(|(_, input)| input.confirms == Some(Confirms::Environment))
            .map(|(name, _)| name.clone())
    })
}

/// The inputs a submitted form gives: each declared input's text (parsed as its type by
/// the dispatcher's checks); an unticked boolean is `false`, an empty optional field is
/// left to its default.
pub fn submitted_inputs(
    workflow: &Workflow,
    values: &[(String, String)],
) -> serde_json::Map<String, serde_json::Value> {
    let mut inputs = serde_json::Map::new();
    let Some(declared) = workflow.triggers.dispatch.as_ref() else {
        return inputs;
    };
    for (name, declaration) in &declared.inputs {
        let given = values
            .iter()
            .find(|(key, _)| key == &format!("input.{name}"))
            .map(|(_, value)| value.trim().to_owned());
        match (declaration.kind, given) {
            (InputKind::Boolean, None) => {
                inputs.insert(name.clone(), serde_json::Value::String("false".to_owned()));
            }
            (_, Some(text)) if !text.is_empty() => {
                inputs.insert(name.clone(), serde_json::Value::String(text));
            }
            _ => {}
        }
    }
    inputs
}
