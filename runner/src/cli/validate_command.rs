//! `shoal validate`: every error of a config repo at once, or a one-line summary.

use std::sync::Arc;

use crate::cli::{OutputFormat, RepoArgs, local_repo, report};
use crate::exit_code::Outcome;
use crate::load::DirectoryFiles;
use crate::render::SecretValues;
use crate::validation::validate_repo;

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    repo: RepoArgs,
}

pub fn run(args: &ValidateArgs) -> anyhow::Result<Outcome> {
    let root = &args.repo.repo;
    anyhow::ensure!(
        root.is_dir(),
        "config repo folder {} not found",
        root.display()
    );
    let commit = local_repo::commit_info(root);
    let validation = validate_repo(Arc::new(DirectoryFiles::new(root)), &commit);
    let (workflows, environments) = validation.repo.as_ref().map_or((0, 0), |repo| {
        (repo.workflows.len(), repo.environments.len())
    });
    match args.repo.output {
        OutputFormat::Json => {
            let report = serde_json::json!({
                "valid": validation.is_valid(),
                "workflows": workflows,
                "environments": environments,
                "rendered_files": validation.rendered_files,
                "diagnostics": validation.diagnostics.sorted(),
            });
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        OutputFormat::Text => {
            report::print_diagnostics(&validation.diagnostics, &SecretValues::default());
            if validation.is_valid() {
                println!(
                    "valid: {workflows} workflow{} and {environments} environment{}; {} files rendered in {} workflow-environment pairs",
                    plural(workflows),
                    plural(environments),
                    validation.rendered_files,
                    validation.renders
                );
            }
        }
    }
    Ok(if validation.is_valid() {
        Outcome::Success
    } else {
        Outcome::Failure
    })
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}
