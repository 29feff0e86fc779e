//! `shoal render`: the files of a workflow as one environment would get them.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use sha2::Digest as _;

use crate::cli::render_session::RenderSession;
use crate::cli::{OutputFormat, RepoArgs, report};
use crate::exit_code::Outcome;
use crate::render::{FileRole, RenderedWorkflow};

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
    /// Write the rendered files under DIR/<workflow>/<path> (an `ssh` step's under
    /// DIR/<workflow>/hosts/<host>/<dest>) instead of printing them.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// A dispatch input, as NAME=VALUE; repeat for more. Others take their defaults.
    #[arg(long = "input", value_name = "NAME=VALUE")]
    inputs: Vec<String>,
}

pub fn run(args: &RenderArgs) -> anyhow::Result<Outcome> {
    let Some(mut session) = RenderSession::open(&args.repo, &args.env)? else {
        return Ok(Outcome::Failure);
    };
    session.placeholder_images = true;
    let workflows = session.select(args.workflow.as_deref(), &args.inputs)?;
    // First with every secret masked: that output is safe to print whatever the templates
    // do with the values, and it tells which secrets the files really use.
    let masked = session.masked_secrets();
    let rendered = match session.render(&workflows, &masked) {
        Ok(rendered) => rendered,
        Err(problems) => {
            report::print_diagnostics(&problems, &masked);
            return Ok(Outcome::Failure);
        }
    };
    if let Some(out) = &args.out {
        // Only the secrets the files read are needed, and only for files written to disk.
        let Some(secrets) = session.read_used_secrets(&masked, "nothing was written") else {
            return Ok(Outcome::Failure);
        };
        match session.render(&workflows, &secrets) {
            Ok(real) => write_files(out, &real)?,
            Err(problems) => {
                report::print_diagnostics(&problems, &secrets);
                return Ok(Outcome::Failure);
            }
        }
    }
    match args.repo.output {
        OutputFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&json_report(&rendered, args.out.is_none()))?
        ),
        OutputFormat::Text => print_text(&rendered, args.out.as_deref())?,
    }
    Ok(Outcome::Success)
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
        for step in &workflow.steps {
            for host in &step.hosts {
                for file in &host.files {
                    let path =
                        host_file_path(out, &workflow.workflow, &host.target.name, &file.dest);
                    if let Some(parent) = path.parent() {
                        std::fs::create_dir_all(parent)
                            .with_context(|| format!("failed to create {}", parent.display()))?;
                    }
                    // A host's file may hold a secret's value; it is readable by its owner
                    // only, as on the host it usually is.
                    write_private_if_secret(&path, &file.content, true)
                        .with_context(|| format!("failed to write {}", path.display()))?;
                }
            }
        }
    }
    Ok(())
}

/// Where `render --out` writes a file an `ssh` step puts on a host:
/// `OUT/WORKFLOW/hosts/HOST/DEST` (DEST's `..` and root left out, so that it stays
/// under OUT).
fn host_file_path(out: &Path, workflow: &str, host: &str, dest: &str) -> PathBuf {
    let mut path = out.join(workflow).join("hosts").join(host);
    for component in Path::new(dest).components() {
        if let std::path::Component::Normal(part) = component {
            path.push(part);
        }
    }
    path
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

fn print_text(rendered: &[RenderedWorkflow], out: Option<&Path>) -> anyhow::Result<()> {
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
                // What is shown was rendered with masked secrets: the size and hash of a
                // secret file would be those of the mask, so they are not shown.
                if file.role == FileRole::Secret {
                    writeln!(stdout, "### {} ({role}, {how})", file.path)?;
                } else {
                    writeln!(
                        stdout,
                        "### {} ({role}, {how}, {} bytes, sha256 {})",
                        file.path,
                        file.content.len(),
                        &hash[..12]
                    )?;
                }
                if let Some(out) = out {
                    writeln!(
                        stdout,
                        "written to {}",
                        out.join(&workflow.workflow).join(&file.path).display()
                    )?;
                } else if file.role == FileRole::Secret {
                    writeln!(stdout, "(secret content not shown)")?;
                } else {
                    // Rendered with masked secrets: safe to print as it is.
                    let content = &file.content;
                    stdout.write_all(content.as_bytes())?;
                    if !content.ends_with('\n') {
                        writeln!(stdout)?;
                    }
                }
            }
            let written = out.map(|out| (out, workflow.workflow.as_str()));
            print_hosts(&mut stdout, step, written)?;
        }
    }
    Ok(())
}

/// An `ssh` step's files and commands as rendered for each host (with masked secrets:
/// safe to print as they are; `env` values are not shown).
/// With `written` (`--out` and the workflow), where each file was written instead.
fn print_hosts(
    stdout: &mut impl std::io::Write,
    step: &crate::render::RenderedStep,
    written: Option<(&Path, &str)>,
) -> std::io::Result<()> {
    for host in &step.hosts {
        for file in &host.files {
            writeln!(
                stdout,
                "### host {}: {} (from {}, {} bytes)",
                host.target.name,
                file.dest,
                file.src,
                file.content.len()
            )?;
            if let Some((out, workflow)) = written {
                let path = host_file_path(out, workflow, &host.target.name, &file.dest);
                writeln!(stdout, "written to {}", path.display())?;
                continue;
            }
            stdout.write_all(file.content.as_bytes())?;
            if !file.content.ends_with('\n') {
                writeln!(stdout)?;
            }
        }
        for command in &host.commands {
            writeln!(stdout, "### host {}: run {}", host.target.name, command.run)?;
        }
        for command in &host.on_change {
            writeln!(stdout, "### host {}: on change {command}", host.target.name)?;
        }
    }
    Ok(())
}

fn json_report(rendered: &[RenderedWorkflow], with_content: bool) -> serde_json::Value {
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
                            });
                            // Rendered with masked secrets: a secret file's size and hash
                            // would be the mask's, and its content is never shown.
                            if file.role != FileRole::Secret {
                                entry["bytes"] = file.content.len().into();
                                entry["sha256"] = hex::encode(sha2::Sha256::digest(file.content.as_bytes())).into();
                                if with_content {
                                    entry["content"] = serde_json::Value::String(file.content.clone());
                                }
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
