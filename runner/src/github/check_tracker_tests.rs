use chrono::TimeZone as _;

use super::*;
use crate::github::PlanComment;
use crate::source::{Position, Span};

fn at(second: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 7, 0, second)
        .single()
        .expect("a time")
}

fn run(mode: &str, status: RunStatus) -> RunRecord {
    RunRecord {
        id: 5,
        workflow: "deploy".into(),
        environments: vec!["staging".into(), "prod".into()],
        mode: mode.into(),
        event: "push".into(),
        commit: "9fceb02d0ae598e95dc970b74767f19372d61af8".into(),
        actor: "ada".into(),
        status,
        created_at: at(0).to_rfc3339(),
        started_at: None,
        finished_at: None,
        summary: String::new(),
        rollback_from: None,
    }
}

fn outcome(environment: &str, status: RunStatus, summary: &str) -> EnvironmentOutcome {
    EnvironmentOutcome {
        environment: environment.into(),
        status,
        summary: summary.into(),
        changes: 0,
        plan: String::new(),
        diagnostics: Vec::new(),
        // As the executor says: a drift check's failure that names drift.
        drift: summary.starts_with("drift:"),
        timed_out: summary.contains("timed out"),
        certificates: Vec::new(),
    }
}

fn step(name: &str, status: RunStatus, error: Option<&str>) -> StepRecord {
    StepRecord {
        environment: "staging".into(),
        name: name.into(),
        status,
        started_at: at(1).to_rfc3339(),
        finished_at: Some("2026-11-22T07:00:03.500+00:00".into()),
        changes: 0,
        error: error.map(str::to_owned),
    }
}

/// name, phase and title of each state.
fn summary(states: &[CheckState]) -> Vec<(String, CheckPhase, String)> {
    states
        .iter()
        .map(|s| (s.name(), s.phase, s.title.clone()))
        .collect()
}

#[test]
fn an_apply_goes_queued_in_progress_completed_and_unreached_environments_are_skipped() {
    let mut tracker = CheckTracker::new(Conclusion::Failure, None);
    let queued = tracker.check_states(
        &RunNotice::Queued {
            run: run("apply", RunStatus::Queued),
        },
        at(0),
    );
    assert_eq!(
        summary(&queued),
        [
            (
                "shoal/deploy/staging".into(),
                CheckPhase::Queued,
                "Queued".into()
            ),
            (
                "shoal/deploy/prod".into(),
                CheckPhase::Queued,
                "Queued".into()
            ),
        ]
    );
    let started = tracker.check_states(
        &RunNotice::EnvironmentStarted {
            run: run("apply", RunStatus::Running),
            environment: "staging".into(),
        },
        at(1),
    );
    assert_eq!(
        summary(&started),
        [(
            "shoal/deploy/staging".into(),
            CheckPhase::InProgress { started_at: at(1) },
            "Applying to staging".into()
        )]
    );
    let mut failed = outcome(
        "staging",
        RunStatus::Failure,
        "service web did not converge (0 changes applied before)",
    );
    failed.plan = "+ service web".into();
    let finished = tracker.check_states(
        &RunNotice::EnvironmentFinished {
            run: run("apply", RunStatus::Running),
            outcome: failed,
            steps: vec![
                step("plan", RunStatus::Success, None),
                step("web", RunStatus::Failure, Some("did not converge")),
            ],
        },
        at(9),
    );
    assert_eq!(
        summary(&finished),
        [(
            "shoal/deploy/staging".into(),
            CheckPhase::Completed {
                started_at: Some(at(1)),
                completed_at: at(9),
                conclusion: Conclusion::Failure
            },
            "Failed at step web: service web did not converge (0 changes applied before)".into()
        )]
    );
    assert_eq!(
        finished[0].steps,
        [
            StepRow {
                name: "plan".into(),
                result: "success".into(),
                duration: Some(Duration::from_millis(2_500))
            },
            StepRow {
                name: "web".into(),
                result: "failure".into(),
                duration: Some(Duration::from_millis(2_500))
            },
        ]
    );
    assert_eq!(finished[0].plan_text.as_deref(), Some("+ service web"));
    let mut ended = run("apply", RunStatus::Failure);
    ended.summary = "staging: failed".into();
    let rest = tracker.check_states(&RunNotice::Finished { run: ended }, at(10));
    assert_eq!(
        summary(&rest),
        [(
            "shoal/deploy/prod".into(),
            CheckPhase::Completed {
                started_at: None,
                completed_at: at(10),
                conclusion: Conclusion::Skipped
            },
            "Not run: an earlier environment did not succeed".into()
        )]
    );
}

