//! A file under `workflows/`: when it runs (`on`), against which environments, and its steps.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use super::StepInput;
use crate::yaml::Spanned;

/// One workflow.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "shoal workflow")]
pub struct WorkflowFile {
    /// Shown in runs and check names; defaults to the file name without `.yml`.
    #[serde(default)]
    pub name: Option<String>,
    /// The events that start this workflow.
    #[serde(default)]
    pub on: TriggersInput,
    /// Environments to run against, in order; all of `shoal.yml`'s when absent.
    #[serde(default)]
    pub environments: Option<Vec<Spanned<String>>>,
    /// Template naming the concurrency group: at most one run per group at a time.
    /// Defaults to the environment name.
    #[serde(default)]
    pub concurrency: Option<Spanned<String>>,
    /// Where its runs are reported besides their commit's checks.
    #[serde(default)]
    pub report: ReportInput,
    /// Where this workflow's failures, drift and recoveries are announced, besides
    /// `shoal.yml`'s `notify`.
    #[serde(default)]
    pub notify: Vec<super::NotifyTargetInput>,
    // The loader decodes each step on its own, so that one bad step does not hide the
    // errors of the next.
    /// The steps, run in order.
    pub steps: Vec<StepInput>,
}

/// The `report:` section.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportInput {
    /// Comment the plan of every environment on the pull request, one comment edited in
    /// place on every new push (needs `shoal serve` to report to GitHub).
    #[serde(default)]
    pub pull_request_comment: bool,
}

/// The `on:` section.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TriggersInput {
    /// A new commit on a branch: apply.
    #[serde(default)]
    pub push: Option<BranchFilterInput>,
    /// A pull request opened or updated: plan only, shown on the pull request.
    #[serde(default)]
    pub pull_request: Option<BranchFilterInput>,
    /// Cron schedules: a plan-only drift check on the branch head.
    #[serde(default)]
    pub schedule: Vec<ScheduleInput>,
    /// Started by hand with `shoal dispatch`.
    #[serde(default)]
    pub workflow_dispatch: Option<DispatchInput>,
    /// An image pushed to a registry under a tag, reported by the registry's notification
    /// on `POST /hooks/registry`: apply on the branch head, with `trigger.image` set. One
    /// filter or a list; a run starts when one matches.
    #[serde(default)]
    pub registry_push: Option<OneOrList<RegistryPushInput>>,
}

/// Which pushed images start a run.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistryPushInput {
    /// The repository in the registry, without the registry's host: `maiev/scaler`. A
    /// glob: `maiev/*` matches every repository under `maiev/`.
    pub repository: Spanned<String>,
    /// Tag globs, such as `v*`; any tag when absent.
    #[serde(default)]
    pub tags: Vec<Spanned<String>>,
}

/// One item or a list of them.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(untagged)]
pub enum OneOrList<T> {
    One(T),
    List(Vec<T>),
}

impl<T> OneOrList<T> {
    pub fn items(&self) -> &[T] {
        match self {
            OneOrList::One(one) => std::slice::from_ref(one),
            OneOrList::List(list) => list,
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrList<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A visitor rather than `untagged`, so that the errors of the item keep their
        // positions instead of becoming "did not match any variant".
        struct OneOrListVisitor<T>(std::marker::PhantomData<T>);

        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for OneOrListVisitor<T> {
            type Value = OneOrList<T>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map or a list of maps")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<OneOrList<T>, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(OneOrList::One)
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<OneOrList<T>, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(OneOrList::List(items))
            }
        }

        deserializer.deserialize_any(OneOrListVisitor(std::marker::PhantomData))
    }
}

/// Which branches and changed paths start a run.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BranchFilterInput {
    /// Branch name globs; any branch when absent.
    #[serde(default)]
    pub branches: Vec<Spanned<String>>,
    /// Path globs; the run starts only when a changed file matches one. Any path when absent.
    #[serde(default)]
    pub paths: Vec<Spanned<String>>,
}

/// One schedule.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleInput {
    /// Five fields: minute hour day-of-month month day-of-week, in UTC.
    pub cron: Spanned<String>,
    /// Apply the changes found instead of only reporting drift.
    #[serde(default)]
    pub heal: bool,
}

/// Manual runs and the inputs they take.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DispatchInput {
    #[serde(default)]
    pub inputs: IndexMap<String, Spanned<InputDeclaration>>,
}

/// One input of a manual run, available to templates as `inputs.NAME`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InputDeclaration {
    #[serde(rename = "type", default)]
    pub kind: InputKind,
    /// The allowed values of a `choice` input.
    #[serde(default)]
    pub options: Vec<String>,
    #[serde(default)]
    pub default: Option<Spanned<serde_json::Value>>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub description: Option<String>,
    /// `environment`: the value must be the name of the environment the run is for,
    /// typed out; otherwise the run is refused before anything runs (teardown).
    #[serde(default)]
    pub confirms: Option<Confirms>,
}

/// What a confirmation input must repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Confirms {
    Environment,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum InputKind {
    #[default]
    String,
    Boolean,
    Number,
    Choice,
}

impl InputKind {
    pub fn name(self) -> &'static str {
        match self {
            InputKind::String => "string",
            InputKind::Boolean => "boolean",
            InputKind::Number => "number",
            InputKind::Choice => "choice",
        }
    }
}
