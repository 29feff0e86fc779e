//! Loads compose files the way `docker stack deploy -c a.yml -c b.yml` does: each file is
//! parsed, checked for forbidden keys, interpolated, checked against the schema of its
//! `version`, and turned into a [`ComposeConfig`]; then the files are merged in order and
//! every service must name a valid image. Problems are collected, not stopped at.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::de::DeserializeOwned;

use super::compose_config::{
    ComposeConfig, FileObjectConfig, Located, NetworkConfig, Origin, VolumeConfig,
};
use super::compose_file::{
    ComposeFileKeys, ConfigInput, NetworkInput, SecretInput, ServiceInput, VolumeInput,
};
use super::image_reference::check_image_reference;
use super::interpolation::interpolate;
use super::merge::merge_configs;
use super::properties::{
    DEFAULT_VERSION, DEPRECATED, EXTENSION_LEVELS, FORBIDDEN, SILENTLY_IGNORED, UNSUPPORTED,
    VERSIONS, path_matches, version_less_than,
};
use super::service_loader::load_service;
use super::values::{External, ListOrDict, ScalarText, Text};
use super::version_check::check_versions;
use crate::load::normalize;
use crate::source::{Diagnostic, Diagnostics, SourceFile, Span};
use crate::yaml::{self, Node, NodeValue, Resolved, Spanned};

/// What loading reads besides the compose files.
pub struct LoadOptions<'a> {
    /// Values for `$VAR`, and for `environment` entries and `env_file` lines without one.
    pub variables: &'a BTreeMap<String, String>,
    /// Files of the config repo by path (for `env_file`).
    pub files: &'a dyn Fn(&str) -> Option<Vec<u8>>,
}

/// Loads and merges `files`, in order. `trees` holds, for each file, its content as
/// already parsed without a problem, if it was (rendering parses a compose file too); the
/// others are parsed here. `None` when any error was found; the diagnostics hold every
/// error and warning.
pub fn load_compose(
    files: &[SourceFile],
    trees: &[Option<&Node>],
    options: &LoadOptions<'_>,
    diagnostics: &mut Diagnostics,
) -> Option<ComposeConfig> {
    let errors_before = diagnostics.error_count();
    let mut configs = Vec::new();
    let mut first_version: Option<String> = None;
    for (index, file) in files.iter().enumerate() {
        let parsed = match trees.get(index).copied().flatten() {
            Some(tree) => checked_root(file, tree.clone(), diagnostics),
            None => parse(file, diagnostics),
        };
        let Some(root) = parsed else {
            continue;
        };
        let Some(version) = file_version(file, &root, diagnostics) else {
            continue;
        };
        match &first_version {
            None => first_version = Some(version.clone()),
            Some(first) if *first != version => {
                let span = root.entry("version").map_or(root.span, |(key, _)| key.span);
                diagnostics.push(
                    Diagnostic::error(
                        file,
                        span,
                        format!("this file is compose version {version}, the first one is {first}"),
                    )
                    .with_help("docker stack deploy needs every file of a stack to have the same `version:`"),
                );
                continue;
            }
            Some(_) => {}
        }
        let context = FileContext {
            index,
            file,
            version: &version,
            options,
        };
        if let Some(config) = context.load(root, diagnostics) {
            configs.push(config);
        }
    }
    if diagnostics.error_count() > errors_before {
        return None;
    }
    let merged = merge_configs(configs);
    for service in &merged.services {
        match service
            .image
            .as_ref()
            .filter(|image| !image.value.is_empty())
        {
            None => {
                let file = &files[service.origin.file];
                diagnostics.push(
                    Diagnostic::error(
                        file,
                        service.origin.span,
                        format!("service `{}` has no `image`", service.name),
                    )
                    .with_help(
                        "docker stack deploy does not build images; push one and name it here",
                    ),
                );
            }
            Some(image) => {
                if let Err(reason) = check_image_reference(&image.value) {
                    diagnostics.push(Diagnostic::error(
                        &files[image.origin.file],
                        image.origin.span,
                        format!("invalid image reference `{}`: {reason}", image.value),
                    ));
                }
            }
        }
    }
    (diagnostics.error_count() == errors_before).then_some(merged)
}

fn parse(file: &SourceFile, diagnostics: &mut Diagnostics) -> Option<Node> {
    let parsed = yaml::parse_document(file);
    for problem in parsed.problems {
        diagnostics.push(problem);
    }
    match parsed.root {
        Some(root) => checked_root(file, root, diagnostics),
        None if file.text().trim().is_empty() => {
            diagnostics.push(Diagnostic::file_error(file.path(), "file is empty"));
            None
        }
        None => None,
    }
}

