//! Merges the compose files of one stack, later files over earlier ones, with the rules of
//! docker's `merge.go` (the `mergo` library with "override" and "append slice"):
//! a value set in the later file wins (an empty string, a zero or `false` is "not set"),
//! lists are appended, maps are merged key by key, and ports, volumes, configs and
//! secrets are merged by published port, target and source and then sorted by them.
//! Top-level networks, volumes, configs and secrets are replaced whole.

use std::collections::BTreeMap;

use super::compose_config::{
    ComposeConfig, DeployConfig, FileReference, HealthCheckConfig, Located, LoggingConfig,
    PortConfig, ResourceLimits, ResourceReservations, ServiceConfig, ServiceNetwork,
    ServiceVolumeConfig, UpdateConfig,
};

/// Merges `configs` in order; the services of the result are sorted by name.
pub fn merge_configs(configs: Vec<ComposeConfig>) -> ComposeConfig {
    let mut configs = configs.into_iter();
    let mut merged = configs.next().unwrap_or_default();
    for later in configs {
        for service in later.services {
            match merged.services.iter_mut().find(|s| s.name == service.name) {
                Some(base) => merge_service(base, service),
                None => merged.services.push(service),
            }
        }
        merged.networks.extend(later.networks);
        merged.volumes.extend(later.volumes);
        merged.secrets.extend(later.secrets);
        merged.configs.extend(later.configs);
    }
    merged.services.sort_by(|a, b| a.name.cmp(&b.name));
    merged
}

fn merge_service(base: &mut ServiceConfig, later: ServiceConfig) {
    if later
        .image
        .as_ref()
        .is_some_and(|image| !image.value.is_empty())
    {
        base.image = later.image;
    }
    if !later.entrypoint.is_empty() {
        base.entrypoint = later.entrypoint;
    }
    if !later.command.is_empty() {
        base.command = later.command;
    }
    for (name, value) in later.environment {
        let keep = base
            .environment
            .get(&name)
            .is_some_and(|current| current.as_deref().is_some_and(|c| !c.is_empty()))
            && value.as_deref().is_none_or(str::is_empty);
        if !keep {
            base.environment.insert(name, value);
        }
    }
    base.labels.extend(later.labels);
    merge_deploy(&mut base.deploy, later.deploy);
    base.healthcheck = match (base.healthcheck.take(), later.healthcheck) {
        (Some(mut current), Some(later)) => {
            merge_healthcheck(&mut current, later);
            Some(current)
        }
        (current, later) => current.or(later),
    };
    base.ports = merge_keyed(
        std::mem::take(&mut base.ports),
        later.ports,
        |port: &PortConfig| port.published,
    );
    for (name, network) in later.networks {
        merge_network(&mut base.networks, name, network);
    }
    base.volumes = merge_keyed(
        std::mem::take(&mut base.volumes),
        later.volumes,
        |volume: &ServiceVolumeConfig| volume.target.clone(),
    );
    base.configs = merge_keyed(
        std::mem::take(&mut base.configs),
        later.configs,
        |reference: &FileReference| reference.source.clone(),
    );
    base.secrets = merge_keyed(
        std::mem::take(&mut base.secrets),
        later.secrets,
        |reference: &FileReference| reference.source.clone(),
    );
    base.cap_add.extend(later.cap_add);
    base.cap_drop.extend(later.cap_drop);
    append_option(&mut base.dns, later.dns);
    append_option(&mut base.dns_search, later.dns_search);
    base.extra_hosts.extend(later.extra_hosts);
    for (field, value) in [
        (&mut base.hostname, later.hostname),
        (&mut base.user, later.user),
        (&mut base.working_dir, later.working_dir),
        (&mut base.stop_signal, later.stop_signal),
        (&mut base.isolation, later.isolation),
        (&mut base.credential_spec.file, later.credential_spec.file),
        (
            &mut base.credential_spec.registry,
            later.credential_spec.registry,
        ),
    ] {
        override_string(field, value);
    }
    base.init = match (base.init, later.init) {
        (None, later) => later,
        (Some(_), Some(true)) => Some(true),
        (current, _) => current,
    };
    base.tty |= later.tty;
    base.stdin_open |= later.stdin_open;
    base.read_only |= later.read_only;
    override_duration(&mut base.stop_grace_period, later.stop_grace_period);
    base.sysctls.extend(later.sysctls);
    base.ulimits.extend(later.ulimits);
    base.logging = match (base.logging.take(), later.logging) {
        (Some(current), Some(later)) => Some(merge_logging(current, later)),
        (current, later) => current.or(later),
    };
    if later
        .restart
        .as_ref()
        .is_some_and(|restart| !restart.value.is_empty())
    {
        base.restart = later.restart;
    }
    if later.oom_score_adj != 0 {
        base.oom_score_adj = later.oom_score_adj;
    }
}

