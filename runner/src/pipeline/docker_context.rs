//! The docker CLI's contexts (`docker context create`), read from its store as the CLI
//! lays it out: `$DOCKER_CONFIG` (default `~/.docker`) holds
//! `contexts/meta/SHA256(NAME)/meta.json` with the context's Docker endpoint, and
//! `contexts/tls/SHA256(NAME)/docker/{ca,cert,key}.pem` with its TLS material.

use std::path::{Path, PathBuf};

use sha2::Digest as _;

use crate::docker::{DockerEndpoint, PemText, TlsMaterial};

/// The context docker itself calls `default`: `DOCKER_HOST`, else the local socket.
pub const DEFAULT_CONTEXT: &str = "default";

/// The docker CLI's configuration folder: `DOCKER_CONFIG`, else `~/.docker`.
pub fn docker_config_folder() -> Option<PathBuf> {
    match std::env::var_os("DOCKER_CONFIG") {
        Some(folder) if !folder.is_empty() => Some(PathBuf::from(folder)),
        _ => std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".docker")),
    }
}

/// The context the docker CLI would use when neither `--context` nor `DOCKER_HOST` says:
/// `DOCKER_CONTEXT`, else `currentContext` of `config.json`; `None` for the default.
pub fn current_context(config_folder: Option<&Path>) -> Option<String> {
    if let Ok(name) = std::env::var("DOCKER_CONTEXT")
        && !name.is_empty()
    {
        return Some(name);
    }
    let text = std::fs::read(config_folder?.join("config.json")).ok()?;
    let config: serde_json::Value = serde_json::from_slice(&text).ok()?;
    config
        .get("currentContext")
        .and_then(serde_json::Value::as_str)
        .filter(|name| !name.is_empty() && *name != DEFAULT_CONTEXT)
        .map(str::to_owned)
}

/// The Docker endpoint of context `name` in the store under `config_folder`. A problem
/// is a sentence that names the context and says what to do.
pub fn context_endpoint(name: &str, config_folder: &Path) -> Result<DockerEndpoint, String> {
    let digest = hex::encode(sha2::Sha256::digest(name.as_bytes()));
    let contexts = config_folder.join("contexts");
    let meta_file = contexts.join("meta").join(&digest).join("meta.json");
    let text = match std::fs::read(&meta_file) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let known = context_names(&contexts.join("meta"));
            let known = if known.is_empty() {
                format!("{} has none", contexts.display())
            } else {
                format!("{} has: {}", contexts.display(), known.join(", "))
            };
            return Err(format!(
                "docker context `{name}` does not exist ({known}; `docker context create` makes one)"
            ));
        }
        Err(error) => {
            return Err(format!(
                "cannot read docker context `{name}` at {}: {error}",
                meta_file.display()
            ));
        }
    };
    let meta: ContextMeta = serde_json::from_slice(&text).map_err(|error| {
        format!(
            "docker context `{name}` cannot be read: {}: {error}",
            meta_file.display()
        )
    })?;
    let Some(docker) = meta
        .endpoints
        .docker
        .filter(|docker| !docker.host.is_empty())
    else {
        return Err(format!(
            "docker context `{name}` has no Docker endpoint (create it with `docker context create {name} --docker host=URL`)"
        ));
    };
    if docker.skip_tls_verify {
        return Err(format!(
            "docker context `{name}` skips TLS verification (skip-tls-verify=true); shoal verifies \
             the daemon's certificate against the context's CA: recreate the context with \
             `--docker host=URL,ca=…,cert=…,key=…`"
        ));
    }
    let tls_folder = contexts.join("tls").join(&digest).join("docker");
    let tls = context_tls(name, &tls_folder)?;
    if tls.is_some() && !docker.host.starts_with("tcp://") {
        return Err(format!(
            "docker context `{name}` has TLS material for `{}`; shoal speaks TLS to tcp:// hosts only",
            docker.host
        ));
    }
    Ok(DockerEndpoint {
        host: docker.host,
        tls,
        ssh: None,
    })
}

/// The context's `ca.pem`, `cert.pem` and `key.pem`: all three, or none (plain TCP).
fn context_tls(name: &str, folder: &Path) -> Result<Option<TlsMaterial>, String> {
    let parts = ["ca.pem", "cert.pem", "key.pem"].map(|file| {
        let path = folder.join(file);
        std::fs::read(&path).ok().map(|pem| PemText {
            origin: format!("{} (docker context `{name}`)", path.display()),
            pem,
        })
    });
    match parts {
        [Some(ca), Some(cert), Some(key)] => Ok(Some(TlsMaterial { ca, cert, key })),
        [None, None, None] => Ok(None),
        parts => {
            let missing: Vec<&str> = ["ca.pem", "cert.pem", "key.pem"]
                .into_iter()
                .zip(parts)
                .filter_map(|(file, part)| part.is_none().then_some(file))
                .collect();
            Err(format!(
                "docker context `{name}` has TLS material without {} in {}: shoal needs the CA, \
                 the client certificate and its key",
                missing.join(" and "),
                folder.display()
            ))
        }
    }
}

