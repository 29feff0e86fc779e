use std::time::Duration;

use chrono::{DateTime, TimeZone as _, Utc};
use serde_json::json;

use super::*;
use crate::github::check_state::{AnnotationLevel, StepRow};

fn at(second: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 6, 0, second)
        .single()
        .expect("a valid time")
}

fn state(phase: CheckPhase) -> CheckState {
    CheckState {
        run_id: 42,
        workflow: "deploy".into(),
        environment: "prod".into(),
        head_sha: "0123456789abcdef0123456789abcdef01234567".into(),
        phase,
        title: "Applied 3 changes to prod".into(),
        steps: vec![
            StepRow {
                name: "network".into(),
                result: "success".into(),
                duration: Some(Duration::from_millis(400)),
            },
            StepRow {
                name: "traefik | edge".into(),
                result: "success".into(),
                duration: Some(Duration::from_secs(75)),
            },
        ],
        plan_text: Some("+ service traefik_traefik\n~ service web: replicas 1 -> 2".into()),
        annotations: Vec::new(),
    }
}

fn annotation(line: u32) -> Annotation {
    Annotation {
        path: "stacks/traefik.yml".into(),
        start_line: line,
        end_line: line,
        start_column: Some(7),
        end_column: None,
        level: AnnotationLevel::Failure,
        message: format!("undefined variable on line {line}"),
    }
}

#[test]
fn a_completed_apply_is_one_body_with_times_conclusion_steps_and_plan() {
    let done = state(CheckPhase::Completed {
        started_at: Some(at(1)),
        completed_at: at(9),
        conclusion: Conclusion::Success,
    });
    let requests = check_run_requests(&done, Some("https://shoal.example.org/api/v1/runs/42"));
    assert_eq!(
        requests.first,
        json!({
            "name": "shoal/deploy/prod",
            "external_id": "42",
            "details_url": "https://shoal.example.org/api/v1/runs/42",
            "status": "completed",
            "started_at": "2026-11-22T06:00:01Z",
            "completed_at": "2026-11-22T06:00:09Z",
            "conclusion": "success",
            "output": {
                "title": "Applied 3 changes to prod",
                "summary": "| Step | Result | Duration |\n| --- | --- | --- |\n\
                            | network | success | 0.4 s |\n\
                            | traefik \\| edge | success | 1 min 15 s |\n\
                            \n<details><summary>Plan for prod</summary>\n\n```diff\n\
                            + service traefik_traefik\n~ service web: replicas 1 -> 2\n```\n\n</details>\n",
            },
        })
    );
    assert!(requests.more_annotations.is_empty());
    let created = check_run_create_body(&requests.first, &done.head_sha);
    assert_eq!(created["head_sha"], done.head_sha.as_str());
}

#[test]
fn queued_and_in_progress_have_no_conclusion() {
    let queued = check_run_requests(&state(CheckPhase::Queued), None).first;
    assert_eq!(queued["status"], "queued");
    assert!(queued.get("conclusion").is_none() && queued.get("started_at").is_none());
    assert!(queued.get("details_url").is_none());
    let running =
        check_run_requests(&state(CheckPhase::InProgress { started_at: at(3) }), None).first;
    assert_eq!(running["status"], "in_progress");
    assert_eq!(running["started_at"], "2026-11-22T06:00:03Z");
    assert!(running.get("conclusion").is_none());
}