/// A compose file's root, which must be a mapping.
fn checked_root(file: &SourceFile, root: Node, diagnostics: &mut Diagnostics) -> Option<Node> {
    if root.as_mapping().is_none() {
        diagnostics.push(Diagnostic::error(
            file,
            root.span,
            format!("expected a map of compose keys, found {}", root.kind_name()),
        ));
        return None;
    }
    Some(root)
}

/// The file's `version:`, normalised (`3` and no version mean the latest, 3.13).
fn file_version(file: &SourceFile, root: &Node, diagnostics: &mut Diagnostics) -> Option<String> {
    let Some(node) = root.get("version") else {
        return Some(DEFAULT_VERSION.to_owned());
    };
    let text = match &node.value {
        NodeValue::Scalar(scalar) => match scalar.resolve() {
            Resolved::String(text) => text.to_owned(),
            _ => {
                diagnostics.push(
                    Diagnostic::error(
                        file,
                        node.span,
                        format!("expected a string, found {}", node.kind_name()),
                    )
                    .with_help(format!("quote it: `version: \"{}\"`", scalar.text)),
                );
                return None;
            }
        },
        _ => {
            diagnostics.push(Diagnostic::error(
                file,
                node.span,
                format!("expected a string, found {}", node.kind_name()),
            ));
            return None;
        }
    };
    let version = match text.as_str() {
        "" | "3" => DEFAULT_VERSION.to_owned(),
        other => other.to_owned(),
    };
    if !VERSIONS.contains(&version.as_str()) {
        diagnostics.push(
            Diagnostic::error(
                file,
                node.span,
                format!("unsupported compose file version `{text}`"),
            )
            .with_help("docker stack deploy reads versions 3.0 to 3.13; leave `version:` out for the latest"),
        );
        return None;
    }
    Some(version)
}

/// One compose file being loaded.
pub(super) struct FileContext<'a> {
    pub index: usize,
    pub file: &'a SourceFile,
    pub version: &'a str,
    pub options: &'a LoadOptions<'a>,
}

