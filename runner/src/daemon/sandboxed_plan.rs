//! A pull request's plan, run in a child process under OS limits: fuel bounds a
//! template's instructions but not the size of one value, so a template that doubles a
//! string could take the daemon's memory. The daemon starts `prlimit --as=… --cpu=… --
//! shoal sandboxed-plan --mirror … --commit …`, sends it a [`SandboxInput`] on standard
//! input, and the child runs the same [`execute_environment`] as the daemon, writing
//! each progress report and finally its outcome as JSON lines ([`SandboxLine`]). A child
//! that dies or overruns its deadline is a failed run with a message saying why.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use std::io::Write as _;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;
use tokio::sync::mpsc;

use super::run_progress::{Progress, ProgressSink, RunUpdate};
use super::{EnvironmentOutcome, RunSettings, execute_environment};
use crate::apply::CancelSignal;
use crate::git::CommitFiles;
use crate::model::ImagePush;
use crate::render::CommitInfo;
use crate::store::RunStatus;
use crate::trigger::{RunMode, RunRequest};

/// The memory a sandboxed plan may use when `shoal serve --untrusted-memory` is not given.
pub const UNTRUSTED_MEMORY: u64 = 1024 * 1024 * 1024;

/// Where the sandboxed planner finds the commits and how far it may go.
#[derive(Debug, Clone)]
pub struct SandboxSettings {
    /// The daemon's bare mirror: the child reads the commit's files from it.
    pub mirror: PathBuf,
    /// The address space the child may map, in bytes (`prlimit --as`).
    pub memory: u64,
    /// Wall-clock time after which the child is killed; its CPU time is limited to it too.
    pub deadline: Duration,
}

/// What the sandboxed planner is told on its standard input.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SandboxInput {
    workflow: String,
    environments: Vec<String>,
    mode: RunMode,
    commit: String,
    event: String,
    actor: String,
    inputs: serde_json::Map<String, serde_json::Value>,
    image: Option<ImagePush>,
    environment: String,
    commit_sha: String,
    commit_message: String,
    commit_author: String,
    commit_branch: String,
    docker_host: Option<String>,
    docker_timeout_ms: u64,
    #[serde(default)]
    known_swarms: Option<PathBuf>,
    secrets_folder: PathBuf,
}

/// One line the sandboxed planner writes on its standard output.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SandboxLine {
    Progress(Progress),
    /// The last line. `source_lines` are the diagnostics' source lines, which a
    /// diagnostic does not serialize itself.
    Outcome {
        outcome: EnvironmentOutcome,
        source_lines: Vec<Option<String>>,
    },
}

/// Runs `request` for `environment` in a sandboxed child process and forwards its
/// progress to `sink` as it arrives.
pub async fn execute_sandboxed(
    sandbox: &SandboxSettings,
    settings: &RunSettings,
    request: &RunRequest,
    environment: &str,
    commit: &CommitInfo,
    sink: &mut ProgressSink,
    cancel: CancelSignal,
) -> EnvironmentOutcome {
    sink.send(Progress::EnvironmentStarted);
    let mut open_step = None;
    let ending = run_child(
        sandbox,
        settings,
        request,
        environment,
        commit,
        sink,
        cancel,
        &mut open_step,
    )
    .await;
    let (status, reason, timed_out) = match ending {
        Ending::Finished(outcome) => return *outcome,
        Ending::Cancelled => (RunStatus::Cancelled, "cancelled".to_owned(), false),
        Ending::Failed(reason) => (RunStatus::Failure, reason, false),
        Ending::Overran => (
            RunStatus::Failure,
            format!(
                "the sandboxed planner took longer than {}",
                humantime::format_duration(sandbox.deadline)
            ),
            true,
        ),
    };
    let summary = format!(
        "planning pull request commit {} stopped: {reason}",
        commit.short_sha
    );
    tracing::warn!(environment, "{summary}");
    if let Some(step) = open_step {
        sink.send(Progress::StepFinished {
            step,
            status,
            changes: 0,
            error: Some(summary.clone()),
        });
    }
    EnvironmentOutcome {
        environment: environment.to_owned(),
        status,
        summary,
        changes: 0,
        plan: String::new(),
        diagnostics: Vec::new(),
        drift: false,
        timed_out,
        certificates: Vec::new(),
    }
}

