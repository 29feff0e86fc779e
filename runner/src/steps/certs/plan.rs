//! How a `certs` step is planned, once settled: a line per certificate (valid until,
//! to renew and why, missing), its new secrets created, and the older versions of its
//! secrets that no service uses removed.

use std::collections::BTreeSet;

use super::DesiredCerts;
use crate::plan::{Action, Change, ObjectType, Planner, StepPlan, old_version_removal};
use crate::swarm::{OBJECT_NAME, ObjectKind, ObjectSpec};

pub fn plan(planner: &mut Planner<'_>, certs: &DesiredCerts, plan: &mut StepPlan) {
    plan.problems.extend(certs.problems.iter().cloned());
    for outcome in &certs.outcomes {
        plan.notes.push(outcome.decision.line(&outcome.name));
        for object in &outcome.created {
            plan.changes.push(planner.object(object));
        }
        plan.changes
            .extend(outcome.unissued.iter().map(|name| Change {
                object: ObjectType::Secret,
                name: name.clone(),
                action: Action::Create,
            }));
        let current: BTreeSet<String> = outcome
            .current
            .iter()
            .map(|(_, name)| name.clone())
            .collect();
        for (logical, _) in &outcome.current {
            let versions = ObjectSpec {
                kind: ObjectKind::Secret,
                name: String::new(),
                labels: [(OBJECT_NAME.to_owned(), logical.clone())].into(),
                data: Vec::new(),
            };
            let old = planner.old_versions(&versions, None, &current, 0);
            if old.is_empty() {
                continue;
            }
            // Any service, of any stack, may use one.
            planner.needs_services_of(None);
            let used = used_secrets(planner);
            plan.changes.extend(
                old.into_iter()
                    .filter(|live| !used.contains(&live.name))
                    .map(old_version_removal),
            );
        }
    }
}

/// The secrets live services use.
fn used_secrets(planner: &Planner<'_>) -> BTreeSet<String> {
    planner
        .live()
        .services
        .iter()
        .filter_map(|service| {
            service
                .spec
                .pointer("/TaskTemplate/ContainerSpec/Secrets")?
                .as_array()
        })
        .flatten()
        .filter_map(|reference| Some(reference.get("SecretName")?.as_str()?.to_owned()))
        .collect()
}
