//! What the dispatcher does with a commit off its loop: read it from the mirror, load its
//! config repo and prepare the runs an event triggers there (their concurrency groups,
//! the commit's order), on a blocking thread with a deadline. A commit's files may be
//! hostile: whatever they cost is paid here, never on the loop.

use std::sync::Arc;
use std::time::Duration;

use crate::deadline::DeadlineError;
use crate::git::RepoMirror;
use crate::load::{RepoFiles, load_repo};
use crate::model::ConfigRepo;
use crate::source::Diagnostics;
use crate::store::RunStatus;
use crate::trigger::{RunRequest, TriggerEvent, concurrency_group, run_requests};

/// How long loading one commit (reading its files, parsing, checking, rendering the
/// concurrency groups) may take by default, before its runs fail with a message saying so.
pub const LOAD_TIMEOUT: Duration = Duration::from_secs(30);

/// A commit's config repo, loaded. The branch head's is kept: ticks, dispatches and
/// registry pushes on an unchanged head reuse it instead of loading it again.
pub struct LoadedCommit {
    pub commit: String,
    pub(super) files: Arc<dyn RepoFiles>,
    pub repo: Arc<ConfigRepo>,
}

impl LoadedCommit {
    /// Loads `files` as the config repo of `commit` (the console's benchmark and tests;
    /// the dispatcher loads commits off its loop).
    pub fn load(commit: &str, files: Arc<dyn RepoFiles>) -> Result<LoadedCommit, Diagnostics> {
        let (repo, diagnostics) = load_repo(files.as_ref());
        match repo {
            Some(repo) => Ok(LoadedCommit {
                commit: commit.to_owned(),
                files,
                repo: Arc::new(repo),
            }),
            None => Err(diagnostics),
        }
    }
}

/// A run ready to be recorded and queued.
pub(super) struct PreparedRun {
    pub(super) request: RunRequest,
    pub(super) group: String,
    pub(super) commit_order: u64,
}

/// Why the runs of a commit could not be prepared.
pub(super) enum LoadFailure {
    /// The commit cannot be read from the mirror.
    Unreadable(String),
    /// The config repo has errors at this commit.
    Invalid(Diagnostics),
    /// The event asks for what the repo refuses (an unknown workflow, wrong inputs).
    Refused(Vec<String>),
    /// Loading ran past the deadline.
    TimedOut(Duration),
    /// The loading thread failed.
    Crashed(String),
}

impl LoadFailure {
    pub(super) fn from_late(late: Late, deadline: Duration) -> LoadFailure {
        match late {
            Late::TimedOut => LoadFailure::TimedOut(deadline),
            Late::Failed(error) => LoadFailure::Crashed(error),
        }
    }

    /// One line for a run's summary.
    pub(super) fn summary(&self) -> String {
        match self {
            LoadFailure::Unreadable(error) | LoadFailure::Crashed(error) => error.clone(),
            LoadFailure::Invalid(diagnostics) => format!(
                "the config repo has {} errors: {}",
                diagnostics.error_count(),
                diagnostics
                    .sorted()
                    .first()
                    .map(|d| format!("{}: {}", d.location(), d.message))
                    .unwrap_or_default()
            ),
            LoadFailure::Refused(problems) => problems.join("; "),
            LoadFailure::TimedOut(deadline) => format!(
                "loading the config repo at this commit took longer than {} s (shoal serve --load-timeout): nothing runs",
                deadline.as_secs_f64()
            ),
        }
    }

    /// Every problem, for a dispatch's answer.
    pub(super) fn problems(&self) -> Vec<String> {
        match self {
            LoadFailure::Invalid(diagnostics) => diagnostics
                .sorted()
                .iter()
                .map(|d| format!("{}: {}", d.location(), d.message))
                .collect(),
            LoadFailure::Refused(problems) => problems.clone(),
            other => vec![other.summary()],
        }
    }
}

