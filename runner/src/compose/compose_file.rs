//! A compose file as written: the keys and value types of docker's compose schema
//! (`config_schema_v3.13.json`), decoded from the interpolated YAML tree. Unknown keys are
//! errors (with a "did you mean" hint); extension keys (`x-…`) are removed before
//! decoding. [`super::loader`] turns these into a [`super::ComposeConfig`].

use indexmap::IndexMap;
use serde::Deserialize;
use serde::de::IgnoredAny;

use super::values::{
    Command, Count, Duration, External, Integer, ListOrDict, NullableScalar, Number, PortText,
    ScalarText, ShortOrLong, StringOrList, Strings, Text, UlimitInput,
};
use crate::yaml::Spanned;

/// The top-level keys of a compose file. Their values are decoded entry by entry (see
/// [`super::loader`]), so that every faulty service is reported, not only the first.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComposeFileKeys {
    #[serde(default, rename = "version")]
    pub _version: Option<IgnoredAny>,
    #[serde(default, rename = "services")]
    pub _services: Option<IgnoredAny>,
    #[serde(default, rename = "networks")]
    pub _networks: Option<IgnoredAny>,
    #[serde(default, rename = "volumes")]
    pub _volumes: Option<IgnoredAny>,
    #[serde(default, rename = "secrets")]
    pub _secrets: Option<IgnoredAny>,
    #[serde(default, rename = "configs")]
    pub _configs: Option<IgnoredAny>,
}

