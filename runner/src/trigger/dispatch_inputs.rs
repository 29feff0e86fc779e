//! The inputs of a manual run, checked against what the workflow declares before anything
//! runs: from the command line (text) or the dispatch API (JSON).

use serde_json::{Map, Value};

use crate::config::{Confirms, InputDeclaration, InputKind};
use crate::model::Workflow;

/// Parses `text` as a value of the input's declared type.
pub fn parse_input(
    name: &str,
    declaration: &InputDeclaration,
    text: &str,
) -> Result<Value, String> {
    let value = match declaration.kind {
        InputKind::String | InputKind::Choice => Value::String(text.to_owned()),
        InputKind::Boolean => match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => {
                return Err(format!(
                    "input `{name}` is a boolean: give true or false, not `{text}`"
                ));
            }
        },
        InputKind::Number => Value::Number(
            text.parse::<serde_json::Number>()
                .map_err(|_| format!("input `{name}` is a number, not `{text}`"))?,
        ),
    };
    check_input(name, declaration, &value)?;
    Ok(value)
}

/// The workflow's inputs: its defaults, overridden by `given`, every value checked for
/// its declared type and options, and every required input present.
pub fn resolve_inputs(
    workflow: &Workflow,
    given: &Map<String, Value>,
) -> Result<Map<String, Value>, Vec<String>> {
    let declared = workflow.triggers.dispatch.as_ref();
    let mut values = declared.map(|d| d.defaults()).unwrap_or_default();
    let mut problems = Vec::new();
    for (name, value) in given {
        match declared.and_then(|d| d.inputs.get(name)) {
            None => problems.push(undeclared(workflow, name)),
            // Text (from `shoal dispatch --input k=v`) is parsed as the declared type.
            Some(declaration) => match value {
                Value::String(text) => match parse_input(name, declaration, text) {
                    Ok(value) => {
                        values.insert(name.clone(), value);
                    }
                    Err(problem) => problems.push(problem),
                },
                _ => match check_input(name, declaration, value) {
                    Ok(()) => {
                        values.insert(name.clone(), value.clone());
                    }
                    Err(problem) => problems.push(problem),
                },
            },
        }
    }
    if let Some(declared) = declared {
        for (name, declaration) in &declared.inputs {
            if declaration.required && values.get(name).is_none_or(Value::is_null) {
                problems.push(format!("input `{name}` is required"));
            }
        }
    }
    if problems.is_empty() {
        Ok(values)
    } else {
        Err(problems)
    }
}

/// Why a run of `workflow` on `environments` with `inputs` is refused by a confirmation
/// input (`confirms: environment`): its value must be the name of the one environment
/// the run is for.
pub fn confirmation_problems(
    workflow: &Workflow,
    environments: &[String],
    inputs: &Map<String, Value>,
) -> Vec<String> {
    let Some(declared) = workflow.triggers.dispatch.as_ref() else {
        return Vec::new();
    };
    let mut problems = Vec::new();
    for (name, declaration) in &declared.inputs {
        if declaration.confirms != Some(Confirms::Environment) {
            continue;
        }
        let given = inputs.get(name).and_then(Value::as_str).unwrap_or_default();
        match environments {
            [environment] if environment == given => {}
            [environment] => problems.push(format!(
                "input `{name}` must be `{environment}`, the name of the environment this run \
                 is for, typed out; it is `{given}`"
            )),
            _ => problems.push(format!(
                "input `{name}` confirms one environment: run workflow `{}` on one \
                 environment at a time (--env), not on {}",
                workflow.name,
                if environments.is_empty() {
                    "all of its environments".to_owned()
                } else {
                    environments.join(", ")
                }
            )),
        }
    }
    problems
}

/// What to say about an input the workflow does not declare.
pub fn undeclared(workflow: &Workflow, input: &str) -> String {
    let names: Vec<&str> = workflow
        .triggers
        .dispatch
        .as_ref()
        .map(|d| d.inputs.keys().map(String::as_str).collect())
        .unwrap_or_default();
    if names.is_empty() {
        format!(
            "workflow `{}` has no input `{input}`; it takes no inputs",
            workflow.name
        )
    } else {
        format!(
            "workflow `{}` has no input `{input}`; its inputs are: {}",
            workflow.name,
            names.join(", ")
        )
    }
}

fn check_input(name: &str, declaration: &InputDeclaration, value: &Value) -> Result<(), String> {
    let fits = match declaration.kind {
        InputKind::String => value.is_string(),
        InputKind::Boolean => value.is_boolean(),
        InputKind::Number => value.is_number(),
        InputKind::Choice => value
            .as_str()
            .is_some_and(|text| declaration.options.iter().any(|o| o == text)),
    };
    if fits {
        return Ok(());
    }
    Err(match declaration.kind {
        InputKind::Choice => format!(
            "input `{name}` must be one of {}, not {value}",
            declaration.options.join(", ")
        ),
        kind => format!("input `{name}` must be a {}, not {value}", kind.name()),
    })
}
