//! The request bodies GitHub gets for a check, made from a `CheckState` and nothing else:
//! check runs (`POST /repos/{owner}/{repo}/check-runs`, then `PATCH …/check-runs/{id}`)
//! for an App, commit statuses (`POST /repos/{owner}/{repo}/statuses/{sha}`) for a token.
//! Pure: no clock, no I/O. Field names, enum values and limits are those of GitHub's REST
//! reference (API version 2022-11-28).

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value, json};

use super::check_state::{Annotation, CheckPhase, CheckState, Conclusion};

/// GitHub refuses a check run output `summary` longer than this.
pub const SUMMARY_LIMIT: usize = 65_535;
/// GitHub takes at most this many annotations in one request; later updates add the rest.
pub const ANNOTATIONS_PER_REQUEST: usize = 50;
/// A commit status `description` is cut below this many characters.
pub const DESCRIPTION_LIMIT: usize = 140;
/// Titles are one line; a very long error is cut here.
const TITLE_LIMIT: usize = 1_000;

/// The requests that bring a check run to `state`: `first` creates it (with
/// [`check_run_create_body`]) or updates it, and each of `more_annotations` is a further
/// update that adds the next 50 annotations.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckRunRequests {
    pub first: Value,
    pub more_annotations: Vec<Value>,
}

/// The bodies for `state`. `details_url` links to the run in the daemon's API.
pub fn check_run_requests(state: &CheckState, details_url: Option<&str>) -> CheckRunRequests {
    let output = CheckOutput {
        title: title(state),
        summary: summary(state, details_url),
    };
    let mut chunks = state.annotations.chunks(ANNOTATIONS_PER_REQUEST);
    let mut first = json!({
        "name": state.name(),
        "external_id": state.run_id.to_string(),
        "output": output.with_annotations(chunks.next().unwrap_or_default()),
    });
    if let Some(url) = details_url {
        first["details_url"] = json!(url);
    }
    match state.phase {
        CheckPhase::Queued => first["status"] = json!("queued"),
        CheckPhase::InProgress { started_at } => {
            first["status"] = json!("in_progress");
            first["started_at"] = json!(iso_8601(started_at));
        }
        CheckPhase::Completed {
            started_at,
            completed_at,
            conclusion,
        } => {
            first["status"] = json!("completed");
            if let Some(started_at) = started_at {
                first["started_at"] = json!(iso_8601(started_at));
            }
            first["completed_at"] = json!(iso_8601(completed_at));
            first["conclusion"] = json!(conclusion.as_str());
        }
    }
    let more_annotations = chunks
        .map(|chunk| json!({ "output": output.with_annotations(chunk) }))
        .collect();
    CheckRunRequests {
        first,
        more_annotations,
    }
}

/// The body that creates a check run: an update body plus the commit it is attached to.
pub fn check_run_create_body(first: &Value, head_sha: &str) -> Value {
    let mut body = first.clone();
    body["head_sha"] = json!(head_sha);
    body
}

/// The commit status for `state`, for a token that cannot write check runs.
pub fn status_body(state: &CheckState, target_url: Option<&str>) -> Value {
    let status = match state.phase {
        CheckPhase::Queued | CheckPhase::InProgress { .. } => "pending",
        CheckPhase::Completed { conclusion, .. } => match conclusion {
            Conclusion::Success | Conclusion::Neutral | Conclusion::Skipped => "success",
            Conclusion::Failure => "failure",
            Conclusion::Cancelled | Conclusion::TimedOut => "error",
        },
    };
    let mut body = json!({
        "state": status,
        "context": state.name(),
        "description": cut(&title(state), DESCRIPTION_LIMIT - 1),
    });
    if let Some(url) = target_url {
        body["target_url"] = json!(url);
    }
    body
}

/// The run's page in the daemon's API, when the daemon has a public URL.
pub fn run_url(public_url: Option<&str>, run_id: i64) -> Option<String> {
    public_url.map(|base| format!("{}/api/v1/runs/{run_id}", base.trim_end_matches('/')))
}

