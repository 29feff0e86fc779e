//! One service as an Engine API `ServiceSpec`, following docker's `convert/service.go`,
//! in the shape a Docker Engine 20.10 stores and returns it (see [`super`]).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::mount::convert_mount;
use super::network::{DEFAULT_NETWORK, is_user_defined, network_name};
use super::object::Objects;
use super::{ConvertOptions, object_labels, scoped};
use crate::compose::{
    ComposeConfig, FileReference, HealthCheckConfig, Origin, PortConfig, ServiceConfig,
    UpdateConfig, image_with_tag,
};
use crate::source::{Diagnostic, Diagnostics, SourceFile};
use crate::swarm::{ObjectKind, STACK_IMAGE, STACK_NAMESPACE, ServiceSpec};

/// The file mode of configs and secrets when none is given: 0444.
const DEFAULT_FILE_MODE: u32 = 0o444;

pub struct ServiceConverter<'a> {
    pub files: &'a [SourceFile],
    pub config: &'a ComposeConfig,
    pub options: &'a ConvertOptions<'a>,
    pub objects: &'a Objects,
}

impl ServiceConverter<'_> {
    /// The service's spec, or `None` with the reasons in `diagnostics`.
    pub fn convert(
        &self,
        service: &ServiceConfig,
        diagnostics: &mut Diagnostics,
    ) -> Option<ServiceSpec> {
        let errors_before = diagnostics.error_count();
        let mut problems = Problems {
            files: self.files,
            diagnostics,
        };
        let stack = self.options.stack;
        let image = service
            .image
            .as_ref()
            .map_or("", |image| image.value.as_str());

        let mut service_labels = object_labels(&service.deploy.labels, self.options);
        service_labels.insert(STACK_IMAGE.to_owned(), image.to_owned());

        let mut container = Map::new();
        container.insert("Image".to_owned(), json!(image_with_tag(image)));
        let mut container_labels = service.labels.clone();
        container_labels.insert(STACK_NAMESPACE.to_owned(), stack.to_owned());
        container.insert("Labels".to_owned(), json!(container_labels));
        insert_list(&mut container, "Command", &service.entrypoint);
        insert_list(&mut container, "Args", &service.command);
        insert_string(&mut container, "Hostname", &service.hostname);
        insert_list(&mut container, "Env", &environment(&service.environment));
        insert_string(&mut container, "Dir", &service.working_dir);
        insert_string(&mut container, "User", &service.user);
        container.insert("Privileges".to_owned(), privileges(service));
        if let Some(init) = service.init {
            container.insert("Init".to_owned(), json!(init));
        }
        insert_string(&mut container, "StopSignal", &service.stop_signal);
        insert_true(&mut container, "TTY", service.tty);
        insert_true(&mut container, "OpenStdin", service.stdin_open);
        insert_true(&mut container, "ReadOnly", service.read_only);
        let mounts = self.mounts(service, &mut problems);
        if !mounts.is_empty() {
            container.insert("Mounts".to_owned(), Value::Array(mounts));
        }
        if let Some(grace) = service.stop_grace_period {
            container.insert("StopGracePeriod".to_owned(), json!(grace));
        }
        if let Some(healthcheck) = &service.healthcheck
            && let Some(healthcheck) = self.healthcheck(healthcheck, &mut problems)
        {
            container.insert("Healthcheck".to_owned(), healthcheck);
        }
        let hosts: Vec<String> = service
            .extra_hosts
            .iter()
            .filter_map(|pair| pair.split_once(':'))
            .map(|(host, ip)| format!("{ip} {host}"))
            .collect();
        insert_list(&mut container, "Hosts", &hosts);
        if service.dns.is_some() || service.dns_search.is_some() {
            let mut dns = Map::new();
            insert_list(
                &mut dns,
                "Nameservers",
                service.dns.as_deref().unwrap_or_default(),
            );
            insert_list(
                &mut dns,
                "Search",
                service.dns_search.as_deref().unwrap_or_default(),
            );
            container.insert("DNSConfig".to_owned(), Value::Object(dns));
        }
        let secrets =
            self.file_references(service, ObjectKind::Secret, &service.secrets, &mut problems);
        if !secrets.is_empty() {
            container.insert("Secrets".to_owned(), Value::Array(secrets));
        }
        let configs =
            self.file_references(service, ObjectKind::Config, &service.configs, &mut problems);
        if !configs.is_empty() {
            container.insert("Configs".to_owned(), Value::Array(configs));
        }
        container.insert("Isolation".to_owned(), json!(isolation(&service.isolation)));
        if !service.sysctls.is_empty() {
            container.insert("Sysctls".to_owned(), json!(service.sysctls));
        }
        let (cap_add, cap_drop) = effective_capabilities(&service.cap_add, &service.cap_drop);
        insert_list(&mut container, "CapabilityAdd", &cap_add);
        insert_list(&mut container, "CapabilityDrop", &cap_drop);
        if !service.ulimits.is_empty() {
            let ulimits: Vec<Value> = service
                .ulimits
                .iter()
                .map(|(name, ulimit)| {
                    let (soft, hard) = if ulimit.single != 0 {
                        (ulimit.single, ulimit.single)
                    } else {
                        (ulimit.soft, ulimit.hard)
                    };
                    json!({ "Name": name, "Soft": soft, "Hard": hard })
                })
                .collect();
            container.insert("Ulimits".to_owned(), Value::Array(ulimits));
        }
        if service.oom_score_adj != 0 {
            problems.warning(
                service.origin,
                format!(
                    "`oom_score_adj` of service `{}` is dropped by Docker Engine 20.10 (API 1.41)",
                    service.name
                ),
            );
        }

        let mut task = Map::new();
        task.insert("ContainerSpec".to_owned(), Value::Object(container));
        task.insert("Resources".to_owned(), resources(service));
        if let Some(policy) = self.restart_policy(service, &mut problems) {
            task.insert("RestartPolicy".to_owned(), policy);
        }
        task.insert("Placement".to_owned(), placement(service));
        let networks = self.networks(service, &mut problems);
        task.insert("Networks".to_owned(), Value::Array(networks));
        if let Some(logging) = &service.logging {
            let mut driver = Map::new();
            insert_string(&mut driver, "Name", &logging.driver);
            if !logging.options.is_empty() {
                driver.insert("Options".to_owned(), json!(logging.options));
            }
            task.insert("LogDriver".to_owned(), Value::Object(driver));
        }
        task.insert("ForceUpdate".to_owned(), json!(0));
        task.insert("Runtime".to_owned(), json!("container"));

        let mut spec = Map::new();
        spec.insert("Name".to_owned(), json!(scoped(stack, &service.name)));
        spec.insert("Labels".to_owned(), json!(service_labels));
        spec.insert("TaskTemplate".to_owned(), Value::Object(task));
        if let Some(mode) = mode(service, &mut problems) {
            spec.insert("Mode".to_owned(), mode);
        }
        if let Some(update) = &service.deploy.update_config {
            spec.insert("UpdateConfig".to_owned(), update_config(update));
        }
        if let Some(rollback) = &service.deploy.rollback_config {
            spec.insert("RollbackConfig".to_owned(), update_config(rollback));
        }
        spec.insert(
            "EndpointSpec".to_owned(),
            endpoint_spec(service, &mut problems),
        );

        if problems.diagnostics.error_count() > errors_before {
            return None;
        }
        Some(ServiceSpec {
            name: scoped(stack, &service.name),
            spec: Value::Object(spec),
        })
    }

    fn mounts(&self, service: &ServiceConfig, problems: &mut Problems<'_>) -> Vec<Value> {
        let mut mounts = Vec::new();
        let mut targets = BTreeSet::new();
        for volume in &service.volumes {
            if !targets.insert(volume.target.as_str()) {
                problems.error(
                    volume.origin,
                    format!("duplicate mount point `{}`", volume.target),
                );
            }
            if !volume.consistency.is_empty() {
                problems.warning(
                    volume.origin,
                    "`consistency` is dropped: Swarm mounts have no such setting",
                );
            }
            match convert_mount(volume, self.config, self.options.stack) {
                Ok(mount) => mounts.push(mount),
                Err(reason) => problems.error(volume.origin, reason),
            }
        }
        mounts
    }

    fn healthcheck(
        &self,
        healthcheck: &HealthCheckConfig,
        problems: &mut Problems<'_>,
    ) -> Option<Value> {
        let origin = healthcheck.origin;
        if healthcheck.disable {
            if !healthcheck.test.is_empty() {
                problems.error(
                    origin,
                    "`test` and `disable` cannot be set at the same time",
                );
                return None;
            }
            return Some(json!({ "Test": ["NONE"] }));
        }
        if healthcheck
            .start_interval
            .is_some_and(|interval| interval != 0)
        {
            problems.warning(
                origin,
                "`start_interval` is dropped by Docker Engine 20.10 (API 1.41)",
            );
        }
        let mut check = Map::new();
        insert_list(&mut check, "Test", &healthcheck.test);
        for (key, value) in [
            ("Interval", healthcheck.interval),
            ("Timeout", healthcheck.timeout),
            ("StartPeriod", healthcheck.start_period),
        ] {
            let value = value.unwrap_or(0);
            if value != 0 && value < 1_000_000 {
                problems.error(
                    origin,
                    format!(
                        "the healthcheck's {} must be at least 1ms",
                        key.to_lowercase()
                    ),
                );
            }
            if value != 0 {
                check.insert(key.to_owned(), json!(value));
            }
        }
        let retries = healthcheck.retries.unwrap_or(0);
        if retries != 0 {
            check.insert("Retries".to_owned(), json!(retries));
        }
        Some(Value::Object(check))
    }

    /// Config or secret references, sorted by name as docker sorts them; `ConfigID` and
    /// `SecretID` are left empty for the Docker adapter to fill in.
    fn file_references(
        &self,
        service: &ServiceConfig,
        kind: ObjectKind,
        references: &[FileReference],
        problems: &mut Problems<'_>,
    ) -> Vec<Value> {
        let (names, declared, word, field) = match kind {
            ObjectKind::Config => (
                &self.objects.config_names,
                &self.config.configs,
                "config",
                "Config",
            ),
            ObjectKind::Secret => (
                &self.objects.secret_names,
                &self.config.secrets,
                "secret",
                "Secret",
            ),
        };
        let mut targets = BTreeSet::new();
        let mut converted: Vec<((String, String), Value)> = Vec::new();
        for reference in references {
            let Some(name) = names.get(&reference.source) else {
                if !declared.contains_key(&reference.source) {
                    problems.error(
                        reference.origin,
                        format!(
                            "service `{}` uses undefined {word} `{}`",
                            service.name, reference.source
                        ),
                    );
                }
                continue;
            };
            let target = if reference.target.is_empty() {
                reference.source.clone()
            } else {
                reference.target.clone()
            };
            if !targets.insert(target.clone()) {
                problems.error(
                    reference.origin,
                    format!(
                        "duplicate {word} target `{target}` in service `{}`",
                        service.name
                    ),
                );
                continue;
            }
            let file = json!({
                "Name": target,
                "UID": if reference.uid.is_empty() { "0" } else { reference.uid.as_str() },
                "GID": if reference.gid.is_empty() { "0" } else { reference.gid.as_str() },
                "Mode": reference.mode.unwrap_or(DEFAULT_FILE_MODE),
            });
            let mut value = Map::new();
            value.insert("File".to_owned(), file);
            value.insert(format!("{field}ID"), json!(""));
            value.insert(format!("{field}Name"), json!(name));
            converted.push(((name.clone(), target), Value::Object(value)));
        }
        // Docker sorts by name only, and the order of one object under two targets
        // varies from run to run; the target settles it here.
        converted.sort_by(|a, b| a.0.cmp(&b.0));
        converted.into_iter().map(|(_, value)| value).collect()
    }

    /// `deploy.restart_policy`, or else the `restart` key (`always` and `unless-stopped`
    /// are `any`, `on-failure[:N]` is `on-failure` with N attempts, `no` is no policy).
    fn restart_policy(
        &self,
        service: &ServiceConfig,
        problems: &mut Problems<'_>,
    ) -> Option<Value> {
        if let Some(policy) = &service.deploy.restart_policy {
            let condition = if policy.condition.is_empty() {
                "any"
            } else {
                policy.condition.as_str()
            };
            let mut value = Map::new();
            value.insert("Condition".to_owned(), json!(condition));
            if let Some(delay) = policy.delay {
                value.insert("Delay".to_owned(), json!(delay));
            }
            value.insert(
                "MaxAttempts".to_owned(),
                json!(policy.max_attempts.unwrap_or(0)),
            );
            if let Some(window) = policy.window {
                value.insert("Window".to_owned(), json!(window));
            }
            return Some(Value::Object(value));
        }
        let restart = service.restart.as_ref()?;
        let (name, count) = match restart.value.split_once(':') {
            Some((name, count)) => (name, Some(count)),
            None => (restart.value.as_str(), None),
        };
        let attempts = match count.map(str::parse::<i64>) {
            None => 0,
            Some(Ok(count)) => count,
            Some(Err(_)) => {
                problems.error(
                    restart.origin,
                    format!(
                        "invalid restart policy `{}`: the maximum retry count must be an integer",
                        restart.value
                    ),
                );
                return None;
            }
        };
        match name {
            "" | "no" => None,
            "always" | "unless-stopped" => Some(json!({ "Condition": "any", "MaxAttempts": 0 })),
            "on-failure" => {
                Some(json!({ "Condition": "on-failure", "MaxAttempts": attempts as u64 }))
            }
            _ => {
                problems.error(
                    restart.origin,
                    format!("unknown restart policy `{}`", restart.value),
                );
                None
            }
        }
    }

    /// The service's networks, sorted by name; on networks other than the node-local
    /// ones, the service's name is an alias too.
    fn networks(&self, service: &ServiceConfig, problems: &mut Problems<'_>) -> Vec<Value> {
        let mut attachments: Vec<(String, Value)> = Vec::new();
        let listed: Vec<(&str, Option<&crate::compose::ServiceNetworkConfig>, Origin)> =
            if service.networks.is_empty() {
                vec![(DEFAULT_NETWORK, None, service.origin)]
            } else {
                service
                    .networks
                    .iter()
                    .map(|(key, network)| (key.as_str(), network.config.as_ref(), network.origin))
                    .collect()
            };
        for (key, settings, origin) in listed {
            let declared = self.config.networks.get(key);
            if declared.is_none() && key != DEFAULT_NETWORK {
                problems.error(
                    origin,
                    format!("service `{}` uses undefined network `{key}`", service.name),
                );
                continue;
            }
            let target = network_name(key, declared, self.options.stack);
            let mut aliases: Vec<String> = settings.map(|s| s.aliases.clone()).unwrap_or_default();
            if is_user_defined(&target) {
                aliases.push(service.name.clone());
            }
            let mut attachment = Map::new();
            attachment.insert("Target".to_owned(), json!(target));
            insert_list(&mut attachment, "Aliases", &aliases);
            if let Some(settings) = settings
                && !settings.driver_opts.is_empty()
            {
                attachment.insert("DriverOpts".to_owned(), json!(settings.driver_opts));
            }
            attachments.push((target, Value::Object(attachment)));
        }
        attachments.sort_by(|a, b| a.0.cmp(&b.0));
        attachments.into_iter().map(|(_, value)| value).collect()
    }
}

