//! Turns one service as written into a [`ServiceConfig`], as docker's `LoadService` does:
//! short syntaxes are expanded, `env_file`s are read and merged under `environment`,
//! commands are split into words, and values the Swarm API would refuse are reported here,
//! where their position is known.

use std::collections::BTreeMap;

use super::compose_config::{
    CredentialSpec, DeployConfig, FileReference, HealthCheckConfig, Located, LoggingConfig,
    Placement, PortConfig, ResourceLimits, ResourceReservations, Resources, RestartPolicy,
    ServiceConfig, ServiceNetwork, ServiceNetworkConfig, ServiceVolumeConfig, Ulimit, UpdateConfig,
};
use super::compose_file::{
    DeployInput, FileReferenceItem, HealthCheckInput, PortInput, PortItem, ResourcesInput,
    ServiceInput, ServiceNetworksInput, ServiceVolumeInput, UpdateConfigInput, VolumeItem,
};
use super::env_file::parse_env_file;
use super::loader::{FileContext, mapping, scalar_map, text};
use super::port_spec::parse_port_spec;
use super::shell_words::split_words;
use super::units::{parse_nano_cpus, parse_ram_bytes};
use super::values::{
    Command, Count, ListOrDict, ShortOrLong, StringOrList, Strings, Text, UlimitInput,
};
use super::volume_spec::parse_volume_spec;
use crate::source::{Diagnostics, Span};
use crate::yaml::Spanned;

const PROPAGATIONS: &[&str] = &[
    "rprivate", "private", "rshared", "shared", "rslave", "slave",
];

pub(super) fn load_service(
    context: &FileContext<'_>,
    name: Spanned<String>,
    input: ServiceInput,
    diagnostics: &mut Diagnostics,
) -> ServiceConfig {
    let service = ServiceLoader {
        context,
        diagnostics,
    };
    service.load(name, input)
}

struct ServiceLoader<'a, 'b> {
    context: &'a FileContext<'b>,
    diagnostics: &'a mut Diagnostics,
}

