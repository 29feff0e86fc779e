//! Convert: compose files into the Swarm specs `docker stack deploy` would create, as
//! values. [`crate::compose`] loads and merges the files; this module names, labels and
//! converts what they declare, following docker's `cli/compose/convert`.
//!
//! The service specs are the `Spec` of `GET /services/{id}` once a Docker Engine 20.10
//! (API 1.41) has stored what `docker stack deploy --resolve-image never` sent: the
//! defaults the daemon fills in are filled in (`Replicas: 1`, `EndpointSpec.Mode: "vip"`,
//! `Isolation: "default"`, `RestartPolicy.MaxAttempts`, `UpdateConfig` order and failure
//! action), fields that engine drops are dropped (with a warning), and the image gets the
//! `:latest` tag the Docker client adds. Two things stay for the Docker adapter to resolve
//! at apply time, because they are IDs only the swarm knows:
//!
//! - `TaskTemplate.Networks[].Target` holds the network's name, not its ID;
//! - `ContainerSpec.Configs[]` and `Secrets[]` hold `ConfigName`/`SecretName` and an
//!   empty `ConfigID`/`SecretID`.
//!
//! Deliberate differences from docker:
//!
//! - Configs and secrets are named `<stack>_<name>-<first 8 hex of sha256(content)>`
//!   ([`crate::swarm::ObjectSpec::hashed_name`]): Swarm objects are immutable, so new content must be a
//!   new object. (The pipeline then keys the hash: [`crate::swarm::ObjectNameKey`].) A `name:` override replaces `<stack>_<name>` and is hashed the same way;
//!   `external` objects keep the name written.
//! - Relative paths (`env_file`, `file:`) are relative to the compose file that writes
//!   them; docker resolves every file's paths against the first file's folder.
//! - A bind mount must name an absolute path on the nodes: docker turns `./data` into a
//!   path on the machine that runs the deploy, which a GitOps runner does not share.
//! - `extra_labels` go on the service (not the containers, so no task restarts), networks,
//!   configs and secrets.

mod mount;
mod network;
mod object;
mod service;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use self::network::convert_networks;
use self::object::convert_objects;
use self::service::ServiceConverter;
use crate::compose::{LoadOptions, load_compose};
use crate::source::{Diagnostic, Diagnostics, SourceFile};
use crate::swarm::StackSpec;
use crate::yaml::Node;

/// One rendered compose file; several are merged in order, like
/// `docker stack deploy -c a.yml -c b.yml`.
pub struct ComposeSource<'a> {
    pub path: &'a str,
    pub text: &'a str,
    /// `text` as already parsed without a problem, when it was.
    pub tree: Option<&'a Node>,
}

pub struct ConvertOptions<'a> {
    pub stack: &'a str,
    /// Variables for `$VAR` interpolation, for `environment` entries without a value and
    /// for `env_file` lines without one (docker uses the process environment).
    pub variables: &'a BTreeMap<String, String>,
    /// Files of the config repo by path (`env_file`s, and the rendered contents of configs
    /// and secrets); a relative path in a compose file is relative to that file's folder.
    pub files: &'a dyn Fn(&str) -> Option<Vec<u8>>,
    /// Labels shoal adds to every object it creates (commit, workflow, environment).
    pub extra_labels: &'a BTreeMap<String, String>,
}

pub struct Converted {
    pub stack: StackSpec,
    /// Keys docker ignores, deprecated spellings, values the engine drops.
    pub warnings: Diagnostics,
}

/// Converts the compose files of one stack. The error holds every problem found (with
/// the warnings); `Converted::warnings` holds the warnings of a conversion that worked.
pub fn convert_stack(
    sources: &[ComposeSource<'_>],
    options: &ConvertOptions<'_>,
) -> Result<Converted, Diagnostics> {
    let files: Vec<SourceFile> = sources
        .iter()
        .map(|source| SourceFile::new(source.path, source.text))
        .collect();
    let mut diagnostics = Diagnostics::default();
    let stack_name_valid = !options
        .stack
        .trim_matches(|c: char| c.is_whitespace() || c == '"' || c == '\'')
        .is_empty();
    if !stack_name_valid {
        let path = sources.first().map_or("", |source| source.path);
        diagnostics.push(Diagnostic::file_error(
            path,
            format!("invalid stack name `{}`", options.stack),
        ));
        return Err(diagnostics);
    }
    if files.is_empty() {
        diagnostics.push(Diagnostic::file_error(
            "",
            "a stack needs at least one compose file",
        ));
        return Err(diagnostics);
    }
    let load_options = LoadOptions {
        variables: options.variables,
        files: options.files,
    };
    let trees: Vec<Option<&Node>> = sources.iter().map(|source| source.tree).collect();
    let Some(config) = load_compose(&files, &trees, &load_options, &mut diagnostics) else {
        return Err(diagnostics);
    };
    let objects = convert_objects(&files, &config, options, &mut diagnostics);
    let (networks, external_networks) = convert_networks(&config, options);
    let converter = ServiceConverter {
        files: &files,
        config: &config,
        options,
        objects: &objects,
    };
    let mut services = Vec::new();
    for service in &config.services {
        if let Some(spec) = converter.convert(service, &mut diagnostics) {
            services.push(spec);
        }
    }
    if diagnostics.has_errors() {
        return Err(diagnostics);
    }
    services.sort_by(|a, b| a.name.cmp(&b.name));
    let mut stack = StackSpec {
        name: options.stack.to_owned(),
        services,
        networks,
        objects: objects.specs,
        external: objects.external,
    };
    stack.external.networks = external_networks;
    Ok(Converted {
        stack,
        warnings: diagnostics,
    })
}

/// `<stack>_<name>`, docker's naming of everything a stack creates.
fn scoped(stack: &str, name: &str) -> String {
    format!("{stack}_{name}")
}

/// Labels of a created object: its own, then shoal's, then the stack's namespace.
fn object_labels(
    own: &BTreeMap<String, String>,
    options: &ConvertOptions<'_>,
) -> BTreeMap<String, String> {
    let mut labels = own.clone();
    labels.extend(options.extra_labels.clone());
    labels.insert(
        crate::swarm::STACK_NAMESPACE.to_owned(),
        options.stack.to_owned(),
    );
    labels
}
