//! `shoal validate` on repos written by the tests: every error at once, across files,
//! exit codes, JSON output and the escape rules for templates.

use crate::support::hostile_input::{RUNAWAY_LOOPS, alias_bomb};
use crate::test_repo::Run;
use crate::test_repo::{TWO_ENVIRONMENTS, TestRepo, shoal};

#[test]
fn reports_every_error_of_every_file_at_once() {
    let run = TestRepo::new()
        .file("shoal.yml", TWO_ENVIRONMENTS)
        .file(
            "workflows/a.yml",
            "
            steps:
              - network: { name: net, atachable: true }
              - wait: { services: [x], timeout: soon }
            ",
        )
        .file(
            "workflows/b.yml",
            "
            environments: [staging]
            steps:
              - remove: { stack: old }
            ",
        )
        .run(&["validate"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    let locations: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.starts_with("workflows/"))
        .map(|line| line.split(": ").next().unwrap_or(""))
        .collect();
    assert_eq!(
        locations,
        [
            "workflows/a.yml:2:27",
            "workflows/a.yml:3:37",
            "workflows/b.yml:1:16"
        ]
    );
    assert!(
        run.stderr.ends_with("error: 3 errors in 2 files\n"),
        "{}",
        run.stderr
    );
}

#[test]
fn settings_that_do_nothing_yet_are_warned_of_where_they_are_written() {
    let run = TestRepo::new()
        .file(
            "shoal.yml",
            "environments:\n  \
               staging:\n    \
                 docker:\n      \
                   host: tcp://192.0.2.10:2376\n      \
                   tls: { ca: ca.pem, cert: cert.pem, key: key.pem }\n  \
               edge:\n    \
                 docker: { host: \"ssh://shoal@192.0.2.20\" }\n  \
               windows:\n    \
                 docker: { host: \"npipe:////./pipe/docker_engine\" }\n",
        )
        .file(
            "workflows/deploy.yml",
            "steps:\n  - wait: { url: \"https://192.0.2.10/health\" }\n",
        )
        .run(&["validate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let help = "  = help: `plan` and `apply` refuse this environment until then, unless \
                `--docker-host` names a daemon to use instead (a unix socket, or a tcp:// \
                address, such as an SSH tunnel's)\n";
    // Under each quoted value, quotes included. An ssh:// host is implemented: no warning.
    let npipe_carets = "^".repeat(33);
    let url_carets = "^".repeat(28);
    assert_eq!(
        run.stderr,
        format!(
            "shoal.yml:9:21: warning: npipe:// Docker hosts (Windows named pipes) are not \
             implemented: shoal refuses to connect to `npipe:////./pipe/docker_engine`\n  \
               |\n\
             9 |     docker: {{ host: \"npipe:////./pipe/docker_engine\" }}\n  \
               |                     {npipe_carets}\n\
             {help}\
             workflows/deploy.yml:2:18: warning: waiting for an https:// URL is not \
             implemented yet: `plan` and `apply` refuse this step; only http:// URLs are \
             waited for\n  \
               |\n\
             2 |   - wait: {{ url: \"https://192.0.2.10/health\" }}\n  \
               |                  {url_carets}\n",
        )
    );
}

#[test]
fn a_valid_repo_says_what_it_checked() {
    let run = TestRepo::new()
        .file("shoal.yml", TWO_ENVIRONMENTS)
        .file("stacks/web.yml", "services:\n  web:\n    image: busybox\n    deploy: { replicas: {{ vars.replicas }} }\n")
        .file("workflows/deploy.yml", "steps:\n  - stack: { name: web, compose: stacks/web.yml }\n")
        .run(&["validate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "valid: 1 workflow and 2 environments; 2 files rendered in 2 workflow-environment pairs\n"
    );
    assert_eq!(run.stderr, "");
}

#[test]
fn json_output_lists_diagnostics_with_positions() {
    let run = TestRepo::new()
        .file("shoal.yml", TWO_ENVIRONMENTS)
        .file(
            "workflows/deploy.yml",
            "steps:\n  - id: a\n    network: { name: n }\n  - id: a\n    network: { name: m }\n",
        )
        .run(&["validate", "--output", "json"]);
    assert_eq!(run.code, 1);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON on stdout");
    assert_eq!(report["valid"], false);
    let diagnostic = &report["diagnostics"][0];
    assert_eq!(diagnostic["path"], "workflows/deploy.yml");
    assert_eq!(diagnostic["message"], "duplicate step id `a`");
    assert_eq!(
        diagnostic["span"]["start"],
        serde_json::json!({ "line": 4, "column": 9 })
    );
    assert_eq!(diagnostic["severity"], "error");
}

#[test]
fn includes_cannot_leave_the_repo() {
    let outside = tempfile::tempdir().expect("temp");
    std::fs::write(outside.path().join("secret.txt"), "top secret").expect("write");
    let repo = TestRepo::new().file("shoal.yml", "environments: { local: {} }");
    let relative = pathdiff(outside.path(), repo.path());
    let run = repo
        .file(
            "stacks/web.yml",
            &format!("{{% include \"{relative}/secret.txt\" %}}\n"),
        )
        .file(
            "workflows/deploy.yml",
            "steps:\n  - stack: { name: web, compose: stacks/web.yml }\n",
        )
        .run(&["validate"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("is outside the config repo"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("top secret"));
}

#[test]
fn relative_includes_resolve_next_to_the_including_file() {
    let run = TestRepo::new()
        .file(
            "shoal.yml",
            "environments: { local: { vars: { port: 8080 } } }",
        )
        .file(
            "stacks/web/compose.yml",
            "services:\n  web:\n    image: busybox\n{% include './ports.yml' %}",
        )
        .file(
            "stacks/web/ports.yml",
            "    ports: [\"{{ vars.port }}:80\"]\n",
        )
        .file(
            "workflows/deploy.yml",
            "steps:\n  - stack: { name: web, compose: stacks/web/compose.yml }\n",
        )
        .run(&["render", "--env", "local"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("ports: [\"8080:80\"]"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_missing_shoal_yml_is_explained() {
    let run = TestRepo::new()
        .file("workflows/deploy.yml", "steps: []")
        .run(&["validate"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .starts_with("shoal.yml: file not found\n  = help: a config repo has a shoal.yml"),
        "{}",
        run.stderr
    );
}

#[test]
fn usage_errors_exit_64_and_help_teaches() {
    let run = Run::from(
        shoal()
            .args(["validate", "--bogus"])
            .output()
            .expect("runs"),
    );
    assert_eq!(run.code, 64);
    for command in [
        "validate", "render", "plan", "apply", "serve", "runs", "schema",
    ] {
        let run = Run::from(shoal().args([command, "--help"]).output().expect("runs"));
        assert_eq!(run.code, 0);
        assert!(
            run.stdout.contains("Example"),
            "{command} --help has no example:\n{}",
            run.stdout
        );
    }
}

/// `target` relative to `base`, with `..` steps.
fn pathdiff(target: &std::path::Path, base: &std::path::Path) -> String {
    let depth = base.components().count() - 1;
    let mut path = "../".repeat(depth);
    path.push_str(
        target
            .strip_prefix("/")
            .expect("absolute")
            .to_str()
            .expect("utf-8"),
    );
    path
}

#[test]
fn compose_errors_are_found_by_validate_before_any_cluster_is_touched() {
    let run = TestRepo::new()
        .file("shoal.yml", TWO_ENVIRONMENTS)
        .file(
            "stacks/web.yml",
            "version: \"3.8\"\nservices:\n  web:\n    image: busybox\n    deploy:\n      replica: {{ vars.replicas }}\n",
        )
        .file("workflows/deploy.yml", "steps:\n  - stack: { name: web, compose: stacks/web.yml }\n")
        .run(&["validate"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("stacks/web.yml:6:7: unknown key `replica`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("did you mean `replicas`?"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_alias_bomb_is_refused_at_the_alias_that_crosses_the_limit() {
    let run = TestRepo::new()
        .file("shoal.yml", TWO_ENVIRONMENTS)
        .file("workflows/bomb.yml", &alias_bomb())
        .run(&["validate"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "workflows/bomb.yml:6:12: this alias would expand the document to more than 250000 nodes
  |
6 | f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
  |            ^^
  = help: an alias copies the whole value its anchor names, so aliases of aliases multiply; shoal refuses a YAML document that grows past its limits once its aliases are expanded
error: 1 error in 1 file
"
    );
}

#[test]
fn an_alias_bomb_in_a_compose_file_is_refused_too() {
    let compose = format!("services:\n  web:\n    image: busybox\n{}", alias_bomb());
    let run = TestRepo::new()
        .file("shoal.yml", TWO_ENVIRONMENTS)
        .file("stacks/web.yml", &compose)
        .file(
            "workflows/deploy.yml",
            "steps:\n  - stack: { name: web, compose: stacks/web.yml }\n",
        )
        .run(&["validate"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.starts_with(
            "stacks/web.yml:9:12: this alias would expand the document to more than 250000 nodes"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn a_file_over_the_size_limit_is_refused() {
    let padding = format!("# {}\n", "x".repeat(1024 * 1024));
    let run = TestRepo::new()
        .file("shoal.yml", TWO_ENVIRONMENTS)
        .file(
            "workflows/big.yml",
            &format!("{padding}steps:\n  - network: {{ name: n }}\n"),
        )
        .run(&["validate"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.starts_with(
            "workflows/big.yml: file is too large: 1048611 bytes, and a file of the config repo may have at most 1 MiB"
        ),
        "{}",
        run.stderr
    );
}

/// Three nested loops of 10,000 turns each: 10^12 turns.

#[test]
fn a_template_without_an_end_runs_out_of_fuel() {
    let repo = TestRepo::new()
        .file("shoal.yml", TWO_ENVIRONMENTS)
        .file(
            "stacks/web.yml",
            &format!("services:\n  web:\n    image: busybox\n{RUNAWAY_LOOPS}\n"),
        )
        .file(
            "workflows/deploy.yml",
            "steps:\n  - stack: { name: web, compose: stacks/web.yml }\n",
        );
    for args in [&["validate"][..], &["render", "--env", "local"][..]] {
        let run = repo.run(args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.starts_with(
                "stacks/web.yml:4:67: template ran out of fuel: one render may run at most 1000000 instructions"
            ),
            "{args:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn a_template_that_writes_too_much_is_stopped() {
    let run = TestRepo::new()
        .file("shoal.yml", TWO_ENVIRONMENTS)
        .file(
            "stacks/web.yml",
            "services:\n  web:\n    image: busybox\n# {% for i in range(100) %}{{ 'x' * 100000 }}{% endfor %}\n",
        )
        .file(
            "workflows/deploy.yml",
            "steps:\n  - stack: { name: web, compose: stacks/web.yml }\n",
        )
        .run(&["validate"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.starts_with(
            "stacks/web.yml: rendered file is too large: one render may write at most 4 MiB"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn the_renders_of_one_commit_share_a_budget() {
    // Each render stays within its own fuel, but a hundred steps render the file for each
    // of two environments.
    let steps: String = (0..100)
        .map(|n| format!("  - stack: {{ name: web{n}, compose: stacks/web.yml }}\n"))
        .collect();
    let run = TestRepo::new()
        .file("shoal.yml", TWO_ENVIRONMENTS)
        .file(
            "stacks/web.yml",
            "services:\n  web:\n    image: busybox\n{% for i in range(100000) %}{% endfor %}\n",
        )
        .file("workflows/deploy.yml", &format!("steps:\n{steps}"))
        .run(&["validate"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.starts_with(
            "stacks/web.yml: template error: the renders of this commit ran more than 10000000 instructions, the limit of one commit"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn docker_tls_names_each_part_once_for_a_tcp_host() {
    let run = TestRepo::new()
        .file(
            "shoal.yml",
            "environments:\n  \
               prod:\n    \
                 docker:\n      \
                   host: tcp://192.0.2.10:2376\n      \
                   tls: { ca: ca.pem, ca_secret: ca, key_secret: docker_key }\n    \
                 secrets: { ca: { env: CA } }\n  \
               local:\n    \
                 docker:\n      \
                   host: unix:///var/run/docker.sock\n      \
                   tls: { cert_path: /etc/shoal/docker }\n",
        )
        .file("workflows/deploy.yml", "steps:\n  - network: { name: n }\n")
        .run(&["validate"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.starts_with("shoal.yml:") || line.contains("= help"))
        .collect();
    assert_eq!(
        lines,
        [
            "shoal.yml:5:7: `docker.tls` does not say where the client certificate is",
            "  = help: add `cert: PATH`, `cert_secret: NAME`, or `cert_path: FOLDER` holding \
             cert.pem",
            "shoal.yml:5:37: `ca` and `ca_secret` both give the CA certificate",
            "  = help: keep one of `ca` and `ca_secret`",
            "shoal.yml:5:53: unknown secret `docker_key`",
            "  = help: declare it under the environment's `secrets`, which has: ca",
            "shoal.yml:10:7: `docker.tls` applies to tcp:// hosts, not \
             `unix:///var/run/docker.sock`",
            "  = help: remove `tls`, or use a tcp://HOST:PORT host (2376 by convention)",
        ]
    );
}
