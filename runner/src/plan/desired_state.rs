//! From a rendered workflow to what each step wants on the swarm: compose files converted
//! into a stack spec, `network`, `config` and `secret` steps into specs of their own.
//! Pure: the rendered files are values, and the repo is read through `RepoFiles`.

use std::collections::BTreeMap;

use super::{Desired, DesiredStack, DesiredStep, WaitTarget};
use crate::config::OnFailure;
use crate::convert::{ComposeSource, ConvertOptions, convert_stack};
use crate::load::RepoFiles;
use crate::model::{Step, StepKind, Workflow};
use crate::render::{CommitInfo, FileRole, RenderedStep, RenderedWorkflow};
use crate::source::Diagnostics;
use crate::swarm::{
    APPLIED_COMMIT, APPLIED_ENVIRONMENT, APPLIED_WORKFLOW, CONTENT_HASH, IpamConfig, NetworkSpec,
    OBJECT_NAME, ObjectKind, ObjectSpec,
};

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
    let mut diagnostics = Diagnostics::default();
    let mut warnings = Diagnostics::default();
    let mut steps = Vec::new();
    for (step, rendered_step) in workflow.steps.iter().zip(&rendered.steps) {
        let desired = if rendered_step.skipped {
            Desired::Nothing
        } else {
            match desired(files, step, rendered_step, &labels, variables) {
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

fn desired(
    files: &dyn RepoFiles,
    step: &Step,
    rendered: &RenderedStep,
    labels: &BTreeMap<String, String>,
    variables: &BTreeMap<String, String>,
) -> Result<(Desired, Diagnostics), Diagnostics> {
    let object = rendered.object.clone().unwrap_or_default();
    let desired = match &step.kind {
        StepKind::Stack(stack) => {
            let sources: Vec<ComposeSource<'_>> = rendered
                .files
                .iter()
                .filter(|file| file.role == FileRole::Compose)
                .map(|file| ComposeSource {
                    path: &file.path,
                    text: &file.content,
                })
                .collect();
            let rendered_files: BTreeMap<&str, &str> = rendered
                .files
                .iter()
                .filter(|file| file.role != FileRole::Compose)
                .map(|file| (file.path.as_str(), file.content.as_str()))
                .collect();
            let read = |path: &str| -> Option<Vec<u8>> {
                rendered_files
                    .get(path)
                    .map(|content| content.as_bytes().to_vec())
                    .or_else(|| files.read(path).ok().map(|text| text.as_bytes().to_vec()))
            };
            let converted = convert_stack(
                &sources,
                &ConvertOptions {
                    stack: &object,
                    variables,
                    files: &read,
                    extra_labels: labels,
                },
            )?;
            return Ok((
                Desired::Stack(DesiredStack {
                    spec: converted.stack,
                    prune: stack.prune,
                    allow_empty: stack.allow_empty,
                    keep_versions: stack.keep_versions,
                    wait: stack.wait,
                    rollback_on_failure: stack.on_failure == OnFailure::Rollback,
                }),
                converted.warnings,
            ));
        }
        StepKind::Network(network) => {
            let mut network_labels = network.labels.clone();
            network_labels.extend(labels.clone());
            let mut options = BTreeMap::new();
            if network.encrypted {
                options.insert("encrypted".to_owned(), String::new());
            }
            Desired::Network(NetworkSpec {
                name: object,
                driver: network.driver.clone(),
                attachable: network.attachable,
                internal: network.internal,
                labels: network_labels,
                options,
                ipam: network.subnet.as_ref().map(|subnet| IpamConfig {
                    driver: "default".to_owned(),
                    config: vec![BTreeMap::from([("Subnet".to_owned(), subnet.clone())])],
                }),
            })
        }
        StepKind::Config(config) | StepKind::Secret(config) => {
            let kind = if matches!(step.kind, StepKind::Secret(_)) {
                ObjectKind::Secret
            } else {
                ObjectKind::Config
            };
            let data = rendered
                .files
                .first()
                .map(|file| file.content.as_bytes().to_vec())
                .unwrap_or_default();
            let mut object_labels = config.labels.clone();
            object_labels.extend(labels.clone());
            object_labels.insert(OBJECT_NAME.to_owned(), object.clone());
            object_labels.insert(CONTENT_HASH.to_owned(), ObjectSpec::content_hash(&data));
            Desired::Object(ObjectSpec {
                kind,
                name: ObjectSpec::hashed_name(&object, &data),
                labels: object_labels,
                data,
            })
        }
        StepKind::Wait(wait) => Desired::Wait(WaitTarget {
            services: rendered.services.clone(),
            url: rendered.url.clone(),
            status: wait.status,
            timeout: wait.timeout,
        }),
        StepKind::Remove(_) => Desired::Remove { stack: object },
        StepKind::Ssh(ssh) => Desired::Hosts(crate::steps::ssh::DesiredHosts {
            timeout: step.timeout,
            ..crate::steps::ssh::DesiredHosts::new(ssh, rendered.hosts.clone())
        }),
    };
    Ok((desired, Diagnostics::default()))
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
