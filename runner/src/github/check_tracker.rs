//! From the dispatcher's run notices to the states of GitHub checks: one check per
//! workflow and environment of a run, queued with the run, in progress when its
//! environment starts, completed with its outcome (steps, plan, annotations on the files
//! and lines of validation and template errors). Environments a run never reached are
//! completed as skipped or cancelled when the run ends. Pure apart from `follow`.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::broadcast;

use super::check_report::run_url;
use super::check_state::{
    Annotation, AnnotationLevel, CheckPhase, CheckState, Conclusion, StepRow,
};
use super::delivery::Reporter;
use super::plan_comment::{EnvironmentPlan, PlanComment, plan_comment_body};
use crate::daemon::{EnvironmentOutcome, RunNotice};
use crate::source::{Diagnostic, Severity};
use crate::store::{RunRecord, RunStatus, StepRecord};

pub struct CheckTracker {
    /// What a drift check that finds drift concludes (failure, or neutral by choice).
    drift_conclusion: Conclusion,
    /// The environments of each unfinished run whose check is completed.
    completed: HashMap<i64, HashSet<String>>,
    /// When each environment of each unfinished run started.
    started: HashMap<(i64, String), DateTime<Utc>>,
    /// What each environment of each unfinished run came to, for pull request comments.
    plans: HashMap<i64, Vec<EnvironmentPlan>>,
    /// The daemon's public URL, for links to runs.
    public_url: Option<String>,
}

impl CheckTracker {
    pub fn new(drift_conclusion: Conclusion, public_url: Option<String>) -> CheckTracker {
        CheckTracker {
            drift_conclusion,
            completed: HashMap::new(),
            started: HashMap::new(),
            plans: HashMap::new(),
            public_url,
        }
    }

    /// Reports every notice to `reporter` until the dispatcher stops; a pull request's
    /// run ends with a plan comment when `wants_comment` says its workflow asks for one.
    pub fn follow(
        mut self,
        mut notices: broadcast::Receiver<RunNotice>,
        reporter: Reporter,
        mut wants_comment: impl FnMut(&RunRecord) -> bool + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                match notices.recv().await {
                    Ok(notice) => {
                        let comment = match &notice {
                            RunNotice::Finished { run } if wants_comment(run) => {
                                self.plan_comment(&notice)
                            }
                            _ => None,
                        };
                        if let Some(comment) = comment {
                            reporter.comment(comment);
                        }
                        for state in self.check_states(&notice, Utc::now()) {
                            reporter.report(state);
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "the GitHub reporter fell behind the run notices");
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        })
    }

    /// The plan comment of a pull request's run, once it has finished: every environment
    /// it ran, with its result and plan. Call it before `check_states`, which forgets the
    /// run.
    pub fn plan_comment(&self, notice: &RunNotice) -> Option<PlanComment> {
        let RunNotice::Finished { run } = notice else {
            return None;
        };
        if run.event != "pull_request" {
            return None;
        }
        let plans = self.plans.get(&run.id)?;
        let url = run_url(self.public_url.as_deref(), run.id);
        Some(PlanComment {
            run_id: run.id,
            workflow: run.workflow.clone(),
            head_sha: run.commit.clone(),
            body: plan_comment_body(&run.workflow, &run.commit, plans, url.as_deref()),
        })
    }

    /// The check states `notice` brings, `now` being when it arrived.
    pub fn check_states(&mut self, notice: &RunNotice, now: DateTime<Utc>) -> Vec<CheckState> {
        match notice {
            RunNotice::Queued { run } => run
                .environments
                .iter()
                .map(|environment| check(run, environment, CheckPhase::Queued, "Queued"))
                .collect(),
            RunNotice::EnvironmentStarted { run, environment } => {
                self.started.insert((run.id, environment.clone()), now);
                let title = match run.mode.as_str() {
                    "apply" => format!("Applying to {environment}"),
                    "drift_check" => format!("Checking {environment} for drift"),
                    _ => format!("Planning {environment}"),
                };
                vec![check(
                    run,
                    environment,
                    CheckPhase::InProgress { started_at: now },
                    &title,
                )]
            }
            RunNotice::EnvironmentFinished {
                run,
                outcome,
                steps,
            } => {
                self.completed
                    .entry(run.id)
                    .or_default()
                    .insert(outcome.environment.clone());
                let started_at = self.started.remove(&(run.id, outcome.environment.clone()));
                let state = self.finished_environment(run, outcome, steps, started_at, now);
                self.plans.entry(run.id).or_default().push(EnvironmentPlan {
                    environment: state.environment.clone(),
                    title: state.title.clone(),
                    plan_text: state.plan_text.clone(),
                });
                vec![state]
            }
            RunNotice::Finished { run } => {
                let completed = self.completed.remove(&run.id).unwrap_or_default();
                self.plans.remove(&run.id);
                self.started.retain(|(id, _), _| *id != run.id);
                let (conclusion, title) = match run.status {
                    RunStatus::Cancelled => {
                        (Conclusion::Cancelled, format!("Cancelled: {}", run.summary))
                    }
                    RunStatus::Skipped => {
                        (Conclusion::Skipped, format!("Skipped: {}", run.summary))
                    }
                    _ => (
                        Conclusion::Skipped,
                        "Not run: an earlier environment did not succeed".to_owned(),
                    ),
                };
                run.environments
                    .iter()
                    .filter(|environment| !completed.contains(*environment))
                    .map(|environment| {
                        let phase = CheckPhase::Completed {
                            started_at: None,
                            completed_at: now,
                            conclusion,
                        };
                        check(run, environment, phase, &title)
                    })
                    .collect()
            }
        }
    }

