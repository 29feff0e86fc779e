//! The validated config repo: what the loader produces and the rest of shoal works on.
//! Unlike the input types of [`crate::config`], these hold only checked values.

mod config_repo;
mod environment;
mod step;
mod workflow;

pub use config_repo::ConfigRepo;
pub use environment::Environment;
pub use step::{
    ConfigSource, ConfigStep, NetworkStep, RemoveStep, StackStep, Step, StepKind, WaitStep,
};
pub use workflow::{BranchFilter, DispatchInputs, Schedule, Triggers, Workflow};
