//! The config repo's file formats as written by users: serde input types with
//! `deny_unknown_fields`, from which the JSON Schemas in `schemas/` are generated.
//! Validation turns them into the domain types of [`crate::model`].

mod notify_input;
mod shoal_file;
mod step_input;
mod workflow_file;

pub use notify_input::{CommandInput, NotifyTargetInput, SlackInput, WebhookInput};
pub use shoal_file::{
    DockerInput, EnvironmentInput, HostEntryInput, HostInput, SecretSource, ShoalFile, SshInput,
    TlsInput, TlsPart,
};
pub use step_input::{PLANNED_KINDS, SUPPORTED_KINDS, StepCommonInput, StepInput};
pub use workflow_file::{
    BranchFilterInput, Confirms, DispatchInput, InputDeclaration, InputKind, OneOrList,
    RegistryPushInput, ReportInput, ScheduleInput, TriggersInput, WorkflowFile,
};
