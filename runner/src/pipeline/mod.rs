//! One run's way from a loaded config repo to an outcome, the same for `shoal plan`,
//! `shoal apply` and the daemon: render the chosen workflows for one environment (with
//! placeholders for secrets, and with their real values when the [`SecretPolicy`] allows),
//! turn them into desired steps, read the swarm meanwhile, plan, and apply. The callers
//! differ only in where the files come from ([`RunInput`]), where progress goes
//! ([`RunProgress`]) and the secret policy they pass.

mod desired_workflows;
mod docker_context;
mod docker_endpoint;
mod object_names;
mod pipeline_error;
mod planned_run;
mod run_input;
mod run_progress;
mod secret_policy;
mod swarm_connection;
mod swarm_reading;

pub use desired_workflows::{DesiredWorkflow, DesiredWorkflows, desired_workflows};
pub use docker_endpoint::{DaemonOverride, docker_endpoints, node_engines, remembers_swarm};
pub use object_names::{name_objects, use_managed_objects};
pub use pipeline_error::PipelineError;
pub use planned_run::{PlannedRun, PlannedWorkflow, WorkflowOutcome, issued_names};
pub use run_input::RunInput;
pub use run_progress::RunProgress;
pub use secret_policy::SecretPolicy;
pub use swarm_connection::SwarmConnection;
pub use swarm_reading::SwarmReading;
