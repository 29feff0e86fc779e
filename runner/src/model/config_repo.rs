//! A whole validated config repo.

use super::{Environment, NotifyTarget, Workflow};

#[derive(Debug, Clone)]
pub struct ConfigRepo {
    /// In the order of `shoal.yml`.
    pub environments: Vec<Environment>,
    /// In the order of their file names.
    pub workflows: Vec<Workflow>,
    /// `notify:` at the top of `shoal.yml`: for every environment.
    pub notify: Vec<NotifyTarget>,
}

impl ConfigRepo {
    pub fn environment(&self, name: &str) -> Option<&Environment> {
        self.environments.iter().find(|e| e.name == name)
    }

    /// A workflow by its name, or by its file name without extension.
    pub fn workflow(&self, name: &str) -> Option<&Workflow> {
        self.workflows.iter().find(|w| {
            w.name == name
                || std::path::Path::new(&w.path)
                    .file_stem()
                    .is_some_and(|stem| stem == name)
        })
    }
}