/// The names of the contexts of the store, sorted.
fn context_names(meta_folder: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(meta_folder) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| std::fs::read(entry.path().join("meta.json")).ok())
        .filter_map(|text| serde_json::from_slice::<ContextMeta>(&text).ok())
        .map(|meta| meta.name)
        .collect();
    names.sort();
    names
}

/// `meta.json`, as far as shoal reads it.
#[derive(serde::Deserialize)]
struct ContextMeta {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Endpoints", default)]
    endpoints: ContextEndpoints,
}

#[derive(serde::Deserialize, Default)]
struct ContextEndpoints {
    docker: Option<DockerContextEndpoint>,
}

#[derive(serde::Deserialize)]
struct DockerContextEndpoint {
    #[serde(rename = "Host", default)]
    host: String,
    #[serde(rename = "SkipTLSVerify", default)]
    skip_tls_verify: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store laid out as `docker context create` lays it out (see the integration test
    /// `docker_context`, which makes one with the docker CLI itself).
    fn store_with(name: &str, meta: &str, tls: &[(&str, &str)]) -> tempfile::TempDir {
        let folder = tempfile::tempdir().expect("temp");
        let digest = hex::encode(sha2::Sha256::digest(name.as_bytes()));
        let meta_folder = folder.path().join("contexts/meta").join(&digest);
        std::fs::create_dir_all(&meta_folder).expect("meta folder");
        std::fs::write(meta_folder.join("meta.json"), meta).expect("meta");
        let tls_folder = folder
            .path()
            .join("contexts/tls")
            .join(&digest)
            .join("docker");
        for (file, text) in tls {
            std::fs::create_dir_all(&tls_folder).expect("tls folder");
            std::fs::write(tls_folder.join(file), text).expect("pem");
        }
        folder
    }

    #[test]
    fn a_context_gives_its_host_and_tls_material() {
        let store = store_with(
            "prod",
            r#"{"Name":"prod","Metadata":{},"Endpoints":{"docker":{"Host":"tcp://10.0.0.1:2376","SkipTLSVerify":false}}}"#,
            &[("ca.pem", "CA"), ("cert.pem", "CERT"), ("key.pem", "KEY")],
        );
        let endpoint = context_endpoint("prod", store.path()).expect("reads");
        assert_eq!(endpoint.host, "tcp://10.0.0.1:2376");
        let tls = endpoint.tls.expect("tls");
        assert_eq!(tls.key.pem, b"KEY");
        assert!(
            tls.ca
                .origin
                .ends_with("/docker/ca.pem (docker context `prod`)")
        );
    }

    #[test]
    fn an_unknown_context_lists_those_that_exist() {
        let store = store_with(
            "prod",
            r#"{"Name":"prod","Endpoints":{"docker":{"Host":"unix:///x.sock"}}}"#,
            &[],
        );
        let error = context_endpoint("staging", store.path()).expect_err("unknown");
        assert_eq!(
            error,
            format!(
                "docker context `staging` does not exist ({}/contexts has: prod; `docker context create` makes one)",
                store.path().display()
            )
        );
    }

    #[test]
    fn a_context_without_a_docker_endpoint_is_refused() {
        let store = store_with("k8s", r#"{"Name":"k8s","Endpoints":{}}"#, &[]);
        let error = context_endpoint("k8s", store.path()).expect_err("no endpoint");
        assert_eq!(
            error,
            "docker context `k8s` has no Docker endpoint (create it with `docker context create k8s --docker host=URL`)"
        );
    }

    #[test]
    fn skipping_tls_verification_is_refused() {
        let store = store_with(
            "lax",
            r#"{"Name":"lax","Endpoints":{"docker":{"Host":"tcp://h:2376","SkipTLSVerify":true}}}"#,
            &[],
        );
        let error = context_endpoint("lax", store.path()).expect_err("refused");
        assert!(
            error.starts_with("docker context `lax` skips TLS verification"),
            "{error}"
        );
    }

    #[test]
    fn a_context_with_part_of_its_tls_material_is_refused() {
        let store = store_with(
            "half",
            r#"{"Name":"half","Endpoints":{"docker":{"Host":"tcp://h:2376"}}}"#,
            &[("ca.pem", "CA")],
        );
        let error = context_endpoint("half", store.path()).expect_err("refused");
        assert!(
            error.starts_with(
                "docker context `half` has TLS material without cert.pem and key.pem in "
            ),
            "{error}"
        );
    }
}
