//! Applying an `ssh` step: per host, in batches of `batch` hosts and `parallel` at once,
//! write the files that differ (atomically), run the commands whose guard does not hold,
//! then `on_change` once when a file changed; with `rollback_if_unreachable`, behind a
//! lock-out guard armed on the host and disarmed over a fresh connection. Each host's
//! output streams into the run's log, prefixed with the host.

use std::sync::Mutex;
use std::time::Duration;

use super::at_most::{HostTask, at_most};
use super::{DesiredHosts, FileAction, HostPlan, RenderedHost, guard_holds};
use crate::apply::{ApplyEvent, ApplyObserver};
use crate::hosts::{
    FileWrite, FileWritten, GuardedFile, HostCommand, HostConnector, HostError, HostSession,
    LockoutGuard, OutputSink, OutputStream,
};

/// What a step did on its hosts.
#[derive(Debug, Default, PartialEq)]
pub struct HostsOutcome {
    /// One line per host that changed: `host node1: wrote /etc/exports; ran exportfs -ra`.
    pub changed: Vec<String>,
    /// Files written and commands run (guards not counted).
    pub writes: usize,
}

/// Applies the `ssh` step `step` through the applier's host connector; its `timeout`
/// bounds each host. What `plan` (the step's plan, made by reading the hosts in this run)
/// shows unchanged is not done again: see [`planned_work`].
pub async fn apply<E: crate::docker::DockerEngine>(
    applier: &mut crate::apply::Applier<'_, E>,
    step: &crate::plan::DesiredStep,
    hosts: &DesiredHosts,
    plan: &[HostPlan],
    changes: &mut usize,
) -> Result<(), crate::apply::ApplyError> {
    let failed = |message: String| crate::apply::ApplyError::Step {
        step: step.name.clone(),
        message,
    };
    let Some(connector) = applier.hosts() else {
        return Err(failed(
            "no SSH access to hosts was set up for this run".to_owned(),
        ));
    };
    let desired = DesiredHosts {
        timeout: step.timeout,
        hosts: planned_work(&hosts.hosts, plan),
        ..hosts.clone()
    };
    let cancel = applier.cancel_signal().clone();
    let outcome = {
        let observer = Mutex::new(applier.observer());
        apply_hosts(connector, &desired, &observer, &cancel)
            .await
            .map_err(failed)?
    };
    *changes += outcome.writes;
    applier.note_changes(outcome.changed);
    Ok(())
}

/// What is left to do on `hosts` once `plan` has read them in this run: a host the plan
/// shows unchanged is not logged in to again, and of the others only the files the plan
/// shows to create or change are read (to check them once more) and written. A login
/// and an exec channel cost little to shoal but a login shell on the host each; an
/// unchanged apply opened them twice. A host the plan did not read is kept whole.
pub fn planned_work(hosts: &[RenderedHost], plan: &[HostPlan]) -> Vec<RenderedHost> {
    hosts
        .iter()
        .filter_map(|host| {
            let Some(host_plan) = plan
                .iter()
                .find(|host_plan| host_plan.login == host.target.login() && !host_plan.not_read)
            else {
                return Some(host.clone());
            };
            if !host_plan.has_changes() {
                return None;
            }
            let unchanged = |dest: &str| {
                host_plan
                    .files
                    .iter()
                    .any(|file| file.dest == dest && file.action == FileAction::Unchanged)
            };
            Some(RenderedHost {
                files: host
                    .files
                    .iter()
                    .filter(|file| !unchanged(&file.dest))
                    .cloned()
                    .collect(),
                ..host.clone()
            })
        })
        .collect()
}

