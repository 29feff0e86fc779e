//! The committed JSON Schemas are what the Rust types generate, and every YAML file a
//! user would point them at (the shipped example and the valid fixtures) passes them.

use std::path::{Path, PathBuf};

use shoal::source::SourceFile;

use crate::test_repo::project_root;

#[test]
fn committed_schemas_are_up_to_date() {
    for (name, generated) in shoal::schema::schemas() {
        let path = project_root().join("schemas").join(name);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "schemas/{name} is stale: run `cargo run -- schema --out schemas` and commit the result"
        );
    }
}

fn schema(name: &str) -> jsonschema::Validator {
    let text =
        std::fs::read_to_string(project_root().join("schemas").join(name)).expect("schema file");
    let value: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::validator_for(&value).expect("schema compiles")
}

fn yaml_as_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).expect("read");
    let file = SourceFile::new(path.display().to_string(), text);
    let parsed = shoal::yaml::parse_document(&file);
    assert!(
        parsed.problems.is_empty(),
        "{}: {:?}",
        path.display(),
        parsed.problems
    );
    let root = parsed.root.expect("a document");
    shoal::yaml::decode(&root).expect("YAML converts to JSON")
}

/// Config repos to check: the project root and every valid fixture.
fn config_repos() -> Vec<PathBuf> {
    let mut repos = vec![project_root()];
    let valid = project_root().join("fixtures").join("valid");
    for entry in std::fs::read_dir(valid).expect("fixtures/valid") {
        repos.push(entry.expect("entry").path());
    }
    repos
}

#[test]
fn every_config_file_matches_the_schemas() {
    let shoal_schema = schema("shoal.schema.json");
    let workflow_schema = schema("workflow.schema.json");
    let mut checked = 0;
    for repo in config_repos() {
        let shoal_file = repo.join("shoal.yml");
        let errors: Vec<String> = shoal_schema
            .iter_errors(&yaml_as_json(&shoal_file))
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", shoal_file.display());
        checked += 1;
        for entry in std::fs::read_dir(repo.join("workflows")).expect("workflows/") {
            let path = entry.expect("entry").path();
            let errors: Vec<String> = workflow_schema
                .iter_errors(&yaml_as_json(&path))
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{}: {errors:?}", path.display());
            checked += 1;
        }
    }
    assert!(
        checked >= 4,
        "expected the example and fixtures to hold several files, checked {checked}"
    );
}

#[test]
fn schemas_reject_what_validation_rejects() {
    let workflow_schema = schema("workflow.schema.json");
    for case in ["unknown-key", "wrong-type", "two-kinds", "step-kind"] {
        let folder = project_root()
            .join("fixtures/invalid")
            .join(case)
            .join("workflows");
        for entry in std::fs::read_dir(folder).expect("workflows/") {
            let path = entry.expect("entry").path();
            assert!(
                !workflow_schema.is_valid(&yaml_as_json(&path)),
                "schema accepts {}",
                path.display()
            );
        }
    }
}
