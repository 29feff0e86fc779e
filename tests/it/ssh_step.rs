//! The `ssh` step against the lab's real nodes over SSH: `plan` shows each host's diff
//! and exits 2, `apply` writes files with their mode and owner and runs `on_change` once,
//! a second apply changes nothing, a hand edit is drift, a failing command says which
//! host, code and stderr, and the lock-out guard undoes a firewall rule that drops SSH.
//! The nodes share this machine's filesystem, so each host writes under a folder of its
//! own in the test's folder.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::PrivateSwarm;
use crate::support::lab::Lab;
use crate::test_repo::TestRepo;

/// A repo whose `lab` environment logs in to the lab's nodes as root, with `workflow`
/// as `workflows/hosts.yml` and `dir` as `vars.dir`.
fn lab_repo(lab: &Lab, dir: &Path, workflow: &str) -> TestRepo {
    lab_repo_with_timeout(lab, dir, workflow, "15s")
}

/// [`lab_repo`] whose logins time out after `connect_timeout`.
fn lab_repo_with_timeout(lab: &Lab, dir: &Path, workflow: &str, connect_timeout: &str) -> TestRepo {
    let nodes: Vec<String> = lab.nodes.iter().map(|node| format!("\"{node}\"")).collect();
    TestRepo::new()
        .file(
            "shoal.yml",
            &format!(
                "
                environments:
                  lab:
                    docker: {{ host: \"{docker}\" }}
                    ssh:
                      user: root
                      identity: \"{key}\"
                      known_hosts: \"{known_hosts}\"
                      connect_timeout: {connect_timeout}
                    hosts:
                      nodes: [{nodes}]
                    vars: {{ dir: \"{dir}\" }}
                ",
                docker = PrivateSwarm::shared().docker_host(),
                key = lab.key.display(),
                known_hosts = lab.known_hosts.display(),
                nodes = nodes.join(", "),
                dir = dir.display(),
            ),
        )
        .file(
            "hosts/exports.j2",
            "# exports of {{ host.name }} ({{ host.group }} #{{ host.index }})\n{{ vars.dir }}/{{ host.address }}/share 10.0.0.0/24(rw)\n",
        )
        .file("workflows/hosts.yml", workflow)
}

const EXPORTS: &str = "
    steps:
      - id: nfs
        ssh:
          hosts: [nodes]
          files:
            - src: hosts/exports.j2
              dest: \"{{ vars.dir }}/{{ host.address }}/exports\"
              mode: \"0640\"
              owner: root
              group: root
          commands:
            - run: mkdir -p {{ vars.dir }}/{{ host.address }}/share
              unless: test -d {{ vars.dir }}/{{ host.address }}/share
          on_change:
            - echo handled >> {{ vars.dir }}/{{ host.address }}/handled
    ";

fn host_folders(lab: &Lab) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a folder");
    for node in &lab.nodes {
        std::fs::create_dir(dir.path().join(node)).expect("a host's folder");
    }
    dir
}

#[test]
fn plan_shows_the_diff_apply_writes_and_handles_once_and_a_hand_edit_is_drift() {
    let lab = Lab::start(2);
    let dir = host_folders(&lab);
    let repo = lab_repo(&lab, dir.path(), EXPORTS);
    let (first, second) = (&lab.nodes[0], &lab.nodes[1]);
    let d = dir.path().display();

    let plan = repo.run(&["plan", "--env", "lab"]);
    assert_eq!(
        plan.code, 2,
        "changes planned: {}{}",
        plan.stdout, plan.stderr
    );
    let expected = format!(
        "  step 1 ssh nfs
    ~ host {first}
      + create file {d}/{first}/exports
          mode 0640
          owner root
          group root
          @@ -0,0 +1,2 @@
          +# exports of {first} (nodes #0)
          +{d}/{first}/share 10.0.0.0/24(rw)
      > run mkdir -p {d}/{first}/share
      > on change: echo handled >> {d}/{first}/handled
    ~ host {second}
"
    );
    assert!(plan.stdout.contains(&expected), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("Plan: 2 hosts to change."),
        "{}",
        plan.stdout
    );
    assert!(
        !dir.path().join(first).join("exports").exists(),
        "the plan wrote nothing"
    );

    let apply = repo.run(&["apply", "--env", "lab"]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    assert!(
        apply
            .stdout
            .contains(&format!("[{first}] $ echo handled >> {d}/{first}/handled")),
        "{}",
        apply.stdout
    );
    for node in &lab.nodes {
        let exports = dir.path().join(node).join("exports");
        let metadata = std::fs::metadata(&exports).expect("written");
        assert_eq!(metadata.permissions().mode() & 0o7777, 0o640);
        assert_eq!((metadata.uid(), metadata.gid()), (0, 0));
        assert_eq!(
            std::fs::read_to_string(&exports).expect("read"),
            format!(
                "# exports of {node} (nodes #{})\n{d}/{node}/share 10.0.0.0/24(rw)\n",
                usize::from(node == second)
            )
        );
        assert!(dir.path().join(node).join("share").is_dir());
        assert_eq!(
            std::fs::read_to_string(dir.path().join(node).join("handled")).expect("handled"),
            "handled\n"
        );
    }

    let again = repo.run(&["apply", "--env", "lab"]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert!(
        again.stdout.contains(&format!(
            "    = host {first}: unchanged\n    = host {second}: unchanged\n"
        )),
        "{}",
        again.stdout
    );
    assert!(
        !again.stdout.contains("$ "),
        "nothing ran: {}",
        again.stdout
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join(first).join("handled")).expect("handled"),
        "handled\n"
    );

    // A hand edit on one host is drift: the plan shows it and exits 2.
    let exports = dir.path().join(second).join("exports");
    let edited = std::fs::read_to_string(&exports)
        .expect("read")
        .replace("(rw)", "(rw,no_root_squash)");
    std::fs::write(&exports, edited).expect("hand edit");
    let drift = repo.run(&["plan", "--env", "lab"]);
    assert_eq!(drift.code, 2, "{}{}", drift.stdout, drift.stderr);
    assert!(
        drift.stdout.contains(&format!(
            "    = host {first}: unchanged
    ~ host {second}
      ~ update file {d}/{second}/exports
          @@ -1,2 +1,2 @@
           # exports of {second} (nodes #1)
          -{d}/{second}/share 10.0.0.0/24(rw,no_root_squash)
          +{d}/{second}/share 10.0.0.0/24(rw)
      > on change: echo handled >> {d}/{second}/handled
"
        )),
        "{}",
        drift.stdout
    );
}

#[test]
fn a_failing_command_names_the_host_its_exit_code_and_stderr() {
    let lab = Lab::start(1);
    let dir = host_folders(&lab);
    let workflow = "
        steps:
          - ssh:
              hosts: [nodes]
              commands:
                - run: echo starting; echo \"no space left on {{ host.name }}\" >&2; exit 3
        ";
    let repo = lab_repo(&lab, dir.path(), workflow);
    let node = &lab.nodes[0];
    let apply = repo.run(&["apply", "--env", "lab"]);
    assert_eq!(apply.code, 1, "{}{}", apply.stdout, apply.stderr);
    assert!(
        apply.stdout.contains(&format!("[{node}] starting\n")),
        "{}",
        apply.stdout
    );
    let expected = format!(
        "host {node}: `echo starting; echo \"no space left on {node}\" >&2; exit 3` exited with \
         code 3: no space left on {node} (changed: none; unchanged: {node})"
    );
    assert!(apply.stderr.contains(&expected), "{}", apply.stderr);
}

#[test]
fn a_firewall_rule_that_locks_shoal_out_is_undone_by_the_host() {
    let lab = Lab::start(1);
    let dir = host_folders(&lab);
    let node = lab.nodes[0].clone();
    let workflow = "
        steps:
          - ssh:
              hosts: [nodes]
              files:
                - { src: rules.j2, dest: \"{{ vars.dir }}/{{ host.address }}/rules\", mode: \"0600\" }
              on_change:
                - iptables-restore < {{ vars.dir }}/{{ host.address }}/rules
              rollback_if_unreachable: 20s
        ";
    let open = "*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n";
    let closed = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 22 -j DROP\nCOMMIT\n";
    // A login that a dropped SSH port answers with silence gives up long before the
    // guard restores the rules.
    let repo = lab_repo_with_timeout(&lab, dir.path(), workflow, "4s").file("rules.j2", open);
    let apply = repo.run(&["apply", "--env", "lab"]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    assert!(
        apply.stdout.contains(&format!(
            "[{node}] logged in again: disarmed the lock-out guard"
        )),
        "{}",
        apply.stdout
    );
    let rules = dir.path().join(&node).join("rules");

    let repo = repo.file("rules.j2", closed);
    let apply = repo.run(&["apply", "--env", "lab"]);
    assert_eq!(apply.code, 1, "{}{}", apply.stdout, apply.stderr);
    assert!(
        apply.stderr.contains(&format!(
            "host {node}: a fresh connection after on_change failed"
        )),
        "{}",
        apply.stderr
    );
    assert!(
        apply.stderr.contains(
            "the host undid the change: its lock-out guard restored the previous files and \
             ran on_change again after 20s"
        ),
        "{}",
        apply.stderr
    );
    // The host restores the open rules by itself, and shoal can log in again.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let cat = lab.ssh(1, "root", &format!("cat {}", rules.display()), 3);
        if cat.status.success() {
            assert_eq!(String::from_utf8_lossy(&cat.stdout), open);
            break;
        }
        assert!(Instant::now() < deadline, "the node stayed unreachable");
        std::thread::sleep(Duration::from_secs(1));
    }
    assert!(!dir.path().join(&node).join("rules.shoal-previous").exists());
    let listing = lab.in_node(1, &["iptables", "-S", "INPUT"]);
    assert_eq!(
        String::from_utf8_lossy(&listing.stdout),
        "-P INPUT ACCEPT\n"
    );
}

#[test]
fn become_writes_and_runs_as_root_through_sudo_for_a_plain_login() {
    let lab = Lab::start(1);
    let dir = host_folders(&lab);
    let node = lab.nodes[0].clone();
    let workflow = "
        steps:
          - ssh:
              hosts: [\"shoal-lab@{{ environment.hosts.nodes[0] }}\"]
              become: root
              files:
                - { src: motd.j2, dest: \"{{ vars.dir }}/{{ host.address }}/motd\", mode: \"0600\", owner: root }
              commands:
                - run: echo \"as $(id -un) for '$WHO'\"
                  env: { WHO: \"{{ host.user }}'s run\" }
        ";
    let repo = lab_repo(&lab, dir.path(), workflow).file("motd.j2", "hello from {{ host.user }}\n");
    let apply = repo.run(&["apply", "--env", "lab"]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    assert!(
        apply
            .stdout
            .contains(&format!("[{node}] as root for 'shoal-lab's run'\n")),
        "{}",
        apply.stdout
    );
    let motd = dir.path().join(&node).join("motd");
    let metadata = std::fs::metadata(&motd).expect("written");
    assert_eq!(metadata.permissions().mode() & 0o7777, 0o600);
    assert_eq!(metadata.uid(), 0);
    assert_eq!(
        std::fs::read_to_string(&motd).expect("read"),
        "hello from shoal-lab\n"
    );
}
