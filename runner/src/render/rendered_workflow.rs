//! Renders a workflow for one environment: each step's `if`, then what its kind renders
//! (`steps/<kind>/render.rs`) through a [`StepRenderer`]: files, names and URLs.

use std::sync::Arc;

use serde::Serialize;

use super::{RenderContext, TemplateEngine, template_diagnostic};
use crate::load::RepoFiles;
use crate::model::{Step, Workflow};
use crate::source::{Diagnostic, Diagnostics, SourceFile};
use crate::yaml::Node;

/// What a rendered file is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileRole {
    Compose,
    /// A file a compose file names under `configs:`, or a `config` step's file.
    Config,
    /// A file a compose file names under `secrets:`, or a `secret` step's file.
    Secret,
}

#[derive(Debug, Clone, Serialize)]
pub struct RenderedFile {
    /// The source file, relative to the repo root.
    pub path: String,
    pub role: FileRole,
    /// False for files taken as they are (`file:` sources and `verbatim` globs).
    pub rendered: bool,
    #[serde(skip)]
    pub content: String,
    /// A compose file's content as parsed while rendering, when it parsed without a
    /// problem: converting the stack reads this instead of parsing the file again.
    #[serde(skip)]
    pub tree: Option<Arc<Node>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RenderedStep {
    pub name: String,
    pub kind: &'static str,
    /// True when the step's `if` evaluated to false for this environment.
    pub skipped: bool,
    /// The name of the Swarm object the step manages (stack, network, config, secret),
    /// with any template in it rendered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// The stack the step deploys or removes, rendered: set by the kinds that name one.
    #[serde(skip)]
    pub stack: Option<String>,
    /// For `wait` steps: the services and URL, rendered.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub files: Vec<RenderedFile>,
    /// For `ssh` steps: the step rendered for each of its hosts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<crate::steps::ssh::RenderedHost>,
    /// For `swarm` and `node` steps: the hosts they act on, with their roles and (for
    /// `swarm`) each one's engine endpoint.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<crate::steps::swarm::SwarmHost>,
    /// Values a kind renders several of (a `certs` step's names and SANs), by keys of
    /// its own. Not shown: one may hold a secret.
    #[serde(skip)]
    pub values: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RenderedWorkflow {
    pub workflow: String,
    pub environment: String,
    pub concurrency: String,
    pub steps: Vec<RenderedStep>,
}

impl RenderedWorkflow {
    pub fn files(&self) -> impl Iterator<Item = &RenderedFile> {
        self.steps.iter().flat_map(|step| &step.files)
    }

    /// The stacks its steps deploy or remove (those whose `if` holds): the services a
    /// plan of it compares.
    pub fn stacks(&self) -> impl Iterator<Item = &str> {
        self.steps
            .iter()
            .filter(|step| !step.skipped)
            .filter_map(|step| step.stack.as_deref())
    }
}

/// Renders every file `workflow` uses for the environment in `context`. All problems
/// are collected; the result is `Err` when there is at least one error. Messages do not
/// name the environment: callers say it once for all the diagnostics of a render
/// ([`crate::source::Diagnostics::for_environments`]).
pub fn render_workflow(
    files: &dyn RepoFiles,
    engine: &TemplateEngine,
    workflow: &Workflow,
    context: &RenderContext,
) -> Result<RenderedWorkflow, Diagnostics> {
    let values = context.to_value();
    let renderer = Renderer {
        files,
        engine,
        values: &values,
        environment: &context.environment,
    };
    let mut diagnostics = Diagnostics::default();
    let concurrency = match engine.render_str(&workflow.concurrency, &values) {
        Ok(group) => group,
        Err(error) => {
            diagnostics.push(renderer.inline_error(
                &workflow.path,
                workflow.steps.first().map(|s| s.span),
                "concurrency",
                &error,
            ));
            String::new()
        }
    };
    let steps = workflow
        .steps
        .iter()
        .map(|step| renderer.step(workflow, step, &mut diagnostics))
        .collect();
    if diagnostics.has_errors() {
        return Err(diagnostics);
    }
    Ok(RenderedWorkflow {
        workflow: workflow.name.clone(),
        environment: context.environment.name.clone(),
        concurrency,
        steps,
    })
}

struct Renderer<'a> {
    files: &'a dyn RepoFiles,
    engine: &'a TemplateEngine,
    values: &'a minijinja::Value,
    environment: &'a crate::model::Environment,
}

impl Renderer<'_> {
    fn step(
        &self,
        workflow: &Workflow,
        step: &Step,
        diagnostics: &mut Diagnostics,
    ) -> RenderedStep {
        let mut rendered = RenderedStep {
            name: step.name.clone(),
            kind: step.kind.name(),
            skipped: false,
            object: None,
            stack: None,
            services: Vec::new(),
            url: None,
            files: Vec::new(),
            hosts: Vec::new(),
            nodes: Vec::new(),
            values: std::collections::BTreeMap::new(),
        };
        if let Some((condition, span)) = &step.condition {
            match self.engine.evaluate_condition(condition, self.values) {
                Ok(true) => {}
                Ok(false) => {
                    rendered.skipped = true;
                    return rendered;
                }
                Err(error) => {
                    diagnostics.push(self.inline_error(&workflow.path, Some(*span), "if", &error));
                    return rendered;
                }
            }
        }
        let step_renderer = StepRenderer {
            renderer: self,
            workflow_path: &workflow.path,
            span: step.span,
        };
        step.kind.render(&step_renderer, &mut rendered, diagnostics);
        rendered
    }