impl FileContext<'_> {
    pub fn origin(&self, span: Span) -> Origin {
        Origin {
            file: self.index,
            span,
        }
    }

    pub fn error(&self, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error(self.file, span, message)
    }

    pub fn warning(&self, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error(self.file, span, message).into_warning()
    }

    /// A variable's value, for `$VAR`, `environment` and `env_file`.
    pub fn lookup(&self, name: &str) -> Option<String> {
        self.options.variables.get(name).cloned()
    }

    /// Reads a file of the repo given relative to this compose file's folder.
    pub fn read_relative(&self, relative: &str) -> Result<(String, Vec<u8>), String> {
        let path = resolve_relative(self.file.path(), relative).ok_or_else(|| {
            format!(
                "`{relative}` is outside the config repo; use a path relative to the compose file"
            )
        })?;
        match (self.options.files)(&path) {
            Some(content) => Ok((path, content)),
            None => Err(format!("file `{path}` not found")),
        }
    }

    fn load(&self, mut root: Node, diagnostics: &mut Diagnostics) -> Option<ComposeConfig> {
        let errors_before = diagnostics.error_count();
        self.remove_forbidden(&mut root, diagnostics);
        check_versions(self, &root, diagnostics);
        self.warn_ignored(&root, diagnostics);
        let mut problems = Vec::new();
        let lookup = |name: &str| self.lookup(name);
        let mut tree = interpolate(&root, self.file, &lookup, &mut problems);
        for problem in problems {
            diagnostics.push(problem);
        }
        if diagnostics.error_count() > errors_before {
            // Values that failed to interpolate would only fail again below.
            return None;
        }
        remove_extensions(&mut tree, &mut Vec::new());
        if let Err(error) = yaml::decode::<ComposeFileKeys>(&tree) {
            diagnostics.push(error.into_diagnostic(self.file, tree.span));
        }
        let mut config = ComposeConfig::default();
        for (name, node) in self.section(&tree, "services", diagnostics) {
            self.check_name("service", &name, diagnostics);
            if let Some(service) = self.decode_entry::<ServiceInput>(&node, diagnostics) {
                config
                    .services
                    .push(load_service(self, name, service, diagnostics));
            }
        }
        for (name, node) in self.section(&tree, "networks", diagnostics) {
            if let Some(input) = self.decode_entry::<NetworkInput>(&node, diagnostics)
                && let Some(network) = self.network(&name, input, diagnostics)
            {
                config.networks.insert(name.value, network);
            }
        }
        for (name, node) in self.section(&tree, "volumes", diagnostics) {
            self.check_name("volume", &name, diagnostics);
            if let Some(input) = self.decode_entry::<VolumeInput>(&node, diagnostics)
                && let Some(volume) = self.volume(&name, input, diagnostics)
            {
                config.volumes.insert(name.value, volume);
            }
        }
        for (name, node) in self.section(&tree, "secrets", diagnostics) {
            self.check_name("secret", &name, diagnostics);
            if let Some(input) = self.decode_entry::<SecretInput>(&node, diagnostics)
                && let Some(secret) = self.secret(&name, input, diagnostics)
            {
                config.secrets.insert(name.value, secret);
            }
        }
        for (name, node) in self.section(&tree, "configs", diagnostics) {
            self.check_name("config", &name, diagnostics);
            if let Some(input) = self.decode_entry::<ConfigInput>(&node, diagnostics)
                && let Some(object) = self.config(&name, input, diagnostics)
            {
                config.configs.insert(name.value, object);
            }
        }
        (diagnostics.error_count() == errors_before).then_some(config)
    }

    /// The entries of a top-level section (`services`, `networks`, …): a map, or nothing.
    fn section(
        &self,
        tree: &Node,
        key: &str,
        diagnostics: &mut Diagnostics,
    ) -> Vec<(Spanned<String>, Node)> {
        let Some(node) = tree.get(key) else {
            return Vec::new();
        };
        match &node.value {
            NodeValue::Mapping(entries) => entries
                .iter()
                .map(|(name, value)| {
                    let text = name.as_scalar_text().unwrap_or_default().to_owned();
                    (Spanned::new(name.span, text), value.clone())
                })
                .collect(),
            _ if node.is_null() => Vec::new(),
            _ => {
                diagnostics.push(self.error(
                    node.span,
                    format!("expected a map of {key}, found {}", node.kind_name()),
                ));
                Vec::new()
            }
        }
    }

    /// Decodes one service, network, volume, secret or config. When it has errors, each
    /// of its keys is decoded alone, so that every faulty key is reported, not the first.
    fn decode_entry<T: DeserializeOwned>(
        &self,
        node: &Node,
        diagnostics: &mut Diagnostics,
    ) -> Option<T> {
        let first = match yaml::decode::<T>(node) {
            Ok(value) => return Some(value),
            Err(error) => error,
        };
        let mut reported = false;
        if let NodeValue::Mapping(entries) = &node.value
            && entries.len() > 1
        {
            for entry in entries {
                let single = Node {
                    span: node.span,
                    value: NodeValue::Mapping(vec![entry.clone()]),
                };
                if let Err(error) = yaml::decode::<T>(&single) {
                    diagnostics.push(error.into_diagnostic(self.file, entry.0.span));
                    reported = true;
                }
            }
        }
        if !reported {
            diagnostics.push(first.into_diagnostic(self.file, node.span));
        }
        None
    }

    /// Reports (and removes) the service keys docker refuses outright.
    fn remove_forbidden(&self, root: &mut Node, diagnostics: &mut Diagnostics) {
        let Some(services) = mapping_mut(root, "services") else {
            return;
        };
        for (_, service) in services.iter_mut() {
            let NodeValue::Mapping(entries) = &mut service.value else {
                continue;
            };
            entries.retain(|(key, _)| {
                let name = key.as_scalar_text().unwrap_or_default();
                let Some((_, advice)) = FORBIDDEN.iter().find(|(forbidden, _)| *forbidden == name)
                else {
                    return true;
                };
                diagnostics.push(
                    self.error(
                        key.span,
                        format!("`{name}` is not supported by docker stack deploy"),
                    )
                    .with_help(*advice),
                );
                false
            });
        }
    }

    /// Warns about the service keys docker accepts but ignores.
    fn warn_ignored(&self, root: &Node, diagnostics: &mut Diagnostics) {
        let Some(services) = root.get("services").and_then(Node::as_mapping) else {
            return;
        };
        for (_, service) in services {
            for (key, _) in service.as_mapping().unwrap_or_default() {
                let name = key.as_scalar_text().unwrap_or_default();
                if name == "restart" {
                    diagnostics.push(self.warning(
                        key.span,
                        "`restart` is not supported by docker stack deploy; it is used only when `deploy.restart_policy` is absent",
                    ));
                } else if UNSUPPORTED.contains(&name) {
                    diagnostics.push(self.warning(
                        key.span,
                        format!("`{name}` is not supported by docker stack deploy and is ignored"),
                    ));
                } else if let Some((_, reason)) = DEPRECATED.iter().find(|(key, _)| *key == name) {
                    diagnostics.push(
                        self.warning(key.span, format!("`{name}` is deprecated and ignored"))
                            .with_help(*reason),
                    );
                } else if SILENTLY_IGNORED.contains(&name) {
                    diagnostics.push(self.warning(
                        key.span,
                        format!("`{name}` is ignored by docker stack deploy"),
                    ));
                }
            }
        }
    }

    fn check_name(&self, kind: &str, name: &Spanned<String>, diagnostics: &mut Diagnostics) {
        let valid = !name.value.is_empty()
            && name
                .value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !valid {
            diagnostics.push(
                self.error(name.span, format!("invalid {kind} name `{}`", name.value))
                    .with_help("use letters, digits, `.`, `_` and `-` only"),
            );
        }
    }

    /// Docker's `external` handling: `external: {name: …}` is the old spelling of `name:`,
    /// and an external object without a name is called by its key.
    fn external_name(
        &self,
        kind: &str,
        key: &Spanned<String>,
        name: Option<Spanned<Text>>,
        external: Option<Spanned<External>>,
        diagnostics: &mut Diagnostics,
    ) -> (bool, String) {
        let name = name.map(|name| name.value.0);
        match external.map(|external| (external.span, external.value)) {
            None | Some((_, External::Flag(false))) => (false, name.unwrap_or_default()),
            Some((_, External::Flag(true))) | Some((_, External::Named(None))) => {
                (true, name.unwrap_or_else(|| key.value.clone()))
            }
            Some((span, External::Named(Some(external_name)))) => {
                if name.is_some() {
                    diagnostics.push(self.error(
                        span,
                        format!(
                            "{kind} {}: {kind}.external.name and {kind}.name conflict; only use {kind}.name",
                            key.value
                        ),
                    ));
                } else if !version_less_than(self.version, "3.5") {
                    diagnostics.push(self.warning(
                        external_name.span,
                        format!(
                            "`external.name` is deprecated; write `name: {}` and `external: true`",
                            external_name.value
                        ),
                    ));
                }
                (true, external_name.value)
            }
        }
    }

    fn network(
        &self,
        key: &Spanned<String>,
        input: NetworkInput,
        diagnostics: &mut Diagnostics,
    ) -> Option<NetworkConfig> {
        let (external, name) =
            self.external_name("network", key, input.name, input.external, diagnostics);
        let ipam = input.ipam.unwrap_or_default();
        Some(NetworkConfig {
            origin: self.origin(key.span),
            name,
            driver: text(input.driver),
            driver_opts: scalar_map(input.driver_opts),
            ipam_driver: text(ipam.driver),
            ipam_subnets: ipam
                .config
                .unwrap_or_default()
                .into_iter()
                .map(|pool| text(pool.subnet))
                .collect(),
            external,
            internal: input.internal.unwrap_or(false),
            attachable: input.attachable.unwrap_or(false),
            labels: mapping(input.labels),
        })
    }

    fn volume(
        &self,
        key: &Spanned<String>,
        input: VolumeInput,
        diagnostics: &mut Diagnostics,
    ) -> Option<VolumeConfig> {
        let is_external = matches!(
            input.external.as_ref().map(|e| &e.value),
            Some(External::Flag(true) | External::Named(_))
        );
        if is_external {
            let conflict = if input.driver.is_some() {
                Some("driver")
            } else if input.driver_opts.is_some() {
                Some("driver_opts")
            } else if input.labels.is_some() {
                Some("labels")
            } else {
                None
            };
            if let Some(conflict) = conflict {
                diagnostics.push(self.error(
                    key.span,
                    format!(
                        "volume `{}` is external and cannot set `{conflict}`",
                        key.value
                    ),
                ));
                return None;
            }
        }
        let (external, name) =
            self.external_name("volume", key, input.name, input.external, diagnostics);
        Some(VolumeConfig {
            name,
            driver: input
                .driver
                .map(|driver| driver.value.0)
                .unwrap_or_default(),
            driver_opts: input.driver_opts.map(|options| scalar_map(Some(options))),
            external,
            labels: mapping(input.labels),
        })
    }

    fn secret(
        &self,
        key: &Spanned<String>,
        input: SecretInput,
        diagnostics: &mut Diagnostics,
    ) -> Option<FileObjectConfig> {
        if let Some(driver) = &input.driver {
            diagnostics.push(
                self.error(driver.span, "secrets from a `driver` are not supported by shoal")
                    .with_help("give the secret's content with `file:`, or create it beforehand and mark it `external: true`"),
            );
        }
        let has_driver = input.driver.is_some();
        let shared = ConfigInput {
            name: input.name,
            file: input.file,
            external: input.external,
            labels: input.labels,
            template_driver: input.template_driver,
        };
        self.file_object("secret", key, shared, has_driver, diagnostics)
    }

    fn config(
        &self,
        key: &Spanned<String>,
        input: ConfigInput,
        diagnostics: &mut Diagnostics,
    ) -> Option<FileObjectConfig> {
        self.file_object("config", key, input, false, diagnostics)
    }

    /// A config, or a secret (whose keys are a config's and `driver`, reported above).
    fn file_object(
        &self,
        kind: &str,
        key: &Spanned<String>,
        input: ConfigInput,
        has_driver: bool,
        diagnostics: &mut Diagnostics,
    ) -> Option<FileObjectConfig> {
        let ConfigInput {
            name,
            file,
            external,
            labels,
            template_driver,
        } = input;
        if let Some(driver) = template_driver {
            diagnostics.push(
                self.error(driver.span, "`template_driver` is not supported by shoal")
                    .with_help(format!("render the {kind} with shoal's templates instead")),
            );
        }
        let (external, name) = self.external_name(kind, key, name, external, diagnostics);
        let file = match file {
            Some(file) if !external => match resolve_relative(self.file.path(), &file.value.0) {
                Some(path) => Some(Located {
                    value: path,
                    origin: self.origin(file.span),
                }),
                None => {
                    diagnostics.push(
                        self.error(
                            file.span,
                            format!("`{}` is outside the config repo", file.value.0),
                        )
                        .with_help("use a path relative to the compose file, inside the repo"),
                    );
                    None
                }
            },
            None if !external && !has_driver => {
                diagnostics.push(self.error(
                    key.span,
                    format!(
                        "{kind} `{}` has neither `file` nor `external: true`",
                        key.value
                    ),
                ));
                None
            }
            _ => None,
        };
        Some(FileObjectConfig {
            origin: self.origin(key.span),
            name,
            file,
            external,
            labels: mapping(labels),
        })
    }
}

