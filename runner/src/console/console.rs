//! `Console`: what the dashboard's pages are made of (the branch head the dispatcher
//! loaded, the store, the shared stack health and log followers, the commits'
//! descriptions), and each page as HTML for one logged-in person.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::Serialize;
use tokio::sync::watch;

use super::SharedReader;
use super::access::{AccessTokens, Identity, Sessions};
use super::dispatch_form::form_fields;
use super::environments_view::{environment_views, short_time};
use super::live_log::{LiveLogs, StoreLogSource};
use super::page_templates::PageTemplates;
use super::plan_view::plans_in_log;
use super::stack_health::{HealthReader, StackHealth};
use crate::daemon::LoadedCommit;
use crate::git::RepoMirror;
use crate::render::CommitInfo;
use crate::store::{RunFilter, RunStatus, StepRecord, StoreError};

/// Runs on one page of the history.
pub const RUNS_PER_PAGE: usize = 50;

/// Log lines a run page shows without JavaScript (the rest is in `log.txt`).
const LOG_LINES_ON_PAGE: usize = 200;

/// Log lines looked through for the plan.
const PLAN_LINES: usize = 2000;

/// A commit's message and author (a blocking call).
pub trait CommitDescriber: Send + Sync + 'static {
    fn describe(&self, commit: &str) -> Option<CommitInfo>;
}

/// Commits described from the daemon's git mirror.
pub struct MirrorCommits {
    pub mirror: Arc<dyn RepoMirror>,
    pub branch: String,
}

impl CommitDescriber for MirrorCommits {
    fn describe(&self, commit: &str) -> Option<CommitInfo> {
        self.mirror.commit_info(commit, &self.branch).ok()
    }
}

/// What the console is made of.
pub struct ConsoleSettings {
    pub state: PathBuf,
    pub tokens: AccessTokens,
    pub heads: watch::Receiver<Option<Arc<LoadedCommit>>>,
    pub health: Arc<dyn HealthReader>,
    pub commits: Arc<dyn CommitDescriber>,
}

/// Someone logged in, as a page greets them.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub identity: Identity,
    /// The session's CSRF token, put in every form.
    pub csrf: String,
}

pub struct Console {
    pub tokens: AccessTokens,
    pub sessions: Sessions,
    pub logs: LiveLogs,
    templates: PageTemplates,
    heads: watch::Receiver<Option<Arc<LoadedCommit>>>,
    health: StackHealth,
    commits: Arc<dyn CommitDescriber>,
    /// Commits do not change: each is described once.
    described: Mutex<HashMap<String, Option<CommitInfo>>>,
    reader: Arc<SharedReader>,
}

#[derive(Debug, Serialize)]
struct StepRow {
    environment: String,
    name: String,
    status: &'static str,
    duration: String,
    changes: i64,
    error: Option<String>,
}

#[derive(Debug, Serialize)]
struct FilterView {
    name: &'static str,
    label: &'static str,
    options: Vec<String>,
    value: String,
}

impl Console {
    pub fn new(settings: ConsoleSettings) -> Console {
        let reader = Arc::new(SharedReader::new(settings.state));
        Console {
            tokens: settings.tokens,
            sessions: Sessions::default(),
            logs: LiveLogs::new(Arc::new(StoreLogSource(reader.clone()))),
            templates: PageTemplates::new(),
            heads: settings.heads,
            health: StackHealth::new(settings.health),
            commits: settings.commits,
            described: Mutex::new(HashMap::new()),
            reader,
        }
    }

    /// The branch head the dispatcher loaded last.
    pub fn head(&self) -> Option<Arc<LoadedCommit>> {
        self.heads.borrow().clone()
    }

    pub fn login_page(&self, error: Option<&str>) -> String {
        self.templates
            .render("login.html", context! { error => error })
    }

    pub fn message_page(&self, viewer: &Viewer, heading: &str, message: &str) -> String {
        self.templates.render(
            "message.html",
            context! {
                heading => heading,
                message => message,
                ..viewer_context(viewer)
            },
        )
    }

