//! One test per concept of the conversion: a compose snippet in, the part of the spec that
//! concept decides out. The fixtures under `fixtures/compose/` cover whole files, and were
//! checked against a real `docker stack deploy`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{ComposeSource, ConvertOptions, Converted, convert_stack};
use crate::swarm::ObjectSpec;

fn convert_with(
    text: &str,
    variables: &[(&str, &str)],
    files: &[(&str, &str)],
) -> Result<Converted, String> {
    let variables: BTreeMap<String, String> = variables
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let files: BTreeMap<String, Vec<u8>> = files
        .iter()
        .map(|(path, content)| (path.to_string(), content.as_bytes().to_vec()))
        .collect();
    let read = |path: &str| files.get(path).cloned();
    let extra_labels = BTreeMap::from([("dev.shoal.commit".to_owned(), "abc".to_owned())]);
    convert_stack(
        &[ComposeSource {
            path: "stacks/app/docker-compose.yml",
            text,
            tree: None,
        }],
        &ConvertOptions {
            stack: "app",
            variables: &variables,
            files: &read,
            extra_labels: &extra_labels,
        },
    )
    .map_err(|diagnostics| {
        diagnostics
            .sorted()
            .iter()
            .map(|d| format!("{}: {}", d.location(), d.message))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// The part of the first service's spec at `pointer` (a JSON pointer).
fn check(text: &str, pointer: &str, expected: Value) {
    check_with(text, &[], pointer, expected);
}

fn check_with(text: &str, variables: &[(&str, &str)], pointer: &str, expected: Value) {
    let converted = convert_with(text, variables, &[]).expect("converts");
    let spec = &converted.stack.services[0].spec;
    assert_eq!(
        spec.pointer(pointer).cloned().unwrap_or(Value::Null),
        expected,
        "{pointer} of\n{text}"
    );
}

fn check_error(text: &str, expected: &str) {
    match convert_with(text, &[], &[]) {
        Ok(_) => panic!("converted, expected the error {expected}"),
        Err(errors) => assert!(
            errors.contains(expected),
            "{errors}\ndoes not contain\n{expected}"
        ),
    }
}

#[test]
fn names_and_labels_follow_the_stack() {
    let text = "services:\n  web:\n    image: nginx\n    labels: [a=1]\n    deploy:\n      labels: [b=2]\n";
    check(text, "/Name", json!("app_web"));
    check(
        text,
        "/TaskTemplate/ContainerSpec/Image",
        json!("nginx:latest"),
    );
    check(
        text,
        "/Labels",
        json!({
            "b": "2",
            "com.docker.stack.image": "nginx",
            "com.docker.stack.namespace": "app",
            "dev.shoal.commit": "abc",
        }),
    );
    check(
        text,
        "/TaskTemplate/ContainerSpec/Labels",
        json!({ "a": "1", "com.docker.stack.namespace": "app" }),
    );
}

#[test]
fn engine_defaults_are_filled_in() {
    let text = "services:\n  web:\n    image: nginx:1\n";
    check(text, "/Mode", json!({ "Replicated": { "Replicas": 1 } }));
    check(text, "/EndpointSpec", json!({ "Mode": "vip" }));
    check(text, "/TaskTemplate/Placement", json!({}));
    check(text, "/TaskTemplate/Resources", json!({}));
    check(
        text,
        "/TaskTemplate/ContainerSpec/Isolation",
        json!("default"),
    );
    check(text, "/TaskTemplate/RestartPolicy", Value::Null);
    check(text, "/UpdateConfig", Value::Null);
    check(
        "services:\n  web:\n    image: nginx:1\n    deploy:\n      update_config: {delay: 5s}\n",
        "/UpdateConfig",
        json!({ "Parallelism": 1, "Delay": 5_000_000_000_i64, "FailureAction": "pause", "MaxFailureRatio": 0, "Order": "stop-first" }),
    );
}

#[test]
fn modes_and_replicas() {
    let deploy =
        |deploy: &str| format!("services:\n  web:\n    image: nginx:1\n    deploy:\n{deploy}");
    check(
        &deploy("      replicas: 0\n"),
        "/Mode",
        json!({ "Replicated": { "Replicas": 0 } }),
    );
    check(
        &deploy("      mode: global\n"),
        "/Mode",
        json!({ "Global": {} }),
    );
    check(
        &deploy("      mode: replicated-job\n"),
        "/Mode",
        json!({ "ReplicatedJob": { "MaxConcurrent": 1, "TotalCompletions": 1 } }),
    );
    check(
        &deploy("      mode: global-job\n"),
        "/Mode",
        json!({ "GlobalJob": {} }),
    );
    check_error(
        &deploy("      mode: global\n      replicas: 2\n"),
        "`replicas` cannot be used with mode `global`",
    );
}

#[test]
fn restart_policy_falls_back_to_restart() {
    let service = |keys: &str| format!("services:\n  web:\n    image: nginx:1\n{keys}");
    let pointer = "/TaskTemplate/RestartPolicy";
    check(
        &service("    restart: always\n"),
        pointer,
        json!({ "Condition": "any", "MaxAttempts": 0 }),
    );
    check(
        &service("    restart: unless-stopped\n"),
        pointer,
        json!({ "Condition": "any", "MaxAttempts": 0 }),
    );
    check(
        &service("    restart: on-failure:3\n"),
        pointer,
        json!({ "Condition": "on-failure", "MaxAttempts": 3 }),
    );
    check(&service("    restart: \"no\"\n"), pointer, Value::Null);
    check(
        &service("    restart: always\n    deploy:\n      restart_policy:\n        delay: 5s\n"),
        pointer,
        json!({ "Condition": "any", "Delay": 5_000_000_000_i64, "MaxAttempts": 0 }),
    );
}

#[test]
fn healthchecks() {
    let service =
        |check: &str| format!("services:\n  web:\n    image: nginx:1\n    healthcheck:\n{check}");
    let pointer = "/TaskTemplate/ContainerSpec/Healthcheck";
    check(
        &service("      test: curl -f localhost\n      interval: 1m30s\n      retries: 2\n"),
        pointer,
        json!({ "Test": ["CMD-SHELL", "curl -f localhost"], "Interval": 90_000_000_000_i64, "Retries": 2 }),
    );
    check(
        &service("      disable: true\n"),
        pointer,
        json!({ "Test": ["NONE"] }),
    );
    check_error(
        &service("      test: [CMD, \"true\"]\n      disable: true\n"),
        "`test` and `disable` cannot be set at the same time",
    );
}

#[test]
fn environment_precedence() {
    let text = "services:\n  web:\n    image: nginx:1\n    env_file: web.env\n    environment:\n      FROM_FILE_OVERRIDDEN: environment\n      EMPTY: ''\n      NAMED_ONLY:\n";
    let converted = convert_with(
        text,
        &[("EMPTY", "from variables"), ("FILE_LOOKUP", "looked up")],
        &[(
            "stacks/app/web.env",
            "FROM_FILE=1\nFROM_FILE_OVERRIDDEN=file\nFILE_LOOKUP\n",
        )],
    )
    .expect("converts");
    assert_eq!(
        converted.stack.services[0]
            .spec
            .pointer("/TaskTemplate/ContainerSpec/Env"),
        Some(&json!([
            "EMPTY=from variables",
            "FILE_LOOKUP=looked up",
            "FROM_FILE=1",
            "FROM_FILE_OVERRIDDEN=environment",
            "NAMED_ONLY",
        ]))
    );
}

#[test]
fn interpolation_feeds_typed_values() {
    let text =
        "services:\n  web:\n    image: nginx:${TAG:-1}\n    deploy:\n      replicas: ${REPLICAS}\n";
    check_with(
        text,
        &[("REPLICAS", "4")],
        "/Mode/Replicated/Replicas",
        json!(4),
    );
    check_with(
        text,
        &[("REPLICAS", "4")],
        "/TaskTemplate/ContainerSpec/Image",
        json!("nginx:1"),
    );
    check_error(
        "services:\n  web:\n    image: ${IMAGE:?say which}\n",
        "stacks/app/docker-compose.yml:3:12: required variable `IMAGE` is missing a value: say which",
    );
}

#[test]
fn ports_are_sorted_by_published_port() {
    let text = "services:\n  web:\n    image: nginx:1\n    ports:\n      - \"9000:90\"\n      - target: 443\n        published: 443\n        mode: host\n      - 80\n";
    check(
        text,
        "/EndpointSpec/Ports",
        json!([
            { "Protocol": "tcp", "TargetPort": 80, "PublishMode": "ingress" },
            { "Protocol": "tcp", "TargetPort": 443, "PublishedPort": 443, "PublishMode": "host" },
            { "Protocol": "tcp", "TargetPort": 90, "PublishedPort": 9000, "PublishMode": "ingress" },
        ]),
    );
}

#[test]
fn networks_get_the_service_name_as_alias() {
    let text = "services:\n  web:\n    image: nginx:1\n    networks:\n      front:\n        aliases: [www]\n      outside:\nnetworks:\n  front:\n  outside:\n    external: true\n    name: public\n";
    check(
        text,
        "/TaskTemplate/Networks",
        json!([
            { "Target": "app_front", "Aliases": ["www", "web"] },
            { "Target": "public", "Aliases": ["web"] },
        ]),
    );
    let converted = convert_with(text, &[], &[]).expect("converts");
    let names: Vec<&str> = converted
        .stack
        .networks
        .iter()
        .map(|n| n.name.as_str())
        .collect();
    assert_eq!(names, ["app_front"]);
    assert_eq!(converted.stack.external.networks, ["public"]);
    check_error(
        "services:\n  web:\n    image: nginx:1\n    networks: [missing]\n",
        "service `web` uses undefined network `missing`",
    );
}

#[test]
fn configs_get_hashed_names_and_docker_defaults() {
    let text = "services:\n  web:\n    image: nginx:1\n    configs:\n      - site\n      - source: shared\n        target: /etc/shared\n        mode: 0440\nconfigs:\n  site:\n    file: site.conf\n  shared:\n    external: true\n";
    let converted =
        convert_with(text, &[], &[("stacks/app/site.conf", "server {}\n")]).expect("converts");
    let hashed = ObjectSpec::hashed_name("app_site", b"server {}\n");
    assert_eq!(
        converted.stack.services[0]
            .spec
            .pointer("/TaskTemplate/ContainerSpec/Configs"),
        Some(&json!([
            { "File": { "Name": "site", "UID": "0", "GID": "0", "Mode": 292 }, "ConfigID": "", "ConfigName": hashed },
            { "File": { "Name": "/etc/shared", "UID": "0", "GID": "0", "Mode": 288 }, "ConfigID": "", "ConfigName": "shared" },
        ]))
    );
    let object = &converted.stack.objects[0];
    assert_eq!(object.name, hashed);
    assert_eq!(
        object.labels.get("dev.shoal.name").map(String::as_str),
        Some("app_site")
    );
    assert_eq!(
        object.labels.get("dev.shoal.commit").map(String::as_str),
        Some("abc")
    );
    assert_eq!(converted.stack.external.configs, ["shared"]);
}

#[test]
fn one_object_under_two_targets_is_ordered_by_target() {
    let text = "services:\n  web:\n    image: nginx:1\n    secrets:\n      - source: key\n        target: z.pem\n      - source: key\n        target: a.pem\nsecrets:\n  key:\n    file: key.pem\n";
    let converted = convert_with(text, &[], &[("stacks/app/key.pem", "k")]).expect("converts");
    let targets: Vec<&Value> = converted.stack.services[0]
        .spec
        .pointer("/TaskTemplate/ContainerSpec/Secrets")
        .and_then(Value::as_array)
        .map(|secrets| {
            secrets
                .iter()
                .filter_map(|s| s.pointer("/File/Name"))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(targets, [&json!("a.pem"), &json!("z.pem")]);
}

#[test]
fn a_name_override_is_hashed_too() {
    let text = "services:\n  web:\n    image: nginx:1\n    secrets: [key]\nsecrets:\n  key:\n    file: key.pem\n    name: site-key\n";
    let converted = convert_with(text, &[], &[("stacks/app/key.pem", "k")]).expect("converts");
    assert_eq!(
        converted.stack.objects[0].name,
        ObjectSpec::hashed_name("site-key", b"k")
    );
}

#[test]
fn named_volumes_carry_the_stack_label() {
    let text = "services:\n  db:\n    image: postgres:16\n    volumes:\n      - data:/var/lib/data\n      - /srv/backup:/backup:ro\nvolumes:\n  data:\n    driver: local\n";
    check(
        text,
        "/TaskTemplate/ContainerSpec/Mounts",
        json!([
            {
                "Type": "volume",
                "Source": "app_data",
                "Target": "/var/lib/data",
                "VolumeOptions": { "Labels": { "com.docker.stack.namespace": "app" }, "DriverConfig": { "Name": "local" } },
            },
            { "Type": "bind", "Source": "/srv/backup", "Target": "/backup", "ReadOnly": true },
        ]),
    );
}

#[test]
fn keys_newer_than_the_file_are_found_as_deep_as_docker_lists_them() {
    // The deepest key of docker's list, six levels down, in a file one version too old.
    let text = "version: \"3.8\"\nservices:\n  web:\n    image: nginx:1\n    deploy:\n      resources:\n        limits:\n          pids: 10\n";
    assert_eq!(
        convert_with(text, &[], &[]).err().as_deref(),
        Some(
            "stacks/app/docker-compose.yml:8:11: `pids` needs compose file version 3.9 or later; this file is version 3.8"
        )
    );
    // The newest version takes every key of the list.
    let newest = "version: \"3.13\"\nservices:\n  web:\n    image: nginx:1\n    oom_score_adj: 10\n    deploy:\n      resources:\n        limits:\n          pids: 10\n";
    assert!(convert_with(newest, &[], &[]).is_ok());
}

#[test]
fn docker_refuses_what_shoal_refuses() {
    check_error(
        "services:\n  web:\n    image: nginx:1\n    mem_limit: 1g\n",
        "`mem_limit` is not supported by docker stack deploy",
    );
    check_error(
        "services:\n  web:\n    image: nginx:1\n    enviroment: {}\n",
        "unknown key `enviroment`",
    );
    check_error(
        "version: \"3.3\"\nservices:\n  web:\n    image: nginx:1\n    init: true\n",
        "`init` needs compose file version 3.7 or later",
    );
    check_error(
        "services:\n  web:\n    command: x\n",
        "service `web` has no `image`",
    );
}

#[test]
fn warnings_do_not_stop_the_conversion() {
    let converted = convert_with(
        "services:\n  web:\n    image: nginx:1\n    depends_on: [db]\n    container_name: web\n",
        &[],
        &[],
    )
    .expect("converts");
    let messages: Vec<String> = converted
        .warnings
        .sorted()
        .iter()
        .map(|warning| warning.message.clone())
        .collect();
    assert_eq!(
        messages,
        [
            "`depends_on` is ignored by docker stack deploy",
            "`container_name` is deprecated and ignored",
        ]
    );
}
