//! Data-driven cases under `fixtures/`: `invalid/NAME/` holds a config repo and the exact
//! `expected.txt` that `shoal validate` prints for it; `valid/NAME/` holds a config repo
//! and `expected/ENV/...`, the files `shoal render --env ENV --out` writes.
//! Run with `SHOAL_BLESS=1` to rewrite the expectations after a deliberate change.

use std::path::Path;

use crate::test_repo::{Run, project_root, shoal};

fn bless() -> bool {
    std::env::var_os("SHOAL_BLESS").is_some()
}

fn cases(kind: &str) -> Vec<std::path::PathBuf> {
    let mut cases: Vec<_> = std::fs::read_dir(project_root().join("fixtures").join(kind))
        .expect("fixtures folder")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.is_dir())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no fixtures under fixtures/{kind}");
    cases
}

fn relative(path: &Path) -> String {
    path.strip_prefix(project_root())
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn invalid_repos_report_exact_errors() {
    let mut failures = Vec::new();
    for case in cases("invalid") {
        let run = Run::from(
            shoal()
                .args(["validate", "--repo"])
                .arg(relative(&case))
                .output()
                .expect("runs"),
        );
        let expected_path = case.join("expected.txt");
        if bless() {
            std::fs::write(&expected_path, &run.stderr).expect("bless");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if run.code != 1 || !run.stdout.is_empty() || run.stderr != expected {
            failures.push(format!(
                "{}: exit {} (want 1)\n--- stdout\n{}--- stderr\n{}--- expected\n{}",
                relative(&case),
                run.code,
                run.stdout,
                run.stderr,
                expected
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn valid_repos_render_expected_files() {
    for case in cases("valid") {
        let run = Run::from(
            shoal()
                .args(["validate", "--repo"])
                .arg(&case)
                .output()
                .expect("runs"),
        );
        assert_eq!(run.code, 0, "{}: {}", relative(&case), run.stderr);
        let expected_root = case.join("expected");
        let environments: Vec<String> = std::fs::read_dir(&expected_root)
            .expect("expected/ folder")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert!(
            !environments.is_empty(),
            "{}: no expected/ENV folders",
            relative(&case)
        );
        for environment in environments {
            let out = tempfile::tempdir().expect("temp");
            let run = Run::from(
                shoal()
                    .args(["render", "--env", &environment, "--out"])
                    .arg(out.path())
                    .arg("--repo")
                    .arg(&case)
                    .output()
                    .expect("runs"),
            );
            assert_eq!(
                run.code,
                0,
                "{} {environment}: {}",
                relative(&case),
                run.stderr
            );
            let expected = expected_root.join(&environment);
            if bless() {
                let _ = std::fs::remove_dir_all(&expected);
                copy_tree(out.path(), &expected);
                continue;
            }
            assert_eq!(
                tree(out.path()),
                tree(&expected),
                "{} {environment}",
                relative(&case)
            );
        }
    }
}

/// Every file under `root`, by relative path, with its content.
fn tree(root: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("read folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                folders.push(path);
            } else {
                let name = path
                    .strip_prefix(root)
                    .expect("inside")
                    .display()
                    .to_string();
                files.push((name, std::fs::read_to_string(&path).expect("text")));
            }
        }
    }
    files.sort();
    files
}

fn copy_tree(from: &Path, to: &Path) {
    for (name, content) in tree(from) {
        let target = to.join(name);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("folders");
        std::fs::write(target, content).expect("write");
    }
}