/// The markdown summary: the step table, then the plan in a collapsible block, cut below
/// GitHub's limit with a line saying so.
pub fn summary(state: &CheckState, details_url: Option<&str>) -> String {
    let mut text = String::new();
    if state.steps.is_empty() {
        text.push_str("No step has run yet.\n");
    } else {
        text.push_str("| Step | Result | Duration |\n| --- | --- | --- |\n");
        for step in &state.steps {
            let _ = writeln!(
                text,
                "| {} | {} | {} |",
                table_cell(&step.name),
                table_cell(&step.result),
                step.duration.map(duration_text).unwrap_or_default()
            );
        }
    }
    let Some(plan) = &state.plan_text else {
        return cut(&text, SUMMARY_LIMIT);
    };
    let plan = plan.trim_end_matches('\n');
    let fence = "`".repeat(longest_backtick_run(plan).max(2) + 1);
    let open = format!(
        "\n<details><summary>Plan for {}</summary>\n\n{fence}diff\n",
        state.environment
    );
    let close = format!("{fence}\n\n</details>\n");
    let whole = format!("{text}{open}{plan}\n{close}");
    if whole.len() <= SUMMARY_LIMIT {
        return whole;
    }
    let where_to_read = match details_url {
        Some(url) => format!("the whole run is at {url}"),
        None => format!("`shoal runs show {}` shows the whole run", state.run_id),
    };
    let notice = format!(
        "\nThe plan is cut here, below GitHub's limit of {SUMMARY_LIMIT} characters: {where_to_read}.\n"
    );
    let room = SUMMARY_LIMIT.saturating_sub(text.len() + open.len() + close.len() + notice.len());
    let kept = cut_at_line(plan, room);
    cut(&format!("{text}{open}{kept}{close}{notice}"), SUMMARY_LIMIT)
}

struct CheckOutput {
    title: String,
    summary: String,
}

impl CheckOutput {
    fn with_annotations(&self, annotations: &[Annotation]) -> Value {
        let mut output = json!({ "title": self.title, "summary": self.summary });
        if !annotations.is_empty() {
            output["annotations"] = annotations.iter().map(annotation_body).collect();
        }
        output
    }
}

fn annotation_body(annotation: &Annotation) -> Value {
    let mut body = json!({
        "path": annotation.path,
        "start_line": annotation.start_line,
        "end_line": annotation.end_line,
        "annotation_level": annotation.level.as_str(),
        "message": annotation.message,
    });
    // GitHub accepts columns only on an annotation of one line.
    if annotation.start_line == annotation.end_line {
        if let Some(column) = annotation.start_column {
            body["start_column"] = json!(column);
        }
        if let Some(column) = annotation.end_column {
            body["end_column"] = json!(column);
        }
    }
    body
}

fn title(state: &CheckState) -> String {
    let line = state.title.lines().next().unwrap_or_default();
    let line = if line.is_empty() {
        state.name()
    } else {
        line.to_owned()
    };
    cut(&line, TITLE_LIMIT)
}

/// `text` in at most `limit` bytes (so at most `limit` characters), ending with `…` when
/// cut.
fn cut(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_owned();
    }
    let mut end = limit.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// The whole lines of `text` that fit in `limit` bytes, each ending with a newline.
pub(super) fn cut_at_line(text: &str, limit: usize) -> String {
    let mut kept = String::new();
    for line in text.lines() {
        if kept.len() + line.len() + 1 > limit {
            break;
        }
        kept.push_str(line);
        kept.push('\n');
    }
    kept
}

pub(super) fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

fn table_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn duration_text(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    if seconds < 60.0 {
        format!("{seconds:.1} s")
    } else {
        format!(
            "{} min {} s",
            duration.as_secs() / 60,
            duration.as_secs() % 60
        )
    }
}

fn iso_8601(time: chrono::DateTime<chrono::Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
#[path = "check_report_tests.rs"]
mod tests;