/// A path written in the compose file at `file`, relative to that file's folder, as a
/// path of the repo; `None` for absolute paths and paths that leave the repo.
pub(super) fn resolve_relative(file: &str, relative: &str) -> Option<String> {
    if relative.starts_with('/') {
        return None;
    }
    let joined = match file.rsplit_once('/') {
        Some((folder, _)) => format!("{folder}/{relative}"),
        None => relative.to_owned(),
    };
    normalize(&joined).ok()
}

/// The entries of a mapping under `key` of `node`, for editing.
fn mapping_mut<'a>(node: &'a mut Node, key: &str) -> Option<&'a mut Vec<(Node, Node)>> {
    let NodeValue::Mapping(entries) = &mut node.value else {
        return None;
    };
    let (_, value) = entries
        .iter_mut()
        .find(|(k, _)| k.as_scalar_text() == Some(key))?;
    match &mut value.value {
        NodeValue::Mapping(entries) => Some(entries),
        _ => None,
    }
}

/// Removes the extension keys (`x-…`) where docker allows them.
fn remove_extensions(node: &mut Node, path: &mut Vec<String>) {
    let NodeValue::Mapping(entries) = &mut node.value else {
        return;
    };
    if EXTENSION_LEVELS
        .iter()
        .any(|level| path_matches(level, path))
    {
        entries.retain(|(key, _)| !key.as_scalar_text().unwrap_or_default().starts_with("x-"));
    }
    if path.len() >= 2 {
        return;
    }
    for (key, value) in entries.iter_mut() {
        path.push(key.as_scalar_text().unwrap_or_default().to_owned());
        remove_extensions(value, path);
        path.pop();
    }
}

pub(super) fn text(value: Option<Text>) -> String {
    value.map(|text| text.0).unwrap_or_default()
}

pub(super) fn mapping(value: Option<ListOrDict>) -> BTreeMap<String, String> {
    value
        .map(ListOrDict::into_mapping)
        .unwrap_or_default()
        .into_iter()
        .collect()
}

pub(super) fn scalar_map(value: Option<IndexMap<String, ScalarText>>) -> BTreeMap<String, String> {
    value
        .unwrap_or_default()
        .into_iter()
        .map(|(key, value)| (key, value.0))
        .collect()
}