/// A run queued when the daemon last stopped, with its group and commit order (or why it
/// cannot run).
pub(super) struct ResumedRun {
    pub(super) id: i64,
    pub(super) request: RunRequest,
    pub(super) placed: Result<(String, u64), (RunStatus, String)>,
}

/// Why a blocking call gave no answer.
pub(super) enum Late {
    TimedOut,
    Failed(String),
}

/// Runs `job` on a blocking thread and waits for it until `deadline`, through
/// [`crate::deadline::run_with_deadline`], for callers that word the failure themselves.
/// A thread cannot be stopped: a job past its deadline runs on until it ends (loading has limits of its own
/// that end it), but nothing waits for it any more.
pub(super) async fn blocking<T: Send + 'static>(
    deadline: Duration,
    job: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Late> {
    crate::deadline::run_with_deadline("the job", deadline, job)
        .await
        .map_err(|late| match late {
            DeadlineError::Exceeded { .. } => Late::TimedOut,
            DeadlineError::Failed { reason, .. } => Late::Failed(reason),
        })
}

/// The config repo at `commit`: `cached`'s when it is that commit's. Blocks.
///
/// The files are opened anew even then: a `RepoFiles` value is one reading of a commit,
/// whose `CommitBudget` is spent and never refilled, and the groups rendered for every
/// tick and dispatch on an unchanged head would otherwise wear it out.
pub(super) fn load_commit(
    mirror: &dyn RepoMirror,
    commit: &str,
    cached: Option<Arc<LoadedCommit>>,
) -> Result<Arc<LoadedCommit>, LoadFailure> {
    let files = mirror
        .files_at(commit)
        .map_err(|error| LoadFailure::Unreadable(error.to_string()))?;
    if let Some(cached) = cached.filter(|cached| cached.commit == commit) {
        return Ok(Arc::new(LoadedCommit {
            commit: cached.commit.clone(),
            files,
            repo: cached.repo.clone(),
        }));
    }
    let (repo, diagnostics) = load_repo(files.as_ref());
    let repo = repo.ok_or(LoadFailure::Invalid(diagnostics))?;
    Ok(Arc::new(LoadedCommit {
        commit: commit.to_owned(),
        files,
        repo: Arc::new(repo),
    }))
}

/// The runs `event` triggers at `commit`, with their groups and the commit's order.
/// Blocks.
pub(super) fn prepare_runs(
    mirror: &dyn RepoMirror,
    commit: &str,
    cached: Option<Arc<LoadedCommit>>,
    event: &TriggerEvent,
) -> Result<(Arc<LoadedCommit>, Vec<PreparedRun>), LoadFailure> {
    let loaded = load_commit(mirror, commit, cached)?;
    let requests = run_requests(&loaded.repo, event).map_err(LoadFailure::Refused)?;
    let commit_order = mirror.commit_order(commit).unwrap_or(0);
    let runs = requests
        .into_iter()
        .map(|request| PreparedRun {
            group: concurrency_group(loaded.files.clone(), &loaded.repo, &request),
            request,
            commit_order,
        })
        .collect();
    Ok((loaded, runs))
}

/// The groups and commit order of runs left queued on `commit`. Blocks.
pub(super) fn place_runs(
    mirror: &dyn RepoMirror,
    commit: &str,
    runs: Vec<(i64, RunRequest)>,
) -> Vec<ResumedRun> {
    let loaded = mirror.files_at(commit).map(|files| {
        let (repo, _) = load_repo(files.as_ref());
        (files, repo)
    });
    let commit_order = mirror.commit_order(commit).unwrap_or(0);
    runs.into_iter()
        .map(|(id, request)| {
            let placed = match &loaded {
                Ok((files, Some(repo))) => Ok((
                    concurrency_group(files.clone(), repo, &request),
                    commit_order,
                )),
                Ok((_, None)) => Ok((request.environments.join(","), commit_order)),
                Err(error) => Err((RunStatus::Interrupted, error.to_string())),
            };
            ResumedRun {
                id,
                request,
                placed,
            }
        })
        .collect()
}