/// Where errors and warnings of a service go, located by [`Origin`].
struct Problems<'a> {
    files: &'a [SourceFile],
    diagnostics: &'a mut Diagnostics,
}

impl Problems<'_> {
    fn error(&mut self, origin: Origin, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic::error(
            &self.files[origin.file],
            origin.span,
            message,
        ));
    }

    fn warning(&mut self, origin: Origin, message: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::error(&self.files[origin.file], origin.span, message).into_warning());
    }
}

/// `NAME=value` (or `NAME` alone), sorted as docker sorts them.
fn environment(environment: &BTreeMap<String, Option<String>>) -> Vec<String> {
    let mut entries: Vec<String> = environment
        .iter()
        .map(|(name, value)| match value {
            Some(value) => format!("{name}={value}"),
            None => name.clone(),
        })
        .collect();
    entries.sort();
    entries
}

fn privileges(service: &ServiceConfig) -> Value {
    let spec = &service.credential_spec;
    let credential_spec = if spec.file.is_empty() && spec.registry.is_empty() {
        Value::Null
    } else {
        json!({ "Config": "", "File": spec.file, "Registry": spec.registry })
    };
    json!({ "CredentialSpec": credential_spec, "SELinuxContext": null })
}

/// The engine keeps `process` and `hyperv`; anything else is `default`.
fn isolation(isolation: &str) -> &'static str {
    match isolation.to_ascii_lowercase().as_str() {
        "process" => "process",
        "hyperv" => "hyperv",
        _ => "default",
    }
}

