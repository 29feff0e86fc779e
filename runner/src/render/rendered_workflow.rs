//! Renders a workflow for one environment: its compose files, the config and secret files
//! those reference, and the files of `config` and `secret` steps.

use serde::Serialize;

use super::{RenderContext, TemplateEngine, template_diagnostic};
use crate::load::{RepoFiles, join_relative};
use crate::model::{ConfigSource, Step, StepKind, Workflow};
use crate::source::{Diagnostic, Diagnostics, SourceFile};
use crate::yaml::{self, Node};

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
    /// For `wait` steps: the services and URL, rendered.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub files: Vec<RenderedFile>,
    /// For `ssh` steps: the step rendered for each of its hosts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<crate::steps::ssh::RenderedHost>,
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
            .filter(|step| !step.skipped && matches!(step.kind, "stack" | "remove"))
            .filter_map(|step| step.object.as_deref())
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
            services: Vec::new(),
            url: None,
            files: Vec::new(),
            hosts: Vec::new(),
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
        match &step.kind {
            StepKind::Stack(stack) => {
                for compose in &stack.compose {
                    let Some(content) = self.template(compose, diagnostics) else {
                        continue;
                    };
                    let mut references = Vec::new();
                    self.compose_references(
                        compose,
                        &content,
                        &stack.verbatim,
                        &mut references,
                        diagnostics,
                    );
                    rendered.files.push(RenderedFile {
                        path: compose.clone(),
                        role: FileRole::Compose,
                        rendered: true,
                        content,
                    });
                    rendered.files.append(&mut references);
                }
            }
            StepKind::Config(config) | StepKind::Secret(config) => {
                let role = if matches!(step.kind, StepKind::Secret(_)) {
                    FileRole::Secret
                } else {
                    FileRole::Config
                };
                let file = match &config.source {
                    ConfigSource::Template(path) => self
                        .template(path, diagnostics)
                        .map(|content| (content, true)),
                    ConfigSource::File(path) => self
                        .verbatim(path, diagnostics)
                        .map(|content| (content, false)),
                };
                if let Some((content, was_rendered)) = file {
                    rendered.files.push(RenderedFile {
                        path: config.source.path().to_owned(),
                        role,
                        rendered: was_rendered,
                        content,
                    });
                }
            }
            StepKind::Ssh(ssh) => {
                let templates = crate::steps::ssh::HostTemplates {
                    file: &|path, values, diagnostics| {
                        self.template_with(path, values, diagnostics)
                    },
                    inline: &|text, what, values, diagnostics| {
                        self.inline_text_with(
                            &workflow.path,
                            step.span,
                            what,
                            text,
                            values,
                            diagnostics,
                        )
                    },
                    error: &|message| self.step_error(&workflow.path, step.span, message),
                };
                rendered.hosts = crate::steps::ssh::render_hosts(
                    ssh,
                    self.environment,
                    self.values,
                    &templates,
                    diagnostics,
                );
            }
            StepKind::Network(_) | StepKind::Wait(_) | StepKind::Remove(_) => {}
        }
        let inline = |template: &str, what: &str, diagnostics: &mut Diagnostics| {
            self.inline_text(&workflow.path, step.span, what, template, diagnostics)
        };
        rendered.object = match &step.kind {
            StepKind::Stack(stack) => inline(&stack.name, "name", diagnostics),
            StepKind::Network(network) => inline(&network.name, "name", diagnostics),
            StepKind::Config(config) | StepKind::Secret(config) => {
                inline(&config.name, "name", diagnostics)
            }
            StepKind::Remove(remove) => inline(&remove.stack, "stack", diagnostics),
            StepKind::Wait(_) | StepKind::Ssh(_) => None,
        };
        if let StepKind::Wait(wait) = &step.kind {
            rendered.services = wait
                .services
                .iter()
                .filter_map(|service| inline(service, "services", diagnostics))
                .collect();
            rendered.url = wait
                .url
                .as_ref()
                .and_then(|url| inline(url, "url", diagnostics));
        }
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

    /// Renders the files a compose file names under its top-level `configs:` and `secrets:`.
    fn compose_references(
        &self,
        compose_path: &str,
        content: &str,
        verbatim: &[String],
        out: &mut Vec<RenderedFile>,
        diagnostics: &mut Diagnostics,
    ) {
        let rendered_file = SourceFile::new(compose_path, content);
        let parsed = yaml::parse_document(&rendered_file);
        for mut problem in parsed.problems {
            problem.message = format!("{} (in the file as rendered)", problem.message);
            diagnostics.push(problem);
        }
        if let Err(exceeded) = self.files.budget().spend_yaml_nodes(parsed.nodes) {
            diagnostics.push(Diagnostic::file_error(compose_path, exceeded.to_string()));
            return;
        }
        let Some(root) = parsed.root else { return };
        let verbatim_globs = build_globs(verbatim);
        for (section, role) in [("configs", FileRole::Config), ("secrets", FileRole::Secret)] {
            let Some(entries) = root.get(section).and_then(Node::as_mapping) else {
                continue;
            };
            for (_, definition) in entries {
                let Some(file_node) = definition.get("file") else {
                    continue;
                };
                let Some(relative) = file_node.as_scalar_text() else {
                    continue;
                };
                let path = match join_relative(compose_path, relative) {
                    Ok(path) => path,
                    Err(error) => {
                        diagnostics.push(Diagnostic::error(
                            &rendered_file,
                            file_node.span,
                            format!("cannot use file `{relative}`: {error}"),
                        ));
                        continue;
                    }
                };
                if !self.files.exists(&path) {
                    diagnostics.push(
                        Diagnostic::error(&rendered_file, file_node.span, format!("file `{relative}` not found in the config repo"))
                            .with_help(format!("compose paths are relative to the compose file's folder: this one is `{path}`")),
                    );
                    continue;
                }
                let is_verbatim = verbatim_globs
                    .as_ref()
                    .is_some_and(|globs| globs.is_match(&path));
                let content = if is_verbatim {
                    self.verbatim(&path, diagnostics)
                } else {
                    self.template(&path, diagnostics)
                };
                if let Some(content) = content {
                    out.push(RenderedFile {
                        path,
                        role,
                        rendered: !is_verbatim,
                        content,
                    });
                }
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

    /// A located error about a step, at its start.
    fn step_error(
        &self,
        workflow_path: &str,
        span: crate::source::Span,
        message: String,
    ) -> Diagnostic {
        match self.files.read(workflow_path) {
            Ok(text) => Diagnostic::error(&SourceFile::new(workflow_path, text), span, message),
            Err(_) => Diagnostic::file_error(workflow_path, message),
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

fn build_globs(patterns: &[String]) -> Option<globset::GlobSet> {
    if patterns.is_empty() {
        return None;
    }
    let mut builder = globset::GlobSetBuilder::new();
    for pattern in patterns {
        if let Ok(glob) = globset::Glob::new(pattern) {
            builder.add(glob);
        }
    }
    builder.build().ok()
}
