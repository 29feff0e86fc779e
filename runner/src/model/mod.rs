//! The validated config repo: what the loader produces and the rest of shoal works on.
//! Unlike the input types of [`crate::config`], these hold only checked values.

mod config_repo;
mod environment;
mod image_push;
mod notify_target;
mod step;
mod unimplemented_setting;
mod workflow;

pub use config_repo::ConfigRepo;
pub use environment::Environment;
pub use image_push::ImagePush;
pub use notify_target::{NotifyChannel, NotifyEvent, NotifyTarget};
pub use step::{Step, is_template};
pub use unimplemented_setting::UnimplementedSetting;
pub use workflow::{
    BranchFilter, DispatchInputs, RegistryPushFilter, Schedule, Triggers, Workflow,
};
