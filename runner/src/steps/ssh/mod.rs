//! The `ssh` step: files rendered per host and commands, planned against the hosts (a
//! diff per file, the commands that would run) and applied through the
//! [`crate::hosts`] port, with a lock-out guard for changes that could shut shoal out.
//!
//! Its way through a run: `ssh_step_input` (as written) → `ssh_step` (checked by `load`)
//! → `rendered_host` (per host, `host` in the context) → `desired_hosts` → `host_reading`
//! (plan: read-only) → `host_plan` (pure) → `host_apply`.

mod at_most;
mod desired_hosts;
mod host_apply;
mod host_inventory;
mod host_plan;
mod host_reading;
mod rendered_host;
mod ssh_step;
mod ssh_step_input;
mod unified_diff;

#[cfg(test)]
mod tests;

pub use at_most::{HostTask, at_most};
pub use desired_hosts::{DesiredHosts, command_key, desired, file_key};
pub use host_apply::{HostsOutcome, apply, apply_hosts};
pub use host_inventory::{DEFAULT_CONNECT_TIMEOUT, host_inventory};
pub use host_plan::{CommandPlan, FileAction, FilePlan, HostPlan, HostReading, plan_host};
pub use host_reading::{guard_holds, plan_hosts, read_host};
pub use rendered_host::{
    HostTemplates, RenderedCommand, RenderedHost, RenderedHostFile, group_list, host_values,
    render, render_hosts,
};
pub use ssh_step::{
    DEFAULT_PARALLEL, HostCommandSpec, HostFileSpec, SshStep, StepChecks, check, check_ssh_step,
    is_system_name,
};
pub use ssh_step_input::{HostCommandInput, HostFileInput, SshStepInput};
pub use unified_diff::unified_diff;
