//! A plan as text for people: what each step would create, update (field by field),
//! recreate or remove. Used on terminals, and later in pull request checks.

use std::fmt::Write as _;

use serde_json::Value;

use super::{Action, FieldDiff, Plan, RemoveReason};

/// The plan of one workflow for one environment, as lines of text.
pub fn plan_text(plan: &Plan, workflow: &str, environment: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "workflow {workflow}, environment {environment}:");
    for (index, step) in plan.steps.iter().enumerate() {
        let _ = write!(out, "  step {} {} {}", index + 1, step.kind, step.step);
        if step.skipped {
            let _ = writeln!(out, ": skipped (`if` is false)");
            continue;
        }
        let _ = writeln!(out);
        for note in &step.notes {
            let _ = writeln!(out, "    {note}");
        }
        let mut unchanged = 0;
        for change in &step.changes {
            let what = format!("{} {}", change.object.name(), change.name);
            match &change.action {
                Action::Create => {
                    let _ = writeln!(out, "    + {} {what}", change.object.create_verb());
                }
                Action::Update { diffs } => {
                    let _ = writeln!(out, "    ~ update {what}");
                    for diff in diffs {
                        write_diff(&mut out, diff);
                    }
                }
                Action::Recreate { diffs, used_by } => {
                    let _ = writeln!(
                        out,
                        "    ! recreate {what} (its options cannot change in place)"
                    );
                    for diff in diffs {
                        write_diff(&mut out, diff);
                    }
                    if !used_by.is_empty() {
                        let _ = writeln!(out, "        in use by {}", used_by.join(", "));
                    }
                }
                Action::Remove { reason } => {
                    let why = match reason {
                        RemoveReason::Pruned => "no longer in the compose files",
                        RemoveReason::OldVersion => "an older version no service uses",
                        RemoveReason::Teardown => "teardown",
                        RemoveReason::NotInHostGroups => "no longer in the host groups",
                    };
                    let _ = writeln!(out, "    - remove {what} ({why})");
                }
                Action::Unchanged => unchanged += 1,
            }
        }
        if unchanged > 0 {
            let _ = writeln!(out, "    = {unchanged} unchanged");
        }
        for host in &step.hosts {
            host.write_text(&mut out);
        }
        for problem in &step.problems {
            let _ = writeln!(out, "    error: {problem}");
        }
    }
    let _ = writeln!(out, "Plan: {}.", plan.summary().describe());
    out
}

fn write_diff(out: &mut String, diff: &FieldDiff) {
    let path = &diff.path;
    if let Some(concealment) = diff.concealed {
        let _ = writeln!(out, "        {path}: {}", concealment.text());
        return;
    }
    let (before, after) = (diff.before.as_ref(), diff.after.as_ref());
    // Lists of strings (environment, command, constraints) read best as items added and removed.
    if let (Some(Value::Array(before)), Some(Value::Array(after))) = (before, after)
        && before.iter().chain(after).all(Value::is_string)
    {
        let _ = writeln!(out, "        {path}:");
        for item in before.iter().filter(|item| !after.contains(item)) {
            let _ = writeln!(out, "          - {item}");
        }
        for item in after.iter().filter(|item| !before.contains(item)) {
            let _ = writeln!(out, "          + {item}");
        }
        return;
    }
    let show = |value: Option<&Value>| value.map_or_else(|| "(none)".to_owned(), Value::to_string);
    let _ = writeln!(out, "        {path}: {} -> {}", show(before), show(after));
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::plan::{Change, ObjectType, StepPlan};

    #[test]
    fn shows_each_change_and_a_summary() {
        let plan = Plan {
            steps: vec![
                StepPlan {
                    step: "network".into(),
                    kind: "network",
                    skipped: false,
                    notes: Vec::new(),
                    changes: vec![Change {
                        object: ObjectType::Network,
                        name: "traefik-public".into(),
                        action: Action::Unchanged,
                    }],
                    hosts: vec![],
                    problems: vec![],
                },
                StepPlan {
                    step: "Traefik".into(),
                    kind: "stack",
                    skipped: false,
                    notes: Vec::new(),
                    changes: vec![
                        Change {
                            object: ObjectType::Config,
                            name: "traefik_conf-0a1b2c3d".into(),
                            action: Action::Create,
                        },
                        Change {
                            object: ObjectType::Service,
                            name: "traefik_traefik".into(),
                            action: Action::Update {
                                diffs: vec![
                                    FieldDiff {
                                        path: "TaskTemplate.ContainerSpec.Env".into(),
                                        before: Some(json!(["A=1", "B=2"])),
                                        after: Some(json!(["A=1", "B=3"])),
                                        concealed: None,
                                    },
                                    FieldDiff {
                                        path: "TaskTemplate.ContainerSpec.Image".into(),
                                        before: Some(json!("traefik:v3.2")),
                                        after: Some(json!("traefik:v3.3")),
                                        concealed: None,
                                    },
                                ],
                            },
                        },
                        Change {
                            object: ObjectType::Config,
                            name: "traefik_conf-99999999".into(),
                            action: Action::Remove {
                                reason: RemoveReason::OldVersion,
                            },
                        },
                    ],
                    hosts: vec![],
                    problems: vec![],
                },
            ],
            ..Plan::default()
        };
        assert_eq!(
            plan_text(&plan, "infrastructure", "prod"),
            "workflow infrastructure, environment prod:
  step 1 network network
    = 1 unchanged
  step 2 stack Traefik
    + create config traefik_conf-0a1b2c3d
    ~ update service traefik_traefik
        TaskTemplate.ContainerSpec.Env:
          - \"B=2\"
          + \"B=3\"
        TaskTemplate.ContainerSpec.Image: \"traefik:v3.2\" -> \"traefik:v3.3\"
    - remove config traefik_conf-99999999 (an older version no service uses)
Plan: 1 to create, 1 to update, 1 to remove.
"
        );
    }
}