    fn finished_environment(
        &self,
        run: &RunRecord,
        outcome: &EnvironmentOutcome,
        steps: &[StepRecord],
        started_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> CheckState {
        let environment = &outcome.environment;
        let drift = outcome.drift;
        let (conclusion, title) = match outcome.status {
            RunStatus::Success => (Conclusion::Success, capitalized(&outcome.summary)),
            RunStatus::Failure if drift => (
                self.drift_conclusion,
                format!(
                    "Drift in {environment}: {}",
                    outcome.summary.trim_start_matches("drift:").trim()
                ),
            ),
            RunStatus::Cancelled => (
                Conclusion::Cancelled,
                format!("Cancelled: {}", outcome.summary),
            ),
            RunStatus::Skipped => (Conclusion::Skipped, capitalized(&outcome.summary)),
            RunStatus::Failure if outcome.timed_out => {
                let step = steps.iter().find(|step| step.status == RunStatus::Failure);
                let title = match step {
                    Some(step) => format!("Timed out at step {}: {}", step.name, outcome.summary),
                    None => format!("Timed out: {}", outcome.summary),
                };
                (Conclusion::TimedOut, title)
            }
            RunStatus::Failure
            | RunStatus::Queued
            | RunStatus::Running
            | RunStatus::Interrupted => {
                let failed_step = steps.iter().find(|step| step.status == RunStatus::Failure);
                let title = match failed_step {
                    Some(step) => format!("Failed at step {}: {}", step.name, outcome.summary),
                    None => format!("Failed: {}", outcome.summary),
                };
                (Conclusion::Failure, title)
            }
        };
        let mut state = check(
            run,
            environment,
            CheckPhase::Completed {
                started_at,
                completed_at: now,
                conclusion,
            },
            &title,
        );
        state.steps = steps.iter().map(step_row).collect();
        state.plan_text = Some(outcome.plan.clone()).filter(|plan| !plan.is_empty());
        state.annotations = outcome.diagnostics.iter().map(annotation).collect();
        state
    }
}

fn check(run: &RunRecord, environment: &str, phase: CheckPhase, title: &str) -> CheckState {
    CheckState {
        run_id: run.id,
        workflow: run.workflow.clone(),
        environment: environment.to_owned(),
        head_sha: run.commit.clone(),
        phase,
        title: rollback_title(run, title),
        steps: Vec::new(),
        plan_text: None,
        annotations: Vec::new(),
    }
}

/// A rollback's check says so, and from which commit: `Rollback from 3f2a9c1: Applied 2
/// changes to prod`.
fn rollback_title(run: &RunRecord, title: &str) -> String {
    if run.event != "rollback" {
        return title.to_owned();
    }
    match &run.rollback_from {
        Some(from) => format!("Rollback from {}: {title}", crate::trigger::short(from)),
        None => format!("Rollback: {title}"),
    }
}

fn step_row(step: &StepRecord) -> StepRow {
    let time = |text: &str| DateTime::parse_from_rfc3339(text).ok();
    let duration = step
        .finished_at
        .as_deref()
        .and_then(time)
        .zip(time(&step.started_at))
        .and_then(|(end, start)| (end - start).to_std().ok());
    StepRow {
        name: step.name.clone(),
        result: step.status.as_str().to_owned(),
        duration: duration
            .map(|d| Duration::from_millis(u64::try_from(d.as_millis()).unwrap_or(0))),
    }
}

/// A diagnostic as an annotation: on its span, or on the first line when it concerns the
/// whole file.
fn annotation(diagnostic: &Diagnostic) -> Annotation {
    let line = |n: usize| u32::try_from(n.max(1)).unwrap_or(u32::MAX);
    let (start_line, end_line, start_column, end_column) = match diagnostic.span {
        Some(span) => (
            line(span.start.line),
            line(span.end.line.max(span.start.line)),
            Some(line(span.start.column)),
            // Spans end after their last character; GitHub's end column is the last one.
            Some(line(
                span.end.column.saturating_sub(1).max(span.start.column),
            )),
        ),
        None => (1, 1, None, None),
    };
    let mut message = diagnostic.message.clone();
    if let Some(help) = &diagnostic.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    Annotation {
        path: diagnostic.path.clone(),
        start_line,
        end_line,
        start_column,
        end_column,
        level: match diagnostic.severity {
            Severity::Error => AnnotationLevel::Failure,
            Severity::Warning => AnnotationLevel::Warning,
        },
        message,
    }
}

fn capitalized(text: &str) -> String {
    let mut characters = text.chars();
    match characters.next() {
        Some(first) => first.to_uppercase().chain(characters).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
#[path = "check_tracker_tests.rs"]
mod tests;
