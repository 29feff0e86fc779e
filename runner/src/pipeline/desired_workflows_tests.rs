//! What a plan shows of a field that a template derived from a secret, whatever the
//! filter: `(sensitive)`, never the value, the derived value or the old live value.

use std::sync::Arc;

use serde_json::Value;

use super::*;
use crate::load::{MemoryFiles, load_repo};
use crate::plan::{SENSITIVE_FIELDS_LABEL, plan, plan_text};
use crate::render::{CommitInfo, TemplateEngine, TriggerInfo};
use crate::steps::Desired;
use crate::swarm::{LiveService, LiveState};

const SECRET: &str = "hunter2";

/// The repo: one stack whose service has a container label `x` rendered from `label`.
fn files(label: &str) -> MemoryFiles {
    MemoryFiles::new()
        .with(
            "shoal.yml",
            "environments:\n  prod:\n    secrets:\n      pw: { file: pw.txt }\n",
        )
        .with(
            "workflows/deploy.yml",
            "on: { push: { branches: [main] } }\nsteps:\n  - stack: { name: app, compose: stacks/app.yml }\n",
        )
        .with(
            "stacks/app.yml",
            &format!(
                "services:\n  web:\n    image: busybox\n    labels:\n      x: '{label}'\n      y: plain\n"
            ),
        )
}

/// The desired steps of the repo for `prod` under `policy`, with the secret's file in
/// a folder of its own.
fn desired(label: &str, policy: SecretPolicy) -> DesiredWorkflows {
    let files = Arc::new(files(label));
    let (repo, diagnostics) = load_repo(files.as_ref());
    let repo = repo.unwrap_or_else(|| panic!("{diagnostics:?}"));
    let folder = tempfile::tempdir().expect("temp");
    std::fs::write(folder.path().join("pw.txt"), format!("{SECRET}\n")).expect("write");
    let engine = TemplateEngine::new(files.clone());
    let workflows = [(&repo.workflows[0], serde_json::Map::new())];
    let commit = CommitInfo::new("0123456789abcdef", "deploy", "ada", "main");
    let trigger = TriggerInfo {
        event: "push".to_owned(),
        actor: "ada".to_owned(),
        image: None,
    };
    let input = RunInput {
        files: files.as_ref(),
        engine: &engine,
        environment: &repo.environments[0],
        workflows: &workflows,
        commit: &commit,
        trigger: &trigger,
        secrets_folder: folder.path(),
    };
    let mut scope = None;
    let desired = desired_workflows(&input, policy, |known| scope = Some(known))
        .unwrap_or_else(|error| panic!("{error}: {:?}", error.diagnostics()));
    assert!(scope.is_some(), "the stacks are told once known");
    desired
}

/// A live swarm where service `app_web` is what `desired` wants, but with container
/// label `x` at `old` and these labels of shoal's own.
fn live(desired: &DesiredWorkflows, old: &str, bookkeeping: &[(&str, &str)]) -> LiveState {
    let Desired::Stack(stack) = &desired.workflows[0].steps[0].desired else {
        panic!("a stack step");
    };
    let mut spec = stack.spec.services[0].spec.clone();
    spec["TaskTemplate"]["ContainerSpec"]["Labels"]["x"] = Value::from(old);
    for (key, value) in bookkeeping {
        spec["Labels"][*key] = Value::from(*value);
    }
    LiveState {
        services: vec![LiveService {
            id: "s1".to_owned(),
            name: "app_web".to_owned(),
            version: 1,
            spec,
            previous_spec: None,
            update_state: None,
            update_message: None,
        }],
        ..LiveState::default()
    }
}

/// The plan as shown, for a label rendered from `label` against a live label `old`.
fn shown(label: &str, old: &str, policy: SecretPolicy, bookkeeping: &[(&str, &str)]) -> String {
    let desired = desired(label, policy);
    let live = live(&desired, old, bookkeeping);
    let planned = plan(&desired.workflows[0].steps, &live);
    let text = plan_text(
        &planned.concealed(&desired.sensitive, &live, policy.concealment()),
        "deploy",
        "prod",
    );
    // Whatever a filter made of the secret, the plan can only say it changed.
    assert!(!text.contains(SECRET), "{text}");
    assert!(!text.contains("aHVudGVy"), "{text}");
    text
}

fn update(diff_line: &str) -> String {
    format!(
        "workflow deploy, environment prod:
  step 1 stack stack app
    + create network app_default
    ~ update service app_web
        {diff_line}
Plan: 1 to create, 1 to update.
"
    )
}