fn merge_deploy(base: &mut DeployConfig, later: DeployConfig) {
    override_located(&mut base.mode, later.mode);
    if later.replicas.is_some() {
        base.replicas = later.replicas;
    }
    base.labels.extend(later.labels);
    merge_update_config(&mut base.update_config, later.update_config);
    merge_update_config(&mut base.rollback_config, later.rollback_config);
    base.resources.limits = match (base.resources.limits.take(), later.resources.limits) {
        (Some(current), Some(later)) => Some(ResourceLimits {
            nano_cpus: later.nano_cpus.or(current.nano_cpus),
            memory_bytes: non_zero_or(later.memory_bytes, current.memory_bytes),
            pids: non_zero_or(later.pids, current.pids),
        }),
        (current, later) => current.or(later),
    };
    base.resources.reservations = match (
        base.resources.reservations.take(),
        later.resources.reservations,
    ) {
        (Some(mut current), Some(later)) => {
            current.generic_resources.extend(later.generic_resources);
            Some(ResourceReservations {
                nano_cpus: later.nano_cpus.or(current.nano_cpus),
                memory_bytes: non_zero_or(later.memory_bytes, current.memory_bytes),
                generic_resources: current.generic_resources,
            })
        }
        (current, later) => current.or(later),
    };
    base.restart_policy = match (base.restart_policy.take(), later.restart_policy) {
        (Some(mut current), Some(later)) => {
            override_string(&mut current.condition, later.condition);
            override_duration(&mut current.delay, later.delay);
            if later.max_attempts.is_some() {
                current.max_attempts = later.max_attempts;
            }
            override_duration(&mut current.window, later.window);
            Some(current)
        }
        (current, later) => current.or(later),
    };
    base.placement
        .constraints
        .extend(later.placement.constraints);
    base.placement
        .preferences
        .extend(later.placement.preferences);
    base.placement.max_replicas_per_node = non_zero_or(
        later.placement.max_replicas_per_node,
        base.placement.max_replicas_per_node,
    );
    override_located(&mut base.endpoint_mode, later.endpoint_mode);
}

fn merge_update_config(base: &mut Option<UpdateConfig>, later: Option<UpdateConfig>) {
    *base = match (base.take(), later) {
        (Some(mut current), Some(later)) => {
            if later.parallelism.is_some() {
                current.parallelism = later.parallelism;
            }
            current.delay = non_zero_or(later.delay, current.delay);
            override_string(&mut current.failure_action, later.failure_action);
            current.monitor = non_zero_or(later.monitor, current.monitor);
            if later.max_failure_ratio != 0.0 {
                current.max_failure_ratio = later.max_failure_ratio;
            }
            override_string(&mut current.order, later.order);
            Some(current)
        }
        (current, later) => current.or(later),
    };
}

/// Docker appends the two `test` lists, as it does every list without a special rule.
fn merge_healthcheck(base: &mut HealthCheckConfig, later: HealthCheckConfig) {
    base.test.extend(later.test);
    override_duration(&mut base.timeout, later.timeout);
    override_duration(&mut base.interval, later.interval);
    override_duration(&mut base.start_period, later.start_period);
    override_duration(&mut base.start_interval, later.start_interval);
    if later.retries.is_some() {
        base.retries = later.retries;
    }
    base.disable |= later.disable;
}

/// The same driver (or one of them empty): options merged; another driver: replaced.
fn merge_logging(mut base: LoggingConfig, later: LoggingConfig) -> LoggingConfig {
    if base.driver == later.driver || base.driver.is_empty() || later.driver.is_empty() {
        if base.driver.is_empty() {
            base.driver = later.driver;
        }
        base.options.extend(later.options);
        base
    } else {
        later
    }
}

/// A network listed in both files keeps the earlier settings, except the aliases (taken
/// from the later file whenever it has settings at all).
fn merge_network(
    networks: &mut BTreeMap<String, ServiceNetwork>,
    name: String,
    later: ServiceNetwork,
) {
    match networks.get_mut(&name) {
        Some(current) => match (&mut current.config, later.config) {
            (Some(config), Some(later_config)) => config.aliases = later_config.aliases,
            (None, later_config) => current.config = later_config,
            (Some(_), None) => {}
        },
        None => {
            networks.insert(name, later);
        }
    }
}

/// Merges two lists by a key, the later entry winning, sorted by the key. A first list
/// that is empty takes the second one as is, unsorted, as docker does.
fn merge_keyed<T, K: Ord>(base: Vec<T>, later: Vec<T>, key: impl Fn(&T) -> K) -> Vec<T> {
    if base.is_empty() {
        return later;
    }
    let mut by_key: BTreeMap<K, T> = BTreeMap::new();
    for item in base.into_iter().chain(later) {
        by_key.insert(key(&item), item);
    }
    by_key.into_values().collect()
}

fn append_option(base: &mut Option<Vec<String>>, later: Option<Vec<String>>) {
    match (base.as_mut(), later) {
        (Some(current), Some(later)) => current.extend(later),
        (None, later) => *base = later,
        (Some(_), None) => {}
    }
}

