//! Planning an `ssh` step against its hosts: connect, read each destination, run the
//! `unless` guards (read-only by contract: a guard only tests), and plan each host.
//! Nothing is written: the plan never writes.

use std::collections::BTreeSet;

use super::at_most::{HostTask, at_most};
use super::{DesiredHosts, HostPlan, HostReading, RenderedHost, plan_host};
use crate::hosts::{HostCommand, HostConnector, HostError, HostSession};
use crate::plan::Concealment;

/// The plans of every host of `desired`, and a problem for each host that could not be
/// read (which forbids applying).
pub async fn plan_hosts(
    connector: &dyn HostConnector,
    desired: &DesiredHosts,
    sensitive: &BTreeSet<String>,
    concealment: Concealment,
) -> (Vec<HostPlan>, Vec<String>) {
    let tasks: Vec<HostTask<'_, Result<HostReading, HostError>>> = desired
        .hosts
        .iter()
        .map(|host| {
            Box::pin(connect_and_read(
                connector,
                host,
                desired.become_user.as_deref(),
            )) as HostTask<'_, _>
        })
        .collect();
    let readings = at_most(desired.parallel, tasks).await;
    let mut plans = Vec::new();
    let mut problems = Vec::new();
    for (reading, host) in readings.into_iter().zip(&desired.hosts) {
        match reading {
            Ok(reading) => plans.push(plan_host(host, &reading, sensitive, concealment)),
            Err(error) => problems.push(format!("host {}: {error}", host.target.name)),
        }
    }
    (plans, problems)
}

async fn connect_and_read(
    connector: &dyn HostConnector,
    host: &RenderedHost,
    become_user: Option<&str>,
) -> Result<HostReading, HostError> {
    let mut session = connector.connect(&host.target).await?;
    read_host(session.as_mut(), host, become_user).await
}

/// Reads what `host` holds of the step: its files, and whether each command's guard
/// says it is done; in one go ([`HostSession::survey`]: one exec over SSH).
pub async fn read_host(
    session: &mut dyn HostSession,
    host: &RenderedHost,
    become_user: Option<&str>,
) -> Result<HostReading, HostError> {
    let paths: Vec<String> = host.files.iter().map(|file| file.dest.clone()).collect();
    let guards: Vec<HostCommand> = host
        .commands
        .iter()
        .filter_map(|command| {
            command.unless.as_ref().map(|unless| HostCommand {
                run: unless.clone(),
                env: command.env.clone(),
            })
        })
        .collect();
    let survey = session.survey(&paths, &guards, become_user).await?;
    let mut held = survey.guards.into_iter();
    let guards = host
        .commands
        .iter()
        .map(|command| command.unless.as_ref().and_then(|_| held.next()))
        .collect();
    Ok(HostReading {
        files: survey.files,
        guards,
    })
}

/// Whether `unless` exits 0, with the command's environment; its output is not shown.
pub async fn guard_holds(
    session: &mut dyn HostSession,
    unless: &str,
    command: &super::RenderedCommand,
    become_user: Option<&str>,
) -> Result<bool, HostError> {
    let guard = HostCommand {
        run: unless.to_owned(),
        env: command.env.clone(),
    };
    let mut quiet = ();
    Ok(session
        .run(&guard, become_user, &mut quiet)
        .await?
        .success())
}
