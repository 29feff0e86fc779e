//! A validated workflow: its triggers, target environments and steps.

use indexmap::IndexMap;

use super::{Step, is_template};
use crate::config::InputDeclaration;

#[derive(Debug, Clone)]
pub struct Workflow {
    pub name: String,
    /// The file it came from, relative to the repo root.
    pub path: String,
    pub triggers: Triggers,
    /// Target environments in the order they are applied.
    pub environments: Vec<String>,
    /// Template of the concurrency group name.
    pub concurrency: String,
    /// Comment the plan on pull requests (`report.pull_request_comment`).
    pub pull_request_comment: bool,
    /// Its own `notify:` list.
    pub notify: Vec<super::NotifyTarget>,
    pub steps: Vec<Step>,
}

impl Workflow {
    /// The stacks its steps deploy or remove, known before anything renders: `None` when
    /// a template names one. Steps whose `if` may skip them count too.
    /// Whether a step of it is of kind `kind` (`swarm`, `node`, …).
    pub fn has_kind(&self, kind: &str) -> bool {
        self.steps.iter().any(|step| step.kind.name() == kind)
    }

    /// Whether a step of it reads or writes the swarm through `docker.host` (see
    /// `StepKind::needs_swarm`).
    pub fn needs_swarm(&self) -> bool {
        self.steps.iter().any(|step| step.kind.needs_swarm())
    }

    pub fn literal_stacks(&self) -> Option<Vec<&str>> {
        self.steps
            .iter()
            .filter_map(|step| step.kind.stack())
            .map(|name| (!is_template(name)).then_some(name))
            .collect()
    }
}

#[derive(Debug, Clone, Default)]
pub struct Triggers {
    pub push: Option<BranchFilter>,
    pub pull_request: Option<BranchFilter>,
    pub schedules: Vec<Schedule>,
    pub dispatch: Option<DispatchInputs>,
    /// Empty when the workflow has no `on.registry_push`.
    pub registry_push: Vec<RegistryPushFilter>,
}

#[derive(Debug, Clone, Default)]
pub struct BranchFilter {
    pub branches: Vec<String>,
    pub paths: Vec<String>,
}

/// Which pushed images start a run: a repository glob and tag globs (any tag when empty).
#[derive(Debug, Clone, Default)]
pub struct RegistryPushFilter {
    pub repository: String,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Schedule {
    pub cron: String,
    pub heal: bool,
}

#[derive(Debug, Clone, Default)]
pub struct DispatchInputs {
    pub inputs: IndexMap<String, InputDeclaration>,
}

impl DispatchInputs {
    /// Each input's default value, or null where it has none.
    pub fn defaults(&self) -> serde_json::Map<String, serde_json::Value> {
        self.inputs
            .iter()
            .map(|(name, declaration)| {
                let value = declaration
                    .default
                    .as_ref()
                    .map_or(serde_json::Value::Null, |d| d.value.clone());
                (name.clone(), value)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::load::{MemoryFiles, load_repo};

    #[test]
    fn literal_stacks_are_known_before_rendering_unless_a_template_names_one() {
        let files = MemoryFiles::new()
            .with("shoal.yml", "environments:\n  local: {}\n")
            .with("c.yml", "services: {}\n")
            .with(
                "workflows/literal.yml",
                "steps:\n  - network: { name: n }\n  - stack: { name: web, compose: c.yml }\n  - if: false\n    remove: { stack: old }\n",
            )
            .with(
                "workflows/templated.yml",
                "steps:\n  - stack: { name: web, compose: c.yml }\n  - stack: { name: \"{{ environment.name }}-db\", compose: c.yml }\n",
            );
        let (repo, diagnostics) = load_repo(&files);
        let repo = repo.unwrap_or_else(|| panic!("{diagnostics:?}"));
        let stacks = |name: &str| {
            repo.workflow(name)
                .expect("the workflow")
                .literal_stacks()
                .map(|stacks| stacks.join(","))
        };
        assert_eq!(stacks("literal").as_deref(), Some("web,old"));
        assert_eq!(stacks("templated"), None);
    }
}
