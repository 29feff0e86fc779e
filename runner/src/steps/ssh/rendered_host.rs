//! An `ssh` step rendered for one host: its files' content and its commands, with `host`
//! in the templates' context. One template gives each host its own file.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::Serialize;

use super::SshStep;
use crate::hosts::HostTarget;
use crate::model::{Environment, is_template};
use crate::source::Diagnostics;

/// One host of a step, rendered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RenderedHost {
    pub target: HostTarget,
    /// The host group the step named it through; empty when named by address.
    pub group: String,
    /// Its position among the step's hosts, from 0.
    pub index: usize,
    pub files: Vec<RenderedHostFile>,
    pub commands: Vec<RenderedCommand>,
    pub on_change: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RenderedHostFile {
    pub src: String,
    pub dest: String,
    #[serde(skip)]
    pub content: String,
    pub mode: Option<u32>,
    pub owner: Option<String>,
    pub group: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RenderedCommand {
    pub run: String,
    pub unless: Option<String>,
    /// Never shown: values may come from secrets.
    #[serde(skip)]
    pub env: BTreeMap<String, String>,
}

/// How the renderer of a workflow renders for the ssh step: a repo file, or a string
/// written in the workflow (`what` names the key, for messages), with these values.
pub struct HostTemplates<'a> {
    pub file: &'a dyn Fn(&str, &minijinja::Value, &mut Diagnostics) -> Option<String>,
    pub inline: &'a dyn Fn(&str, &str, &minijinja::Value, &mut Diagnostics) -> Option<String>,
    /// A located error about the step.
    pub error: &'a dyn Fn(String) -> crate::source::Diagnostic,
}

/// The `host` a template sees.
#[derive(Serialize)]
struct HostView<'a> {
    address: &'a str,
    port: u16,
    user: &'a str,
    name: &'a str,
    group: &'a str,
    index: usize,
    vars: &'a IndexMap<String, serde_json::Value>,
}

/// Renders `step` for each of its hosts into `rendered.hosts`.
pub fn render(
    step: &SshStep,
    renderer: &crate::render::StepRenderer<'_>,
    rendered: &mut crate::render::RenderedStep,
    diagnostics: &mut Diagnostics,
) {
    let templates = HostTemplates {
        file: &|path, values, diagnostics| renderer.template_with(path, values, diagnostics),
        inline: &|text, what, values, diagnostics| {
            renderer.inline_with(text, what, values, diagnostics)
        },
        error: &|message| renderer.error(message),
    };
    rendered.hosts = render_hosts(
        step,
        renderer.environment(),
        renderer.values(),
        &templates,
        diagnostics,
    );
}

/// Renders `step` for each of its hosts in `environment`.
pub fn render_hosts(
    step: &SshStep,
    environment: &Environment,
    values: &minijinja::Value,
    templates: &HostTemplates<'_>,
    diagnostics: &mut Diagnostics,
) -> Vec<RenderedHost> {
    let targets = resolve_hosts(step, environment, values, templates, diagnostics);
    let mut rendered = Vec::new();
    for (index, (group, target)) in targets.into_iter().enumerate() {
        let host_values = host_values(&target, &group, index, values);
        let inline = |text: &str, what: &str, diagnostics: &mut Diagnostics| {
            if is_template(text) {
                (templates.inline)(text, what, &host_values, diagnostics)
            } else {
                Some(text.to_owned())
            }
        };
        let files = step
            .files
            .iter()
            .filter_map(|file| {
                let content = (templates.file)(&file.src, &host_values, diagnostics)?;
                let dest = inline(&file.dest, "dest", diagnostics)?;
                if let Some(problem) = super::ssh_step::dest_problem(&dest) {
                    diagnostics.push((templates.error)(format!(
                        "host {}: {problem} (as rendered)",
                        target.name
                    )));
                    return None;
                }
                Some(RenderedHostFile {
                    src: file.src.clone(),
                    dest,
                    content,
                    mode: file.mode,
                    owner: file.owner.clone(),
                    group: file.group.clone(),
                })
            })
            .collect();
        let commands = step
            .commands
            .iter()
            .filter_map(|command| {
                let mut env = BTreeMap::new();
                for (name, value) in &command.env {
                    env.insert(name.clone(), inline(value, "env", diagnostics)?);
                }
                Some(RenderedCommand {
                    run: inline(&command.run, "run", diagnostics)?,
                    unless: match &command.unless {
                        Some(unless) => Some(inline(unless, "unless", diagnostics)?),
                        None => None,
                    },
                    env,
                })
            })
            .collect();
        let on_change = step
            .on_change
            .iter()
            .filter_map(|run| inline(run, "on_change", diagnostics))
            .collect();
        rendered.push(RenderedHost {
            target,
            group,
            index,
            files,
            commands,
            on_change,
        });
    }
    rendered
}

/// The values templates see for `target`, the `index`th host of a step, named through
/// `group`: `values` with `host` added.
pub fn host_values(
    target: &HostTarget,
    group: &str,
    index: usize,
    values: &minijinja::Value,
) -> minijinja::Value {
    let view = HostView {
        address: &target.address,
        port: target.port,
        user: &target.user,
        name: &target.name,
        group,
        index,
        vars: &target.vars,
    };
    minijinja::context! {
        host => minijinja::Value::from(minijinja::value::Serde(&view)),
        ..values.clone()
    }
}

/// The step's hosts: each entry is a host group of the environment, or else a host's
/// address. A host named twice is worked on once.
fn resolve_hosts(
    step: &SshStep,
    environment: &Environment,
    values: &minijinja::Value,
    templates: &HostTemplates<'_>,
    diagnostics: &mut Diagnostics,
) -> Vec<(String, HostTarget)> {
    let (user, port) = environment.ssh_defaults();
    let mut targets: Vec<(String, HostTarget)> = Vec::new();
    let mut add = |group: &str, target: HostTarget, diagnostics: &mut Diagnostics| {
        if !target.has_user() {
            diagnostics.push((templates.error)(format!(
                "host `{}` has no user: give one (`user@{}`, or `user:` in its map) or set \
                 `ssh.user`",
                target.address, target.address
            )));
            return;
        }
        if !targets
            .iter()
            .any(|(_, known)| known.address == target.address && known.port == target.port)
        {
            targets.push((group.to_owned(), target));
        }
    };
    for entry in &step.hosts {
        let entry = if is_template(entry) {
            match (templates.inline)(entry, "hosts", values, diagnostics) {
                Some(text) => text,
                None => continue,
            }
        } else {
            entry.clone()
        };
        if let Some(group) = environment.host_groups.get(&entry) {
            for target in group {
                add(&entry, target.clone(), diagnostics);
            }
            continue;
        }
        match HostTarget::parse(&entry, &user, port) {
            Ok(target) if entry.contains(['.', ':', '@']) || entry == "localhost" => {
                add("", target, diagnostics)
            }
            Ok(_) => diagnostics.push((templates.error)(format!(
                "`{entry}` is not a host group (the environment has {}); an address needs \
                 a dot, a colon or a user (`user@{entry}`)",
                group_list(environment)
            ))),
            Err(problem) => diagnostics.push((templates.error)(problem)),
        }
    }
    targets
}

pub fn group_list(environment: &Environment) -> String {
    if environment.host_groups.is_empty() {
        return "none".to_owned();
    }
    environment
        .host_groups
        .keys()
        .map(|group| format!("`{group}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
