//! Label keys Docker Compose writes on containers, networks and volumes.
//! berth writes the same ones so that each tool manages what the other
//! created.

/// Project name.
pub const PROJECT: &str = "com.docker.compose.project";
/// Service name.
pub const SERVICE: &str = "com.docker.compose.service";
/// Config hash of a container, network or volume.
pub const CONFIG_HASH: &str = "com.docker.compose.config-hash";
/// Replica number of a service container, from 1.
pub const CONTAINER_NUMBER: &str = "com.docker.compose.container-number";
/// `True` on `docker compose run` containers, `False` on service ones.
pub const ONEOFF: &str = "com.docker.compose.oneoff";
/// Id of the image a container was created from.
pub const IMAGE: &str = "com.docker.compose.image";
/// Key of a network in the model.
pub const NETWORK: &str = "com.docker.compose.network";
/// Key of a volume in the model.
pub const VOLUME: &str = "com.docker.compose.volume";
/// Compose version that wrote the labels.
pub const VERSION: &str = "com.docker.compose.version";
/// The Docker Compose version whose labels and config hashes berth
/// reproduces; written as `com.docker.compose.version`.
pub const COMPOSE_VERSION: &str = "2.40.3";
