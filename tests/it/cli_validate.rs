//! `shoal validate` on repos written by the tests: every error at once, across files,
//! exit codes, JSON output and the escape rules for templates.

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
    // Under each quoted value, quotes included.
    let ssh_carets = "^".repeat(25);
    let npipe_carets = "^".repeat(33);
    let url_carets = "^".repeat(28);
    assert_eq!(
        run.stderr,
        format!(
            "shoal.yml:7:21: warning: ssh:// Docker hosts are not implemented yet (issue 12): \
             shoal refuses to connect to `ssh://shoal@192.0.2.20`\n  \
               |\n\
             7 |     docker: {{ host: \"ssh://shoal@192.0.2.20\" }}\n  \
               |                     {ssh_carets}\n\
             {help}\
             shoal.yml:9:21: warning: npipe:// Docker hosts (Windows named pipes) are not \
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