/// Docker's `EffectiveCapAddCapDrop`: names upper-cased with a `CAP_` prefix (except
/// `ALL`), duplicates removed, `ALL` absorbing the rest, an added capability never dropped.
fn effective_capabilities(add: &[String], drop: &[String]) -> (Vec<String>, Vec<String>) {
    let normalize = |capabilities: &[String]| -> BTreeSet<String> {
        let set: BTreeSet<String> = capabilities
            .iter()
            .map(|capability| {
                let capability = capability.trim().to_uppercase();
                if capability == "ALL" || capability == "RESET" || capability.starts_with("CAP_") {
                    capability
                } else {
                    format!("CAP_{capability}")
                }
            })
            .collect();
        if set.contains("ALL") {
            ["ALL".to_owned()].into()
        } else {
            set
        }
    };
    let add = normalize(add);
    let drop = normalize(drop);
    let cap_drop = drop
        .iter()
        .filter(|capability| !add.contains(*capability) && *capability != "RESET")
        .cloned()
        .collect();
    let cap_add = add
        .into_iter()
        .filter(|capability| capability != "RESET")
        .collect();
    (cap_add, cap_drop)
}

fn resources(service: &ServiceConfig) -> Value {
    let resources = &service.deploy.resources;
    let mut value = Map::new();
    if let Some(limits) = &resources.limits {
        let mut limit = Map::new();
        insert_non_zero(&mut limit, "NanoCPUs", limits.nano_cpus.unwrap_or(0));
        insert_non_zero(&mut limit, "MemoryBytes", limits.memory_bytes);
        insert_non_zero(&mut limit, "Pids", limits.pids);
        value.insert("Limits".to_owned(), Value::Object(limit));
    }
    if let Some(reservations) = &resources.reservations {
        let mut reservation = Map::new();
        insert_non_zero(
            &mut reservation,
            "NanoCPUs",
            reservations.nano_cpus.unwrap_or(0),
        );
        insert_non_zero(&mut reservation, "MemoryBytes", reservations.memory_bytes);
        if !reservations.generic_resources.is_empty() {
            let generic: Vec<Value> = reservations
                .generic_resources
                .iter()
                .map(|(kind, amount)| {
                    let mut discrete = Map::new();
                    insert_string(&mut discrete, "Kind", kind);
                    insert_non_zero(&mut discrete, "Value", *amount);
                    json!({ "DiscreteResourceSpec": discrete })
                })
                .collect();
            reservation.insert("GenericResources".to_owned(), Value::Array(generic));
        }
        value.insert("Reservations".to_owned(), Value::Object(reservation));
    }
    Value::Object(value)
}

