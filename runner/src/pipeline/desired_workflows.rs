//! From the chosen workflows to desired steps, and which of their fields depend on a
//! secret. The workflows are rendered with placeholders for secrets (`__secret_NAME__`),
//! which is what errors, warnings and the stacks to read come from; when they read a
//! secret, rendered again with other placeholders and (trusted) with the real values. A
//! field whose renders differ is sensitive: a plan never shows it.

use std::collections::BTreeSet;

use super::{PipelineError, RunInput, SecretPolicy};
use crate::plan::{DesiredStep, RunIdentity, SensitiveFields, compose_variables, desired_steps};
use crate::render::{RenderedWorkflow, SecretValues, render_workflow};
use crate::source::Diagnostics;
use crate::swarm::ServiceScope;

/// The chosen workflows as desired steps.
pub struct DesiredWorkflows {
    /// What is planned and applied: rendered with the real secret values when trusted,
    /// with placeholders when not.
    pub workflows: Vec<DesiredWorkflow>,
    /// The fields of the desired steps that depend on a secret.
    pub sensitive: SensitiveFields,
    /// The real values read (none when untrusted). Nothing shown is computed from them;
    /// they are still redacted from every line, in case an error message quotes one.
    pub secrets: SecretValues,
    /// Warnings found while converting (with placeholders): shown by every caller.
    pub warnings: Diagnostics,
    pub policy: SecretPolicy,
}

pub struct DesiredWorkflow {
    pub name: String,
    pub steps: Vec<DesiredStep>,
}

/// Renders and converts the workflows of `input`. Once the placeholder render has told
/// which stacks the workflows name, they are passed to `stacks_known`, so that the swarm
/// can be read while the rest renders.
pub fn desired_workflows(
    input: &RunInput<'_>,
    policy: SecretPolicy,
    stacks_known: impl FnOnce(ServiceScope),
) -> Result<DesiredWorkflows, PipelineError> {
    let names = input.environment.secrets.keys();
    let masked = SecretValues::masked(names);
    let shown = render(input, &masked).map_err(PipelineError::Render)?;
    // The placeholder render names the stacks the real one will. (A stack named after a
    // secret would not be among them; the planner then asks for every service.)
    stacks_known(ServiceScope::Stacks(
        shown
            .iter()
            .flat_map(|workflow| workflow.stacks().map(str::to_owned))
            .collect(),
    ));
    let used = masked.used();
    let (shown_steps, warnings) = convert(input, &shown).map_err(PipelineError::Convert)?;
    if used.is_empty() {
        // Nothing depends on a secret: every render would be this one.
        return Ok(DesiredWorkflows {
            workflows: shown_steps,
            sensitive: SensitiveFields::default(),
            secrets: SecretValues::default(),
            warnings,
            policy,
        });
    }
    let otherwise = SecretValues::masked_otherwise(input.environment.secrets.keys());
    let other = render(input, &otherwise).map_err(PipelineError::Render)?;
    let (other_steps, _) = convert(input, &other).map_err(PipelineError::Convert)?;
    let (mut workflows, secrets, compared) = match policy {
        SecretPolicy::Untrusted => (shown_steps, SecretValues::default(), vec![other_steps]),
        SecretPolicy::Trusted => {
            let secrets = read_secrets(input, &used)?;
            let real = render(input, &secrets)
                .map_err(|found| PipelineError::Render(hide_messages(found)))?;
            let (real_steps, _) = convert(input, &real)
                .map_err(|found| PipelineError::Convert(hide_messages(found)))?;
            (real_steps, secrets, vec![shown_steps, other_steps])
        }
    };
    let mut sensitive = SensitiveFields::default();
    for (index, workflow) in workflows.iter().enumerate() {
        let others: Vec<&[DesiredStep]> = compared
            .iter()
            .map(|variant| variant[index].steps.as_slice())
            .collect();
        sensitive.extend(SensitiveFields::between(&workflow.steps, &others));
    }
    if policy == SecretPolicy::Trusted {
        for workflow in &mut workflows {
            sensitive.label_services(&mut workflow.steps);
        }
    }
    Ok(DesiredWorkflows {
        workflows,
        sensitive,
        secrets,
        warnings,
        policy,
    })
}

/// Every workflow rendered with `secrets`; every problem of every workflow.
fn render(
    input: &RunInput<'_>,
    secrets: &SecretValues,
) -> Result<Vec<RenderedWorkflow>, Diagnostics> {
    let mut rendered = Vec::new();
    let mut problems = Diagnostics::default();
    for (workflow, inputs) in input.workflows {
        let context = input.context(inputs, secrets);
        match render_workflow(input.files, input.engine, workflow, &context) {
            Ok(result) => rendered.push(result),
            Err(found) => problems.extend(Diagnostics::for_environments(vec![(
                input.environment.name.clone(),
                found,
            )])),
        }
    }
    if problems.has_errors() {
        Err(problems)
    } else {
        Ok(rendered)
    }
}

/// Every rendered workflow as desired steps, with the warnings; on errors, every problem
/// (warnings included).
fn convert(
    input: &RunInput<'_>,
    rendered: &[RenderedWorkflow],
) -> Result<(Vec<DesiredWorkflow>, Diagnostics), Diagnostics> {
    let environment = input.environment;
    let variables = compose_variables(environment);
    let mut problems = Diagnostics::default();
    let mut desired = Vec::new();
    for ((workflow, _), rendered) in input.workflows.iter().zip(rendered) {
        let identity = RunIdentity {
            workflow: &workflow.name,
            environment: &environment.name,
            commit: input.commit,
        };
        match desired_steps(input.files, workflow, rendered, &identity, &variables) {
            Ok((steps, warnings)) => {
                problems.extend(warnings);
                desired.push(DesiredWorkflow {
                    name: workflow.name.clone(),
                    steps,
                });
            }
            Err(found) => problems.extend(found),
        }
    }
    if problems.has_errors() {
        Err(problems)
    } else {
        Ok((desired, problems))
    }
}

fn read_secrets(
    input: &RunInput<'_>,
    used: &BTreeSet<String>,
) -> Result<SecretValues, PipelineError> {
    crate::secret_source::read_secrets(input.secrets_folder, input.environment, used)
        .map_err(PipelineError::MissingSecrets)
}

/// Problems found only with the real secret values: their positions are shown, but not
/// their messages or source lines, which may quote a value made from a secret.
fn hide_messages(found: Diagnostics) -> Diagnostics {
    let mut hidden = Diagnostics::default();
    for diagnostic in found.sorted() {
        let mut diagnostic = diagnostic.clone();
        diagnostic.message = "this fails with the real values of the secrets, not with placeholders (the message is not shown: it may hold a secret)".to_owned();
        diagnostic.source_line = None;
        diagnostic.help = None;
        hidden.push(diagnostic);
    }
    hidden
}

#[cfg(test)]
#[path = "desired_workflows_tests.rs"]
mod tests;
