//! `shoal sandboxed-plan` (hidden): the child process `shoal serve` runs a pull request's
//! plan in, under `prlimit`'s memory and CPU limits. Not for people: its input is JSON on
//! standard input, its output JSON lines (see `daemon::sandboxed_plan`).

use std::path::PathBuf;

use crate::daemon::run_sandboxed_plan;
use crate::exit_code::Outcome;

#[derive(Debug, clap::Args)]
pub struct SandboxedPlanArgs {
    /// The daemon's bare mirror.
    #[arg(long, value_name = "DIR")]
    mirror: PathBuf,
    /// The full SHA of the commit to plan.
    #[arg(long, value_name = "SHA")]
    commit: String,
}

pub fn run(args: &SandboxedPlanArgs) -> anyhow::Result<Outcome> {
    // One thread: every thread reserves address space the memory limit counts.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run_sandboxed_plan(&args.mirror, &args.commit))?;
    Ok(Outcome::Success)
}