impl ServiceLoader<'_, '_> {
    fn load(mut self, name: Spanned<String>, input: ServiceInput) -> ServiceConfig {
        for list in [
            &input.cap_add,
            &input.cap_drop,
            &input.depends_on,
            &input.devices,
            &input.external_links,
            &input.links,
            &input.security_opt,
        ]
        .into_iter()
        .flatten()
        {
            self.check_unique(&list.0);
        }
        for list_or_dict in [
            &input.environment,
            &input.labels,
            &input.sysctls,
            &input.extra_hosts,
        ]
        .into_iter()
        .flatten()
        {
            self.check_unique(list_or_dict.list_items());
        }
        if let Some(ports) = &input.ports {
            let short: Vec<Spanned<String>> = ports
                .iter()
                .filter_map(|port| match &port.value {
                    ShortOrLong::Short(text) => Some(Spanned::new(port.span, text.0.clone())),
                    ShortOrLong::Long(_) => None,
                })
                .collect();
            self.check_unique(&short);
        }
        let environment = self.environment(input.env_file, input.environment);
        let healthcheck = input
            .healthcheck
            .map(|healthcheck| self.healthcheck(healthcheck));
        let ports = input
            .ports
            .unwrap_or_default()
            .into_iter()
            .flat_map(|port| self.ports(port))
            .collect();
        let networks = self.networks(input.networks);
        let volumes = input
            .volumes
            .unwrap_or_default()
            .into_iter()
            .filter_map(|volume| self.volume(volume))
            .collect();
        let configs = self.file_references(input.configs);
        let secrets = self.file_references(input.secrets);
        let deploy = input
            .deploy
            .map(|deploy| self.deploy(deploy))
            .unwrap_or_default();
        let restart = input.restart.map(|restart| Located {
            value: restart.value.0,
            origin: self.context.origin(restart.span),
        });
        let credential_spec = input
            .credential_spec
            .map(|spec| {
                if let Some(config) = &spec.config {
                    self.diagnostics.push(
                        self.context
                            .error(config.span, "`credential_spec.config` is not supported by shoal")
                            .with_help("credential specs are for Windows containers; use `file` or `registry`"),
                    );
                }
                let spec = CredentialSpec {
                    file: text(spec.file),
                    registry: text(spec.registry),
                };
                if !spec.file.is_empty() && !spec.registry.is_empty() {
                    self.diagnostics.push(self.context.error(
                        name.span,
                        "invalid credential spec: cannot specify both `file` and `registry`",
                    ));
                }
                spec
            })
            .unwrap_or_default();
        let entrypoint = self.command(input.entrypoint);
        let command = self.command(input.command);
        ServiceConfig {
            origin: self.context.origin(name.span),
            name: name.value,
            image: input.image.map(|image| Located {
                value: image.value.0,
                origin: self.context.origin(image.span),
            }),
            entrypoint,
            command,
            environment,
            labels: mapping(input.labels),
            deploy,
            healthcheck,
            ports,
            networks,
            volumes,
            configs,
            secrets,
            cap_add: strings(input.cap_add),
            cap_drop: strings(input.cap_drop),
            dns: input.dns.map(|dns| dns.value.into_strings()),
            dns_search: input.dns_search.map(|search| search.value.into_strings()),
            extra_hosts: input.extra_hosts.map(extra_hosts).unwrap_or_default(),
            hostname: text(input.hostname),
            user: text(input.user),
            working_dir: text(input.working_dir),
            stop_signal: text(input.stop_signal),
            isolation: text(input.isolation),
            init: input.init,
            tty: input.tty.unwrap_or(false),
            stdin_open: input.stdin_open.unwrap_or(false),
            read_only: input.read_only.unwrap_or(false),
            stop_grace_period: input.stop_grace_period.map(|duration| duration.0),
            sysctls: mapping(input.sysctls),
            ulimits: input
                .ulimits
                .unwrap_or_default()
                .into_iter()
                .map(|(name, ulimit)| {
                    let ulimit = match ulimit {
                        UlimitInput::Single(value) => Ulimit {
                            single: value,
                            soft: 0,
                            hard: 0,
                        },
                        UlimitInput::Pair { soft, hard } => Ulimit {
                            single: 0,
                            soft,
                            hard,
                        },
                    };
                    (name, ulimit)
                })
                .collect(),
            logging: input.logging.map(|logging| LoggingConfig {
                driver: text(logging.driver),
                options: logging
                    .options
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(key, value)| (key, value.0.unwrap_or_default()))
                    .collect(),
            }),
            restart,
            credential_spec,
            oom_score_adj: input.oom_score_adj.map_or(0, |value| value.0),
        }
    }

    /// The uniqueness the schema asks of most lists.
    fn check_unique(&mut self, items: &[Spanned<String>]) {
        for (index, item) in items.iter().enumerate() {
            if items[..index]
                .iter()
                .any(|earlier| earlier.value == item.value)
            {
                self.diagnostics.push(
                    self.context
                        .error(item.span, format!("`{}` is listed twice", item.value)),
                );
            }
        }
    }

    fn command(&mut self, command: Option<Spanned<Command>>) -> Vec<String> {
        match command.map(|command| (command.span, command.value)) {
            None => Vec::new(),
            Some((_, Command::Words(words))) => words,
            Some((span, Command::Shell(text))) => match split_words(&text) {
                Ok(words) => words,
                Err(reason) => {
                    self.diagnostics.push(self.context.error(span, reason));
                    Vec::new()
                }
            },
        }
    }

    /// Docker's `resolveEnvironment`: the `env_file`s in order, then `environment`; an
    /// entry without a value, or with an empty one, takes the variable's value when set.
    fn environment(
        &mut self,
        env_files: Option<Spanned<StringOrList>>,
        environment: Option<ListOrDict>,
    ) -> BTreeMap<String, Option<String>> {
        let mut resolved = BTreeMap::new();
        if let Some(env_files) = env_files {
            let span = env_files.span;
            let paths: Vec<(String, Span)> = match env_files.value {
                StringOrList::One(path) => vec![(path, span)],
                StringOrList::Many(paths) => {
                    self.check_unique(&paths);
                    paths
                        .into_iter()
                        .map(|path| (path.value, path.span))
                        .collect()
                }
            };
            let mut from_files = BTreeMap::new();
            for (path, span) in paths {
                let content = match self.context.read_relative(&path) {
                    Ok((_, content)) => content,
                    Err(reason) => {
                        self.diagnostics.push(
                            self.context
                                .error(span, format!("cannot read env file: {reason}")),
                        );
                        continue;
                    }
                };
                let lookup = |name: &str| self.context.lookup(name);
                match parse_env_file(&content, &lookup) {
                    Ok(entries) => {
                        for (name, value) in entries {
                            from_files.insert(name, Some(value));
                        }
                    }
                    Err(reason) => self.diagnostics.push(
                        self.context
                            .error(span, format!("invalid env file `{path}`: {reason}")),
                    ),
                }
            }
            self.update_environment(&mut resolved, from_files);
        }
        let entries: BTreeMap<String, Option<String>> = environment
            .map(|environment| environment.into_entries('='))
            .unwrap_or_default()
            .into_iter()
            .collect();
        self.update_environment(&mut resolved, entries);
        resolved
    }

    fn update_environment(
        &self,
        environment: &mut BTreeMap<String, Option<String>>,
        entries: BTreeMap<String, Option<String>>,
    ) {
        for (name, value) in entries {
            let missing = value.as_deref().is_none_or(str::is_empty);
            let value = match self.context.lookup(&name) {
                Some(variable) if missing => Some(variable),
                _ => value,
            };
            environment.insert(name, value);
        }
    }

    fn healthcheck(&mut self, input: Spanned<HealthCheckInput>) -> HealthCheckConfig {
        let span = input.span;
        let input = input.value;
        let test = match input.test {
            None => Vec::new(),
            Some(Command::Shell(command)) => vec!["CMD-SHELL".to_owned(), command],
            Some(Command::Words(words)) => words,
        };
        let retries = input.retries.and_then(|retries| {
            if retries.0 < 0.0 {
                self.diagnostics
                    .push(self.context.error(span, "`retries` must not be negative"));
                None
            } else {
                Some(retries.0 as u64)
            }
        });
        HealthCheckConfig {
            origin: self.context.origin(span),
            test,
            timeout: input.timeout.map(|d| d.0),
            interval: input.interval.map(|d| d.0),
            start_period: input.start_period.map(|d| d.0),
            start_interval: input.start_interval.map(|d| d.0),
            retries,
            disable: input.disable.unwrap_or(false),
        }
    }

    fn ports(&mut self, port: Spanned<PortItem>) -> Vec<PortConfig> {
        match port.value {
            ShortOrLong::Short(text) => match parse_port_spec(&text.0) {
                Ok(ports) => ports,
                Err(reason) => {
                    self.diagnostics.push(
                        self.context
                            .error(port.span, format!("invalid port `{}`: {reason}", text.0)),
                    );
                    Vec::new()
                }
            },
            ShortOrLong::Long(long) => self.long_port(port.span, long).into_iter().collect(),
        }
    }

    fn long_port(&mut self, span: Span, input: PortInput) -> Option<PortConfig> {
        let mode = self.one_of(input.mode, &["ingress", "host"], "port mode")?;
        let protocol = self.one_of(input.protocol, &["tcp", "udp", "sctp"], "protocol")?;
        let mut port_number = |value: Option<Spanned<Count>>, key: &str| -> Option<u32> {
            let value = value?;
            if value.value.0 > 65535 {
                self.diagnostics.push(self.context.error(
                    value.span,
                    format!("`{key}` must be a port number up to 65535"),
                ));
                return None;
            }
            u32::try_from(value.value.0).ok()
        };
        let published = port_number(input.published, "published").unwrap_or(0);
        let Some(target) = port_number(input.target, "target") else {
            self.diagnostics
                .push(self.context.error(span, "a port needs a `target`"));
            return None;
        };
        Some(PortConfig {
            mode,
            target,
            published,
            protocol,
        })
    }

    /// A lower-cased value from a closed list (empty when absent); other values are
    /// errors here, where docker would let the Swarm API refuse them or silently take
    /// the first choice.
    fn one_of(
        &mut self,
        value: Option<Spanned<Text>>,
        allowed: &[&str],
        what: &str,
    ) -> Option<String> {
        let Some(value) = value else {
            return Some(String::new());
        };
        let lower = value.value.0.to_ascii_lowercase();
        if allowed.contains(&lower.as_str()) {
            return Some(lower);
        }
        let choices: Vec<String> = allowed.iter().map(|choice| format!("`{choice}`")).collect();
        let choices = match choices.split_last() {
            Some((last, others)) if !others.is_empty() => {
                format!("{} or {last}", others.join(", "))
            }
            Some((last, _)) => last.clone(),
            None => String::new(),
        };
        self.diagnostics.push(
            self.context
                .error(value.span, format!("unknown {what} `{}`", value.value.0))
                .with_help(format!("use {choices}")),
        );
        None
    }

    fn networks(
        &mut self,
        input: Option<ServiceNetworksInput>,
    ) -> BTreeMap<String, ServiceNetwork> {
        let mut networks = BTreeMap::new();
        match input {
            None => {}
            Some(ServiceNetworksInput::List(names)) => {
                self.check_unique(&names);
                for name in names {
                    networks.insert(
                        name.value,
                        ServiceNetwork {
                            origin: self.context.origin(name.span),
                            config: None,
                        },
                    );
                }
            }
            Some(ServiceNetworksInput::Map(entries)) => {
                for (name, settings) in entries {
                    let config = settings.map(|settings| {
                        for address in [&settings.ipv4_address, &settings.ipv6_address]
                            .into_iter()
                            .flatten()
                        {
                            self.diagnostics.push(self.context.warning(
                                address.span,
                                "static addresses are ignored by docker stack deploy",
                            ));
                        }
                        if let Some(aliases) = &settings.aliases {
                            self.check_unique(&aliases.0);
                        }
                        ServiceNetworkConfig {
                            aliases: strings(settings.aliases),
                            driver_opts: scalar_map(settings.driver_opts),
                        }
                    });
                    networks.insert(
                        name.value,
                        ServiceNetwork {
                            origin: self.context.origin(name.span),
                            config,
                        },
                    );
                }
            }
        }
        networks
    }

    fn volume(&mut self, item: Spanned<VolumeItem>) -> Option<ServiceVolumeConfig> {
        let origin = self.context.origin(item.span);
        let volume = match item.value {
            ShortOrLong::Short(text) => match parse_volume_spec(&text, origin) {
                Ok(volume) => volume,
                Err(reason) => {
                    self.diagnostics.push(self.context.error(item.span, reason));
                    return None;
                }
            },
            ShortOrLong::Long(long) => self.long_volume(item.span, long)?,
        };
        if volume.kind == "bind" {
            if volume.source.is_empty() {
                self.diagnostics.push(
                    self.context
                        .error(item.span, "a bind mount needs a `source`"),
                );
                return None;
            }
            if !volume.source.starts_with('/') {
                self.diagnostics.push(
                    self.context
                        .error(
                            item.span,
                            format!("bind mount source `{}` is not an absolute path", volume.source),
                        )
                        .with_help("docker would resolve it on the machine running the deploy; shoal deploys from a checkout whose paths mean nothing on the swarm's nodes, so name the path on the nodes"),
                );
                return None;
            }
        }
        Some(volume)
    }

    fn long_volume(
        &mut self,
        span: Span,
        input: ServiceVolumeInput,
    ) -> Option<ServiceVolumeConfig> {
        let kind = input.kind.value.0.clone();
        match kind.as_str() {
            "volume" | "bind" | "tmpfs" | "npipe" => {}
            "cluster" | "image" => {
                self.diagnostics.push(self.context.error(
                    input.kind.span,
                    format!("`{kind}` mounts are not supported by shoal"),
                ));
                return None;
            }
            _ => {
                self.diagnostics.push(
                    self.context
                        .error(input.kind.span, format!("unknown volume type `{kind}`"))
                        .with_help("use `volume`, `bind`, `tmpfs` or `npipe`"),
                );
                return None;
            }
        }
        let bind_propagation = match input.bind {
            None => None,
            Some(bind) => match bind.propagation {
                None => Some(String::new()),
                Some(propagation)
                    if PROPAGATIONS
                        .contains(&propagation.value.0.to_ascii_lowercase().as_str()) =>
                {
                    Some(propagation.value.0.to_ascii_lowercase())
                }
                Some(propagation) => {
                    self.diagnostics.push(
                        self.context
                            .error(
                                propagation.span,
                                format!("unknown propagation `{}`", propagation.value.0),
                            )
                            .with_help(format!("use one of {}", PROPAGATIONS.join(", "))),
                    );
                    return None;
                }
            },
        };
        Some(ServiceVolumeConfig {
            origin: self.context.origin(span),
            kind,
            source: text(input.source),
            target: text(input.target),
            read_only: input.read_only.unwrap_or(false),
            consistency: text(input.consistency),
            bind_propagation,
            volume_nocopy: input.volume.map(|volume| volume.nocopy.unwrap_or(false)),
            tmpfs_size: input.tmpfs.map(|tmpfs| {
                tmpfs
                    .size
                    .map_or(0, |size| i64::try_from(size.0).unwrap_or(i64::MAX))
            }),
        })
    }

    fn file_references(
        &mut self,
        items: Option<Vec<Spanned<FileReferenceItem>>>,
    ) -> Vec<FileReference> {
        let mut references = Vec::new();
        for item in items.unwrap_or_default() {
            let origin = self.context.origin(item.span);
            match item.value {
                ShortOrLong::Short(source) => references.push(FileReference {
                    origin,
                    source,
                    target: String::new(),
                    uid: String::new(),
                    gid: String::new(),
                    mode: None,
                }),
                ShortOrLong::Long(long) => {
                    let Some(source) = long.source else {
                        self.diagnostics
                            .push(self.context.error(item.span, "missing key `source`"));
                        continue;
                    };
                    let mode = match long.mode {
                        None => None,
                        Some(mode) if mode.0 >= 0.0 && mode.0 <= f64::from(u32::MAX) => {
                            Some(mode.0 as u32)
                        }
                        Some(_) => {
                            self.diagnostics
                                .push(self.context.error(item.span, "invalid file `mode`"));
                            continue;
                        }
                    };
                    references.push(FileReference {
                        origin,
                        source: source.0,
                        target: text(long.target),
                        uid: text(long.uid),
                        gid: text(long.gid),
                        mode,
                    });
                }
            }
        }
        references
    }

    fn deploy(&mut self, input: DeployInput) -> DeployConfig {
        let mode = input.mode.and_then(|mode| {
            const MODES: &[&str] = &["replicated", "global", "replicated-job", "global-job"];
            if MODES.contains(&mode.value.0.as_str()) {
                Some(Located {
                    value: mode.value.0,
                    origin: self.context.origin(mode.span),
                })
            } else {
                self.diagnostics.push(
                    self.context
                        .error(mode.span, format!("unknown mode `{}`", mode.value.0))
                        .with_help("use `replicated`, `global`, `replicated-job` or `global-job`"),
                );
                None
            }
        });
        let endpoint_mode = input.endpoint_mode.and_then(|endpoint_mode| {
            let span = endpoint_mode.span;
            self.one_of(Some(endpoint_mode), &["vip", "dnsrr"], "endpoint mode")
                .map(|value| Located {
                    value,
                    origin: self.context.origin(span),
                })
        });
        let restart_policy = input.restart_policy.map(|policy| {
            let condition = self
                .one_of(
                    policy.condition,
                    &["none", "on-failure", "any"],
                    "restart condition",
                )
                .unwrap_or_default();
            RestartPolicy {
                condition,
                delay: policy.delay.map(|d| d.0),
                max_attempts: policy.max_attempts.map(|count| count.0),
                window: policy.window.map(|d| d.0),
            }
        });
        let placement = input
            .placement
            .map(|placement| {
                let constraints: Vec<String> = placement
                    .constraints
                    .unwrap_or_default()
                    .into_iter()
                    .map(|constraint| {
                        self.check_constraint(&constraint);
                        constraint.value.0
                    })
                    .collect();
                Placement {
                    constraints,
                    preferences: placement
                        .preferences
                        .unwrap_or_default()
                        .into_iter()
                        .map(|preference| text(preference.spread))
                        .collect(),
                    max_replicas_per_node: placement
                        .max_replicas_per_node
                        .map_or(0, |count| count.0),
                }
            })
            .unwrap_or_default();
        DeployConfig {
            mode,
            replicas: input.replicas.map(|replicas| Located {
                value: replicas.value.0,
                origin: self.context.origin(replicas.span),
            }),
            labels: mapping(input.labels),
            update_config: input.update_config.map(|update| self.update_config(update)),
            rollback_config: input
                .rollback_config
                .map(|rollback| self.update_config(rollback)),
            resources: input
                .resources
                .map(|resources| self.resources(resources))
                .unwrap_or_default(),
            restart_policy,
            placement,
            endpoint_mode,
        }
    }

    fn update_config(&mut self, input: UpdateConfigInput) -> UpdateConfig {
        UpdateConfig {
            parallelism: input.parallelism.map(|count| count.0),
            delay: input.delay.map_or(0, |d| d.0),
            failure_action: self
                .one_of(
                    input.failure_action,
                    &["pause", "continue", "rollback"],
                    "failure action",
                )
                .unwrap_or_default(),
            monitor: input.monitor.map_or(0, |d| d.0),
            max_failure_ratio: input.max_failure_ratio.map_or(0.0, |ratio| ratio.0 as f32),
            order: match input.order {
                // The schema allows exactly these two spellings.
                Some(order) if matches!(order.value.0.as_str(), "start-first" | "stop-first") => {
                    order.value.0
                }
                Some(order) => {
                    self.diagnostics.push(
                        self.context
                            .error(order.span, format!("unknown order `{}`", order.value.0))
                            .with_help("use `start-first` or `stop-first`"),
                    );
                    String::new()
                }
                None => String::new(),
            },
        }
    }

    fn resources(&mut self, input: ResourcesInput) -> Resources {
        let mut cpus = |value: Option<Spanned<Text>>| -> Option<i64> {
            let value = value?;
            match parse_nano_cpus(&value.value.0) {
                Ok(nano) => Some(nano),
                Err(reason) => {
                    self.diagnostics
                        .push(self.context.error(value.span, reason));
                    None
                }
            }
        };
        let limits_cpus = input
            .limits
            .as_ref()
            .map(|limits| cpus(limits.cpus.clone()));
        let reservations_cpus = input
            .reservations
            .as_ref()
            .map(|reservations| cpus(reservations.cpus.clone()));
        let mut memory = |value: Option<Spanned<Text>>| -> i64 {
            let Some(value) = value else {
                return 0;
            };
            match parse_ram_bytes(&value.value.0) {
                Ok(bytes) => bytes,
                Err(reason) => {
                    self.diagnostics
                        .push(self.context.error(value.span, reason));
                    0
                }
            }
        };
        let limits = input.limits.map(|limits| ResourceLimits {
            nano_cpus: limits_cpus.flatten(),
            memory_bytes: memory(limits.memory),
            pids: limits.pids.map_or(0, |pids| pids.0),
        });
        let reservations = input.reservations.map(|reservations| ResourceReservations {
            nano_cpus: reservations_cpus.flatten(),
            memory_bytes: memory(reservations.memory),
            generic_resources: reservations
                .generic_resources
                .unwrap_or_default()
                .into_iter()
                .map(|resource| {
                    let spec = resource.discrete_resource_spec.unwrap_or_default();
                    (
                        text(spec.kind),
                        spec.value.map_or(0, |value| value.0 as i64),
                    )
                })
                .collect(),
        });
        Resources {
            limits,
            reservations,
        }
    }

    /// Swarm's constraint syntax: `key == value` or `key != value`.
    fn check_constraint(&mut self, constraint: &Spanned<Text>) {
        let text = &constraint.value.0;
        let valid = ["==", "!="].iter().any(|operator| {
            text.split_once(operator).is_some_and(|(key, value)| {
                !key.trim().is_empty()
                    && !value.trim().is_empty()
                    && !value.contains("==")
                    && !value.contains("!=")
            })
        });
        if !valid {
            self.diagnostics.push(
                self.context
                    .error(
                        constraint.span,
                        format!("invalid placement constraint `{text}`"),
                    )
                    .with_help(
                        "write `key == value` or `key != value`, e.g. `node.role == manager`",
                    ),
            );
        }
    }
}