/// How the child came to an end.
enum Ending {
    Finished(Box<EnvironmentOutcome>),
    Cancelled,
    Overran,
    /// Why, as the end of "planning pull request commit abc1234 stopped: …".
    Failed(String),
}

#[allow(clippy::too_many_arguments)]
async fn run_child(
    sandbox: &SandboxSettings,
    settings: &RunSettings,
    request: &RunRequest,
    environment: &str,
    commit: &CommitInfo,
    sink: &mut ProgressSink,
    mut cancel: CancelSignal,
    open_step: &mut Option<String>,
) -> Ending {
    let input = SandboxInput {
        workflow: request.workflow.clone(),
        environments: request.environments.clone(),
        mode: request.mode,
        commit: request.commit.clone(),
        event: request.event.to_owned(),
        actor: request.actor.clone(),
        inputs: request.inputs.clone(),
        image: request.image.clone(),
        environment: environment.to_owned(),
        commit_sha: commit.sha.clone(),
        commit_message: commit.message.clone(),
        commit_author: commit.author.clone(),
        commit_branch: commit.branch.clone(),
        docker_host: settings.docker_host.clone(),
        docker_timeout_ms: u64::try_from(settings.docker_timeout.as_millis()).unwrap_or(u64::MAX),
        known_swarms: settings.known_swarms.clone(),
        secrets_folder: settings.secrets_folder.clone(),
    };
    let program = match std::env::current_exe() {
        Ok(program) => program,
        Err(error) => return Ending::Failed(format!("cannot find the shoal program: {error}")),
    };
    let deadline = tokio::time::Instant::now() + sandbox.deadline;
    let mut child = match Command::new("prlimit")
        .arg(format!("--as={}", sandbox.memory))
        .arg(format!("--cpu={}", sandbox.deadline.as_secs().max(1) + 1))
        .arg("--")
        .arg(program)
        .arg("sandboxed-plan")
        .arg("--mirror")
        .arg(&sandbox.mirror)
        .arg("--commit")
        .arg(&commit.sha)
        // glibc reserves 64 MiB of address space per arena and thread: few arenas, so
        // that the limit is spent on values, not on reservations.
        .env("MALLOC_ARENA_MAX", "2")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
    {
        Ok(child) => child,
        Err(error) => {
            return Ending::Failed(format!(
                "cannot start the sandboxed planner with prlimit: {error}"
            ));
        }
    };
    let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Ending::Failed("the sandboxed planner has no pipes".to_owned());
    };
    let text = serde_json::to_vec(&input).unwrap_or_default();
    // A child that dies before reading its input shows in its exit status below.
    let _ = stdin.write_all(&text).await;
    drop(stdin);
    let mut lines = BufReader::new(stdout).lines();
    let mut outcome = None;
    loop {
        let line = tokio::select! {
            line = lines.next_line() => line,
            () = tokio::time::sleep_until(deadline) => return Ending::Overran,
            false = cancel.sleep(sandbox.deadline) => return Ending::Cancelled,
        };
        let Ok(Some(line)) = line else { break };
        match serde_json::from_str::<SandboxLine>(&line) {
            Ok(SandboxLine::Progress(Progress::EnvironmentStarted)) => {}
            Ok(SandboxLine::Progress(progress)) => {
                match &progress {
                    Progress::StepStarted { step } => *open_step = Some(step.clone()),
                    Progress::StepFinished { .. } => *open_step = None,
                    _ => {}
                }
                sink.send(progress);
            }
            Ok(SandboxLine::Outcome {
                outcome: sent,
                source_lines,
            }) => outcome = Some(received(sent, source_lines)),
            Err(error) => {
                return Ending::Failed(format!(
                    "the sandboxed planner wrote a line that is not a report ({error})"
                ));
            }
        }
    }
    let status = tokio::select! {
        status = child.wait() => status,
        () = tokio::time::sleep_until(deadline) => return Ending::Overran,
    };
    match (status, outcome) {
        (Ok(status), Some(outcome)) if status.success() => Ending::Finished(Box::new(outcome)),
        (Ok(status), _) => Ending::Failed(died(status, sandbox.memory)),
        (Err(error), _) => Ending::Failed(format!("the sandboxed planner was lost: {error}")),
    }
}