#[test]
fn annotations_go_fifty_a_request_with_columns_only_on_one_line() {
    let mut failed = state(CheckPhase::Completed {
        started_at: None,
        completed_at: at(2),
        conclusion: Conclusion::Failure,
    });
    failed.annotations = (1..=120).map(annotation).collect();
    failed.annotations[0].end_line = 3;
    let requests = check_run_requests(&failed, None);
    let counts: Vec<usize> = std::iter::once(&requests.first)
        .chain(&requests.more_annotations)
        .map(|body| body["output"]["annotations"].as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(counts, [50, 50, 20]);
    assert_eq!(
        requests.first["output"]["annotations"][0],
        json!({
            "path": "stacks/traefik.yml",
            "start_line": 1,
            "end_line": 3,
            "annotation_level": "failure",
            "message": "undefined variable on line 1",
        })
    );
    assert_eq!(
        requests.first["output"]["annotations"][1]["start_column"],
        7
    );
    assert_eq!(
        requests.more_annotations[1]["output"]["annotations"][19]["message"],
        "undefined variable on line 120"
    );
    // Later updates carry the output only: title and summary are required with annotations.
    let later = &requests.more_annotations[0];
    assert_eq!(later.as_object().map(|o| o.len()), Some(1));
    assert_eq!(later["output"]["title"], "Applied 3 changes to prod");
    assert!(later["output"]["summary"].is_string());
}

#[test]
fn a_huge_plan_is_cut_below_the_limit_with_a_line_and_a_link() {
    let mut big = state(CheckPhase::Queued);
    big.plan_text = Some(
        (0..5_000)
            .map(|n| format!("~ service web-{n}: image busybox:1 -> busybox:2"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let text = summary(&big, Some("https://shoal.example.org/api/v1/runs/42"));
    assert!(text.chars().count() <= SUMMARY_LIMIT, "{}", text.len());
    assert!(text.len() > SUMMARY_LIMIT - 200, "uses the room it has");
    assert!(text.contains("```\n\n</details>\n"), "the block is closed");
    assert!(text.ends_with(
        "The plan is cut here, below GitHub's limit of 65535 characters: \
         the whole run is at https://shoal.example.org/api/v1/runs/42.\n"
    ));
    let without_link = summary(&big, None);
    assert!(without_link.ends_with("`shoal runs show 42` shows the whole run.\n"));
}

#[test]
fn a_plan_with_backticks_gets_a_longer_fence() {
    let mut odd = state(CheckPhase::Queued);
    odd.steps.clear();
    odd.plan_text = Some("label: ```x```".into());
    assert_eq!(
        summary(&odd, None),
        "No step has run yet.\n\n<details><summary>Plan for prod</summary>\n\n\
         ````diff\nlabel: ```x```\n````\n\n</details>\n"
    );
}

#[test]
fn statuses_map_phases_and_conclusions_and_keep_the_description_short() {
    let completed = |conclusion| {
        state(CheckPhase::Completed {
            started_at: Some(at(1)),
            completed_at: at(2),
            conclusion,
        })
    };
    let cases = [
        (state(CheckPhase::Queued), "pending"),
        (
            state(CheckPhase::InProgress { started_at: at(1) }),
            "pending",
        ),
        (completed(Conclusion::Success), "success"),
        (completed(Conclusion::Neutral), "success"),
        (completed(Conclusion::Skipped), "success"),
        (completed(Conclusion::Failure), "failure"),
        (completed(Conclusion::Cancelled), "error"),
        (completed(Conclusion::TimedOut), "error"),
    ];
    for (check, expected) in cases {
        assert_eq!(status_body(&check, None)["state"], expected, "{check:?}");
    }
    let mut failed = completed(Conclusion::Failure);
    failed.title = format!("Failed at step traefik: {}\nsecond line", "é".repeat(300));
    let body = status_body(&failed, Some("https://shoal.example.org/api/v1/runs/42"));
    let description = body["description"].as_str().expect("a description");
    assert!(description.chars().count() < DESCRIPTION_LIMIT);
    assert!(description.starts_with("Failed at step traefik: é") && description.ends_with('…'));
    assert_eq!(body["context"], "shoal/deploy/prod");
    assert_eq!(
        body["target_url"],
        "https://shoal.example.org/api/v1/runs/42"
    );
}

#[test]
fn the_run_url_joins_the_public_url() {
    assert_eq!(
        run_url(Some("https://shoal.example.org/"), 7).as_deref(),
        Some("https://shoal.example.org/api/v1/runs/7")
    );
    assert_eq!(run_url(None, 7), None);
}
