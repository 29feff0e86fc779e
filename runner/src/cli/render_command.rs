//! `shoal render`: the files of a workflow as one environment would get them.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use sha2::Digest as _;

use crate::cli::{OutputFormat, RepoArgs, local_repo, report};
use crate::config::InputKind;
use crate::exit_code::Outcome;
use crate::load::{DirectoryFiles, load_repo};
use crate::model::{ConfigRepo, Workflow};
use crate::render::{
    FileRole, RenderContext, RenderedWorkflow, SecretValues, TemplateEngine, TriggerInfo,
    render_workflow,
};
use crate::source::Diagnostics;

#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    #[command(flatten)]
    repo: RepoArgs,
    /// The environment to render for, as named in shoal.yml.
    #[arg(long)]
    env: String,
    /// Only this workflow (its name or file name); all that target the environment when absent.
    #[arg(long)]
    workflow: Option<String>,
    /// Write the rendered files under DIR/<workflow>/<path> instead of printing them.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// A dispatch input, as NAME=VALUE; repeat for more. Others take their defaults.
    #[arg(long = "input", value_name = "NAME=VALUE")]
    inputs: Vec<String>,
}

pub fn run(args: &RenderArgs) -> anyhow::Result<Outcome> {
    let root = &args.repo.repo;
    anyhow::ensure!(
        root.is_dir(),
        "config repo folder {} not found",
        root.display()
    );
    let files = Arc::new(DirectoryFiles::new(root));
    let (repo, diagnostics) = load_repo(files.as_ref());
    let Some(repo) = repo else {
        report::print_diagnostics(&diagnostics, &SecretValues::default());
        return Ok(Outcome::Failure);
    };
    let environment = repo.environment(&args.env).cloned().with_context(|| {
        let names: Vec<&str> = repo.environments.iter().map(|e| e.name.as_str()).collect();
        format!(
            "unknown environment `{}`; shoal.yml defines {}",
            args.env,
            names.join(", ")
        )
    })?;
    let workflows = selected_workflows(&repo, args)?;
    let secrets = match local_repo::read_secrets(root, &environment) {
        Ok(secrets) => secrets,
        Err(problems) => {
            for problem in problems {
                eprintln!("error: {problem}");
            }
            eprintln!("error: secrets are missing; nothing was rendered");
            return Ok(Outcome::Failure);
        }
    };
    let commit = local_repo::commit_info(root);
    let engine = TemplateEngine::new(files.clone());
    let mut rendered = Vec::new();
    let mut problems = Diagnostics::default();
    for workflow in workflows {
        let context = RenderContext {
            environment: environment.clone(),
            inputs: inputs(workflow, &args.inputs)?,
            commit: commit.clone(),
            trigger: TriggerInfo {
                event: "manual".to_owned(),
                actor: local_repo::actor(),
            },
            secrets: secrets.clone(),
        };
        match render_workflow(files.as_ref(), &engine, workflow, &context) {
            Ok(result) => rendered.push(result),
            Err(found) => problems.extend(Diagnostics::for_environments(vec![(
                environment.name.clone(),
                found,
            )])),
        }
    }
    if problems.has_errors() {
        report::print_diagnostics(&problems, &secrets);
        return Ok(Outcome::Failure);
    }
    if let Some(out) = &args.out {
        write_files(out, &rendered)?;
    }
    match args.repo.output {
        OutputFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&json_report(&rendered, &secrets, args.out.is_none()))?
        ),
        OutputFormat::Text => print_text(&rendered, &secrets, args.out.as_deref())?,
    }
    Ok(Outcome::Success)
}

fn selected_workflows<'a>(
    repo: &'a ConfigRepo,
    args: &RenderArgs,
) -> anyhow::Result<Vec<&'a Workflow>> {
    match &args.workflow {
        Some(name) => {
            let workflow = repo.workflow(name).with_context(|| {
                let names: Vec<&str> = repo.workflows.iter().map(|w| w.name.as_str()).collect();
                format!(
                    "unknown workflow `{name}`; the repo has {}",
                    names.join(", ")
                )
            })?;
            anyhow::ensure!(
                workflow.environments.contains(&args.env),
                "workflow `{}` does not target environment `{}`; it targets {}",
                workflow.name,
                args.env,
                workflow.environments.join(", ")
            );
            Ok(vec![workflow])
        }
        None => {
            let workflows: Vec<&Workflow> = repo
                .workflows
                .iter()
                .filter(|w| w.environments.contains(&args.env))
                .collect();
            anyhow::ensure!(
                !workflows.is_empty(),
                "no workflow targets environment `{}`",
                args.env
            );
            Ok(workflows)
        }
    }
}

