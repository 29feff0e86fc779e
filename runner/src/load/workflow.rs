//! Loads one file of `workflows/` into a [`Workflow`], checking everything that can be
//! checked without a cluster: step kinds, ids, environments, cron, globs, expressions,
//! durations, dispatch inputs and the files steps reference.

use std::collections::HashMap;
use std::time::Duration;

use super::cron::check_cron;
use super::{Document, ReadError, RepoFiles};
use crate::config::{
    InputDeclaration, InputKind, PLANNED_KINDS, RegistryPushInput, SUPPORTED_KINDS,
    StepCommonInput, StepInput, WorkflowFile,
};
use crate::model::{
    BranchFilter, DispatchInputs, Environment, RegistryPushFilter, Schedule, Step, Triggers,
    Workflow,
};
use crate::source::{Diagnostic, Diagnostics, Span};
use crate::yaml::{Node, NodeValue, Spanned};

/// Loads and checks `path`; `None` when it has errors (they are in `diagnostics`).
pub fn load_workflow(
    files: &dyn RepoFiles,
    path: &str,
    environments: &[Environment],
    diagnostics: &mut Diagnostics,
) -> Option<Workflow> {
    let errors_before = diagnostics.error_count();
    let document = Document::read(files, path, diagnostics)?;
    let checker = WorkflowChecker {
        document: &document,
        files,
        environments,
    };

    // The steps are decoded one by one below; the rest of the file is decoded without them.
    let mut header = document.root.clone();
    let step_nodes = take_steps(&mut header);
    let input: Option<WorkflowFile> = document.decode(&header, diagnostics);
    let Some(step_nodes) = step_nodes else {
        if input.is_some() {
            diagnostics.push(document.error(document.root.span, "missing key `steps`"));
        }
        return None;
    };
    let steps = checker.steps(&step_nodes, diagnostics);
    let input = input?;

    let name = input.name.clone().unwrap_or_else(|| file_stem(path));
    let environments = checker.environments(&input, diagnostics);
    let triggers = checker.triggers(&input, diagnostics);
    let concurrency = match &input.concurrency {
        Some(template) => {
            checker.template_syntax(template, "concurrency", diagnostics);
            template.value.clone()
        }
        None => "{{ environment.name }}".to_owned(),
    };
    if diagnostics.error_count() > errors_before {
        return None;
    }
    let served: Vec<(&str, Vec<&str>)> = checker
        .environments
        .iter()
        .filter(|environment| environments.contains(&environment.name))
        .map(super::declared_secrets)
        .collect();
    let notify = super::notify_targets(
        &document,
        document.root.get("notify"),
        &input.notify,
        &served,
        diagnostics,
    );
    Some(Workflow {
        notify,
        name,
        path: path.to_owned(),
        triggers,
        environments,
        concurrency,
        pull_request_comment: input.report.pull_request_comment,
        steps,
    })
}

/// Replaces the `steps` list with an empty one and returns its items.
fn take_steps(root: &mut Node) -> Option<Node> {
    let NodeValue::Mapping(entries) = &mut root.value else {
        return None;
    };
    let (_, value) = entries
        .iter_mut()
        .find(|(key, _)| key.as_scalar_text() == Some("steps"))?;
    let empty = Node {
        span: value.span,
        value: NodeValue::Sequence(Vec::new()),
    };
    Some(std::mem::replace(value, empty))
}

fn file_stem(path: &str) -> String {
    std::path::Path::new(path).file_stem().map_or_else(
        || path.to_owned(),
        |stem| stem.to_string_lossy().into_owned(),
    )
}

/// Checks one workflow file; step kinds use its checks of names, files, globs and
/// durations, and point their errors into the file through it.
pub struct WorkflowChecker<'a> {
    document: &'a Document,
    files: &'a dyn RepoFiles,
    environments: &'a [Environment],
}