fn placement(service: &ServiceConfig) -> Value {
    let placement = &service.deploy.placement;
    let mut value = Map::new();
    insert_list(&mut value, "Constraints", &placement.constraints);
    if !placement.preferences.is_empty() {
        let preferences: Vec<Value> = placement
            .preferences
            .iter()
            .map(|spread| json!({ "Spread": { "SpreadDescriptor": spread } }))
            .collect();
        value.insert("Preferences".to_owned(), Value::Array(preferences));
    }
    insert_non_zero(
        &mut value,
        "MaxReplicas",
        placement.max_replicas_per_node as i64,
    );
    Value::Object(value)
}

/// `replicated` (one replica by default), `global`, `replicated-job` (the engine defaults
/// both counts to one) or `global-job`; `replicas` only goes with the replicated modes.
fn mode(service: &ServiceConfig, problems: &mut Problems<'_>) -> Option<Value> {
    let deploy = &service.deploy;
    let mode = deploy
        .mode
        .as_ref()
        .map_or("replicated", |mode| mode.value.as_str());
    let replicas = deploy.replicas.as_ref().map(|replicas| replicas.value);
    if matches!(mode, "global" | "global-job")
        && let Some(replicas) = &deploy.replicas
    {
        problems.error(
            replicas.origin,
            format!("`replicas` cannot be used with mode `{mode}`"),
        );
        return None;
    }
    if matches!(mode, "replicated-job" | "global-job") {
        let origin = deploy
            .mode
            .as_ref()
            .map_or(service.origin, |mode| mode.origin);
        for (present, key) in [
            (deploy.update_config.is_some(), "update_config"),
            (deploy.rollback_config.is_some(), "rollback_config"),
        ] {
            if present {
                problems.error(origin, format!("a job (mode `{mode}`) cannot have `{key}`"));
            }
        }
        if deploy.update_config.is_some() || deploy.rollback_config.is_some() {
            return None;
        }
    }
    Some(match mode {
        "global" => json!({ "Global": {} }),
        "global-job" => json!({ "GlobalJob": {} }),
        "replicated-job" => {
            let concurrent = replicas.unwrap_or(1);
            json!({ "ReplicatedJob": { "MaxConcurrent": concurrent, "TotalCompletions": replicas.unwrap_or(concurrent) } })
        }
        _ => json!({ "Replicated": { "Replicas": replicas.unwrap_or(1) } }),
    })
}