    /// Every environment with its workflows' last apply and drift check, and its stacks'
    /// health.
    pub async fn environments_page(
        self: &Arc<Self>,
        viewer: &Viewer,
    ) -> Result<String, StoreError> {
        let Some(head) = self.head() else {
            return Ok(self.templates.render(
                "environments.html",
                context! { head => None::<String>, ..viewer_context(viewer) },
            ));
        };
        let (health, health_age) = self.health.current(&head).await;
        let console = self.clone();
        let views = blocking(move || {
            let latest = console.reader.read(|store| store.latest_finished_runs())?;
            Ok(environment_views(&head.repo, &latest, &health, |commit| {
                console.describe(commit)
            }))
        })
        .await?;
        let head = self
            .head()
            .map(|head| head.commit.chars().take(7).collect::<String>());
        Ok(self.templates.render(
            "environments.html",
            context! {
                head => head,
                health_age => format!("{}s", health_age.as_secs()),
                environments => Value::from(Serde(&views)),
                may_act => viewer.identity.role.may_act(),
                ..viewer_context(viewer)
            },
        ))
    }

    /// The runs `filter` matches, newest first, page `page` (from 1).
    pub async fn runs_page(
        self: &Arc<Self>,
        viewer: &Viewer,
        filter: RunFilter,
        page: usize,
    ) -> Result<String, StoreError> {
        let page = page.max(1);
        let reader = self.reader.clone();
        let shown = filter.clone();
        let mut runs = blocking(move || {
            reader.read(|store| {
                store.runs_filtered(&shown, RUNS_PER_PAGE + 1, (page - 1) * RUNS_PER_PAGE)
            })
        })
        .await?;
        let more = runs.len() > RUNS_PER_PAGE;
        runs.truncate(RUNS_PER_PAGE);
        let head = self.head();
        let repo = head.as_ref().map(|head| head.repo.clone());
        let workflows: Vec<String> = repo
            .iter()
            .flat_map(|repo| repo.workflows.iter().map(|w| w.name.clone()))
            .collect();
        let environments: Vec<String> = repo
            .iter()
            .flat_map(|repo| repo.environments.iter().map(|e| e.name.clone()))
            .collect();
        let strings = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let filters = [
            ("workflow", "Workflow", workflows, filter.workflow.clone()),
            (
                "environment",
                "Environment",
                environments,
                filter.environment.clone(),
            ),
            (
                "event",
                "Event",
                strings(&[
                    "push",
                    "pull_request",
                    "schedule",
                    "workflow_dispatch",
                    "registry_push",
                ]),
                filter.event.clone(),
            ),
            (
                "result",
                "Result",
                strings(&[
                    "queued",
                    "running",
                    "success",
                    "failure",
                    "cancelled",
                    "skipped",
                    "interrupted",
                ]),
                filter.result.clone(),
            ),
        ]
        .into_iter()
        .map(|(name, label, options, value)| FilterView {
            name,
            label,
            options,
            value: value.unwrap_or_default(),
        })
        .collect::<Vec<_>>();
        let link = |page: usize| {
            let mut query = form_urlencoded::Serializer::new(String::new());
            for view in &filters {
                if !view.value.is_empty() {
                    query.append_pair(view.name, &view.value);
                }
            }
            query.append_pair("page", &page.to_string());
            format!("/runs?{}", query.finish())
        };
        Ok(self.templates.render(
            "runs.html",
            context! {
                runs => Value::from(Serde(&runs)),
                page => page,
                previous_page => (page > 1).then(|| link(page - 1)),
                next_page => more.then(|| link(page + 1)),
                filters => Value::from(Serde(&filters)),
                ..viewer_context(viewer)
            },
        ))
    }

