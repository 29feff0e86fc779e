//! Plan: what applying a workflow for an environment would change on its swarm, computed
//! from the desired state (rendered and converted) and a snapshot of the live state.

mod desired_state;
mod desired_step;
#[expect(
    clippy::module_inception,
    reason = "the module is named after its main type, Plan"
)]
mod plan;
mod plan_text;
mod planner;
mod sensitive_fields;
mod spec_diff;

pub use desired_state::{DesiredContext, RunIdentity, compose_variables, desired_steps};
pub use desired_step::DesiredStep;
pub use plan::{Action, Change, ObjectType, Plan, PlanSummary, RemoveReason, StepPlan};
pub use plan_text::plan_text;
pub use planner::{Planner, namespace_of, old_version_removal, plan};
pub use sensitive_fields::{Concealment, SENSITIVE_FIELDS_LABEL, SensitiveFields};
pub use spec_diff::{BOOKKEEPING_LABEL_PREFIX, FieldDiff, diff_service_specs, normalize_service};