fn update_config(update: &UpdateConfig) -> Value {
    let mut value = Map::new();
    value.insert(
        "Parallelism".to_owned(),
        json!(update.parallelism.unwrap_or(1)),
    );
    insert_non_zero(&mut value, "Delay", update.delay);
    let failure_action = if update.failure_action.is_empty() {
        "pause"
    } else {
        update.failure_action.as_str()
    };
    value.insert("FailureAction".to_owned(), json!(failure_action));
    insert_non_zero(&mut value, "Monitor", update.monitor);
    value.insert(
        "MaxFailureRatio".to_owned(),
        float32(update.max_failure_ratio),
    );
    let order = if update.order.is_empty() {
        "stop-first"
    } else {
        update.order.as_str()
    };
    value.insert("Order".to_owned(), json!(order));
    Value::Object(value)
}

/// A float32 as Go writes it in JSON: its shortest decimal form.
fn float32(value: f32) -> Value {
    let shortest: f64 = value.to_string().parse().unwrap_or(0.0);
    if shortest == shortest.trunc() && shortest.abs() < 1e15 {
        json!(shortest as i64)
    } else {
        json!(shortest)
    }
}

fn endpoint_spec(service: &ServiceConfig, problems: &mut Problems<'_>) -> Value {
    let endpoint_mode = service.deploy.endpoint_mode.as_ref();
    let mode = endpoint_mode
        .map(|mode| mode.value.as_str())
        .filter(|mode| !mode.is_empty())
        .unwrap_or("vip");
    let mut ports: Vec<&PortConfig> = service.ports.iter().collect();
    ports.sort_by_key(|port| port.published);
    let mut value = Map::new();
    value.insert("Mode".to_owned(), json!(mode));
    if mode == "dnsrr"
        && let Some(origin) = endpoint_mode.map(|mode| mode.origin)
        && ports
            .iter()
            .any(|port| port.mode.is_empty() || port.mode == "ingress")
    {
        problems.error(
            origin,
            "a port published in ingress mode cannot be used with endpoint mode `dnsrr`",
        );
    }
    let mut published = BTreeSet::new();
    for port in &ports {
        let protocol = if port.protocol.is_empty() {
            "tcp"
        } else {
            port.protocol.as_str()
        };
        if port.published != 0 && !published.insert((port.published, protocol)) {
            problems.error(
                service.origin,
                format!(
                    "service `{}` publishes port {}/{protocol} twice",
                    service.name, port.published
                ),
            );
        }
    }
    if !ports.is_empty() {
        let ports: Vec<Value> = ports
            .into_iter()
            .map(|port| {
                let mut value = Map::new();
                let protocol = if port.protocol.is_empty() {
                    "tcp"
                } else {
                    port.protocol.as_str()
                };
                value.insert("Protocol".to_owned(), json!(protocol));
                value.insert("TargetPort".to_owned(), json!(port.target));
                if port.published != 0 {
                    value.insert("PublishedPort".to_owned(), json!(port.published));
                }
                let publish_mode = if port.mode.is_empty() {
                    "ingress"
                } else {
                    port.mode.as_str()
                };
                value.insert("PublishMode".to_owned(), json!(publish_mode));
                Value::Object(value)
            })
            .collect();
        value.insert("Ports".to_owned(), Value::Array(ports));
    }
    Value::Object(value)
}