impl WorkflowChecker<'_> {
    fn steps(&self, steps_node: &Node, diagnostics: &mut Diagnostics) -> Vec<Step> {
        let Some(items) = steps_node.as_sequence() else {
            diagnostics.push(self.document.error(
                steps_node.span,
                format!("expected a list of steps, found {}", steps_node.kind_name()),
            ));
            return Vec::new();
        };
        if items.is_empty() {
            diagnostics.push(
                self.document
                    .error(steps_node.span, "a workflow needs at least one step"),
            );
        }
        let mut ids: HashMap<String, Span> = HashMap::new();
        let mut steps = Vec::new();
        for node in items {
            let kind_count = self.kind_keys(node, diagnostics);
            let Some(input) = self.document.decode::<StepInput>(node, diagnostics) else {
                continue;
            };
            if let Some(id) = &input.id {
                self.step_id(id, &mut ids, diagnostics);
            }
            if kind_count != Some(1) {
                continue;
            }
            if let Some(step) = self.step(node, input, diagnostics) {
                steps.push(step);
            }
        }
        steps
    }

    /// Checks that a step has exactly one kind key, and that it is supported.
    /// Returns how many known kind keys the step has, or `None` when it is not a map.
    fn kind_keys(&self, node: &Node, diagnostics: &mut Diagnostics) -> Option<usize> {
        let entries = node.as_mapping()?;
        let mut found: Vec<&Node> = Vec::new();
        for (key, _) in entries {
            let Some(name) = key.as_scalar_text() else {
                continue;
            };
            if let Some((_, purpose)) = PLANNED_KINDS.iter().find(|(kind, _)| *kind == name) {
                diagnostics.push(
                    self.document
                        .error(key.span, format!("step kind `{name}` is not supported yet"))
                        .with_help(format!(
                            "`{name}` ({purpose}) is planned; this version runs {}",
                            list(SUPPORTED_KINDS)
                        )),
                );
                found.push(key);
            } else if SUPPORTED_KINDS.contains(&name) {
                found.push(key);
            }
        }
        if found.len() > 1 {
            let names: Vec<&str> = found
                .iter()
                .filter_map(|key| key.as_scalar_text())
                .collect();
            diagnostics.push(
                self.document
                    .error(
                        found[1].span,
                        format!(
                            "a step has one kind, this one has {}",
                            names
                                .iter()
                                .map(|n| format!("`{n}`"))
                                .collect::<Vec<_>>()
                                .join(" and ")
                        ),
                    )
                    .with_help("split it into one step per kind"),
            );
        }
        let has_unknown_keys = entries
            .iter()
            .any(|(key, _)| key.as_scalar_text().is_some_and(|name| !is_step_key(name)));
        if found.is_empty() && !has_unknown_keys {
            diagnostics.push(
                self.document
                    .error(node.span, "step has no kind")
                    .with_help(format!("give it one of {}", list(SUPPORTED_KINDS))),
            );
        }
        Some(found.len())
    }

    fn step_id(
        &self,
        id: &Spanned<String>,
        ids: &mut HashMap<String, Span>,
        diagnostics: &mut Diagnostics,
    ) {
        let valid = id
            .value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && id
                .value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            diagnostics.push(self.document.error(
                id.span,
                format!("invalid step id `{}`: use letters, digits, `_` and `-`, starting with a letter", id.value),
            ));
        }
        if let Some(first) = ids.get(&id.value) {
            diagnostics.push(
                self.document
                    .error(id.span, format!("duplicate step id `{}`", id.value))
                    .with_help(format!(
                        "first used at line {}, column {}",
                        first.start.line, first.start.column
                    )),
            );
        } else {
            ids.insert(id.value.clone(), id.span);
        }
    }

    fn step(&self, node: &Node, input: StepInput, diagnostics: &mut Diagnostics) -> Option<Step> {
        let errors_before = diagnostics.error_count();
        let (
            StepCommonInput {
                id,
                name,
                condition,
                timeout,
                continue_on_error,
            },
            kind_input,
        ) = input.split();
        if let Some(condition) = &condition {
            self.expression_syntax(condition, diagnostics);
        }
        let timeout = timeout.as_ref().and_then(|t| self.duration(t, diagnostics));
        // `kind_keys` saw exactly one kind key; when it is no kind this version runs, it is
        // a planned kind and `kind_keys` has already said it is not supported yet.
        let kind = kind_input?.check(node, self, diagnostics)?;
        if diagnostics.error_count() > errors_before {
            return None;
        }
        let name = name
            .or_else(|| id.as_ref().map(|id| id.value.clone()))
            .unwrap_or_else(|| kind.default_step_name());
        Some(Step {
            id: id.map(|id| id.value),
            name,
            condition: condition.map(|c| (c.value, c.span)),
            timeout,
            continue_on_error,
            kind,
            span: node.span,
        })
    }

    /// An error at `span` of the workflow file.
    pub fn error(&self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.document.error(span, message)
    }

    fn environments(&self, input: &WorkflowFile, diagnostics: &mut Diagnostics) -> Vec<String> {
        let known: Vec<&str> = self.environments.iter().map(|e| e.name.as_str()).collect();
        match &input.environments {
            None => known.iter().map(|name| (*name).to_owned()).collect(),
            Some(names) => {
                let mut seen: Vec<&str> = Vec::new();
                for name in names {
                    if !known.contains(&name.value.as_str()) {
                        diagnostics.push(
                            self.document
                                .error(name.span, format!("unknown environment `{}`", name.value))
                                .with_help(suggest_or_list(
                                    &name.value,
                                    &known,
                                    "shoal.yml defines",
                                )),
                        );
                    } else if seen.contains(&name.value.as_str()) {
                        diagnostics.push(self.document.error(
                            name.span,
                            format!("environment `{}` is listed twice", name.value),
                        ));
                    }
                    seen.push(&name.value);
                }
                names.iter().map(|name| name.value.clone()).collect()
            }
        }
    }

    fn triggers(&self, input: &WorkflowFile, diagnostics: &mut Diagnostics) -> Triggers {
        let on = &input.on;
        let branch_filter = |filter: &crate::config::BranchFilterInput,
                             diagnostics: &mut Diagnostics| {
            for glob in filter.branches.iter().chain(&filter.paths) {
                self.glob(glob, diagnostics);
            }
            BranchFilter {
                branches: filter.branches.iter().map(|b| b.value.clone()).collect(),
                paths: filter.paths.iter().map(|p| p.value.clone()).collect(),
            }
        };
        let push = on.push.as_ref().map(|f| branch_filter(f, diagnostics));
        let pull_request = on
            .pull_request
            .as_ref()
            .map(|f| branch_filter(f, diagnostics));
        let schedules = on
            .schedule
            .iter()
            .map(|schedule| {
                self.cron(&schedule.cron, diagnostics);
                Schedule {
                    cron: schedule.cron.value.clone(),
                    heal: schedule.heal,
                }
            })
            .collect();
        let dispatch = on.workflow_dispatch.as_ref().map(|dispatch| {
            for (name, declaration) in &dispatch.inputs {
                self.dispatch_input(name, declaration, diagnostics);
            }
            DispatchInputs {
                inputs: dispatch
                    .inputs
                    .iter()
                    .map(|(name, d)| (name.clone(), d.value.clone()))
                    .collect(),
            }
        });
        let registry_push = on
            .registry_push
            .as_ref()
            .map(|filters| self.registry_push(filters.items(), diagnostics))
            .unwrap_or_default();
        Triggers {
            push,
            pull_request,
            schedules,
            dispatch,
            registry_push,
        }
    }

    fn registry_push(
        &self,
        filters: &[RegistryPushInput],
        diagnostics: &mut Diagnostics,
    ) -> Vec<RegistryPushFilter> {
        filters
            .iter()
            .map(|filter| {
                let repository = &filter.repository;
                if let Some(problem) = repository_problem(&repository.value) {
                    diagnostics.push(
                        self.document
                            .error(repository.span, problem)
                            .with_help(
                                "notifications name the repository alone, such as `maiev/scaler`; tag globs go in `tags`",
                            ),
                    );
                }
                for glob in std::iter::once(repository).chain(&filter.tags) {
                    self.glob(glob, diagnostics);
                }
                RegistryPushFilter {
                    repository: repository.value.clone(),
                    tags: filter.tags.iter().map(|t| t.value.clone()).collect(),
                }
            })
            .collect()
    }

    fn dispatch_input(
        &self,
        name: &str,
        declaration: &Spanned<InputDeclaration>,
        diagnostics: &mut Diagnostics,
    ) {
        let kind = declaration.kind;
        if kind == InputKind::Choice && declaration.options.is_empty() {
            diagnostics.push(self.document.error(
                declaration.span,
                format!("input `{name}` is a choice but has no `options`"),
            ));
        }
        if kind != InputKind::Choice && !declaration.options.is_empty() {
            diagnostics.push(self.document.error(
                declaration.span,
                format!("input `{name}` has `options` but is not of type `choice`"),
            ));
        }
        if declaration.confirms.is_some() && (kind != InputKind::String || !declaration.required) {
            diagnostics.push(self.document.error(
                declaration.span,
                format!(
                    "input `{name}` confirms the environment: it must be a required string, \
                     typed out at each run"
                ),
            ));
        }
        let Some(default) = &declaration.default else {
            return;
        };
        let fits = match (&default.value, kind) {
            (serde_json::Value::String(_), InputKind::String) => true,
            (serde_json::Value::Bool(_), InputKind::Boolean) => true,
            (serde_json::Value::Number(_), InputKind::Number) => true,
            (serde_json::Value::String(value), InputKind::Choice) => {
                if !declaration.options.contains(value) {
                    diagnostics.push(
                        self.document
                            .error(
                                default.span,
                                format!(
                                    "default `{value}` of input `{name}` is not one of its options"
                                ),
                            )
                            .with_help(format!(
                                "options: {}",
                                declaration
                                    .options
                                    .iter()
                                    .map(|o| format!("`{o}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )),
                    );
                }
                true
            }
            _ => false,
        };
        if !fits {
            diagnostics.push(self.document.error(
                default.span,
                format!(
                    "default of input `{name}` must be a {}, found {}",
                    kind.name(),
                    json_kind(&default.value)
                ),
            ));
        }
    }

    fn cron(&self, cron: &Spanned<String>, diagnostics: &mut Diagnostics) {
        if let Err(problem) = check_cron(&cron.value) {
            diagnostics.push(
                self.document
                    .error(
                        cron.span,
                        format!("invalid cron expression `{}`: {problem}", cron.value),
                    )
                    .with_help("five fields in UTC, e.g. `*/15 * * * *` runs every 15 minutes"),
            );
        }
    }

    pub fn glob(&self, glob: &Spanned<String>, diagnostics: &mut Diagnostics) {
        if let Err(error) = globset::Glob::new(&glob.value) {
            diagnostics.push(self.document.error(
                glob.span,
                format!("invalid glob `{}`: {}", glob.value, error.kind()),
            ));
        }
    }

    pub fn duration(
        &self,
        text: &Spanned<String>,
        diagnostics: &mut Diagnostics,
    ) -> Option<Duration> {
        match humantime::parse_duration(&text.value) {
            Ok(duration) if !duration.is_zero() => Some(duration),
            Ok(_) => {
                diagnostics.push(
                    self.document
                        .error(text.span, "a timeout must be longer than zero"),
                );
                None
            }
            Err(error) => {
                diagnostics.push(
                    self.document
                        .error(
                            text.span,
                            format!("invalid duration `{}`: {error}", text.value),
                        )
                        .with_help("e.g. `90s`, `5m`, `1h 30m`"),
                );
                None
            }
        }
    }

    pub fn referenced_file(&self, path: &Spanned<String>, diagnostics: &mut Diagnostics) {
        let problem = match self.files.read(&path.value) {
            Ok(_) => return,
            Err(ReadError::NotFound) => {
                format!("file `{}` not found in the config repo", path.value)
            }
            Err(error) => format!("cannot use file `{}`: {error}", path.value),
        };
        diagnostics.push(
            self.document
                .error(path.span, problem)
                .with_help("paths are relative to the root of the config repo"),
        );
    }

    /// Names of Swarm objects; templates are allowed and checked when rendered.
    pub fn object_name(&self, name: &Spanned<String>, diagnostics: &mut Diagnostics) {
        if crate::model::is_template(&name.value) {
            self.template_syntax(name, "name", diagnostics);
            return;
        }
        let valid = !name.value.is_empty()
            && name
                .value
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric())
            && name
                .value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        if !valid {
            diagnostics.push(self.document.error(
                name.span,
                format!("invalid name `{}`: use letters, digits, `_`, `.` and `-`, starting with a letter or digit", name.value),
            ));
        }
    }

    fn expression_syntax(&self, expression: &Spanned<String>, diagnostics: &mut Diagnostics) {
        let environment = minijinja::Environment::new();
        let source = crate::render::condition_expression(&expression.value);
        if let Err(error) = environment.compile_expression(source) {
            let span = self.locate_in_value(expression, source, error.range());
            diagnostics.push(self.document.error(
                span,
                format!(
                    "invalid `if` expression: {}",
                    error.detail().unwrap_or("syntax error")
                ),
            ));
        }
    }

    /// Checks the syntax of a template written in the workflow, as `what`.
    pub fn template_syntax(
        &self,
        template: &Spanned<String>,
        what: &str,
        diagnostics: &mut Diagnostics,
    ) {
        let environment = minijinja::Environment::new();
        if let Err(error) = environment.template_from_str(&template.value) {
            let span = self.locate_in_value(template, &template.value, error.range());
            diagnostics.push(self.document.error(
                span,
                format!(
                    "invalid template in `{what}`: {}",
                    error.detail().unwrap_or("syntax error")
                ),
            ));
        }
    }

    /// Points into a scalar value at a byte range of `text` (a part of the value), when the
    /// value is written on one line; otherwise at the whole value.
    fn locate_in_value(
        &self,
        value: &Spanned<String>,
        text: &str,
        range: Option<std::ops::Range<usize>>,
    ) -> Span {
        let Some(range) = range else {
            return value.span;
        };
        let Some(line) = self.document.file.line(value.span.start.line) else {
            return value.span;
        };
        let column_offset = value.span.start.column.saturating_sub(1);
        let after_start: String = line.chars().skip(column_offset).collect();
        let Some(found) = after_start.find(text) else {
            return value.span;
        };
        let start = after_start[..found].chars().count()
            + text[..range.start.min(text.len())].chars().count();
        let width = text
            .get(range.clone())
            .map_or(1, |part| part.chars().count().max(1));
        Span::on_line(
            value.span.start.line,
            value.span.start.column + start,
            width,
        )
    }
}

/// What is wrong with a `registry_push` repository, which is matched against the bare
/// repository name of a notification: a registry host, a tag or a digest never match.
fn repository_problem(repository: &str) -> Option<String> {
    let first = repository.split('/').next().unwrap_or_default();
    if repository.contains('/')
        && (first.contains('.') || first.contains(':') || first == "localhost")
    {
        Some(format!(
            "repository `{repository}` starts with a registry host (`{first}`)"
        ))
    } else if repository.contains(':') || repository.contains('@') {
        Some(format!("repository `{repository}` has a tag or digest"))
    } else if repository.is_empty() {
        Some("repository must not be empty".to_owned())
    } else {
        None
    }
}

fn is_step_key(name: &str) -> bool {
    ["id", "name", "if", "timeout", "continue_on_error"].contains(&name)
        || SUPPORTED_KINDS.contains(&name)
        || PLANNED_KINDS.iter().any(|(kind, _)| *kind == name)
}

fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn suggest_or_list(given: &str, known: &[&str], intro: &str) -> String {
    let suggestion = crate::yaml::suggest(given, known);
    if suggestion.starts_with("did you mean") {
        suggestion
    } else {
        format!("{intro} {}", list(known))
    }
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "a map",
    }
}

#[cfg(test)]
mod tests {
    use super::repository_problem;

    #[test]
    fn registry_push_repositories_are_bare_names() {
        assert_eq!(repository_problem("maiev/scaler"), None);
        assert_eq!(repository_problem("maiev/*"), None);
        assert_eq!(repository_problem("scaler"), None);
        assert_eq!(
            repository_problem("localhost/maiev/scaler").as_deref(),
            Some("repository `localhost/maiev/scaler` starts with a registry host (`localhost`)")
        );
        assert_eq!(
            repository_problem("registry.example.org/scaler").as_deref(),
            Some(
                "repository `registry.example.org/scaler` starts with a registry host (`registry.example.org`)"
            )
        );
        assert_eq!(
            repository_problem("maiev/scaler@sha256:ab").as_deref(),
            Some("repository `maiev/scaler@sha256:ab` has a tag or digest")
        );
    }
}
