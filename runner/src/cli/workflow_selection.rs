//! Which workflows a command works on for an environment, and the inputs each gets.

use anyhow::Context as _;

use crate::model::{ConfigRepo, Workflow};
use crate::trigger::{confirmation_problems, parse_input, undeclared};

/// A workflow with its input values.
pub type SelectedWorkflow<'a> = (&'a Workflow, serde_json::Map<String, serde_json::Value>);

/// The workflows to render, each with its inputs. Without `--workflow`, every workflow
/// that targets the environment, each taking the `--input`s it declares; a workflow with
/// a required input that is not given is left out, with a note, and so is one that runs on
/// registry pushes only when there is `without_pushed_image` (`plan`, `apply`).
pub fn select_workflows<'a>(
    repo: &'a ConfigRepo,
    environment: &str,
    workflow: Option<&str>,
    input_arguments: &[String],
    without_pushed_image: bool,
) -> anyhow::Result<Vec<SelectedWorkflow<'a>>> {
    let arguments = parse_input_arguments(input_arguments)?;
    if let Some(name) = workflow {
        let workflow = repo.workflow(name).with_context(|| {
            let names: Vec<&str> = repo.workflows.iter().map(|w| w.name.as_str()).collect();
            format!(
                "unknown workflow `{name}`; the repo has {}",
                names.join(", ")
            )
        })?;
        anyhow::ensure!(
            workflow.environments.iter().any(|e| e == environment),
            "workflow `{}` does not target environment `{}`; it targets {}",
            workflow.name,
            environment,
            workflow.environments.join(", ")
        );
        for (input, _) in &arguments {
            anyhow::ensure!(declares(workflow, input), "{}", undeclared(workflow, input));
        }
        let inputs = inputs(workflow, &arguments)?;
        if let Some(missing) = missing_required(workflow, &inputs) {
            anyhow::bail!("input `{missing}` is required: pass --input {missing}=VALUE");
        }
        let refused = confirmation_problems(workflow, &[environment.to_owned()], &inputs);
        anyhow::ensure!(refused.is_empty(), "{}", refused.join("\n"));
        return Ok(vec![(workflow, inputs)]);
    }
    let candidates: Vec<&Workflow> = repo
        .workflows
        .iter()
        .filter(|w| w.environments.iter().any(|e| e == environment))
        .collect();
    anyhow::ensure!(
        !candidates.is_empty(),
        "no workflow targets environment `{}`",
        environment
    );
    for (input, _) in &arguments {
        anyhow::ensure!(
            candidates.iter().any(|workflow| declares(workflow, input)),
            "no workflow for environment `{}` has an input `{input}`",
            environment
        );
    }
    let mut selected = Vec::new();
    for workflow in candidates {
        if without_pushed_image && runs_on_registry_pushes_only(workflow) {
            eprintln!(
                "note: workflow `{}` not rendered: it runs on registry pushes only, for the image pushed (`shoal serve`); plan it with --workflow {}",
                workflow.name, workflow.name
            );
            continue;
        }
        let own: Vec<(String, String)> = arguments
            .iter()
            .filter(|(name, _)| declares(workflow, name))
            .cloned()
            .collect();
        let inputs = inputs(workflow, &own)?;
        match missing_required(workflow, &inputs) {
            Some(missing) => eprintln!(
                "note: workflow `{}` not rendered: its input `{missing}` is required (pass --workflow {} --input {missing}=VALUE)",
                workflow.name, workflow.name
            ),
            None => selected.push((workflow, inputs)),
        }
    }
    anyhow::ensure!(
        !selected.is_empty(),
        "no workflow for environment `{}` runs as it is: each needs inputs (pass them with --input) or a pushed image (name it with --workflow)",
        environment
    );
    Ok(selected)
}

/// A workflow whose only trigger is `registry_push`: without a pushed image
/// (`trigger.image`) it has nothing to do.
fn runs_on_registry_pushes_only(workflow: &Workflow) -> bool {
    let triggers = &workflow.triggers;
    !triggers.registry_push.is_empty()
        && triggers.push.is_none()
        && triggers.pull_request.is_none()
        && triggers.schedules.is_empty()
        && triggers.dispatch.is_none()
}

fn parse_input_arguments(arguments: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    arguments
        .iter()
        .map(|argument| {
            argument
                .split_once('=')
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .with_context(|| format!("--input `{argument}` is not NAME=VALUE"))
        })
        .collect()
}

fn declares(workflow: &Workflow, input: &str) -> bool {
    workflow
        .triggers
        .dispatch
        .as_ref()
        .is_some_and(|d| d.inputs.contains_key(input))
}

fn missing_required<'a>(
    workflow: &'a Workflow,
    values: &serde_json::Map<String, serde_json::Value>,
) -> Option<&'a str> {
    let declared = workflow.triggers.dispatch.as_ref()?;
    declared
        .inputs
        .iter()
        .find(|(name, declaration)| {
            declaration.required && values.get(*name).is_none_or(serde_json::Value::is_null)
        })
        .map(|(name, _)| name.as_str())
}

/// The workflow's input defaults, overridden by `NAME=VALUE` arguments checked against
/// the declared types.
/// The workflow's inputs: defaults overridden by `NAME=VALUE` arguments, each parsed as
/// its declared type.
fn inputs(
    workflow: &Workflow,
    arguments: &[(String, String)],
) -> anyhow::Result<serde_json::Map<String, serde_json::Value>> {
    let declared = workflow.triggers.dispatch.as_ref();
    let mut values = declared.map(|d| d.defaults()).unwrap_or_default();
    for (name, text) in arguments {
        let declaration = declared
            .and_then(|d| d.inputs.get(name))
            .with_context(|| undeclared(workflow, name))?;
        let value = parse_input(name, declaration, text).map_err(anyhow::Error::msg)?;
        values.insert(name.clone(), value);
    }
    Ok(values)
}
