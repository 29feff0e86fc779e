//! A run's plan as the run page shows it: the plan text its log holds (the shown plan,
//! sensitive fields already `(sensitive)`), each line classed as a create, an update, a
//! field's change, a removal or a summary, for a readable diff.

use serde::Serialize;

/// One line of a plan, with what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanLine {
    pub text: String,
    /// `create`, `update`, `recreate`, `remove`, `field`, `added`, `removed`, `step`,
    /// `error`, `summary` or `other`.
    pub class: &'static str,
}

/// One environment's plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanView {
    pub heading: String,
    pub lines: Vec<PlanLine>,
}

/// The plans in `log` (one per environment): each starts with `workflow W, environment
/// E:` and ends with its `Plan: ...` summary.
pub fn plans_in_log<'a>(log: impl IntoIterator<Item = &'a str>) -> Vec<PlanView> {
    let mut plans: Vec<PlanView> = Vec::new();
    let mut open = false;
    for line in log {
        if line.starts_with("workflow ") && line.contains(", environment ") && line.ends_with(':') {
            plans.push(PlanView {
                heading: line.trim_end_matches(':').to_owned(),
                lines: Vec::new(),
            });
            open = true;
            continue;
        }
        if !open {
            continue;
        }
        let Some(plan) = plans.last_mut() else {
            continue;
        };
        if line.starts_with("Plan: ") {
            plan.lines.push(PlanLine {
                text: line.to_owned(),
                class: "summary",
            });
            open = false;
            continue;
        }
        if !line.starts_with("  ") {
            open = false;
            continue;
        }
        plan.lines.push(PlanLine {
            text: line.to_owned(),
            class: class_of(line),
        });
    }
    plans
}

fn class_of(line: &str) -> &'static str {
    let trimmed = line.trim_start();
    let indent = line.len() - trimmed.len();
    match (indent, trimmed.chars().next()) {
        (2, _) if trimmed.starts_with("step ") => "step",
        (4, Some('+')) => "create",
        (4, Some('~')) => "update",
        (4, Some('!')) => "recreate",
        (4, Some('-')) => "remove",
        (10, Some('+')) => "added",
        (10, Some('-')) => "removed",
        (8, _) => "field",
        _ if trimmed.starts_with("error: ") => "error",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_line_of_a_plan_is_classed() {
        let log = [
            "==> plan",
            "workflow web, environment prod:",
            "  step 1 stack shop",
            "    + create service shop_api",
            "    ~ update service shop_web",
            "        TaskTemplate.ContainerSpec.Image: \"web:1\" -> \"web:2\"",
            "        TaskTemplate.ContainerSpec.Env:",
            "          - \"MODE=a\"",
            "          + \"MODE=b\"",
            "        TaskTemplate.ContainerSpec.Secrets: (sensitive)",
            "    - remove service shop_old (no longer in the compose files)",
            "    = 2 unchanged",
            "Plan: 1 to create, 1 to update, 1 to remove.",
            "<== plan: 0 changes",
        ];
        let plans = plans_in_log(log);
        assert_eq!(plans.len(), 1);
        assert_eq!(plans[0].heading, "workflow web, environment prod");
        let classes: Vec<&str> = plans[0].lines.iter().map(|l| l.class).collect();
        assert_eq!(
            classes,
            [
                "step", "create", "update", "field", "field", "removed", "added", "field",
                "remove", "other", "summary"
            ]
        );
    }
}