    /// A run: its steps, its plan, the start of its log (followed live with JavaScript).
    /// `None`: no such run.
    pub async fn run_page(
        self: &Arc<Self>,
        viewer: &Viewer,
        id: i64,
        notice: Option<&str>,
    ) -> Result<Option<String>, StoreError> {
        let console = self.clone();
        let found = blocking(move || {
            console.reader.read(|store| {
                let Some(run) = store.run(id)? else {
                    return Ok(None);
                };
                let steps = store.steps(id)?;
                let plan_lines = store.logs_page(id, 0, PLAN_LINES)?;
                let last = store.last_log_line(id)?;
                Ok(Some((run, steps, plan_lines, last)))
            })
        })
        .await?;
        let Some((run, steps, plan_lines, last)) = found else {
            return Ok(None);
        };
        let live = matches!(run.status, RunStatus::Queued | RunStatus::Running);
        let commit = {
            let console = self.clone();
            let sha = run.commit.clone();
            tokio::task::spawn_blocking(move || console.describe(&sha))
                .await
                .ok()
                .flatten()
        };
        let plans = plans_in_log(plan_lines.iter().map(|(_, line)| line.as_str()));
        let log_head: Vec<String> = plan_lines
            .iter()
            .take(LOG_LINES_ON_PAGE)
            .map(|(_, line)| line.clone())
            .collect();
        let log_more = live || last > LOG_LINES_ON_PAGE as i64;
        let steps: Vec<StepRow> = steps.iter().map(step_row).collect();
        Ok(Some(self.templates.render(
            "run.html",
            context! {
                run => Value::from(Serde(&run)),
                commit => commit.map(|c| context! { message => c.message, author => c.author }),
                steps => Value::from(Serde(&steps)),
                plans => Value::from(Serde(&plans)),
                live => live,
                log_head => log_head,
                log_more => log_more,
                notice => notice,
                may_act => viewer.identity.role.may_act(),
                ..viewer_context(viewer)
            },
        )))
    }

    /// The dispatch form of `workflow` (`None`: the head has no such workflow that can be
    /// dispatched), with submitted values and the dispatcher's problems when it was refused.
    pub fn dispatch_page(
        &self,
        viewer: &Viewer,
        workflow: &str,
        environment: Option<&str>,
        submitted: Option<&[(String, String)]>,
        problems: &[String],
    ) -> Option<String> {
        let head = self.head()?;
        let workflow = head
            .repo
            .workflows
            .iter()
            .find(|w| w.name == workflow && w.triggers.dispatch.is_some())?;
        let (fields, general) = form_fields(workflow, submitted, problems);
        Some(self.templates.render(
            "dispatch.html",
            context! {
                workflow => workflow.name.clone(),
                environments => workflow.environments.clone(),
                environment => environment,
                fields => Value::from(Serde(&fields)),
                problems => general,
                ..viewer_context(viewer)
            },
        ))
    }

    /// Where run `id` is in its life (`None`: no such run).
    pub async fn run_status(self: &Arc<Self>, id: i64) -> Option<RunStatus> {
        let reader = self.reader.clone();
        blocking(move || reader.read(|store| store.run(id)))
            .await
            .ok()
            .flatten()
            .map(|run| run.status)
    }

    /// A commit's message and author, from the cache or the mirror (blocking).
    fn describe(&self, commit: &str) -> Option<CommitInfo> {
        if let Some(known) = self
            .described
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(commit)
        {
            return known.clone();
        }
        let found = self.commits.describe(commit);
        self.described
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(commit.to_owned(), found.clone());
        found
    }
}

/// What every page says about who is logged in.
fn viewer_context(viewer: &Viewer) -> minijinja::Value {
    context! {
        user => context! { name => viewer.identity.name.clone(), role => viewer.identity.role.as_str() },
        csrf => viewer.csrf.clone(),
    }
}

fn step_row(step: &StepRecord) -> StepRow {
    let duration = step.finished_at.as_deref().and_then(|finished| {
        let started = chrono::DateTime::parse_from_rfc3339(&step.started_at).ok()?;
        let finished = chrono::DateTime::parse_from_rfc3339(finished).ok()?;
        let elapsed = (finished - started).to_std().ok()?;
        Some(format!("{:.1}s", elapsed.as_secs_f64()))
    });
    StepRow {
        environment: step.environment.clone(),
        name: step.name.clone(),
        status: step.status.as_str(),
        duration: duration.unwrap_or_else(|| format!("since {}", short_time(&step.started_at))),
        changes: step.changes,
        error: step.error.clone(),
    }
}

async fn blocking<T: Send + 'static>(
    read: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(read)
        .await
        .unwrap_or(Err(StoreError::Closed))
}
