//! Data-driven cases under `fixtures/compose/NAME/`: compose files (and the files they
//! use) with the converted stack in `expected.json`, or the errors in `expected.txt`.
//! `fixture.json`, when present, gives the stack name (default: NAME), the compose files
//! in order (default: `docker-compose.yml`), `variables` and `extra_labels`.
//! Run with `SHOAL_BLESS=1` to rewrite the expectations after a deliberate change.
//!
//! `expected.json` holds the service specs by name, then the networks, configs (with their
//! data as text), secrets (with the SHA-256 of their data only) and external references.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Value, json};

use super::{ComposeSource, ConvertOptions, Converted, convert_stack};
use crate::source::SourceFile;
use crate::swarm::{ObjectKind, ObjectSpec, StackSpec};
use crate::yaml::{Node, parse_document};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct FixtureOptions {
    stack: Option<String>,
    compose: Option<Vec<String>>,
    variables: BTreeMap<String, String>,
    extra_labels: BTreeMap<String, String>,
}

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("fixtures")
        .join("compose")
}

fn bless() -> bool {
    std::env::var_os("SHOAL_BLESS").is_some()
}

/// What a fixture produces: the stack as JSON, or the diagnostics as printed.
fn run(case: &Path) -> Result<String, String> {
    let name = case
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let options: FixtureOptions = match std::fs::read_to_string(case.join("fixture.json")) {
        Ok(text) => {
            serde_json::from_str(&text).map_err(|error| format!("fixture.json: {error}"))?
        }
        Err(_) => FixtureOptions::default(),
    };
    let compose = options
        .compose
        .clone()
        .unwrap_or_else(|| vec!["docker-compose.yml".to_owned()]);
    let texts: Vec<(String, String)> = compose
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(case.join(path))
                .map_err(|error| format!("{path}: {error}"))?;
            Ok((path.clone(), text))
        })
        .collect::<Result<_, String>>()?;
    // Each file also as rendering hands it over, already parsed: the result must not differ.
    let trees: Vec<Option<Node>> = texts
        .iter()
        .map(|(path, text)| {
            let parsed = parse_document(&SourceFile::new(path, text.as_str()));
            parsed.root.filter(|_| parsed.problems.is_empty())
        })
        .collect();
    let read = |path: &str| std::fs::read(case.join(path)).ok();
    let stack = options.stack.clone().unwrap_or(name);
    let convert = |parsed: bool| {
        let sources: Vec<ComposeSource<'_>> = texts
            .iter()
            .zip(&trees)
            .map(|((path, text), tree)| ComposeSource {
                path,
                text,
                tree: tree.as_ref().filter(|_| parsed),
            })
            .collect();
        let converted = convert_stack(
            &sources,
            &ConvertOptions {
                stack: &stack,
                variables: &options.variables,
                files: &read,
                extra_labels: &options.extra_labels,
            },
        );
        match converted {
            Ok(converted) => Ok(stack_json(&converted)),
            Err(diagnostics) => Err(diagnostics
                .sorted()
                .iter()
                .map(ToString::to_string)
                .collect::<String>()),
        }
    };
    let from_text = convert(false);
    if convert(true) != from_text {
        return Err("converting the files as already parsed gave another result".to_owned());
    }
    from_text
}

fn stack_json(converted: &Converted) -> String {
    let StackSpec {
        name: _,
        services,
        networks,
        objects,
        external,
    } = &converted.stack;
    let warnings: Vec<String> = converted
        .warnings
        .sorted()
        .iter()
        .map(|warning| {
            warning
                .to_string()
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    let services: serde_json::Map<String, Value> = services
        .iter()
        .map(|service| (service.name.clone(), service.spec.clone()))
        .collect();
    let networks: Vec<Value> = networks
        .iter()
        .map(|network| serde_json::to_value(network).unwrap_or_default())
        .collect();
    let object = |spec: &ObjectSpec| match spec.kind {
        ObjectKind::Config => json!({
            "Name": spec.name,
            "Labels": spec.labels,
            "Data": String::from_utf8_lossy(&spec.data),
        }),
        ObjectKind::Secret => json!({
            "Name": spec.name,
            "Labels": spec.labels,
            "DataSha256": ObjectSpec::content_hash(&spec.data),
        }),
    };
    let by_kind = |kind: ObjectKind| -> Vec<Value> {
        objects
            .iter()
            .filter(|spec| spec.kind == kind)
            .map(object)
            .collect()
    };
    let mut value = serde_json::Map::new();
    if !warnings.is_empty() {
        value.insert("Warnings".to_owned(), json!(warnings));
    }
    value.insert("Services".to_owned(), Value::Object(services));
    value.insert("Networks".to_owned(), json!(networks));
    value.insert("Configs".to_owned(), json!(by_kind(ObjectKind::Config)));
    value.insert("Secrets".to_owned(), json!(by_kind(ObjectKind::Secret)));
    value.insert(
        "External".to_owned(),
        json!({
            "Networks": external.networks,
            "Configs": external.configs,
            "Secrets": external.secrets,
        }),
    );
    let mut text = serde_json::to_string_pretty(&Value::Object(value)).unwrap_or_default();
    text.push('\n');
    text
}

#[test]
fn compose_fixtures_convert_as_expected() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(fixtures_root())
        .expect("fixtures/compose")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.is_dir())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no fixtures under fixtures/compose");
    let mut failures = Vec::new();
    for case in cases {
        let json_path = case.join("expected.json");
        let text_path = case.join("expected.txt");
        let outcome = run(&case);
        if bless() {
            let _ = std::fs::remove_file(&json_path);
            let _ = std::fs::remove_file(&text_path);
            let (path, content) = match &outcome {
                Ok(json) => (&json_path, json),
                Err(errors) => (&text_path, errors),
            };
            std::fs::write(path, content).expect("bless");
            continue;
        }
        let expected_json = std::fs::read_to_string(&json_path).ok();
        let expected_text = std::fs::read_to_string(&text_path).ok();
        let matches = match (&outcome, &expected_json, &expected_text) {
            (Ok(json), Some(expected), None) => json == expected,
            (Err(errors), None, Some(expected)) => errors == expected,
            _ => false,
        };
        if !matches {
            let actual = match &outcome {
                Ok(json) => format!("expected.json would be:\n{json}"),
                Err(errors) => format!("expected.txt would be:\n{errors}"),
            };
            failures.push(format!("{}: {actual}", case.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture(s) differ (SHOAL_BLESS=1 rewrites them):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
