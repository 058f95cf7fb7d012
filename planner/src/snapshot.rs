//! The snapshot: what the engine runs for one project, as observed by the
//! executor. It is a public, versioned file format (`berth snapshot`), and
//! the planner's only view of the engine.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Version of the snapshot format; bumped on any incompatible change.
pub const SNAPSHOT_FORMAT_VERSION: u32 = 1;

/// Everything the planner needs to know about the engine's current state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub format_version: u32,
    pub project: String,
    pub engine: EngineInfo,
    /// Containers labelled with the project and a config hash (one-offs
    /// included), sorted by name. Other containers are invisible, as they
    /// are to Docker Compose.
    pub containers: Vec<ObservedContainer>,
    /// Containers outside the project that hold a name the project needs,
    /// keyed by that name, so that a plan can fail before acting.
    #[serde(default)]
    pub name_holders: BTreeMap<String, NameHolder>,
    /// Host ports published by running containers outside the project,
    /// sorted, so that a plan can fail before it publishes one again. They
    /// are left out of the fingerprint, so that an unrelated container
    /// does not make a plan stale.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub port_holders: Vec<PortHolder>,
    /// Networks carrying the project label, plus any network whose name the
    /// model declares, keyed by engine name.
    pub networks: BTreeMap<String, ObservedNetwork>,
    /// Volumes carrying the project label, plus any volume whose name the
    /// model declares, keyed by engine name.
    pub volumes: BTreeMap<String, ObservedVolume>,
    /// Local images, keyed by the reference the model names
    /// (`local/busybox:test`); absent when the engine does not have it.
    pub images: BTreeMap<String, ObservedImage>,
    /// Images that carry the project label and at least one tag, keyed by
    /// their first tag as the engine lists it. Observed only when the scope
    /// requests them, for `--rmi`, because `docker compose down --rmi`
    /// removes them by that tag.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub project_images: BTreeMap<String, ProjectImage>,
    /// The engine's clock at the time of the observation (RFC 3339),
    /// recorded only when the scope requests it, because a refresh pull
    /// policy (`daily`, `weekly`, `every_<duration>`) compares it with an
    /// image's last tag time. Left out otherwise, so that observing the
    /// same state twice gives the same bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_at: Option<String>,
}

/// What an observation covers beyond the resources carrying the project
/// label. The planner derives it from the model; a plan records it so that
/// `apply` observes exactly the same scope again before comparing
/// fingerprints.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObserveScope {
    /// Container names the model expects, checked for holders outside the
    /// project.
    #[serde(default)]
    pub container_names: Vec<String>,
    /// Engine names of the networks the model declares.
    #[serde(default)]
    pub networks: Vec<String>,
    /// Engine names of the volumes the model declares.
    #[serde(default)]
    pub volumes: Vec<String>,
    /// Image references the model uses.
    #[serde(default)]
    pub images: Vec<String>,
    /// Whether to record the engine's clock, for refresh pull policies.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub clock: bool,
    /// Whether to list the images that carry the project label, for a
    /// teardown with `--rmi`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub project_images: bool,
    /// Paths of the files copied into each service's containers, by service
    /// and then by `secrets.NAME` / `configs.NAME`, to read back from
    /// running containers that lack berth's content-digests label.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub content_files: BTreeMap<String, BTreeMap<String, String>>,
}

/// The engine's identity and the API version negotiated with it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EngineInfo {
    pub version: String,
    pub api_version: String,
}