fn override_string(base: &mut String, later: String) {
    if !later.is_empty() {
        *base = later;
    }
}

fn override_located(base: &mut Option<Located<String>>, later: Option<Located<String>>) {
    if later.as_ref().is_some_and(|value| !value.value.is_empty()) {
        *base = later;
    }
}

/// A Go `*time.Duration`: set when unset, overridden by a non-zero later value.
fn override_duration(base: &mut Option<i64>, later: Option<i64>) {
    match (*base, later) {
        (None, later) => *base = later,
        (Some(_), Some(later)) if later != 0 => *base = Some(later),
        _ => {}
    }
}

fn non_zero_or<T: PartialEq + Default>(later: T, current: T) -> T {
    if later != T::default() {
        later
    } else {
        current
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::compose_config::Origin;
    use crate::source::Span;

    fn origin() -> Origin {
        Origin {
            file: 0,
            span: Span::default(),
        }
    }

    fn service(name: &str) -> ServiceConfig {
        ServiceConfig {
            name: name.to_owned(),
            origin: origin(),
            image: None,
            entrypoint: Vec::new(),
            command: Vec::new(),
            environment: BTreeMap::new(),
            labels: BTreeMap::new(),
            deploy: DeployConfig::default(),
            healthcheck: None,
            ports: Vec::new(),
            networks: BTreeMap::new(),
            volumes: Vec::new(),
            configs: Vec::new(),
            secrets: Vec::new(),
            cap_add: Vec::new(),
            cap_drop: Vec::new(),
            dns: None,
            dns_search: None,
            extra_hosts: Vec::new(),
            hostname: String::new(),
            user: String::new(),
            working_dir: String::new(),
            stop_signal: String::new(),
            isolation: String::new(),
            init: None,
            tty: false,
            stdin_open: false,
            read_only: false,
            stop_grace_period: None,
            sysctls: BTreeMap::new(),
            ulimits: BTreeMap::new(),
            logging: None,
            restart: None,
            credential_spec: Default::default(),
            oom_score_adj: 0,
        }
    }

    fn port(published: u32, target: u32) -> PortConfig {
        PortConfig {
            mode: "ingress".to_owned(),
            target,
            published,
            protocol: "tcp".to_owned(),
        }
    }

    #[test]
    fn later_files_override_and_append() {
        let mut base = service("web");
        base.image = Some(Located {
            value: "foo".to_owned(),
            origin: origin(),
        });
        base.ports = vec![port(9090, 90), port(8080, 80)];
        base.labels.insert("foo".to_owned(), "bar".to_owned());
        base.cap_add = vec!["NET_ADMIN".to_owned()];
        base.environment
            .insert("A".to_owned(), Some("1".to_owned()));
        base.environment
            .insert("B".to_owned(), Some("2".to_owned()));
        base.tty = true;
        let mut later = service("web");
        later.image = Some(Located {
            value: "baz".to_owned(),
            origin: origin(),
        });
        later.ports = vec![port(8080, 81)];
        later.labels.insert("foo".to_owned(), "baz".to_owned());
        later.cap_add = vec!["SYS_ADMIN".to_owned()];
        later
            .environment
            .insert("A".to_owned(), Some("one".to_owned()));
        later
            .environment
            .insert("B".to_owned(), Some(String::new()));
        let merged = merge_configs(vec![
            ComposeConfig {
                services: vec![base],
                ..Default::default()
            },
            ComposeConfig {
                services: vec![later, service("api")],
                ..Default::default()
            },
        ]);
        let names: Vec<&str> = merged.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["api", "web"]);
        let web = &merged.services[1];
        assert_eq!(web.image.as_ref().map(|i| i.value.as_str()), Some("baz"));
        assert_eq!(web.ports, vec![port(8080, 81), port(9090, 90)]);
        assert_eq!(web.labels.get("foo").map(String::as_str), Some("baz"));
        assert_eq!(web.cap_add, ["NET_ADMIN", "SYS_ADMIN"]);
        assert_eq!(web.environment.get("A"), Some(&Some("one".to_owned())));
        assert_eq!(web.environment.get("B"), Some(&Some("2".to_owned())));
        assert!(web.tty);
    }

    #[test]
    fn replicas_zero_overrides() {
        let mut base = service("web");
        base.deploy.replicas = Some(Located {
            value: 3,
            origin: origin(),
        });
        let mut later = service("web");
        later.deploy.replicas = Some(Located {
            value: 0,
            origin: origin(),
        });
        let merged = merge_configs(vec![
            ComposeConfig {
                services: vec![base],
                ..Default::default()
            },
            ComposeConfig {
                services: vec![later],
                ..Default::default()
            },
        ]);
        assert_eq!(
            merged.services[0].deploy.replicas.as_ref().map(|r| r.value),
            Some(0)
        );
    }
}