impl SandboxLine {
    /// The line that ends the child's output.
    fn outcome(outcome: EnvironmentOutcome) -> SandboxLine {
        let source_lines = outcome
            .diagnostics
            .iter()
            .map(|diagnostic| diagnostic.source_line.clone())
            .collect();
        SandboxLine::Outcome {
            outcome,
            source_lines,
        }
    }
}

/// The outcome as the child had it, its diagnostics' source lines put back.
fn received(
    mut outcome: EnvironmentOutcome,
    source_lines: Vec<Option<String>>,
) -> EnvironmentOutcome {
    for (diagnostic, line) in outcome.diagnostics.iter_mut().zip(source_lines) {
        diagnostic.source_line = line;
    }
    outcome
}

/// Why a child ended without its outcome.
fn died(status: std::process::ExitStatus, memory: u64) -> String {
    use std::os::unix::process::ExitStatusExt as _;
    const SIGXCPU: i32 = 24;
    match status.signal() {
        Some(SIGXCPU) => "the sandboxed planner used up its CPU time".to_owned(),
        Some(_) => format!(
            "the sandboxed planner was killed (it may have used more than its {} of memory)",
            memory_text(memory)
        ),
        None => match status.code() {
            Some(code) => format!("the sandboxed planner exited with status {code}"),
            None => "the sandboxed planner ended without a report".to_owned(),
        },
    }
}

/// `1 GiB`, `512 MiB` or a count of bytes.
pub fn memory_text(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    const GIB: u64 = 1024 * MIB;
    if bytes >= GIB && bytes.is_multiple_of(GIB) {
        format!("{} GiB", bytes / GIB)
    } else if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// Reads `--untrusted-memory`: bytes, or a number with `K`, `M`, `G` (or `KiB`, `MiB`,
/// `GiB`; powers of 1024).
pub fn parse_memory(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size such as 1GiB, 512MiB or 1073741824"))?;
    let factor: u64 = match unit.trim() {
        "" | "B" => 1,
        "K" | "KiB" => 1024,
        "M" | "MiB" => 1024 * 1024,
        "G" | "GiB" => 1024 * 1024 * 1024,
        other => return Err(format!("unknown unit `{other}`: use KiB, MiB or GiB")),
    };
    number
        .checked_mul(factor)
        .filter(|bytes| *bytes > 0)
        .ok_or_else(|| format!("`{text}` is not a size shoal can use"))
}

/// The child's side: reads its [`SandboxInput`], runs the environment on the commit's
/// files from the mirror, and writes [`SandboxLine`]s to standard output.
pub async fn run_sandboxed_plan(mirror: &Path, commit: &str) -> anyhow::Result<()> {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)?;
    let input: SandboxInput = serde_json::from_str(&text)?;
    let files = Arc::new(CommitFiles::open(mirror, git2::Oid::from_str(commit)?)?);
    let request = RunRequest {
        workflow: input.workflow,
        environments: input.environments,
        mode: input.mode,
        commit: input.commit,
        event: RunRequest::event_name(&input.event),
        actor: input.actor,
        inputs: input.inputs,
        image: input.image,
        rollback_from: None,
    };
    let commit_info = CommitInfo::new(
        &input.commit_sha,
        &input.commit_message,
        &input.commit_author,
        &input.commit_branch,
    );
    let settings = RunSettings {
        docker_host: input.docker_host,
        docker_timeout: Duration::from_millis(input.docker_timeout_ms),
        known_swarms: input.known_swarms,
        secrets_folder: input.secrets_folder,
    };
    let (sender, mut receiver) = mpsc::unbounded_channel();
    let mut sink = ProgressSink::new(0, &input.environment, sender);
    let mut stdout = std::io::stdout();
    let mut work = Box::pin(execute_environment(
        files,
        &request,
        &input.environment,
        &commit_info,
        &settings,
        &mut sink,
        CancelSignal::never(),
    ));
    let outcome = loop {
        tokio::select! {
            outcome = &mut work => break outcome,
            Some(update) = receiver.recv() => write_update(&mut stdout, update)?,
        }
    };
    drop(work);
    drop(sink);
    while let Some(update) = receiver.recv().await {
        write_update(&mut stdout, update)?;
    }
    write_line(&mut stdout, &SandboxLine::outcome(outcome))
}

