//! `shoal render`: files per environment, secrets kept off the terminal, inputs checked,
//! nothing written when anything fails.

use crate::test_repo::TestRepo;

fn repo_with_secret() -> TestRepo {
    TestRepo::new()
        .file(
            "shoal.yml",
            "
            vars: { image: busybox }
            environments:
              local:
                vars: { replicas: 1 }
                secrets: { db_password: { env: TEST_DB_PASSWORD } }
              prod:
                vars: { replicas: 3, image: registry.example/busybox }
                secrets: { db_password: { env: TEST_DB_PASSWORD } }
            ",
        )
        .file(
            "stacks/app/compose.yml",
            "
            services:
              app:
                image: {{ vars.image }}
                deploy: { replicas: {{ vars.replicas }} }
                environment:
                  PASSWORD_HASH: {{ secrets.db_password | sha256 }}
                  LEAKY: {{ secrets.db_password }}
            configs:
              app_conf:
                file: ./app.conf
            secrets:
              db_password:
                file: ./password.txt
            ",
        )
        .file(
            "stacks/app/app.conf",
            "replicas={{ vars.replicas }}\nenv={{ environment.name }}\n",
        )
        .file("stacks/app/password.txt", "{{ secrets.db_password }}")
        .file(
            "workflows/deploy.yml",
            "
            on:
              workflow_dispatch:
                inputs:
                  tag: { type: string, default: latest }
                  dry: { type: boolean, default: false }
            steps:
              - stack: { name: app, compose: stacks/app/compose.yml }
              - if: environment.name == 'prod'
                config: { name: banner, template: stacks/app/app.conf }
            ",
        )
}

