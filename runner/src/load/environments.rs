//! Loads `shoal.yml` into the list of environments.

use super::{Document, RepoFiles};
use crate::config::ShoalFile;
use crate::model::Environment;
use crate::source::{Diagnostic, Diagnostics};

pub const SHOAL_FILE: &str = "shoal.yml";

/// The environments of `shoal.yml`, in order; `None` when the file cannot be used.
pub fn load_environments(
    files: &dyn RepoFiles,
    diagnostics: &mut Diagnostics,
) -> Option<Vec<Environment>> {
    if !files.exists(SHOAL_FILE) {
        diagnostics.push(
            Diagnostic::file_error(SHOAL_FILE, "file not found")
                .with_help("a config repo has a shoal.yml at its root that names its environments"),
        );
        return None;
    }
    let document = Document::read(files, SHOAL_FILE, diagnostics)?;
    let shoal_file: ShoalFile = document.decode(&document.root, diagnostics)?;
    if shoal_file.environments.is_empty() {
        let span = document
            .root
            .entry("environments")
            .map_or(document.root.span, |(key, _)| key.span);
        diagnostics.push(
            document
                .error(span, "no environments defined")
                .with_help("add one, e.g. `environments: { local: {} }`"),
        );
    }
    let mut environments = Vec::new();
    for (name, input) in shoal_file.environments {
        if !is_valid_name(&name.value) {
            diagnostics.push(document.error(
                name.span,
                format!(
                    "invalid environment name `{}`: use lowercase letters, digits, `-` and `_`",
                    name.value
                ),
            ));
        }
        if let Some(docker) = &input.docker {
            let host = docker.host.value.as_str();
            let known = ["unix://", "tcp://", "ssh://", "npipe://"];
            if !known.iter().any(|scheme| host.starts_with(scheme)) {
                diagnostics.push(
                    document
                        .error(
                            docker.host.span,
                            format!("unsupported Docker host `{host}`"),
                        )
                        .with_help(
                            "use unix:///path/to/docker.sock, tcp://HOST:PORT or ssh://USER@HOST",
                        ),
                );
            }
        }
        let mut vars = shoal_file.vars.clone();
        for (key, value) in input.vars {
            match vars.get_mut(&key) {
                Some(global) => merge_value(global, value),
                None => {
                    vars.insert(key, value);
                }
            }
        }
        environments.push(Environment {
            name: name.value,
            docker: input.docker,
            ssh: input.ssh,
            hosts: input.hosts,
            vars,
            secrets: input
                .secrets
                .into_iter()
                .map(|(key, source)| (key, source.value))
                .collect(),
        });
    }
    Some(environments)
}

/// Deep merge: maps merge key by key, anything else is replaced. So an environment that
/// sets `images: { traefik: ... }` keeps the global `images` it does not mention.
fn merge_value(base: &mut serde_json::Value, overlay: serde_json::Value) {
    match (base, overlay) {
        (serde_json::Value::Object(base), serde_json::Value::Object(overlay)) => {
            for (key, value) in overlay {
                match base.get_mut(&key) {
                    Some(existing) => merge_value(existing, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, overlay) => *base = overlay,
    }
}

/// Environment names end up in check names, labels and folder names.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::MemoryFiles;

    #[test]
    fn environment_vars_merge_deeply_over_global_ones() {
        let files = MemoryFiles::new().with(
            "shoal.yml",
            "vars: { images: { a: a:1, b: b:1 }, n: 1 }\nenvironments:\n  prod: { vars: { images: { b: b:2 }, n: 2 } }\n",
        );
        let mut diagnostics = Diagnostics::default();
        let environments = load_environments(&files, &mut diagnostics).expect("loads");
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(
            serde_json::to_value(&environments[0].vars).expect("json"),
            serde_json::json!({ "images": { "a": "a:1", "b": "b:2" }, "n": 2 })
        );
    }
}
