//! Which commit a rollback applies: by default the commit of the last run of the
//! workflow on the environment that succeeded before its current one (the newest run that
//! started), on another commit, and not one a rollback already rolled back from: rolling
//! back twice goes two good commits back, not forth to the bad one. Pure: the runs come
//! from the store, newest first.

use crate::store::{RunRecord, RunStatus};

/// What a rollback rolls back from and to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackTarget {
    /// The commit of the workflow's newest run on the environment; `None` when it never
    /// ran there (a rollback to a named commit may still apply it).
    pub from: Option<String>,
    pub to: String,
}

/// The rollback of `workflow` on `environment`, given its apply runs newest first, to
/// `to` when given (a commit the caller found), else to the last commit whose run
/// succeeded before the current one.
pub fn rollback_target(
    runs: &[RunRecord],
    workflow: &str,
    environment: &str,
    to: Option<&str>,
) -> Result<RollbackTarget, String> {
    let mut started = runs.iter().filter(|run| {
        run.workflow == workflow
            && run.mode == "apply"
            && run.environments.iter().any(|e| e == environment)
            && !matches!(run.status, RunStatus::Queued | RunStatus::Skipped)
    });
    let current = started.next();
    let from = current.map(|run| run.commit.clone());
    if let Some(to) = to {
        return Ok(RollbackTarget {
            from,
            to: to.to_owned(),
        });
    }
    let Some(current) = current else {
        return Err(format!(
            "workflow `{workflow}` has not run on environment `{environment}`: there is nothing to roll back"
        ));
    };
    let rolled_back: Vec<&str> = runs
        .iter()
        .filter_map(|run| run.rollback_from.as_deref())
        .collect();
    started
        .find(|run| {
            run.status == RunStatus::Success
                && run.commit != current.commit
                && !rolled_back.contains(&run.commit.as_str())
        })
        .map(|run| RollbackTarget {
            from: from.clone(),
            to: run.commit.clone(),
        })
        .ok_or_else(|| {
            format!(
                "no run of workflow `{workflow}` on environment `{environment}` succeeded before commit {}: there is no earlier commit to roll back to; name one",
                short(&current.commit)
            )
        })
}

/// A commit's SHA as people read it.
pub fn short(commit: &str) -> &str {
    commit.get(..7).unwrap_or(commit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: i64, commit: &str, environments: &[&str], status: RunStatus) -> RunRecord {
        RunRecord {
            id,
            workflow: "deploy".into(),
            environments: environments.iter().map(|e| (*e).to_owned()).collect(),
            mode: "apply".into(),
            event: "push".into(),
            commit: commit.into(),
            actor: "ada".into(),
            status,
            created_at: String::new(),
            started_at: None,
            finished_at: None,
            summary: String::new(),
            rollback_from: None,
        }
    }

    #[test]
    fn the_last_success_on_another_commit_before_the_current_run() {
        // Newest first: c3 failed (the current one), c2 succeeded twice, c1 succeeded.
        let runs = [
            run(6, "c3aaaaaaaa", &["prod"], RunStatus::Skipped),
            run(5, "c3aaaaaaaa", &["prod"], RunStatus::Failure),
            run(4, "c2aaaaaaaa", &["staging"], RunStatus::Success),
            run(3, "c2aaaaaaaa", &["prod"], RunStatus::Success),
            run(2, "c1aaaaaaaa", &["prod"], RunStatus::Success),
        ];
        assert_eq!(
            rollback_target(&runs, "deploy", "prod", None),
            Ok(RollbackTarget {
                from: Some("c3aaaaaaaa".into()),
                to: "c2aaaaaaaa".into()
            })
        );
        // The current run succeeded: the one before it, on another commit.
        assert_eq!(
            rollback_target(&runs[2..], "deploy", "prod", None),
            Ok(RollbackTarget {
                from: Some("c2aaaaaaaa".into()),
                to: "c1aaaaaaaa".into()
            })
        );
        assert_eq!(
            rollback_target(&runs, "deploy", "prod", Some("c0")),
            Ok(RollbackTarget {
                from: Some("c3aaaaaaaa".into()),
                to: "c0".into()
            })
        );
    }

    #[test]
    fn no_run_or_no_earlier_success_is_said() {
        let runs = [
            run(2, "c2aaaaaaaa", &["prod"], RunStatus::Failure),
            run(1, "c2aaaaaaaa", &["prod"], RunStatus::Success),
        ];
        assert_eq!(
            rollback_target(&runs, "deploy", "prod", None),
            Err("no run of workflow `deploy` on environment `prod` succeeded before commit c2aaaaa: there is no earlier commit to roll back to; name one".to_owned())
        );
        assert_eq!(
            rollback_target(&runs, "deploy", "staging", None),
            Err("workflow `deploy` has not run on environment `staging`: there is nothing to roll back".to_owned())
        );
        assert_eq!(
            rollback_target(&runs, "deploy", "staging", Some("c1")),
            Ok(RollbackTarget {
                from: None,
                to: "c1".into()
            })
        );
    }
}