pub type PortItem = ShortOrLong<PortText, PortInput>;
pub type FileReferenceItem = ShortOrLong<String, FileReferenceInput>;
pub type VolumeItem = ShortOrLong<String, ServiceVolumeInput>;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceInput {
    pub deploy: Option<DeployInput>,
    pub build: Option<IgnoredAny>,
    pub cap_add: Option<Strings>,
    pub cap_drop: Option<Strings>,
    pub cgroupns_mode: Option<Text>,
    pub cgroup_parent: Option<Text>,
    pub command: Option<Spanned<Command>>,
    pub configs: Option<Vec<Spanned<FileReferenceItem>>>,
    pub container_name: Option<Text>,
    pub credential_spec: Option<CredentialSpecInput>,
    pub depends_on: Option<Strings>,
    pub devices: Option<Strings>,
    pub dns: Option<Spanned<StringOrList>>,
    pub dns_search: Option<Spanned<StringOrList>>,
    pub domainname: Option<Text>,
    pub entrypoint: Option<Spanned<Command>>,
    pub env_file: Option<Spanned<StringOrList>>,
    pub environment: Option<ListOrDict>,
    pub expose: Option<Vec<ScalarText>>,
    pub external_links: Option<Strings>,
    pub extra_hosts: Option<ListOrDict>,
    pub healthcheck: Option<Spanned<HealthCheckInput>>,
    pub hostname: Option<Text>,
    pub image: Option<Spanned<Text>>,
    pub init: Option<bool>,
    pub ipc: Option<Text>,
    pub isolation: Option<Text>,
    pub labels: Option<ListOrDict>,
    pub links: Option<Strings>,
    pub logging: Option<LoggingInput>,
    pub mac_address: Option<Text>,
    pub network_mode: Option<Text>,
    pub networks: Option<ServiceNetworksInput>,
    pub oom_score_adj: Option<Integer>,
    pub pid: Option<Text>,
    pub ports: Option<Vec<Spanned<PortItem>>>,
    pub privileged: Option<bool>,
    pub read_only: Option<bool>,
    pub restart: Option<Spanned<Text>>,
    pub secrets: Option<Vec<Spanned<FileReferenceItem>>>,
    pub security_opt: Option<Strings>,
    pub shm_size: Option<ScalarText>,
    pub stdin_open: Option<bool>,
    pub stop_grace_period: Option<Duration>,
    pub stop_signal: Option<Text>,
    pub sysctls: Option<ListOrDict>,
    pub tmpfs: Option<StringOrList>,
    pub tty: Option<bool>,
    pub ulimits: Option<IndexMap<String, UlimitInput>>,
    pub user: Option<Text>,
    pub userns_mode: Option<Text>,
    pub volumes: Option<Vec<Spanned<VolumeItem>>>,
    pub working_dir: Option<Text>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeployInput {
    pub mode: Option<Spanned<Text>>,
    pub endpoint_mode: Option<Spanned<Text>>,
    pub replicas: Option<Spanned<Count>>,
    pub labels: Option<ListOrDict>,
    pub rollback_config: Option<UpdateConfigInput>,
    pub update_config: Option<UpdateConfigInput>,
    pub resources: Option<ResourcesInput>,
    pub restart_policy: Option<RestartPolicyInput>,
    pub placement: Option<PlacementInput>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpdateConfigInput {
    pub parallelism: Option<Count>,
    pub delay: Option<Duration>,
    pub failure_action: Option<Spanned<Text>>,
    pub monitor: Option<Duration>,
    pub max_failure_ratio: Option<Number>,
    pub order: Option<Spanned<Text>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResourcesInput {
    pub limits: Option<LimitsInput>,
    pub reservations: Option<ReservationsInput>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsInput {
    pub cpus: Option<Spanned<Text>>,
    pub memory: Option<Spanned<Text>>,
    pub pids: Option<Integer>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReservationsInput {
    pub cpus: Option<Spanned<Text>>,
    pub memory: Option<Spanned<Text>>,
    pub generic_resources: Option<Vec<GenericResourceInput>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GenericResourceInput {
    pub discrete_resource_spec: Option<DiscreteResourceInput>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiscreteResourceInput {
    pub kind: Option<Text>,
    pub value: Option<Number>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RestartPolicyInput {
    pub condition: Option<Spanned<Text>>,
    pub delay: Option<Duration>,
    pub max_attempts: Option<Count>,
    pub window: Option<Duration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlacementInput {
    pub constraints: Option<Vec<Spanned<Text>>>,
    pub preferences: Option<Vec<PreferenceInput>>,
    pub max_replicas_per_node: Option<Count>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PreferenceInput {
    pub spread: Option<Text>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HealthCheckInput {
    pub disable: Option<bool>,
    pub interval: Option<Duration>,
    pub retries: Option<Number>,
    pub test: Option<Command>,
    pub timeout: Option<Duration>,
    pub start_period: Option<Duration>,
    pub start_interval: Option<Duration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoggingInput {
    pub driver: Option<Text>,
    pub options: Option<IndexMap<String, NullableScalar>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CredentialSpecInput {
    pub config: Option<Spanned<Text>>,
    pub file: Option<Text>,
    pub registry: Option<Text>,
}

/// `networks:` of a service: a list of names, or a map of names to settings (or null).
#[derive(Debug)]
pub enum ServiceNetworksInput {
    List(Vec<Spanned<String>>),
    Map(Vec<(Spanned<String>, Option<ServiceNetworkInput>)>),
}

impl<'de> Deserialize<'de> for ServiceNetworksInput {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NetworksVisitor;
        impl<'de> serde::de::Visitor<'de> for NetworksVisitor {
            type Value = ServiceNetworksInput;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of network names or a map")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                seq: A,
            ) -> Result<Self::Value, A::Error> {
                let names =
                    Strings::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))?;
                Ok(ServiceNetworksInput::List(names.0))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(name) = map.next_key::<Spanned<String>>()? {
                    let settings: Option<ServiceNetworkInput> = map.next_value()?;
                    entries.push((name, settings));
                }
                Ok(ServiceNetworksInput::Map(entries))
            }
        }
        deserializer.deserialize_any(NetworksVisitor)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceNetworkInput {
    pub aliases: Option<Strings>,
    pub driver_opts: Option<IndexMap<String, ScalarText>>,
    pub ipv4_address: Option<Spanned<Text>>,
    pub ipv6_address: Option<Spanned<Text>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PortInput {
    pub mode: Option<Spanned<Text>>,
    pub target: Option<Spanned<Count>>,
    pub published: Option<Spanned<Count>>,
    pub protocol: Option<Spanned<Text>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileReferenceInput {
    pub source: Option<Text>,
    pub target: Option<Text>,
    pub uid: Option<Text>,
    pub gid: Option<Text>,
    pub mode: Option<Number>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceVolumeInput {
    #[serde(rename = "type")]
    pub kind: Spanned<Text>,
    #[serde(default)]
    pub source: Option<Text>,
    #[serde(default)]
    pub target: Option<Text>,
    #[serde(default)]
    pub read_only: Option<bool>,
    #[serde(default)]
    pub consistency: Option<Text>,
    #[serde(default)]
    pub bind: Option<BindInput>,
    #[serde(default)]
    pub volume: Option<VolumeOptionsInput>,
    #[serde(default)]
    pub tmpfs: Option<TmpfsInput>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BindInput {
    pub propagation: Option<Spanned<Text>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VolumeOptionsInput {
    pub nocopy: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TmpfsInput {
    pub size: Option<Count>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkInput {
    pub name: Option<Spanned<Text>>,
    pub driver: Option<Text>,
    pub driver_opts: Option<IndexMap<String, ScalarText>>,
    pub ipam: Option<IpamInput>,
    pub external: Option<Spanned<External>>,
    pub internal: Option<bool>,
    pub attachable: Option<bool>,
    pub labels: Option<ListOrDict>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IpamInput {
    pub driver: Option<Text>,
    pub config: Option<Vec<IpamPoolInput>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IpamPoolInput {
    pub subnet: Option<Text>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VolumeInput {
    pub name: Option<Spanned<Text>>,
    pub driver: Option<Spanned<Text>>,
    pub driver_opts: Option<IndexMap<String, ScalarText>>,
    pub external: Option<Spanned<External>>,
    pub labels: Option<ListOrDict>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecretInput {
    pub name: Option<Spanned<Text>>,
    pub file: Option<Spanned<Text>>,
    pub external: Option<Spanned<External>>,
    pub labels: Option<ListOrDict>,
    pub driver: Option<Spanned<Text>>,
    pub driver_opts: Option<IndexMap<String, ScalarText>>,
    pub template_driver: Option<Spanned<Text>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConfigInput {
    pub name: Option<Spanned<Text>>,
    pub file: Option<Spanned<Text>>,
    pub external: Option<Spanned<External>>,
    pub labels: Option<ListOrDict>,
    pub template_driver: Option<Spanned<Text>>,
}