#[test]
fn secrets_never_reach_the_terminal() {
    let run = repo_with_secret()
        .env("TEST_DB_PASSWORD", "s3cr3t-value")
        .run(&["render", "--env", "local"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains("s3cr3t-value"), "{}", run.stdout);
    assert!(
        run.stdout.contains("LEAKY: __secret_db_password__"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "### stacks/app/password.txt (secret, rendered)\n(secret content not shown)\n"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("(secret content not shown)"));
    assert!(
        run.stdout
            .contains("## step 2 config: config banner (skipped: `if` is false)"),
        "{}",
        run.stdout
    );
    let json = repo_with_secret()
        .env("TEST_DB_PASSWORD", "s3cr3t-value")
        .run(&["render", "--env", "prod", "--output", "json"]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    assert!(!json.stdout.contains("s3cr3t-value"));
    let report: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    let files = &report["workflows"][0]["steps"][0]["files"];
    assert_eq!(files[0]["path"], "stacks/app/compose.yml");
    assert_eq!(files[1]["path"], "stacks/app/app.conf");
    assert_eq!(files[1]["content"], "replicas=3\nenv=prod\n");
    assert_eq!(files[2]["role"], "secret");
    assert!(files[2].get("content").is_none());
}

#[test]
fn out_writes_files_and_keeps_secret_files_private() {
    let repo = repo_with_secret().env("TEST_DB_PASSWORD", "s3cr3t-value");
    let out = tempfile::tempdir().expect("temp");
    let out_path = out.path().to_str().expect("utf-8");
    let run = repo.run(&["render", "--env", "prod", "--out", out_path]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains("s3cr3t-value"));
    let base = out.path().join("deploy/stacks/app");
    assert_eq!(
        std::fs::read_to_string(base.join("app.conf")).expect("conf"),
        "replicas=3\nenv=prod\n"
    );
    assert_eq!(
        std::fs::read_to_string(base.join("password.txt")).expect("secret"),
        "s3cr3t-value\n"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(base.join("password.txt"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "secret file is readable by others: {mode:o}"
        );
    }
    let compose = std::fs::read_to_string(base.join("compose.yml")).expect("compose");
    assert!(
        compose.contains("image: registry.example/busybox"),
        "{compose}"
    );
}

#[test]
fn a_missing_secret_stops_the_render_before_anything_is_written() {
    let out = tempfile::tempdir().expect("temp");
    let target = out.path().join("rendered");
    let run = repo_with_secret().run(&[
        "render",
        "--env",
        "local",
        "--out",
        target.to_str().expect("utf-8"),
    ]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "error: secret `db_password` of environment `local`: environment variable TEST_DB_PASSWORD is not set\n\
         error: secrets are missing; nothing was written\n"
    );
    assert!(!target.exists());
}

#[test]
fn inputs_are_checked_against_their_declarations() {
    let repo = repo_with_secret().env("TEST_DB_PASSWORD", "x");
    let run = repo.run(&["render", "--env", "local", "--input", "dry=maybe"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "error: input `dry` is a boolean: give true or false, not `maybe`\n"
    );
    let run = repo.run(&["render", "--env", "local", "--input", "colour=red"]);
    assert_eq!(
        run.stderr,
        "error: no workflow for environment `local` has an input `colour`\n"
    );
    let run = repo.run(&[
        "render",
        "--env",
        "local",
        "--workflow",
        "deploy",
        "--input",
        "colour=red",
    ]);
    assert_eq!(
        run.stderr,
        "error: workflow `deploy` has no input `colour`; its inputs are: tag, dry\n"
    );
}

#[test]
fn unknown_environment_and_workflow_are_named() {
    let repo = repo_with_secret();
    let run = repo.run(&["render", "--env", "stage"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "error: unknown environment `stage`; shoal.yml defines local, prod\n"
    );
    let run = repo.run(&["render", "--env", "local", "--workflow", "nope"]);
    assert_eq!(
        run.stderr,
        "error: unknown workflow `nope`; the repo has deploy\n"
    );
}

#[test]
fn secrets_transformed_by_filters_stay_hidden() {
    let repo = TestRepo::new()
        .file(
            "shoal.yml",
            "environments: { local: { secrets: { token: { env: TEST_TOKEN }, unused: { env: TEST_UNUSED } } } }",
        )
        .file("conf/app.env", "TOKEN_B64={{ secrets.token | b64encode }}\nTOKEN_ESCAPED={{ secrets.token | replace('$', '$$') }}\n")
        .file("workflows/deploy.yml", "steps:\n  - config: { name: app-env, template: conf/app.env }\n")
        .env("TEST_TOKEN", "pa$$word");
    // On the terminal, nothing needs the values, and none of their forms appears.
    let run = repo.run(&["render", "--env", "local"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("TOKEN_B64=X19zZWNyZXRfdG9rZW5fXw==\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("TOKEN_ESCAPED=__secret_token__\n"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("cGEkJHdvcmQ="), "{}", run.stdout);
    // Written to disk, only the secrets the files read are needed: TEST_UNUSED is not set.
    let out = tempfile::tempdir().expect("temp");
    let run = repo.run(&[
        "render",
        "--env",
        "local",
        "--out",
        out.path().to_str().expect("utf-8"),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains("pa$$word") && !run.stdout.contains("cGEkJHdvcmQ="));
    let written = std::fs::read_to_string(out.path().join("deploy/conf/app.env")).expect("written");
    assert_eq!(
        written,
        "TOKEN_B64=cGEkJHdvcmQ=\nTOKEN_ESCAPED=pa$$$$word\n"
    );
}

#[test]
fn out_writes_each_hosts_files_under_the_host_owner_only() {
    let repo = TestRepo::new()
        .file(
            "shoal.yml",
            "environments:\n  prod:\n    hosts: { web: [{ address: 192.0.2.7, name: web1 }] }\n    ssh: { user: root }\n",
        )
        .file("hosts/motd", "hello from {{ host.name }}\n")
        .file(
            "workflows/hosts.yml",
            "steps:\n  - ssh:\n      hosts: [web]\n      files:\n        - { src: hosts/motd, dest: /etc/motd }\n",
        );
    let out = tempfile::tempdir().expect("temp");
    let out_path = out.path().to_str().expect("utf-8");
    let run = repo.run(&["render", "--env", "prod", "--out", out_path]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let written = out.path().join("hosts/hosts/web1/etc/motd");
    assert!(
        run.stdout.contains(&format!(
            "### host web1: /etc/motd (from hosts/motd, 16 bytes)\nwritten to {}\n",
            written.display()
        )),
        "{}",
        run.stdout
    );
    assert_eq!(
        std::fs::read_to_string(&written).expect("the host's file"),
        "hello from web1\n"
    );
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(&written)
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "readable by others: {mode:o}");
}