fn strings(value: Option<Strings>) -> Vec<String> {
    value
        .map(|strings| strings.0.into_iter().map(|item| item.value).collect())
        .unwrap_or_default()
}

/// Docker's `transformHostsList`: `host:ip`, `host=ip` or a map; entries without a
/// separator are dropped, a map is sorted, brackets around an IPv6 address are removed.
fn extra_hosts(value: ListOrDict) -> Vec<String> {
    let pairs: Vec<(String, String)> = match value {
        ListOrDict::Dict(entries) => {
            let mut pairs: Vec<(String, String)> = entries
                .into_iter()
                .filter_map(|(host, ip)| Some((host.value, ip?)))
                .collect();
            pairs.sort_by(|a, b| format!("{}:{}", a.0, a.1).cmp(&format!("{}:{}", b.0, b.1)));
            pairs
        }
        ListOrDict::List(items) => items
            .into_iter()
            .filter_map(|item| {
                let (host, ip) = item
                    .value
                    .split_once('=')
                    .or_else(|| item.value.split_once(':'))?;
                Some((host.to_owned(), ip.to_owned()))
            })
            .collect(),
    };
    pairs
        .into_iter()
        .map(|(host, ip)| {
            let ip = if ip.len() > 2 && ip.starts_with('[') && ip.ends_with(']') {
                ip[1..ip.len() - 1].to_owned()
            } else {
                ip
            };
            format!("{host}:{ip}")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_hosts_follow_docker() {
        let list = ListOrDict::List(
            ["a:1.2.3.4", "b=::1", "c:[::2]", "nosep"]
                .iter()
                .map(|s| Spanned::new(Span::default(), s.to_string()))
                .collect(),
        );
        assert_eq!(extra_hosts(list), vec!["a:1.2.3.4", "b:::1", "c:::2"]);
        let dict = ListOrDict::Dict(vec![
            (
                Spanned::new(Span::default(), "z".to_owned()),
                Some("10.0.0.2".to_owned()),
            ),
            (
                Spanned::new(Span::default(), "a".to_owned()),
                Some("10.0.0.1".to_owned()),
            ),
            (Spanned::new(Span::default(), "n".to_owned()), None),
        ]);
        assert_eq!(extra_hosts(dict), vec!["a:10.0.0.1", "z:10.0.0.2"]);
    }
}
