//! `shoal schema`: writes the JSON Schemas generated from the input types.

use std::path::PathBuf;

use anyhow::Context as _;

use crate::exit_code::Outcome;

#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// Folder to write shoal.schema.json and workflow.schema.json into; stdout when absent.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(args: &SchemaArgs) -> anyhow::Result<Outcome> {
    for (name, text) in crate::schema::schemas() {
        match &args.out {
            Some(folder) => {
                std::fs::create_dir_all(folder)
                    .with_context(|| format!("failed to create {}", folder.display()))?;
                let path = folder.join(name);
                std::fs::write(&path, text)
                    .with_context(|| format!("failed to write {}", path.display()))?;
                println!("wrote {}", path.display());
            }
            None => print!("{text}"),
        }
    }
    Ok(Outcome::Success)
}