/// The workflow's input defaults, overridden by `NAME=VALUE` arguments checked against
/// the declared types.
fn inputs(
    workflow: &Workflow,
    arguments: &[String],
) -> anyhow::Result<serde_json::Map<String, serde_json::Value>> {
    let declared = workflow.triggers.dispatch.as_ref();
    let mut values = declared.map(|d| d.defaults()).unwrap_or_default();
    for argument in arguments {
        let (name, text) = argument
            .split_once('=')
            .with_context(|| format!("--input `{argument}` is not NAME=VALUE"))?;
        let declaration = declared.and_then(|d| d.inputs.get(name)).with_context(|| {
            let names: Vec<&str> = declared
                .map(|d| d.inputs.keys().map(String::as_str).collect())
                .unwrap_or_default();
            format!(
                "workflow `{}` has no input `{name}`; its inputs are: {}",
                workflow.name,
                names.join(", ")
            )
        })?;
        let value = match declaration.kind {
            InputKind::String => serde_json::Value::String(text.to_owned()),
            InputKind::Boolean => match text {
                "true" => serde_json::Value::Bool(true),
                "false" => serde_json::Value::Bool(false),
                _ => anyhow::bail!("input `{name}` is a boolean: give true or false, not `{text}`"),
            },
            InputKind::Number => serde_json::Value::Number(
                text.parse::<serde_json::Number>()
                    .ok()
                    .with_context(|| format!("input `{name}` is a number, not `{text}`"))?,
            ),
            InputKind::Choice => {
                anyhow::ensure!(
                    declaration.options.iter().any(|option| option == text),
                    "input `{name}` must be one of {}, not `{text}`",
                    declaration.options.join(", ")
                );
                serde_json::Value::String(text.to_owned())
            }
        };
        values.insert(name.to_owned(), value);
    }
    if let Some(declared) = declared {
        for (name, declaration) in &declared.inputs {
            let missing = values.get(name).is_none_or(serde_json::Value::is_null);
            anyhow::ensure!(
                !(declaration.required && missing),
                "input `{name}` is required: pass --input {name}=VALUE"
            );
        }
    }
    Ok(values)
}

fn write_files(out: &Path, rendered: &[RenderedWorkflow]) -> anyhow::Result<()> {
    for workflow in rendered {
        for file in workflow.files() {
            let path = out.join(&workflow.workflow).join(&file.path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("failed to create {}", parent.display()))?;
            }
            write_private_if_secret(&path, &file.content, file.role == FileRole::Secret)
                .with_context(|| format!("failed to write {}", path.display()))?;
        }
    }
    Ok(())
}

fn write_private_if_secret(path: &Path, content: &str, secret: bool) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(content.as_bytes())
}

fn print_text(
    rendered: &[RenderedWorkflow],
    secrets: &SecretValues,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    for workflow in rendered {
        writeln!(
            stdout,
            "# workflow {} for environment {} (concurrency group `{}`)",
            workflow.workflow, workflow.environment, workflow.concurrency
        )?;
        for (index, step) in workflow.steps.iter().enumerate() {
            let state = if step.skipped {
                " (skipped: `if` is false)"
            } else {
                ""
            };
            writeln!(
                stdout,
                "## step {} {}: {}{state}",
                index + 1,
                step.kind,
                step.name
            )?;
            for file in &step.files {
                let hash = hex::encode(sha2::Sha256::digest(file.content.as_bytes()));
                let how = if file.rendered {
                    "rendered"
                } else {
                    "verbatim"
                };
                let role = match file.role {
                    FileRole::Compose => "compose",
                    FileRole::Config => "config",
                    FileRole::Secret => "secret",
                };
                writeln!(
                    stdout,
                    "### {} ({role}, {how}, {} bytes, sha256 {})",
                    file.path,
                    file.content.len(),
                    &hash[..12]
                )?;
                if let Some(out) = out {
                    writeln!(
                        stdout,
                        "written to {}",
                        out.join(&workflow.workflow).join(&file.path).display()
                    )?;
                } else if file.role == FileRole::Secret {
                    writeln!(stdout, "(secret content not shown)")?;
                } else {
                    let content = secrets.redact(&file.content);
                    stdout.write_all(content.as_bytes())?;
                    if !content.ends_with('\n') {
                        writeln!(stdout)?;
                    }
                }
            }
        }
    }
    Ok(())
}

fn json_report(
    rendered: &[RenderedWorkflow],
    secrets: &SecretValues,
    with_content: bool,
) -> serde_json::Value {
    let workflows: Vec<serde_json::Value> = rendered
        .iter()
        .map(|workflow| {
            let steps: Vec<serde_json::Value> = workflow
                .steps
                .iter()
                .map(|step| {
                    let files: Vec<serde_json::Value> = step
                        .files
                        .iter()
                        .map(|file| {
                            let mut entry = serde_json::json!({
                                "path": file.path,
                                "role": file.role,
                                "rendered": file.rendered,
                                "bytes": file.content.len(),
                                "sha256": hex::encode(sha2::Sha256::digest(file.content.as_bytes())),
                            });
                            if with_content && file.role != FileRole::Secret {
                                entry["content"] = serde_json::Value::String(secrets.redact(&file.content));
                            }
                            entry
                        })
                        .collect();
                    serde_json::json!({ "name": step.name, "kind": step.kind, "skipped": step.skipped, "files": files })
                })
                .collect();
            serde_json::json!({
                "workflow": workflow.workflow,
                "environment": workflow.environment,
                "concurrency": workflow.concurrency,
                "steps": steps,
            })
        })
        .collect();
    serde_json::json!({ "workflows": workflows })
}
