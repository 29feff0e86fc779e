//! The pull request comment a workflow with `report.pull_request_comment` gets: the plan
//! of each environment, one comment per workflow, found again by a marker and edited in
//! place on every new push. Pure.

use std::fmt::Write as _;

use super::check_report::{cut_at_line, longest_backtick_run};

/// GitHub refuses an issue comment longer than this.
pub const COMMENT_LIMIT: usize = 65_536;

/// The comment to write on the pull requests whose head is `head_sha`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanComment {
    pub run_id: i64,
    pub workflow: String,
    pub head_sha: String,
    pub body: String,
}

/// What one environment of a pull request's run came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentPlan {
    pub environment: String,
    /// The check's title: "Plan: 1 to update", "Failed at step plan: …".
    pub title: String,
    pub plan_text: Option<String>,
}

/// The hidden line that marks the comment of `workflow`, so that it is edited, not
/// written again.
pub fn comment_marker(workflow: &str) -> String {
    format!("<!-- shoal:plan-comment workflow={workflow} -->")
}

/// The comment's markdown: a heading with the commit, then each environment's result and
/// plan, the plans cut at a line so that the whole stays below GitHub's limit.
pub fn plan_comment_body(
    workflow: &str,
    head_sha: &str,
    environments: &[EnvironmentPlan],
    details_url: Option<&str>,
) -> String {
    let short_sha = head_sha.get(..7).unwrap_or(head_sha);
    let mut body = format!(
        "{}\n### shoal plan of `{workflow}` at {short_sha}\n",
        comment_marker(workflow)
    );
    if let Some(url) = details_url {
        let _ = writeln!(body, "\n[The run]({url})");
    }
    // Room for each plan, leaving a margin for the headings, fences and notices.
    let overhead = 300 * environments.len().max(1) + body.len();
    let room = COMMENT_LIMIT.saturating_sub(overhead) / environments.len().max(1);
    for environment in environments {
        let name = match environment.environment.as_str() {
            "" => "the config repo",
            name => name,
        };
        let _ = writeln!(body, "\n**{name}**: {}", one_line(&environment.title));
        let Some(plan) = environment
            .plan_text
            .as_deref()
            .map(|p| p.trim_end_matches('\n'))
        else {
            continue;
        };
        let fence = "`".repeat(longest_backtick_run(plan).max(2) + 1);
        if plan.len() <= room {
            let _ = write!(body, "\n{fence}diff\n{plan}\n{fence}\n");
        } else {
            let kept = cut_at_line(plan, room);
            let _ = write!(
                body,
                "\n{fence}diff\n{kept}{fence}\n\nThe plan is cut here, below GitHub's limit for a comment.\n"
            );
        }
    }
    body
}

fn one_line(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(1_000)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(environment: &str, title: &str, text: Option<&str>) -> EnvironmentPlan {
        EnvironmentPlan {
            environment: environment.into(),
            title: title.into(),
            plan_text: text.map(str::to_owned),
        }
    }

    #[test]
    fn the_comment_shows_each_environment_under_its_marker() {
        let body = plan_comment_body(
            "deploy",
            "9fceb02d0ae598e95dc970b74767f19372d61af8",
            &[
                plan("staging", "Plan: 1 to update", Some("~ service web\n")),
                plan("prod", "Failed at step plan: rendering failed\nmore", None),
            ],
            Some("https://shoal.example.org/api/v1/runs/3"),
        );
        assert_eq!(
            body,
            "<!-- shoal:plan-comment workflow=deploy -->\n### shoal plan of `deploy` at 9fceb02\n\
             \n[The run](https://shoal.example.org/api/v1/runs/3)\n\
             \n**staging**: Plan: 1 to update\n\n```diff\n~ service web\n```\n\
             \n**prod**: Failed at step plan: rendering failed\n"
        );
        assert!(body.starts_with(&comment_marker("deploy")));
    }

    #[test]
    fn huge_plans_are_cut_below_the_comment_limit() {
        let huge = (0..20_000)
            .map(|n| format!("~ service web-{n}: replicas 1 -> 2"))
            .collect::<Vec<_>>()
            .join("\n");
        let environments = [
            plan("staging", "Plan: 20000 to update", Some(&huge)),
            plan("prod", "Plan: 20000 to update", Some(&huge)),
        ];
        let body = plan_comment_body("deploy", "abc", &environments, None);
        assert!(body.chars().count() <= COMMENT_LIMIT, "{}", body.len());
        assert_eq!(
            body.matches("The plan is cut here, below GitHub's limit for a comment.")
                .count(),
            2
        );
        assert_eq!(body.matches("```diff\n").count(), 2);
        assert_eq!(body.matches("\n```\n").count(), 2, "every block is closed");
    }
}
