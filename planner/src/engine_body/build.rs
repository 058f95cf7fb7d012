//! The request of a build step to `POST /build`: the folder the executor
//! packs as the build context, and the query parameters of the classic
//! builder.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A build of one image, as the executor sends it to the engine.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BuildBody {
    /// Absolute path of the build context folder. The executor packs it
    /// into a tar, leaving out what its `.dockerignore` excludes.
    pub context: String,
    /// Path of the Dockerfile inside the context (`dockerfile`).
    pub dockerfile: String,
    /// Dockerfile contents given in the compose file; the executor adds
    /// them to the context tar under the `dockerfile` path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dockerfile_inline: Option<String>,
    /// Names the built image is tagged with (`t`), the service's image
    /// name first.
    pub tags: Vec<String>,
    /// Build arguments (`buildargs`); arguments without a value are left
    /// out, as Docker Compose does.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<String, String>,
    /// Image labels (`labels`): `build.labels` plus the Compose labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Build stage to stop at (`target`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Network mode of the `RUN` instructions (`networkmode`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// `host:ip` entries (`extrahosts`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_hosts: Vec<String>,
    /// Images to consider as cache sources (`cachefrom`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cache_from: Vec<String>,
    /// Size of `/dev/shm` in bytes (`shmsize`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shm_size: Option<i64>,
    /// Build without the layer cache (`nocache`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_cache: bool,
    /// Pull newer versions of the base images (`pull`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pull: bool,
    /// Target platform (`platform`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Skip the build when the image exists at apply time, because a pull
    /// step before it may have brought it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub only_if_missing: bool,
}