fn insert_string(map: &mut Map<String, Value>, key: &str, value: &str) {
    if !value.is_empty() {
        map.insert(key.to_owned(), json!(value));
    }
}

fn insert_list(map: &mut Map<String, Value>, key: &str, values: &[String]) {
    if !values.is_empty() {
        map.insert(key.to_owned(), json!(values));
    }
}

fn insert_true(map: &mut Map<String, Value>, key: &str, value: bool) {
    if value {
        map.insert(key.to_owned(), json!(true));
    }
}

fn insert_non_zero(map: &mut Map<String, Value>, key: &str, value: i64) {
    if value != 0 {
        map.insert(key.to_owned(), json!(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_follow_docker() {
        let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (add, drop) = effective_capabilities(
            &strings(&["net_admin", "CAP_SYS_ADMIN", "NET_ADMIN"]),
            &strings(&["sys_admin", "MKNOD"]),
        );
        assert_eq!(add, ["CAP_NET_ADMIN", "CAP_SYS_ADMIN"]);
        assert_eq!(drop, ["CAP_MKNOD"]);
        let (add, drop) = effective_capabilities(&strings(&["all", "chown"]), &strings(&["ALL"]));
        assert_eq!(add, ["ALL"]);
        assert!(drop.is_empty());
    }

    #[test]
    fn float32_is_written_shortest() {
        assert_eq!(float32(0.1), json!(0.1));
        assert_eq!(float32(0.0), json!(0));
        assert_eq!(float32(0.25), json!(0.25));
    }
}