/// One container of the project.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObservedContainer {
    pub id: String,
    /// Canonical name, without the leading slash.
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// Engine state: `created`, `running`, `paused`, `restarting`,
    /// `removing`, `exited` or `dead`.
    pub state: String,
    /// Health status when the container has a healthcheck: `starting`,
    /// `healthy` or `unhealthy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<String>,
    pub exit_code: i64,
    /// Id of the image the container was created from (`sha256:...`).
    pub image_id: String,
    pub mounts: Vec<ObservedMount>,
    /// Endpoints by network name.
    pub networks: BTreeMap<String, ObservedEndpoint>,
    /// The configuration the engine reports, in Compose terms, so that a
    /// plan can show the values a replacement changes.
    pub config: ObservedConfig,
    /// Digests of the secret and config files copied into the container, by
    /// `secrets.NAME` / `configs.NAME`, read from the running container.
    /// Observed only when the container lacks berth's content-digests label,
    /// as a container Docker Compose created does.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub content_digests: BTreeMap<String, String>,
}

impl ObservedContainer {
    /// Returns the value of a label, or "" when it is absent.
    pub fn label(&self, key: &str) -> &str {
        self.labels.get(key).map(String::as_str).unwrap_or("")
    }
}

/// A mount of a container.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObservedMount {
    /// `bind`, `volume` or `tmpfs`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Volume name for volumes; empty for binds and tmpfs.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Host path for binds.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    pub destination: String,
    pub read_write: bool,
}

/// A container's attachment to one network.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObservedEndpoint {
    pub network_id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

/// Container settings as the engine reports them. Only what a plan shows
/// as "before" values; the decision to replace rests on the config hash.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObservedConfig {
    pub image: String,
    #[serde(default)]
    pub command: Option<Vec<String>>,
    #[serde(default)]
    pub entrypoint: Option<Vec<String>>,
    /// `Env` entries split at the first `=`; `None` for a bare name.
    #[serde(default)]
    pub environment: BTreeMap<String, Option<String>>,
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub working_dir: String,
    #[serde(default)]
    pub hostname: String,
    /// `HostConfig.RestartPolicy.Name` (`""`, `no`, `always`, ...).
    #[serde(default)]
    pub restart: String,
    /// Published ports as `[ip:]host:container/proto` strings, sorted.
    #[serde(default)]
    pub ports: Vec<String>,
    /// Healthcheck test, `None` when the container has no healthcheck of
    /// its own (the image's may apply).
    #[serde(default)]
    pub healthcheck: Option<Vec<String>>,
}

/// A container outside the project that holds a name the project needs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NameHolder {
    pub id: String,
    /// The holder's `com.docker.compose.project` label, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
}

/// A host port that a running container outside the project publishes.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct PortHolder {
    /// Name of the container.
    pub container: String,
    /// Host address, such as `0.0.0.0`, `::` or `127.0.0.1`.
    pub host_ip: String,
    pub port: u16,
    /// `tcp`, `udp` or `sctp`.
    pub protocol: String,
}

/// A network as the engine reports it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObservedNetwork {
    pub id: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// Names of the containers attached to it, sorted.
    #[serde(default)]
    pub containers: Vec<String>,
}

/// A volume as the engine reports it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObservedVolume {
    pub name: String,
    pub driver: String,
    pub labels: BTreeMap<String, String>,
}

/// A tagged image that carries the project label, as a build of Docker
/// Compose or berth writes it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectImage {
    pub id: String,
    /// Value of its `com.docker.compose.service` label; empty when absent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub service: String,
}

/// A local image.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObservedImage {
    pub id: String,
    /// Paths the image declares as `VOLUME`, sorted; a replacement inherits
    /// the anonymous volumes mounted there.
    #[serde(default)]
    pub volumes: Vec<String>,
    /// Whether the image declares a `HEALTHCHECK`.
    #[serde(default)]
    pub healthcheck: bool,
    /// Time the engine last gave the image a tag (`Metadata.LastTagTime`,
    /// RFC 3339), by a build, a `docker tag` or an import. Absent when the
    /// engine reports none, as for an image that was only pulled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_tag_time: Option<String>,
    /// Platform of the image as `os/architecture[/variant]`, such as
    /// `linux/amd64`; empty when the engine reports none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub platform: String,
    /// The image's own environment (`Config.Env`, `KEY=value` entries), which
    /// a container gets unless its body sets the same variable.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environment: Vec<String>,
}
