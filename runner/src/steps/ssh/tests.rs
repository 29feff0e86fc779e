//! Unit tests of the `ssh` step from a repo in memory to hosts in memory: rendering per
//! host, secrets in the plan, planning, applying, idempotence, batches, failures and the
//! lock-out guard's logic.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;
use crate::apply::{ApplyEvent, ApplyObserver, CancelSignal, CollectedEvents};
use crate::hosts::{FakeHosts, LiveFile};
use crate::load::{MemoryFiles, load_repo};
use crate::pipeline::{RunInput, SecretPolicy, desired_workflows};
use crate::plan::Concealment;
use crate::render::{CommitInfo, TemplateEngine, TriggerInfo};
use crate::source::Diagnostics;
use crate::steps::Desired;

const SECRET: &str = "hunter2";

const SHOAL_YML: &str = "environments:
  prod:
    ssh: { user: deploy, port: 2222 }
    hosts:
      nfs: [10.0.0.1, \"root@10.0.0.2:22\"]
      edge: [{ address: 10.0.0.3, name: edge-1, vars: { zone: b } }]
    secrets:
      pw: { file: pw.txt }
";

fn repo(workflow: &str, files: &[(&str, &str)]) -> MemoryFiles {
    let mut memory = MemoryFiles::new()
        .with("shoal.yml", SHOAL_YML)
        .with("workflows/hosts.yml", workflow);
    for (path, content) in files {
        memory = memory.with(path, content);
    }
    memory
}

/// The desired hosts of the first step, and the sensitive keys, rendered for `prod`
/// with the real secret.
fn desired(files: MemoryFiles) -> (DesiredHosts, BTreeSet<String>) {
    let files = Arc::new(files);
    let (repo, diagnostics) = load_repo(files.as_ref());
    let repo = repo.unwrap_or_else(|| panic!("{diagnostics:?}"));
    let folder = tempfile::tempdir().expect("temp");
    std::fs::write(folder.path().join("pw.txt"), format!("{SECRET}\n")).expect("write");
    let engine = TemplateEngine::new(files.clone());
    let workflows = [(&repo.workflows[0], serde_json::Map::new())];
    let commit = CommitInfo::new("0123456789abcdef", "deploy", "ada", "main");
    let trigger = TriggerInfo::default();
    let input = RunInput {
        files: files.as_ref(),
        engine: &engine,
        environment: &repo.environments[0],
        workflows: &workflows,
        commit: &commit,
        trigger: &trigger,
        secrets_folder: folder.path(),
    };
    let desired = desired_workflows(&input, SecretPolicy::Trusted, |_| {})
        .unwrap_or_else(|error| panic!("{error}: {:?}", error.diagnostics()));
    let sensitive = desired.sensitive.host_values().clone();
    let Desired::Hosts(hosts) = &desired.workflows[0].steps[0].desired else {
        panic!("an ssh step");
    };
    (hosts.clone(), sensitive)
}

fn load_errors(workflow: &str, files: &[(&str, &str)]) -> Vec<String> {
    let files = repo(workflow, files);
    let (_, diagnostics) = load_repo(&files);
    diagnostics
        .sorted()
        .iter()
        .map(|diagnostic| format!("{}: {}", diagnostic.location(), diagnostic.message))
        .collect()
}

const EXPORTS_STEP: &str = "on: { push: { branches: [main] } }
steps:
  - id: nfs
    ssh:
      hosts: [nfs]
      become: root
      files:
        - { src: hosts/exports.j2, dest: /etc/exports, mode: \"0644\", owner: root, group: root }
      commands:
        - run: mkdir -p /nfs-root
          unless: test -d /nfs-root
      on_change:
        - exportfs -ra
";

const EXPORTS_TEMPLATE: &str = "# {{ host.name }} ({{ host.group }} #{{ host.index }}, {{ host.user }}:{{ host.port }})\n/nfs-root 10.0.0.0/24(rw)\n";

fn exports() -> DesiredHosts {
    desired(repo(
        EXPORTS_STEP,
        &[("hosts/exports.j2", EXPORTS_TEMPLATE)],
    ))
    .0
}

fn plan_text(plans: &[HostPlan]) -> String {
    let mut out = String::new();
    for plan in plans {
        plan.write_text(&mut out);
    }
    out
}

async fn apply(
    fake: &FakeHosts,
    desired: &DesiredHosts,
) -> (Result<HostsOutcome, String>, Vec<String>) {
    apply_until(fake, desired, &CancelSignal::never()).await
}

async fn apply_until(
    fake: &FakeHosts,
    desired: &DesiredHosts,
    cancel: &CancelSignal,
) -> (Result<HostsOutcome, String>, Vec<String>) {
    let mut events = CollectedEvents::default();
    let result = {
        let observer: &mut dyn ApplyObserver = &mut events;
        let observer = Mutex::new(observer);
        apply_hosts(fake, desired, &observer, cancel).await
    };
    let lines = events
        .events
        .into_iter()
        .filter_map(|event| match event {
            ApplyEvent::HostOutput { host, line } => Some(format!("[{host}] {line}")),
            _ => None,
        })
        .collect();
    (result, lines)
}

#[test]
fn each_host_gets_its_own_rendering_and_login() {
    let desired = exports();
    let hosts: Vec<(String, String, String)> = desired
        .hosts
        .iter()
        .map(|host| {
            (
                host.target.login(),
                host.group.clone(),
                host.files[0].content.clone(),
            )
        })
        .collect();
    assert_eq!(
        hosts,
        vec![
            (
                "deploy@10.0.0.1:2222".to_owned(),
                "nfs".to_owned(),
                "# 10.0.0.1 (nfs #0, deploy:2222)\n/nfs-root 10.0.0.0/24(rw)\n".to_owned()
            ),
            (
                "root@10.0.0.2:22".to_owned(),
                "nfs".to_owned(),
                "# 10.0.0.2 (nfs #1, root:22)\n/nfs-root 10.0.0.0/24(rw)\n".to_owned()
            ),
        ]
    );
    assert_eq!(desired.become_user.as_deref(), Some("root"));
    assert_eq!(desired.parallel, DEFAULT_PARALLEL);
}

#[test]
fn a_host_without_a_user_is_refused_by_the_step() {
    let files = MemoryFiles::new()
        .with("shoal.yml", "environments:\n  prod:\n    hosts: { web: [10.0.0.7] }\n")
        .with(
            "workflows/hosts.yml",
            "on: { push: { branches: [main] } }\nsteps:\n  - ssh: { hosts: [web], commands: [{ run: uptime }] }\n",
        );
    let commit = CommitInfo::new("0123456789abcdef", "deploy", "ada", "main");
    let found = crate::validation::validate_repo(Arc::new(files), &commit);
    assert!(found.repo.is_some(), "it loads");
    let messages: Vec<String> = found
        .diagnostics
        .sorted()
        .iter()
        .map(|diagnostic| format!("{}: {}", diagnostic.location(), diagnostic.message))
        .collect();
    assert_eq!(
        messages,
        vec![
            "workflows/hosts.yml:3:5: host `10.0.0.7` has no user: give one (`user@10.0.0.7`, or \
             `user:` in its map) or set `ssh.user` (environment `prod`)"
        ]
    );
}

#[test]
fn host_maps_give_a_name_and_vars_and_addresses_need_a_dot() {
    let step = "on: { push: { branches: [main] } }
steps:
  - ssh:
      hosts: [edge, \"admin@192.168.1.9\"]
      files: [{ src: t.j2, dest: /etc/zone }]
";
    let (desired, _) = desired(repo(
        step,
        &[(
            "t.j2",
            "{{ host.name }} {{ host.vars.zone | default('-') }}\n",
        )],
    ));
    let contents: Vec<&str> = desired
        .hosts
        .iter()
        .map(|host| host.files[0].content.as_str())
        .collect();
    assert_eq!(contents, vec!["edge-1 b\n", "192.168.1.9 -\n"]);
}

#[test]
fn step_and_inventory_mistakes_are_located() {
    let step = "on: { push: { branches: [main] } }
steps:
  - ssh:
      hosts: [\"root@node:ssh\"]
      parallel: 0
      files:
        - { src: missing.j2, dest: etc/exports, mode: \"0999\" }
      rollback_if_unreachable: soon
";
    assert_eq!(
        load_errors(step, &[]),
        vec![
            "workflows/hosts.yml:4:15: invalid host `root@node:ssh`: `ssh` is not a port",
            "workflows/hosts.yml:5:17: must be at least 1",
            "workflows/hosts.yml:7:18: file `missing.j2` not found in the config repo",
            "workflows/hosts.yml:7:36: `dest` must be an absolute path, not `etc/exports`",
            "workflows/hosts.yml:7:55: invalid mode `0999`: expected octal permission bits such as \"0644\"",
            "workflows/hosts.yml:8:32: invalid duration `soon`: expected number at 0",
        ]
    );
}

#[tokio::test]
async fn plan_shows_new_and_drifted_files_with_a_diff_and_what_would_run() {
    let desired = exports();
    let fake = FakeHosts::with(&["10.0.0.1", "10.0.0.2"]);
    fake.host("10.0.0.1", |host| {
        host.exits
            .insert("test -d /nfs-root".to_owned(), (1, Vec::new()));
    });
    // The second host holds the file by hand, edited, and with another mode.
    fake.host("10.0.0.2", |host| {
        host.files.insert(
            "/etc/exports".to_owned(),
            (
                b"# 10.0.0.2 (nfs #1, root:22)\n/nfs-root *(rw)\n".to_vec(),
                0o600,
                "root".to_owned(),
                "root".to_owned(),
            ),
        );
    });
    let (plans, problems) =
        plan_hosts(&fake, &desired, &BTreeSet::new(), Concealment::Sensitive).await;
    assert_eq!(problems, Vec::<String>::new());
    assert_eq!(
        plan_text(&plans),
        "    ~ host 10.0.0.1
      + create file /etc/exports
          mode 0644
          owner root
          group root
          @@ -0,0 +1,2 @@
          +# 10.0.0.1 (nfs #0, deploy:2222)
          +/nfs-root 10.0.0.0/24(rw)
      > run mkdir -p /nfs-root
      > on change: exportfs -ra
    ~ host 10.0.0.2
      ~ update file /etc/exports
          mode 0600 -> 0644
          @@ -1,2 +1,2 @@
           # 10.0.0.2 (nfs #1, root:22)
          -/nfs-root *(rw)
          +/nfs-root 10.0.0.0/24(rw)
      > on change: exportfs -ra
"
    );
    // The plan ran the guards and wrote nothing.
    for address in ["10.0.0.1", "10.0.0.2"] {
        assert_eq!(
            fake.host(address, |host| host.writes_and_runs()),
            vec!["run test -d /nfs-root"]
        );
    }
}

#[tokio::test]
async fn apply_writes_runs_and_handles_once_and_a_second_apply_changes_nothing() {
    let desired = exports();
    let fake = FakeHosts::with(&["10.0.0.1", "10.0.0.2"]);
    for address in ["10.0.0.1", "10.0.0.2"] {
        fake.host(address, |host| {
            host.exits
                .insert("test -d /nfs-root".to_owned(), (1, Vec::new()));
        });
    }
    let (result, lines) = apply(&fake, &desired).await;
    let outcome = result.expect("applies");
    assert_eq!(
        outcome.changed,
        vec![
            "host 10.0.0.1: wrote /etc/exports; ran mkdir -p /nfs-root; ran exportfs -ra",
            "host 10.0.0.2: wrote /etc/exports; ran mkdir -p /nfs-root; ran exportfs -ra",
        ]
    );
    assert!(
        lines.contains(&"[10.0.0.1] $ exportfs -ra".to_owned()),
        "{lines:?}"
    );
    fake.host("10.0.0.1", |host| {
        assert_eq!(
            host.writes_and_runs(),
            vec![
                "write /etc/exports",
                "run test -d /nfs-root",
                "run mkdir -p /nfs-root",
                "run exportfs -ra"
            ]
        );
        let (content, mode, owner, group) = &host.files["/etc/exports"];
        assert_eq!(
            (
                String::from_utf8_lossy(content).lines().count(),
                *mode,
                owner.as_str(),
                group.as_str()
            ),
            (2, 0o644, "root", "root")
        );
        // The directory now exists: the guard holds.
        host.exits
            .insert("test -d /nfs-root".to_owned(), (0, Vec::new()));
        host.log.clear();
    });
    fake.host("10.0.0.2", |host| {
        host.exits
            .insert("test -d /nfs-root".to_owned(), (0, Vec::new()));
        host.log.clear();
    });
    let (plans, _) = plan_hosts(&fake, &desired, &BTreeSet::new(), Concealment::Sensitive).await;
    assert_eq!(
        plan_text(&plans),
        "    = host 10.0.0.1: unchanged\n    = host 10.0.0.2: unchanged\n"
    );
    let (result, _) = apply(&fake, &desired).await;
    assert_eq!(result.expect("applies"), HostsOutcome::default());
    for address in ["10.0.0.1", "10.0.0.2"] {
        assert_eq!(
            fake.host(address, |host| host.writes_and_runs()),
            vec!["run test -d /nfs-root", "run test -d /nfs-root"],
            "the plan's guard, then the apply's: nothing else"
        );
    }
}

#[tokio::test]
async fn a_file_from_a_secret_is_sensitive_in_the_plan_and_env_values_are_passed() {
    let step = "on: { push: { branches: [main] } }
steps:
  - ssh:
      hosts: [10.0.0.1]
      files: [{ src: creds.j2, dest: /etc/creds }, { src: plain.j2, dest: /etc/plain }]
      commands:
        - run: set-password
          env: { PW: \"{{ secrets.pw | upper }}\" }
        - run: \"check {{ secrets.pw | reverse }}\"
";
    let (mut desired, sensitive) = desired(repo(
        step,
        &[
            ("creds.j2", "pw={{ secrets.pw | b64encode }}\n"),
            ("plain.j2", "hello\n"),
        ],
    ));
    let fake = FakeHosts::with(&["10.0.0.1"]);
    fake.host("10.0.0.1", |host| {
        host.files.insert(
            "/etc/creds".to_owned(),
            (
                b"pw=old-value\n".to_vec(),
                0o600,
                "deploy".to_owned(),
                "deploy".to_owned(),
            ),
        );
    });
    let (plans, _) = plan_hosts(&fake, &desired, &sensitive, Concealment::Sensitive).await;
    let text = plan_text(&plans);
    assert_eq!(
        text,
        "    ~ host 10.0.0.1
      ~ update file /etc/creds
          content: (sensitive)
      + create file /etc/plain
          @@ -0,0 +1,1 @@
          +hello
      > run set-password
      > run (sensitive)
"
    );
    assert!(!text.contains("old-value") && !text.contains("aHVudGVy"));
    // The run tells the applier what is sensitive (`PlannedRun::plan_hosts`).
    desired.sensitive = sensitive;
    fake.host("10.0.0.1", |host| {
        host.exits
            .insert("check 2retnuh".to_owned(), (4, Vec::new()));
    });
    let (result, lines) = apply(&fake, &desired).await;
    assert_eq!(
        result.expect_err("the check fails"),
        "host 10.0.0.1: `(sensitive)` exited with code 4 (changed: 10.0.0.1; unchanged: none)"
    );
    assert!(
        lines.contains(&"[10.0.0.1] $ (sensitive)".to_owned()),
        "{lines:?}"
    );
    assert!(
        !lines.iter().any(|line| line.contains("2retnuh")),
        "{lines:?}"
    );
    fake.host("10.0.0.1", |host| {
        assert_eq!(
            host.text("/etc/creds").as_deref(),
            Some("pw=aHVudGVyMg==\n")
        );
        assert_eq!(host.env_seen["set-password"]["PW"], "HUNTER2");
        // The previous mode and owner stay when the step names none.
        assert_eq!(host.files["/etc/creds"].1, 0o600);
    });
}

#[tokio::test]
async fn a_failing_command_names_host_code_and_stderr_and_what_changed() {
    let mut desired = exports();
    let fake = FakeHosts::with(&["10.0.0.1", "10.0.0.2"]);
    fake.host("10.0.0.2", |host| {
        host.exits
            .insert("test -d /nfs-root".to_owned(), (1, Vec::new()));
        host.exits.insert(
            "mkdir -p /nfs-root".to_owned(),
            (
                1,
                vec![
                    "mkdir: cannot create directory '/nfs-root': Read-only file system".to_owned(),
                ],
            ),
        );
    });
    desired.hosts[1].files.clear();
    let (result, _) = apply(&fake, &desired).await;
    assert_eq!(
        result.expect_err("fails"),
        "host 10.0.0.2: `mkdir -p /nfs-root` exited with code 1: mkdir: cannot create \
         directory '/nfs-root': Read-only file system (changed: 10.0.0.1; unchanged: 10.0.0.2)"
    );
}

#[tokio::test(start_paused = true)]
async fn the_step_timeout_bounds_each_host() {
    let mut desired = exports();
    desired.timeout = Some(Duration::from_secs(30));
    let fake = FakeHosts::with(&["10.0.0.1", "10.0.0.2"]);
    fake.host("10.0.0.2", |host| {
        host.hangs.push("exportfs -ra".to_owned());
    });
    let (result, _) = apply(&fake, &desired).await;
    assert_eq!(
        result.expect_err("times out"),
        "host 10.0.0.2: timed out after 30s (the step's timeout) (changed: 10.0.0.1, 10.0.0.2; \
         unchanged: none)"
    );
}

#[tokio::test]
async fn a_failed_batch_stops_the_later_ones() {
    let mut desired = exports();
    desired.batch = Some(1);
    let fake = FakeHosts::with(&["10.0.0.2"]);
    let (result, _) = apply(&fake, &desired).await;
    assert_eq!(
        result.expect_err("fails"),
        "host 10.0.0.1: cannot connect to deploy@10.0.0.1:2222: no route to host (changed: none; \
         unchanged: 10.0.0.1; not started: 10.0.0.2)"
    );
    assert_eq!(
        fake.host("10.0.0.2", |host| host.writes_and_runs()),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn the_lock_out_guard_is_disarmed_over_a_fresh_connection() {
    let mut desired = exports();
    desired.rollback_if_unreachable = Some(Duration::from_secs(60));
    desired.hosts.truncate(1);
    let fake = FakeHosts::with(&["10.0.0.1"]);
    let (result, lines) = apply(&fake, &desired).await;
    result.expect("applies");
    assert!(
        lines.contains(&"[10.0.0.1] logged in again: disarmed the lock-out guard".to_owned()),
        "{lines:?}"
    );
    fake.host("10.0.0.1", |host| {
        assert_eq!(
            host.writes_and_runs(),
            vec![
                "write /etc/exports",
                "run test -d /nfs-root",
                "arm guard-1",
                "run exportfs -ra",
                "disarm guard-1"
            ]
        );
        assert!(host.guards.is_empty());
        assert!(!host.files.contains_key("/etc/exports.shoal-previous"));
    });
}

#[tokio::test(start_paused = true)]
async fn a_change_that_locks_shoal_out_is_undone_by_the_host() {
    let mut desired = exports();
    desired.rollback_if_unreachable = Some(Duration::from_secs(60));
    desired.hosts.truncate(1);
    let fake = FakeHosts::with(&["10.0.0.1"]);
    fake.host("10.0.0.1", |host| {
        host.files.insert(
            "/etc/exports".to_owned(),
            (
                b"old\n".to_vec(),
                0o644,
                "root".to_owned(),
                "root".to_owned(),
            ),
        );
        host.locks_out.push("exportfs -ra".to_owned());
    });
    let (result, _) = apply(&fake, &desired).await;
    let error = result.expect_err("locked out");
    assert_eq!(
        error,
        "host 10.0.0.1: a fresh connection after on_change failed (cannot connect to \
         deploy@10.0.0.1:2222: timed out); the host undid the change: its lock-out guard \
         restored the previous files and ran on_change again after 1m (changed: 10.0.0.1; \
         unchanged: none)"
    );
    fake.host("10.0.0.1", |host| {
        assert!(
            host.guards.is_empty(),
            "the guard ran out before shoal said so"
        );
        assert_eq!(host.text("/etc/exports").as_deref(), Some("old\n"));
        assert_eq!(
            host.log[host.log.len() - 3..].to_vec(),
            vec!["expire guard-1", "restore /etc/exports", "run exportfs -ra"]
        );
    });
}

#[tokio::test(start_paused = true)]
async fn a_host_that_stays_shut_out_after_its_guard_is_not_said_to_be_back() {
    let mut desired = exports();
    desired.rollback_if_unreachable = Some(Duration::from_secs(60));
    desired.hosts.truncate(1);
    let fake = FakeHosts::with(&["10.0.0.1"]);
    fake.host("10.0.0.1", |host| {
        host.locks_out.push("exportfs -ra".to_owned());
        host.guards_do_not_help = true;
    });
    let (result, _) = apply(&fake, &desired).await;
    assert_eq!(
        result.expect_err("locked out"),
        "host 10.0.0.1: a fresh connection after on_change failed (cannot connect to \
         deploy@10.0.0.1:2222: timed out); its lock-out guard was due to restore the previous \
         files and run on_change again, but the host still does not answer (cannot connect \
         to deploy@10.0.0.1:2222: timed out): it may still be shut out (changed: 10.0.0.1; \
         unchanged: none)"
    );
}

#[test]
fn a_large_or_binary_live_file_is_compared_by_size_and_hash() {
    let host = exports().hosts.remove(0);
    let live = LiveFile {
        content: None,
        ..LiveFile::of(&vec![b'x'; 300 * 1024], 0o644, "root", "root")
    };
    let reading = HostReading {
        files: vec![Some(live)],
        guards: vec![Some(true)],
    };
    let plan = plan_host(&host, &reading, &BTreeSet::new(), Concealment::Sensitive);
    assert_eq!(
        plan.files[0].diff.as_deref(),
        Some("(not compared line by line: the host's file is 307200 bytes; 59 bytes wanted)\n")
    );
}

#[test]
fn inventory_mistakes_are_located() {
    let files = MemoryFiles::new().with(
        "shoal.yml",
        "environments:
  prod:
    ssh: { connect_timeout: never }
    hosts:
      nfs: [\"root@10.0.0.1:99999\", { address: \"root@10.0.0.2\" }]
",
    );
    let mut diagnostics = Diagnostics::default();
    crate::load::load_environments(&files, &mut diagnostics);
    let found: Vec<String> = diagnostics
        .sorted()
        .iter()
        .map(|diagnostic| format!("{}: {}", diagnostic.location(), diagnostic.message))
        .collect();
    assert_eq!(
        found,
        vec![
            "shoal.yml:3:29: invalid duration `never`: expected e.g. `10s` or `1m`, longer than zero",
            "shoal.yml:5:13: invalid host `root@10.0.0.1:99999`: `99999` is not a port",
            "shoal.yml:5:47: in a map, give the user and port as `user` and `port`, not in `address`",
        ]
    );
}

#[test]
fn a_pull_requests_plan_shows_hosts_as_not_read() {
    let desired = exports();
    let plans: Vec<HostPlan> = desired.hosts.iter().map(HostPlan::not_read).collect();
    assert_eq!(
        plan_text(&plans),
        "    ? host 10.0.0.1: not read (a pull request's plan does not log in to hosts)
    ? host 10.0.0.2: not read (a pull request's plan does not log in to hosts)
"
    );
    assert!(!plans.iter().any(HostPlan::has_changes));
}

#[tokio::test]
async fn a_cancelled_apply_starts_no_further_batch() {
    let mut desired = exports();
    desired.batch = Some(1);
    let fake = FakeHosts::with(&["10.0.0.1", "10.0.0.2"]);
    let (handle, cancel) = crate::apply::cancel_pair();
    handle.cancel();
    let (result, _) = apply_until(&fake, &desired, &cancel).await;
    assert_eq!(
        result.expect_err("cancelled"),
        "the apply was cancelled (changed: none; unchanged: none; not started: 10.0.0.1, \
         10.0.0.2)"
    );
}