#[test]
fn drift_fails_or_is_neutral_as_configured() {
    for conclusion in [Conclusion::Failure, Conclusion::Neutral] {
        let mut tracker = CheckTracker::new(conclusion, None);
        let states = tracker.check_states(
            &RunNotice::EnvironmentFinished {
                run: run("drift_check", RunStatus::Running),
                outcome: outcome("prod", RunStatus::Failure, "drift: 1 to update"),
                steps: Vec::new(),
            },
            at(4),
        );
        assert_eq!(states[0].title, "Drift in prod: 1 to update");
        assert!(matches!(
            states[0].phase,
            CheckPhase::Completed { conclusion: c, started_at: None, .. } if c == conclusion
        ));
    }
    let mut tracker = CheckTracker::new(Conclusion::Failure, None);
    let clean = tracker.check_states(
        &RunNotice::EnvironmentFinished {
            run: run("drift_check", RunStatus::Running),
            outcome: outcome("prod", RunStatus::Success, "no drift"),
            steps: Vec::new(),
        },
        at(4),
    );
    assert_eq!(clean[0].title, "No drift");
}

#[test]
fn a_step_whose_time_ran_out_times_the_check_out() {
    let mut tracker = CheckTracker::new(Conclusion::Failure, None);
    let states = tracker.check_states(
        &RunNotice::EnvironmentFinished {
            run: run("apply", RunStatus::Running),
            outcome: outcome(
                "prod",
                RunStatus::Failure,
                "step `web`: timed out after 2m (0 changes applied before)",
            ),
            steps: vec![step("web", RunStatus::Failure, Some("timed out after 2m"))],
        },
        at(4),
    );
    assert_eq!(
        states[0].title,
        "Timed out at step web: step `web`: timed out after 2m (0 changes applied before)"
    );
    assert!(matches!(
        states[0].phase,
        CheckPhase::Completed {
            conclusion: Conclusion::TimedOut,
            ..
        }
    ));
}

#[test]
fn a_run_cancelled_before_it_started_cancels_every_check() {
    let mut tracker = CheckTracker::new(Conclusion::Failure, None);
    let mut cancelled = run("apply", RunStatus::Cancelled);
    cancelled.summary = "cancelled before it started".into();
    let states = tracker.check_states(&RunNotice::Finished { run: cancelled }, at(2));
    assert_eq!(states.len(), 2);
    for state in states {
        assert_eq!(state.title, "Cancelled: cancelled before it started");
        assert!(matches!(
            state.phase,
            CheckPhase::Completed {
                conclusion: Conclusion::Cancelled,
                ..
            }
        ));
    }
}

#[test]
fn diagnostics_become_annotations_on_their_lines() {
    let mut tracker = CheckTracker::new(Conclusion::Failure, None);
    let mut broken = outcome(
        "staging",
        RunStatus::Failure,
        "rendering failed: stacks/app.yml:4:18: undefined value",
    );
    broken.diagnostics = vec![
        Diagnostic {
            severity: Severity::Error,
            path: "stacks/app.yml".into(),
            span: Some(Span::on_line(4, 18, 12)),
            message: "undefined value".into(),
            help: Some("did you mean `vars.image`?".into()),
            source_line: None,
        },
        Diagnostic {
            severity: Severity::Warning,
            path: "workflows/deploy.yml".into(),
            span: Some(Span {
                start: Position { line: 2, column: 3 },
                end: Position { line: 5, column: 1 },
            }),
            message: "unused input".into(),
            help: None,
            source_line: None,
        },
        Diagnostic::file_error("stacks/missing.yml", "cannot read the file"),
    ];
    let states = tracker.check_states(
        &RunNotice::EnvironmentFinished {
            run: run("plan", RunStatus::Running),
            outcome: broken,
            steps: vec![step("plan", RunStatus::Failure, Some("rendering failed"))],
        },
        at(3),
    );
    assert_eq!(
        states[0].annotations,
        [
            Annotation {
                path: "stacks/app.yml".into(),
                start_line: 4,
                end_line: 4,
                start_column: Some(18),
                end_column: Some(29),
                level: AnnotationLevel::Failure,
                message: "undefined value\nhelp: did you mean `vars.image`?".into(),
            },
            Annotation {
                path: "workflows/deploy.yml".into(),
                start_line: 2,
                end_line: 5,
                start_column: Some(3),
                end_column: Some(3),
                level: AnnotationLevel::Warning,
                message: "unused input".into(),
            },
            Annotation {
                path: "stacks/missing.yml".into(),
                start_line: 1,
                end_line: 1,
                start_column: None,
                end_column: None,
                level: AnnotationLevel::Failure,
                message: "cannot read the file".into(),
            },
        ]
    );
    assert_eq!(
        states[0].title,
        "Failed at step plan: rendering failed: stacks/app.yml:4:18: undefined value"
    );
}