/// Applies `desired`. The error names each failed host with its exit code and last
/// stderr lines, and says which hosts were changed and which were not. Once `cancel` is
/// raised, no further batch starts (the hosts of the current one finish).
pub async fn apply_hosts(
    connector: &dyn HostConnector,
    desired: &DesiredHosts,
    observer: &Mutex<&mut dyn ApplyObserver>,
    cancel: &crate::apply::CancelSignal,
) -> Result<HostsOutcome, String> {
    let mut outcome = HostsOutcome::default();
    let mut failures = Vec::new();
    let mut unchanged = Vec::new();
    let mut changed: Vec<String> = Vec::new();
    let mut not_reached = Vec::new();
    let batch = desired.batch.unwrap_or(desired.hosts.len()).max(1);
    for hosts in desired.hosts.chunks(batch) {
        if failures.is_empty() && cancel.is_raised() {
            failures.push("the apply was cancelled".to_owned());
        }
        if !failures.is_empty() {
            not_reached.extend(hosts.iter().map(|host| host.target.name.clone()));
            continue;
        }
        let tasks: Vec<HostTask<'_, HostResult>> = hosts
            .iter()
            .map(|host| Box::pin(apply_host(connector, desired, host, observer)) as HostTask<'_, _>)
            .collect();
        let results = at_most(desired.parallel, tasks).await;
        for (result, host) in results.into_iter().zip(hosts) {
            let name = &host.target.name;
            if !result.done.is_empty() {
                changed.push(name.clone());
                outcome.writes += result.done.len();
                outcome
                    .changed
                    .push(format!("host {name}: {}", result.done.join("; ")));
            } else if result.failure.is_none() {
                unchanged.push(name.clone());
            }
            match result.failure {
                Some(failure) if result.done.is_empty() => {
                    failures.push(format!("host {name}: {failure}"));
                    unchanged.push(name.clone());
                }
                Some(failure) => failures.push(format!("host {name}: {failure}")),
                None => {}
            }
        }
    }
    if failures.is_empty() {
        return Ok(outcome);
    }
    let mut message = failures.join("; ");
    let list = |names: &[String]| {
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    };
    message.push_str(&format!(
        " (changed: {}; unchanged: {}",
        list(&changed),
        list(&unchanged)
    ));
    if !not_reached.is_empty() {
        message.push_str(&format!("; not started: {}", not_reached.join(", ")));
    }
    message.push(')');
    Err(message)
}

/// What happened on one host: what was done, in order, and why it stopped.
struct HostResult {
    done: Vec<String>,
    failure: Option<String>,
}

async fn apply_host(
    connector: &dyn HostConnector,
    desired: &DesiredHosts,
    host: &RenderedHost,
    observer: &Mutex<&mut dyn ApplyObserver>,
) -> HostResult {
    let mut done = Vec::new();
    let steps = apply_host_steps(connector, desired, host, observer, &mut done);
    let failure = match desired.timeout {
        Some(limit) => match tokio::time::timeout(limit, steps).await {
            Ok(result) => result.err(),
            Err(_) => Some(format!(
                "timed out after {} (the step's timeout)",
                humantime::format_duration(limit)
            )),
        },
        None => steps.await.err(),
    };
    HostResult { done, failure }
}

async fn apply_host_steps(
    connector: &dyn HostConnector,
    desired: &DesiredHosts,
    host: &RenderedHost,
    observer: &Mutex<&mut dyn ApplyObserver>,
    done: &mut Vec<String>,
) -> Result<(), String> {
    let become_user = desired.become_user.as_deref();
    let mut log = HostLog {
        host: host.target.name.clone(),
        observer,
    };
    let text = |error: HostError| error.to_string();
    let mut session = connector.connect(&host.target).await.map_err(text)?;
    let guarded = desired
        .rollback_if_unreachable
        .filter(|_| !host.on_change.is_empty());
    let writes: Vec<FileWrite> = host
        .files
        .iter()
        .map(|file| FileWrite {
            dest: file.dest.clone(),
            content: file.content.as_bytes().to_vec(),
            mode: file.mode,
            owner: file.owner.clone(),
            group: file.group.clone(),
            keep_previous: guarded.is_some(),
        })
        .collect();
    let mut written = Vec::new();
    if !writes.is_empty() {
        let report = session
            .write_files(&writes, become_user)
            .await
            .map_err(text)?;
        for (file, outcome) in writes.iter().zip(&report.files) {
            let FileWritten::Written { had_previous } = *outcome else {
                continue;
            };
            log.say(&format!("wrote {}", file.dest));
            done.push(format!("wrote {}", file.dest));
            written.push(GuardedFile {
                dest: file.dest.clone(),
                had_previous,
            });
        }
        if let Some(error) = report.failure {
            return Err(text(error));
        }
    }
    let login = host.target.login();
    for (index, command) in host.commands.iter().enumerate() {
        if let Some(unless) = &command.unless
            && guard_holds(session.as_mut(), unless, command, become_user)
                .await
                .map_err(text)?
        {
            continue;
        }
        let run = HostCommand {
            run: command.run.clone(),
            env: command.env.clone(),
        };
        let shown = desired.shown_command(&login, "commands", index, &command.run);
        run_checked(session.as_mut(), &run, shown, become_user, &mut log, None).await?;
        done.push(format!("ran {shown}"));
    }
    if written.is_empty() || host.on_change.is_empty() {
        return Ok(());
    }
    let Some(delay) = guarded else {
        for (index, command) in host.on_change.iter().enumerate() {
            let run = HostCommand::new(command);
            let shown = desired.shown_command(&login, "on_change", index, command);
            run_checked(session.as_mut(), &run, shown, become_user, &mut log, None).await?;
            done.push(format!("ran {shown}"));
        }
        return Ok(());
    };
    let guard = LockoutGuard {
        delay,
        files: written,
        on_change: host.on_change.clone(),
    };
    let id = session.arm_guard(&guard, become_user).await.map_err(text)?;
    let due = tokio::time::Instant::now() + delay;
    log.say(&format!(
        "armed the lock-out guard: the host undoes this change in {} unless shoal logs in again",
        humantime::format_duration(delay)
    ));
    let undone = |why: String| {
        format!(
            "{why}; the host undid the change: its lock-out guard restored the previous \
             files and ran on_change again after {}",
            humantime::format_duration(delay)
        )
    };
    for (index, command) in host.on_change.iter().enumerate() {
        let run = HostCommand::new(command);
        let shown = desired.shown_command(&login, "on_change", index, command);
        match run_checked(
            session.as_mut(),
            &run,
            shown,
            become_user,
            &mut log,
            Some(delay),
        )
        .await
        {
            Ok(()) => done.push(format!("ran {shown}")),
            Err(failure) => {
                drop(session);
                return Err(undone_when_back(connector, host, due, failure, &undone).await);
            }
        }
    }
    drop(session);
    let mut fresh = match tokio::time::timeout(delay, connector.connect_fresh(&host.target)).await {
        Ok(Ok(fresh)) => fresh,
        Ok(Err(error)) => {
            let why = format!("a fresh connection after on_change failed ({error})");
            return Err(undone_when_back(connector, host, due, why, &undone).await);
        }
        Err(_) => {
            let why = "a fresh connection after on_change did not succeed in time".to_owned();
            return Err(undone_when_back(connector, host, due, why, &undone).await);
        }
    };
    fresh
        .disarm_guard(&id, &guard, become_user)
        .await
        .map_err(|error| undone(format!("disarming the guard failed ({error})")))?;
    log.say("logged in again: disarmed the lock-out guard");
    Ok(())
}

/// How long after its guard was due a host is given to answer again.
const GUARD_MARGIN: Duration = Duration::from_secs(2);

/// The failure of a guarded host, once its guard was due (`due`): shoal logs in again
/// then, so that "the host undid the change" is said only when the host answers again;
/// a host that still does not answer may still be shut out, and the error says so.
async fn undone_when_back(
    connector: &dyn HostConnector,
    host: &RenderedHost,
    due: tokio::time::Instant,
    why: String,
    undone: &(dyn Fn(String) -> String + Sync),
) -> String {
    tokio::time::sleep_until(due + GUARD_MARGIN).await;
    let answer =
        tokio::time::timeout(GUARD_MARGIN * 15, connector.connect_fresh(&host.target)).await;
    match answer {
        Ok(Ok(_)) => undone(why),
        Ok(Err(error)) => format!(
            "{why}; its lock-out guard was due to restore the previous files and run on_change \
             again, but the host still does not answer ({error}): it may still be shut out"
        ),
        Err(_) => format!(
            "{why}; its lock-out guard was due to restore the previous files and run on_change \
             again, but the host still does not answer: it may still be shut out"
        ),
    }
}

/// Runs `command`, logged and named in errors as `shown`; a non-zero exit is a failure
/// naming the code and the last stderr lines. With `limit`, a command that has not ended
/// by then counts as cut off.
async fn run_checked(
    session: &mut dyn HostSession,
    command: &HostCommand,
    shown: &str,
    become_user: Option<&str>,
    log: &mut HostLog<'_, '_>,
    limit: Option<Duration>,
) -> Result<(), String> {
    log.say(&format!("$ {shown}"));
    let exit = match limit {
        Some(limit) => {
            match tokio::time::timeout(limit, session.run(command, become_user, log)).await {
                Ok(result) => result,
                Err(_) => {
                    return Err(format!(
                        "`{}` did not answer within {}",
                        shown,
                        humantime::format_duration(limit)
                    ));
                }
            }
        }
        None => session.run(command, become_user, log).await,
    }
    .map_err(|error| format!("`{shown}`: {error}"))?;
    if exit.success() {
        return Ok(());
    }
    let mut message = format!("`{}` exited with code {}", shown, exit.code);
    if !exit.stderr_tail.is_empty() {
        message.push_str(&format!(": {}", exit.stderr_tail.join(" / ")));
    }
    Err(message)
}

/// A host's lines for the run's log.
struct HostLog<'a, 'b> {
    host: String,
    observer: &'a Mutex<&'b mut dyn ApplyObserver>,
}

impl HostLog<'_, '_> {
    fn say(&mut self, line: &str) {
        self.line(OutputStream::Stdout, line);
    }
}

impl OutputSink for HostLog<'_, '_> {
    fn line(&mut self, _stream: OutputStream, line: &str) {
        let mut observer = self
            .observer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        observer.event(ApplyEvent::HostOutput {
            host: self.host.clone(),
            line: line.to_owned(),
        });
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::hosts::{HostTarget, LiveFile};
    use crate::plan::Concealment;
    use crate::steps::ssh::{HostReading, RenderedHostFile, plan_host};

    fn host(address: &str, dests: &[&str]) -> RenderedHost {
        RenderedHost {
            target: HostTarget::parse(address, "root", 22).expect("a host"),
            group: "nodes".to_owned(),
            index: 0,
            files: dests
                .iter()
                .map(|dest| RenderedHostFile {
                    src: "file.j2".to_owned(),
                    dest: (*dest).to_owned(),
                    content: format!("{dest}\n"),
                    mode: Some(0o644),
                    owner: None,
                    group: None,
                })
                .collect(),
            commands: Vec::new(),
            on_change: vec!["reload".to_owned()],
        }
    }

    /// The plan of `host` where the files in `present` hold their desired content.
    fn plan(host: &RenderedHost, present: &[&str]) -> HostPlan {
        let reading = HostReading {
            files: host
                .files
                .iter()
                .map(|file| {
                    present
                        .contains(&file.dest.as_str())
                        .then(|| LiveFile::of(file.content.as_bytes(), 0o644, "root", "root"))
                })
                .collect(),
            guards: Vec::new(),
        };
        plan_host(host, &reading, &BTreeSet::new(), Concealment::Sensitive)
    }

    #[test]
    fn apply_leaves_out_the_hosts_and_files_the_plan_shows_unchanged() {
        let same = host("10.0.0.1", &["/etc/a", "/etc/b"]);
        let one_new = host("10.0.0.2", &["/etc/a", "/etc/b"]);
        let not_planned = host("10.0.0.3", &["/etc/a"]);
        let plans = [
            plan(&same, &["/etc/a", "/etc/b"]),
            plan(&one_new, &["/etc/a"]),
        ];
        let work = planned_work(&[same, one_new.clone(), not_planned.clone()], &plans);
        let shown: Vec<(String, Vec<&str>)> = work
            .iter()
            .map(|host| {
                (
                    host.target.name.clone(),
                    host.files.iter().map(|file| file.dest.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                ("10.0.0.2".to_owned(), vec!["/etc/b"]),
                ("10.0.0.3".to_owned(), vec!["/etc/a"]),
            ]
        );
        assert_eq!(work[0].on_change, one_new.on_change);
    }
}