    fn template(&self, path: &str, diagnostics: &mut Diagnostics) -> Option<String> {
        self.template_with(path, self.values, diagnostics)
    }

    fn template_with(
        &self,
        path: &str,
        values: &minijinja::Value,
        diagnostics: &mut Diagnostics,
    ) -> Option<String> {
        match self.engine.render_file(path, values) {
            Ok(content) => Some(content),
            Err(error) => {
                diagnostics.push(template_diagnostic(self.files, path, &error));
                None
            }
        }
    }

    fn verbatim(&self, path: &str, diagnostics: &mut Diagnostics) -> Option<String> {
        match self.files.read(path) {
            Ok(text) => Some(text.to_string()),
            Err(error) => {
                diagnostics.push(Diagnostic::file_error(path, error.to_string()));
                None
            }
        }
    }

    /// Renders a string written in the workflow file, such as a name or a URL; most have
    /// no template in them and are taken as they are.
    fn inline_text(
        &self,
        workflow_path: &str,
        span: crate::source::Span,
        what: &str,
        template: &str,
        diagnostics: &mut Diagnostics,
    ) -> Option<String> {
        self.inline_text_with(
            workflow_path,
            span,
            what,
            template,
            self.values,
            diagnostics,
        )
    }

    fn inline_text_with(
        &self,
        workflow_path: &str,
        span: crate::source::Span,
        what: &str,
        template: &str,
        values: &minijinja::Value,
        diagnostics: &mut Diagnostics,
    ) -> Option<String> {
        if !crate::model::is_template(template) {
            return Some(template.to_owned());
        }
        match self.engine.render_str(template, values) {
            Ok(text) => Some(text),
            Err(error) => {
                diagnostics.push(self.inline_error(workflow_path, Some(span), what, &error));
                None
            }
        }
    }

    /// A diagnostic for a template written inline in the workflow file (`if`, `concurrency`).
    fn inline_error(
        &self,
        workflow_path: &str,
        span: Option<crate::source::Span>,
        what: &str,
        error: &minijinja::Error,
    ) -> Diagnostic {
        let message = match error.kind() {
            minijinja::ErrorKind::UndefinedError => {
                format!("undefined variable in `{what}`")
            }
            _ => format!(
                "cannot evaluate `{what}`: {}",
                error.detail().unwrap_or("error")
            ),
        };
        match (span, self.files.read(workflow_path)) {
            (Some(span), Ok(text)) => {
                Diagnostic::error(&SourceFile::new(workflow_path, text), span, message)
            }
            _ => Diagnostic::file_error(workflow_path, message),
        }
    }
}

/// What a step kind renders with: the repo's files and the template engine, for one
/// step of one workflow.
pub struct StepRenderer<'a> {
    renderer: &'a Renderer<'a>,
    workflow_path: &'a str,
    span: crate::source::Span,
}

impl StepRenderer<'_> {
    /// The repo's files.
    pub fn files(&self) -> &dyn RepoFiles {
        self.renderer.files
    }

    /// Renders the template at `path`.
    pub fn template(&self, path: &str, diagnostics: &mut Diagnostics) -> Option<String> {
        self.renderer.template(path, diagnostics)
    }

    /// Renders the template at `path` with `values` (the run's, with more: an `ssh` step's
    /// `host`).
    pub fn template_with(
        &self,
        path: &str,
        values: &minijinja::Value,
        diagnostics: &mut Diagnostics,
    ) -> Option<String> {
        self.renderer.template_with(path, values, diagnostics)
    }

    /// Renders `template`, written in the step as its `what`, with `values`.
    pub fn inline_with(
        &self,
        template: &str,
        what: &str,
        values: &minijinja::Value,
        diagnostics: &mut Diagnostics,
    ) -> Option<String> {
        self.renderer.inline_text_with(
            self.workflow_path,
            self.span,
            what,
            template,
            values,
            diagnostics,
        )
    }

    /// The values templates see.
    pub fn values(&self) -> &minijinja::Value {
        self.renderer.values
    }

    /// The environment rendered for.
    pub fn environment(&self) -> &crate::model::Environment {
        self.renderer.environment
    }

    /// A located error about the step, at its start.
    pub fn error(&self, message: String) -> Diagnostic {
        match self.renderer.files.read(self.workflow_path) {
            Ok(text) => Diagnostic::error(
                &SourceFile::new(self.workflow_path, text),
                self.span,
                message,
            ),
            Err(_) => Diagnostic::file_error(self.workflow_path, message),
        }
    }

    /// Reads the file at `path` as it is.
    pub fn verbatim(&self, path: &str, diagnostics: &mut Diagnostics) -> Option<String> {
        self.renderer.verbatim(path, diagnostics)
    }

    /// Renders `template`, written in the step as its `what` (a name, a URL); errors point
    /// at the step.
    pub fn inline(
        &self,
        template: &str,
        what: &str,
        diagnostics: &mut Diagnostics,
    ) -> Option<String> {
        self.renderer
            .inline_text(self.workflow_path, self.span, what, template, diagnostics)
    }
}