/// One line each, flushed at once so that the daemon shows it while the plan runs.
fn write_update(stdout: &mut std::io::Stdout, update: RunUpdate) -> anyhow::Result<()> {
    match update {
        RunUpdate::Progress(report) => write_line(stdout, &SandboxLine::Progress(report.progress)),
        _ => Ok(()),
    }
}

fn write_line(stdout: &mut std::io::Stdout, line: &SandboxLine) -> anyhow::Result<()> {
    let mut text = serde_json::to_vec(line)?;
    text.push(b'\n');
    stdout.write_all(&text)?;
    stdout.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Diagnostic, Position, Severity, Span};

    #[test]
    fn an_outcome_crosses_the_pipe_with_the_source_lines_of_its_diagnostics() {
        let at = Position { line: 3, column: 5 };
        let outcome = EnvironmentOutcome {
            environment: "local".to_owned(),
            status: RunStatus::Failure,
            summary: "the config repo has errors: stacks/app.yml:3:5: unknown filter".to_owned(),
            changes: 0,
            plan: String::new(),
            diagnostics: vec![Diagnostic {
                severity: Severity::Error,
                path: "stacks/app.yml".to_owned(),
                span: Some(Span { start: at, end: at }),
                message: "unknown filter".to_owned(),
                help: None,
                source_line: Some("    x: {{ y | nope }}".to_owned()),
            }],
            drift: false,
            timed_out: false,
            certificates: Vec::new(),
        };
        let text = serde_json::to_string(&SandboxLine::outcome(outcome.clone())).expect("json");
        let Ok(SandboxLine::Outcome {
            outcome: sent,
            source_lines,
        }) = serde_json::from_str(&text)
        else {
            panic!("not an outcome: {text}");
        };
        assert_eq!(received(sent, source_lines), outcome);
        let step = SandboxLine::Progress(Progress::StepFinished {
            step: "plan".to_owned(),
            status: RunStatus::Failure,
            changes: 0,
            error: Some("no".to_owned()),
        });
        let text = serde_json::to_string(&step).expect("json");
        assert!(matches!(
            serde_json::from_str(&text),
            Ok(SandboxLine::Progress(Progress::StepFinished { .. }))
        ));
    }

    #[test]
    fn memory_sizes_are_read_in_powers_of_1024() {
        assert_eq!(parse_memory("1GiB"), Ok(1024 * 1024 * 1024));
        assert_eq!(parse_memory("512M"), Ok(512 * 1024 * 1024));
        assert_eq!(parse_memory("4096"), Ok(4096));
        assert_eq!(
            parse_memory("1TB"),
            Err("unknown unit `TB`: use KiB, MiB or GiB".to_owned())
        );
        assert_eq!(memory_text(UNTRUSTED_MEMORY), "1 GiB");
        assert_eq!(memory_text(768 * 1024 * 1024), "768 MiB");
    }
}
