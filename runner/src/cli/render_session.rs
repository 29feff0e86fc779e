//! What `render`, `plan` and `apply` share: a config repo on disk, loaded, one of its
//! environments, and rendering chosen workflows for it with masked or real secrets.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;

use crate::cli::local_repo::{self, CheckedOutCommit};
use crate::cli::workflow_selection::{SelectedWorkflow, select_workflows};
use crate::cli::{RepoArgs, report};
use crate::load::{DirectoryFiles, RepoFiles, load_repo};
use crate::model::{ConfigRepo, Environment};
use crate::render::{
    CommitInfo, RenderContext, RenderedWorkflow, SecretValues, TemplateEngine, TriggerInfo,
    render_workflow,
};
use crate::source::Diagnostics;
use crate::validation::placeholder_image;

pub struct RenderSession {
    pub root: PathBuf,
    pub files: Arc<dyn RepoFiles>,
    pub repo: ConfigRepo,
    pub environment: Environment,
    /// Read while the session loads and the swarm is read; see [`RenderSession::commit`].
    commit: CheckedOutCommit,
    /// Give workflows that a registry push starts a placeholder `trigger.image`, as
    /// `validate` does. Only `render` does: `plan` and `apply` have no pushed image, and a
    /// template that reads one fails to render there rather than deploy a made-up image.
    pub placeholder_images: bool,
    engine: TemplateEngine,
}

impl RenderSession {
    /// Loads the repo and finds the environment; `None` when the repo has errors, which
    /// are printed.
    pub fn open(args: &RepoArgs, environment: &str) -> anyhow::Result<Option<RenderSession>> {
        let root = args.repo.clone();
        anyhow::ensure!(
            root.is_dir(),
            "config repo folder {} not found",
            root.display()
        );
        let commit = CheckedOutCommit::start(&root);
        let files = Arc::new(DirectoryFiles::new(&root));
        RenderSession::load(root, files, commit, environment)
    }

    /// The repo at `args.repo` as it was at `commit`, read from git: its files at that
    /// commit, its secrets (a relative `file:`) from the folder as it is today. `None`
    /// when the repo has errors there, which are printed.
    pub fn at_commit(
        args: &RepoArgs,
        environment: &str,
        files: Arc<dyn RepoFiles>,
        commit: CommitInfo,
    ) -> anyhow::Result<Option<RenderSession>> {
        let root = args.repo.clone();
        let commit = CheckedOutCommit::known(&root, commit);
        RenderSession::load(root, files, commit, environment)
    }

    fn load(
        root: PathBuf,
        files: Arc<dyn RepoFiles>,
        commit: CheckedOutCommit,
        environment: &str,
    ) -> anyhow::Result<Option<RenderSession>> {
        let (repo, diagnostics) = load_repo(files.as_ref());
        let Some(repo) = repo else {
            report::print_diagnostics(&diagnostics, &SecretValues::default());
            return Ok(None);
        };
        let environment = repo.environment(environment).cloned().with_context(|| {
            let names: Vec<&str> = repo.environments.iter().map(|e| e.name.as_str()).collect();
            format!(
                "unknown environment `{environment}`; shoal.yml defines {}",
                names.join(", ")
            )
        })?;
        let engine = TemplateEngine::new(files.clone());
        Ok(Some(RenderSession {
            root,
            files,
            repo,
            environment,
            commit,
            placeholder_images: false,
            engine,
        }))
    }

    pub fn select(
        &self,
        workflow: Option<&str>,
        inputs: &[String],
    ) -> anyhow::Result<Vec<SelectedWorkflow<'_>>> {
        // A render shows registry-push workflows with a placeholder image; a plan or
        // apply has none to give them.
        let without_pushed_image = !self.placeholder_images;
        select_workflows(
            &self.repo,
            &self.environment.name,
            workflow,
            inputs,
            without_pushed_image,
        )
    }

    /// The template engine over the repo's files.
    pub fn engine(&self) -> &TemplateEngine {
        &self.engine
    }

    /// The commit checked out; the first call waits for `git` to tell.
    pub fn commit(&self) -> &CommitInfo {
        self.commit.get()
    }

    /// Every secret of the environment masked: output rendered with these is safe to
    /// print, and tells which secrets the files read.
    pub fn masked_secrets(&self) -> SecretValues {
        SecretValues::masked(self.environment.secrets.keys())
    }

    /// Renders the selected workflows with `secrets`; every problem of every workflow.
    pub fn render(
        &self,
        selected: &[SelectedWorkflow<'_>],
        secrets: &SecretValues,
    ) -> Result<Vec<RenderedWorkflow>, Diagnostics> {
        let mut rendered = Vec::new();
        let mut problems = Diagnostics::default();
        for (workflow, inputs) in selected {
            let context = RenderContext {
                environment: self.environment.clone(),
                inputs: inputs.clone(),
                commit: self.commit().clone(),
                trigger: TriggerInfo {
                    event: "manual".to_owned(),
                    actor: local_repo::actor(),
                    image: placeholder_image(workflow).filter(|_| self.placeholder_images),
                },
                secrets: secrets.clone(),
            };
            match render_workflow(self.files.as_ref(), &self.engine, workflow, &context) {
                Ok(result) => rendered.push(result),
                Err(found) => problems.extend(Diagnostics::for_environments(vec![(
                    self.environment.name.clone(),
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

    /// The real values of the secrets a masked render read; `None` when some are missing,
    /// which is printed, ending with `consequence` ("nothing was written").
    pub fn read_used_secrets(
        &self,
        masked: &SecretValues,
        consequence: &str,
    ) -> Option<SecretValues> {
        match crate::secret_source::read_secrets(&self.root, &self.environment, &masked.used()) {
            Ok(secrets) => Some(secrets),
            Err(missing) => {
                for problem in missing {
                    eprintln!("error: {problem}");
                }
                eprintln!("error: secrets are missing; {consequence}");
                None
            }
        }
    }
}
