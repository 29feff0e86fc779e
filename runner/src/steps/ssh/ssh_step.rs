//! A checked `ssh` step: what `load` makes of [`SshStepInput`], every problem reported at
//! its `file:line:column`.

use std::time::Duration;

use super::SshStepInput;
use crate::hosts::HostTarget;
use crate::load::WorkflowChecker;
use crate::model::is_template;
use crate::source::{Diagnostic, Diagnostics, Span};
use crate::yaml::Node;
use crate::yaml::Spanned;

/// Hosts worked on at once when the step does not say.
pub const DEFAULT_PARALLEL: usize = 10;

#[derive(Debug, Clone)]
pub struct SshStep {
    /// Host groups or hosts, as written (templates allowed).
    pub hosts: Vec<String>,
    pub become_user: Option<String>,
    pub parallel: usize,
    pub batch: Option<usize>,
    pub files: Vec<HostFileSpec>,
    pub commands: Vec<HostCommandSpec>,
    pub on_change: Vec<String>,
    pub rollback_if_unreachable: Option<Duration>,
}

#[derive(Debug, Clone)]
pub struct HostFileSpec {
    /// The template, relative to the repo root.
    pub src: String,
    pub dest: String,
    pub mode: Option<u32>,
    pub owner: Option<String>,
    pub group: Option<String>,
}

#[derive(Debug, Clone)]
pub struct HostCommandSpec {
    pub run: String,
    pub unless: Option<String>,
    /// Name → template.
    pub env: Vec<(String, String)>,
}

/// What `load` lends the check: located errors in the workflow file, and its checks of
/// durations and of the repo's files.
pub struct StepChecks<'a> {
    pub error: &'a dyn Fn(Span, String) -> Diagnostic,
    /// Where the step's `ssh` key is.
    pub span: Span,
    pub duration: &'a dyn Fn(&Spanned<String>, &mut Diagnostics) -> Option<Duration>,
    pub referenced_file: &'a dyn Fn(&Spanned<String>, &mut Diagnostics),
}

/// Checks the `ssh` step written at `node`; `None` when it has errors.
pub fn check(
    input: SshStepInput,
    node: &Node,
    checker: &WorkflowChecker<'_>,
    diagnostics: &mut Diagnostics,
) -> Option<SshStep> {
    let checks = StepChecks {
        error: &|span, message| checker.error(span, message),
        span: node.entry("ssh").map_or(node.span, |(key, _)| key.span),
        duration: &|text, diagnostics| checker.duration(text, diagnostics),
        referenced_file: &|path, diagnostics| checker.referenced_file(path, diagnostics),
    };
    check_ssh_step(&checks, input, diagnostics)
}

/// Checks `input`; `None` when it has errors (they are in `diagnostics`).
pub fn check_ssh_step(
    checks: &StepChecks<'_>,
    input: SshStepInput,
    diagnostics: &mut Diagnostics,
) -> Option<SshStep> {
    let errors_before = diagnostics.error_count();
    let error = |span: Span, message: String| (checks.error)(span, message);
    if input.hosts.is_empty() {
        diagnostics.push(error(
            checks.span,
            "`ssh` needs `hosts`: host groups of shoal.yml or addresses".to_owned(),
        ));
    }
    for host in &input.hosts {
        let is_group_name = host
            .value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !is_template(&host.value)
            && !is_group_name
            && let Err(problem) = HostTarget::parse(&host.value, "user", 22)
        {
            diagnostics.push(error(host.span, problem));
        }
    }
    if let Some(user) = &input.become_user
        && !is_system_name(&user.value)
    {
        diagnostics.push(error(
            user.span,
            format!("invalid user `{}` for `become`", user.value),
        ));
    }
    for count in [input.parallel.as_ref(), input.batch.as_ref()]
        .into_iter()
        .flatten()
    {
        if count.value == 0 {
            diagnostics.push(error(count.span, "must be at least 1".to_owned()));
        }
    }
    if input.files.is_empty() && input.commands.is_empty() {
        diagnostics.push(error(
            checks.span,
            "`ssh` needs `files`, `commands` or both".to_owned(),
        ));
    }
    let mut files: Vec<HostFileSpec> = Vec::new();
    for file in input.files {
        (checks.referenced_file)(&file.src, diagnostics);
        if is_template(&file.dest.value) {
            // Checked once rendered, for each host.
        } else if let Some(problem) = dest_problem(&file.dest.value) {
            diagnostics.push(error(file.dest.span, problem));
        } else if files.iter().any(|other| other.dest == file.dest.value) {
            diagnostics.push(error(
                file.dest.span,
                format!("`{}` is written twice by this step", file.dest.value),
            ));
        }
        let mode = file.mode.as_ref().and_then(|mode| {
            let parsed = u32::from_str_radix(&mode.value, 8)
                .ok()
                .filter(|bits| *bits <= 0o7777 && !mode.value.is_empty());
            if parsed.is_none() {
                diagnostics.push(error(
                    mode.span,
                    format!(
                        "invalid mode `{}`: expected octal permission bits such as \"0644\"",
                        mode.value
                    ),
                ));
            }
            parsed
        });
        for name in [file.owner.as_ref(), file.group.as_ref()]
            .into_iter()
            .flatten()
        {
            if !is_system_name(&name.value) {
                diagnostics.push(error(
                    name.span,
                    format!("invalid user or group name `{}`", name.value),
                ));
            }
        }
        files.push(HostFileSpec {
            src: crate::load::normalize(&file.src.value).unwrap_or(file.src.value),
            dest: file.dest.value,
            mode,
            owner: file.owner.map(|owner| owner.value),
            group: file.group.map(|group| group.value),
        });
    }
    let mut commands = Vec::new();
    for command in input.commands {
        for (name, _) in &command.env {
            let valid = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                diagnostics.push(error(
                    command.run.span,
                    format!("invalid environment variable name `{name}`"),
                ));
            }
        }
        commands.push(HostCommandSpec {
            run: command.run.value,
            unless: command.unless.map(|unless| unless.value),
            env: command
                .env
                .into_iter()
                .map(|(name, value)| (name, value.value))
                .collect(),
        });
    }
    let rollback_if_unreachable = input
        .rollback_if_unreachable
        .as_ref()
        .and_then(|text| (checks.duration)(text, diagnostics));
    if diagnostics.error_count() > errors_before {
        return None;
    }
    Some(SshStep {
        hosts: input.hosts.into_iter().map(|host| host.value).collect(),
        become_user: input.become_user.map(|user| user.value),
        parallel: input.parallel.map_or(DEFAULT_PARALLEL, |count| count.value),
        batch: input.batch.map(|count| count.value),
        files,
        commands,
        on_change: input.on_change.into_iter().map(|run| run.value).collect(),
        rollback_if_unreachable,
    })
}

/// A user or group name as `useradd` allows it; it also never needs quoting.
pub fn is_system_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Why `dest` cannot be a destination: it must be an absolute path to a file.
pub fn dest_problem(dest: &str) -> Option<String> {
    if !dest.starts_with('/') {
        return Some(format!("`dest` must be an absolute path, not `{dest}`"));
    }
    if dest.ends_with('/') || dest.split('/').any(|part| part == ".." || part == ".") {
        return Some(format!(
            "`dest` must name a file, without `.` or `..`: `{dest}`"
        ));
    }
    if dest.chars().any(|c| c.is_control()) {
        return Some("`dest` must not hold control characters".to_owned());
    }
    None
}
