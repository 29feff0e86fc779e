//! From a rendered workflow to what each step wants on the swarm, as each kind builds it
//! (`steps/<kind>/desired.rs`). Pure: the rendered files are values, and the repo is
//! read through `RepoFiles`.

use std::collections::BTreeMap;

use super::DesiredStep;
use crate::load::RepoFiles;
use crate::model::Workflow;
use crate::render::{CommitInfo, RenderedWorkflow};
use crate::source::Diagnostics;
use crate::steps::Desired;
use crate::swarm::{APPLIED_COMMIT, APPLIED_ENVIRONMENT, APPLIED_WORKFLOW};

/// What one run is: which workflow, for which environment, from which commit.
pub struct RunIdentity<'a> {
    pub workflow: &'a str,
    pub environment: &'a str,
    pub commit: &'a CommitInfo,
}

impl RunIdentity<'_> {
    /// The labels every object shoal creates carries, so that the last applied commit can
    /// be read back from the swarm alone.
    pub fn labels(&self) -> BTreeMap<String, String> {
        let mut labels = BTreeMap::from([
            (APPLIED_WORKFLOW.to_owned(), self.workflow.to_owned()),
            (APPLIED_ENVIRONMENT.to_owned(), self.environment.to_owned()),
        ]);
        if !self.commit.sha.is_empty() {
            labels.insert(APPLIED_COMMIT.to_owned(), self.commit.sha.clone());
        }
        labels
    }
}

/// The desired state of every step. `variables` are what `$VAR` in compose files expand to.
pub fn desired_steps(
    files: &dyn RepoFiles,
    workflow: &Workflow,
    rendered: &RenderedWorkflow,
    identity: &RunIdentity<'_>,
    variables: &BTreeMap<String, String>,
) -> Result<(Vec<DesiredStep>, Diagnostics), Diagnostics> {
    let labels = identity.labels();
    let context = DesiredContext {
        files,
        labels: &labels,
        variables,
    };
    let mut diagnostics = Diagnostics::default();
    let mut warnings = Diagnostics::default();
    let mut steps = Vec::new();
    for (step, rendered_step) in workflow.steps.iter().zip(&rendered.steps) {
        let desired = if rendered_step.skipped {
            Desired::Nothing
        } else {
            match step.kind.desired(rendered_step, &context) {
                Ok((desired, found)) => {
                    warnings.extend(found);
                    desired
                }
                Err(found) => {
                    diagnostics.extend(found);
                    Desired::Nothing
                }
            }
        };
        steps.push(DesiredStep {
            name: step.name.clone(),
            kind: step.kind.name(),
            skipped: rendered_step.skipped,
            timeout: step.timeout,
            continue_on_error: step.continue_on_error,
            desired,
        });
    }
    if diagnostics.has_errors() {
        Err(diagnostics)
    } else {
        Ok((steps, warnings))
    }
}

/// What a step kind builds its desired state from, besides its rendered step.
pub struct DesiredContext<'a> {
    /// The repo's files, for those a compose file references and that were not rendered.
    pub files: &'a dyn RepoFiles,
    /// The labels of every object shoal creates ([`RunIdentity::labels`]).
    pub labels: &'a BTreeMap<String, String>,
    /// What `$VAR` in compose files expands to.
    pub variables: &'a BTreeMap<String, String>,
}

/// What `$VAR` in a compose file expands to: the environment's top-level scalar `vars`.
/// Not the process environment, so that what is applied depends on the repo alone.
pub fn compose_variables(environment: &crate::model::Environment) -> BTreeMap<String, String> {
    environment
        .vars
        .iter()
        .filter_map(|(key, value)| {
            let text = match value {
                serde_json::Value::String(text) => text.clone(),
                serde_json::Value::Number(number) => number.to_string(),
                serde_json::Value::Bool(flag) => flag.to_string(),
                _ => return None,
            };
            Some((key.clone(), text))
        })
        .collect()
}
