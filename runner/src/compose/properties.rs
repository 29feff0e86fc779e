//! Service keys `docker stack deploy` refuses, ignores or warns about, and the compose file
//! version each key first appeared in. The lists are docker's (`cli/compose/types` and
//! the `config_schema_v3.*.json` files), so that shoal accepts and refuses the same files.

/// Keys that make docker refuse the file, with docker's advice.
pub const FORBIDDEN: &[(&str, &str)] = &[
    ("extends", "Support for `extends` is not implemented yet."),
    (
        "volume_driver",
        "Instead of setting the volume driver on the service, define a volume using the top-level `volumes` option and specify the driver there.",
    ),
    (
        "volumes_from",
        "To share a volume between services, define it using the top-level `volumes` option and reference it from each service that shares it using the service-level `volumes` option.",
    ),
    ("cpu_quota", "Set resource limits using deploy.resources"),
    ("cpu_shares", "Set resource limits using deploy.resources"),
    ("cpuset", "Set resource limits using deploy.resources"),
    ("mem_limit", "Set resource limits using deploy.resources"),
    (
        "memswap_limit",
        "Set resource limits using deploy.resources",
    ),
];

/// Keys docker accepts and ignores, saying so ("Ignoring unsupported options").
/// `restart` is among them but still serves when `deploy.restart_policy` is absent.
pub const UNSUPPORTED: &[&str] = &[
    "build",
    "cgroupns_mode",
    "cgroup_parent",
    "devices",
    "domainname",
    "external_links",
    "ipc",
    "links",
    "mac_address",
    "network_mode",
    "pid",
    "privileged",
    "restart",
    "security_opt",
    "shm_size",
    "userns_mode",
];

/// Keys docker accepts and ignores, calling them deprecated, with docker's reason.
pub const DEPRECATED: &[(&str, &str)] = &[
    (
        "container_name",
        "Setting the container name is not supported.",
    ),
    (
        "expose",
        "Exposing ports is unnecessary - services on the same network can access each other's containers on any port.",
    ),
];

/// Keys docker accepts and ignores without a word; shoal warns.
pub const SILENTLY_IGNORED: &[&str] = &["depends_on", "tmpfs"];

/// The compose file versions `docker stack deploy` reads.
pub const VERSIONS: &[&str] = &[
    "3.0", "3.1", "3.2", "3.3", "3.4", "3.5", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12",
    "3.13",
];

/// The version a file without `version:` (or with `version: "3"`) is read as.
pub const DEFAULT_VERSION: &str = "3.13";

/// Keys (as paths; `*` is any name, `[]` any list item) and the version that introduced
/// them. `x-*` stands for extension keys at that level.
pub const MINIMUM_VERSIONS: &[(&[&str], &str)] = &[
    (&["secrets"], "3.1"),
    (&["services", "*", "secrets"], "3.1"),
    (&["networks", "*", "attachable"], "3.2"),
    (&["services", "*", "deploy", "endpoint_mode"], "3.2"),
    (&["services", "*", "ports", "[]", "mode"], "3.2"),
    (&["services", "*", "ports", "[]", "protocol"], "3.2"),
    (&["services", "*", "ports", "[]", "published"], "3.2"),
    (&["services", "*", "ports", "[]", "target"], "3.2"),
    (&["services", "*", "volumes", "[]", "type"], "3.2"),
    (&["configs"], "3.3"),
    (&["services", "*", "configs"], "3.3"),
    (&["services", "*", "credential_spec"], "3.3"),
    (
        &["services", "*", "deploy", "placement", "preferences"],
        "3.3",
    ),
    (&["x-*"], "3.4"),
    (
        &["services", "*", "deploy", "update_config", "order"],
        "3.4",
    ),
    (&["services", "*", "healthcheck", "start_period"], "3.4"),
    (&["volumes", "*", "name"], "3.4"),
    (&["configs", "*", "name"], "3.5"),
    (&["networks", "*", "name"], "3.5"),
    (&["secrets", "*", "name"], "3.5"),
    (
        &[
            "services",
            "*",
            "deploy",
            "resources",
            "reservations",
            "generic_resources",
        ],
        "3.5",
    ),
    (&["services", "*", "isolation"], "3.5"),
    (&["services", "*", "volumes", "[]", "tmpfs"], "3.6"),
    (&["services", "*", "deploy", "rollback_config"], "3.7"),
    (&["services", "*", "init"], "3.7"),
    (&["services", "*", "x-*"], "3.7"),
    (&["networks", "*", "x-*"], "3.7"),
    (&["volumes", "*", "x-*"], "3.7"),
    (&["secrets", "*", "x-*"], "3.7"),
    (&["configs", "*", "x-*"], "3.7"),
    (&["configs", "*", "template_driver"], "3.8"),
    (&["secrets", "*", "driver"], "3.8"),
    (&["secrets", "*", "driver_opts"], "3.8"),
    (&["secrets", "*", "template_driver"], "3.8"),
    (&["services", "*", "credential_spec", "config"], "3.8"),
    (
        &[
            "services",
            "*",
            "deploy",
            "placement",
            "max_replicas_per_node",
        ],
        "3.8",
    ),
    (&["services", "*", "cgroupns_mode"], "3.9"),
    (
        &["services", "*", "deploy", "resources", "limits", "pids"],
        "3.9",
    ),
    (&["services", "*", "healthcheck", "start_interval"], "3.12"),
    (&["services", "*", "networks", "*", "driver_opts"], "3.13"),
    (&["services", "*", "oom_score_adj"], "3.13"),
];

/// Where extension keys (`x-…`) are allowed: at the top level and in the definition of a
/// service, network, volume, secret or config.
pub const EXTENSION_LEVELS: &[&[&str]] = &[
    &[],
    &["services", "*"],
    &["networks", "*"],
    &["volumes", "*"],
    &["secrets", "*"],
    &["configs", "*"],
];

/// Whether a path of keys matches a pattern of [`MINIMUM_VERSIONS`] or [`EXTENSION_LEVELS`].
pub fn path_matches(pattern: &[&str], path: &[impl AsRef<str>]) -> bool {
    pattern.len() == path.len()
        && pattern.iter().zip(path).all(|(part, key)| {
            let key = key.as_ref();
            match *part {
                "*" => true,
                "x-*" => key.starts_with("x-"),
                part => part == key,
            }
        })
}

/// Orders two `3.x` versions.
pub fn version_less_than(a: &str, b: &str) -> bool {
    let parse = |version: &str| -> (u32, u32) {
        let (major, minor) = version.split_once('.').unwrap_or((version, "0"));
        (major.parse().unwrap_or(0), minor.parse().unwrap_or(0))
    };
    parse(a) < parse(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_versions_numerically() {
        assert!(version_less_than("3.9", "3.10"));
        assert!(!version_less_than("3.13", "3.7"));
        assert!(version_less_than("3.0", "3.1"));
    }

    #[test]
    fn matches_paths() {
        let path: Vec<String> = ["services", "web", "x-meta"].map(String::from).to_vec();
        assert!(path_matches(&["services", "*", "x-*"], &path));
        assert!(!path_matches(&["services", "*"], &path));
    }
}