#[test]
fn a_field_derived_from_a_secret_by_any_filter_is_sensitive_in_a_trusted_plan() {
    for label in [
        "{{ secrets.pw }}",
        "{{ secrets.pw | b64encode }}",
        "{{ secrets.pw | reverse }}",
        "{{ secrets.pw | upper }}",
        "{{ secrets.pw | list | join(\"-\") }}",
        "{{ secrets.pw[1:] }}",
        "{{ secrets.pw | length }}",
        "{{ secrets.pw | sha256 }}",
        // One bit of the secret: the placeholders take the other branch than the value.
        "{% if secrets.pw[0] == \"h\" %}yes{% else %}no{% endif %}",
    ] {
        assert_eq!(
            shown(label, "old", SecretPolicy::Trusted, &[]),
            update("TaskTemplate.ContainerSpec.Labels.x: (sensitive)"),
            "{label}"
        );
    }
}

#[test]
fn a_pull_request_plan_compares_fields_derived_from_a_secret_when_applied() {
    for label in [
        "{{ secrets.pw | b64encode }}",
        "{{ secrets.pw | reverse }}",
        "{{ secrets.pw | upper }}",
        "{{ secrets.pw | list | join(\"-\") }}",
        "{{ secrets.pw[1:] }}",
        "{{ secrets.pw | length }}",
    ] {
        let desired = desired(label, SecretPolicy::Untrusted);
        assert!(desired.secrets.is_empty(), "no secret is read: {label}");
        assert_eq!(
            shown(label, "old", SecretPolicy::Untrusted, &[]),
            update("TaskTemplate.ContainerSpec.Labels.x: (sensitive, compared when applied)"),
            "{label}"
        );
    }
}

#[test]
fn a_field_that_does_not_depend_on_a_secret_shows_its_values() {
    assert_eq!(
        shown("{{ environment.name }}", "old", SecretPolicy::Trusted, &[]),
        update("TaskTemplate.ContainerSpec.Labels.x: \"old\" -> \"prod\""),
    );
}

#[test]
fn the_old_value_of_a_field_that_was_sensitive_when_applied_is_not_shown() {
    // The pull request changes the label to a constant: the live value is still derived
    // from the secret, as the label shoal wrote when it applied it says.
    let recorded = r#"["TaskTemplate.ContainerSpec.Labels.x"]"#;
    for policy in [SecretPolicy::Trusted, SecretPolicy::Untrusted] {
        assert_eq!(
            shown(
                "constant",
                "aHVudGVyMg==",
                policy,
                &[(SENSITIVE_FIELDS_LABEL, recorded)]
            ),
            update("TaskTemplate.ContainerSpec.Labels.x: (sensitive)"),
        );
    }
}

#[test]
fn applied_services_record_their_sensitive_fields() {
    let desired = desired("{{ secrets.pw | b64encode }}", SecretPolicy::Trusted);
    let Desired::Stack(stack) = &desired.workflows[0].steps[0].desired else {
        panic!("a stack step");
    };
    let spec = &stack.spec.services[0].spec;
    assert_eq!(
        spec["Labels"][SENSITIVE_FIELDS_LABEL],
        Value::from(r#"["TaskTemplate.ContainerSpec.Labels.x"]"#)
    );
    // What is applied holds the real value.
    assert_eq!(
        spec["TaskTemplate"]["ContainerSpec"]["Labels"]["x"],
        Value::from("aHVudGVyMg==")
    );
}

#[test]
fn an_error_only_the_real_values_cause_is_shown_by_its_position_alone() {
    let files = Arc::new(files(
        "{% if secrets.pw == \"hunter2\" %}{{ fail(\"it is \" ~ secrets.pw | b64encode) }}{% endif %}",
    ));
    let (repo, _) = load_repo(files.as_ref());
    let repo = repo.expect("loads");
    let folder = tempfile::tempdir().expect("temp");
    std::fs::write(folder.path().join("pw.txt"), SECRET).expect("write");
    let engine = TemplateEngine::new(files.clone());
    let workflows = [(&repo.workflows[0], serde_json::Map::new())];
    let commit = CommitInfo::new("0123456789abcdef", "deploy", "ada", "main");
    let trigger = TriggerInfo {
        event: "push".to_owned(),
        actor: "ada".to_owned(),
        image: None,
    };
    let input = RunInput {
        files: files.as_ref(),
        engine: &engine,
        environment: &repo.environments[0],
        workflows: &workflows,
        commit: &commit,
        trigger: &trigger,
        secrets_folder: folder.path(),
    };
    let Err(error) = desired_workflows(&input, SecretPolicy::Trusted, |_| {}) else {
        panic!("the real render fails");
    };
    let diagnostics = error.diagnostics().expect("a render error");
    let shown: String = diagnostics
        .sorted()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(shown.starts_with("stacks/app.yml:5:"), "{shown}");
    assert!(shown.contains("the message is not shown"), "{shown}");
    assert!(
        !shown.contains("aHVudGVy") && !shown.contains(SECRET),
        "{shown}"
    );
    // Untrusted, the real values are never read, and the placeholders render.
    assert!(desired_workflows(&input, SecretPolicy::Untrusted, |_| {}).is_ok());
}