#[test]
fn a_commit_whose_config_repo_has_errors_gets_one_check_for_the_repo() {
    let mut tracker = CheckTracker::new(Conclusion::Failure, None);
    let mut invalid = run("apply", RunStatus::Running);
    invalid.workflow = "config".into();
    invalid.environments = Vec::new();
    assert_eq!(
        tracker.check_states(
            &RunNotice::Queued {
                run: invalid.clone()
            },
            at(0)
        ),
        [],
        "no environment, no queued check"
    );
    let mut broken = outcome(
        "",
        RunStatus::Failure,
        "the config repo has 1 errors: shoal.yml:2:3: unknown key `enviroments`",
    );
    broken.diagnostics = vec![Diagnostic {
        severity: Severity::Error,
        path: "shoal.yml".into(),
        span: Some(Span::on_line(2, 3, 11)),
        message: "unknown key `enviroments`".into(),
        help: None,
        source_line: None,
    }];
    let states = tracker.check_states(
        &RunNotice::EnvironmentFinished {
            run: invalid.clone(),
            outcome: broken,
            steps: Vec::new(),
        },
        at(1),
    );
    assert_eq!(states.len(), 1);
    assert_eq!(states[0].name(), "shoal/config");
    assert_eq!(
        states[0].title,
        "Failed: the config repo has 1 errors: shoal.yml:2:3: unknown key `enviroments`"
    );
    assert_eq!(states[0].annotations[0].path, "shoal.yml");
    invalid.status = RunStatus::Failure;
    assert_eq!(
        tracker.check_states(&RunNotice::Finished { run: invalid }, at(2)),
        []
    );
}

#[test]
fn a_pull_request_run_ends_with_a_plan_comment_of_every_environment_it_ran() {
    let mut tracker = CheckTracker::new(
        Conclusion::Failure,
        Some("https://shoal.example.org".into()),
    );
    let mut planned = run("plan", RunStatus::Running);
    planned.event = "pull_request".into();
    let mut staging = outcome("staging", RunStatus::Success, "Plan: 1 to update");
    staging.plan = "~ service web".into();
    let notice = RunNotice::EnvironmentFinished {
        run: planned.clone(),
        outcome: staging,
        steps: Vec::new(),
    };
    tracker.check_states(&notice, at(1));
    let notice = RunNotice::EnvironmentFinished {
        run: planned.clone(),
        outcome: outcome("prod", RunStatus::Failure, "rendering failed"),
        steps: Vec::new(),
    };
    tracker.check_states(&notice, at(2));
    planned.status = RunStatus::Failure;
    let finished = RunNotice::Finished {
        run: planned.clone(),
    };
    assert_eq!(
        tracker.plan_comment(&finished),
        Some(PlanComment {
            run_id: 5,
            workflow: "deploy".into(),
            head_sha: planned.commit.clone(),
            body: "<!-- shoal:plan-comment workflow=deploy -->\n### shoal plan of `deploy` at 9fceb02\n\
                   \n[The run](https://shoal.example.org/api/v1/runs/5)\n\
                   \n**staging**: Plan: 1 to update\n\n```diff\n~ service web\n```\n\
                   \n**prod**: Failed: rendering failed\n"
                .into(),
        })
    );
    tracker.check_states(&finished, at(3));
    assert_eq!(
        tracker.plan_comment(&finished),
        None,
        "the run is forgotten once finished"
    );
    let mut pushed = run("apply", RunStatus::Success);
    pushed.id = 6;
    assert_eq!(
        tracker.plan_comment(&RunNotice::Finished { run: pushed }),
        None
    );
}

#[test]
fn a_rollback_check_says_it_is_one_and_from_which_commit() {
    let mut tracker = CheckTracker::new(Conclusion::Failure, None);
    let mut rollback = run("apply", RunStatus::Queued);
    rollback.event = "rollback".into();
    rollback.environments = vec!["prod".into()];
    rollback.rollback_from = Some("3f2a9c1d0e".into());
    let queued = tracker.check_states(&RunNotice::Queued { run: rollback }, at(0));
    assert_eq!(
        summary(&queued),
        [(
            "shoal/deploy/prod".to_owned(),
            CheckPhase::Queued,
            "Rollback from 3f2a9c1: Queued".to_owned()
        )]
    );
    assert_eq!(
        queued[0].head_sha,
        "9fceb02d0ae598e95dc970b74767f19372d61af8"
    );
}
