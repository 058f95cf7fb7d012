//! Errors that stop a plan from being made. Each one is raised before any
//! step runs.

use thiserror::Error;

/// A reason the planner rejects the model, the options or the state.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PlanError {
    #[error(
        "snapshot is of project `{snapshot}`, not `{project}` (observe the project again with `berth snapshot -p {project}`)"
    )]
    SnapshotProject { snapshot: String, project: String },

    #[error("no such service: `{service}` (services: {known})")]
    UnknownService { service: String, known: String },

    #[error("{first} and {second} cannot be used together")]
    ConflictingFlags {
        first: &'static str,
        second: &'static str,
    },

    #[error(
        "service `{service}` sets container_name `{container_name}` but asks for {count} containers; a fixed name fits one container (remove container_name to scale)"
    )]
    FixedNameScaled {
        service: String,
        container_name: String,
        count: u64,
    },

    #[error(
        "service `{service}` depends on `{dependency}`, which is disabled; enable it with --profile {profiles} or name it on the command line"
    )]
    DisabledDependency {
        service: String,
        dependency: String,
        profiles: String,
    },

    #[error(
        "service refers to undefined network `{network}` (declare it under top-level networks)"
    )]
    UndefinedNetwork { network: String },

    #[error("service refers to undefined volume `{volume}` (declare it under top-level volumes)")]
    UndefinedVolume { volume: String },

    #[error(
        "{kind} `{key}` has an empty name: its `name:` is empty after interpolation (set the variable it uses, or remove `name:`)"
    )]
    EmptyResourceName { kind: &'static str, key: String },

    #[error(
        "network `{network}` is declared as external but was not found (create it with `docker network create {network}`, or set `name:` to the network that exists)"
    )]
    ExternalNetworkMissing { network: String },

    #[error(
        "volume `{volume}` is declared as external but was not found (create it with `docker volume create {volume}`, or set `name:` to the volume that exists)"
    )]
    ExternalVolumeMissing { volume: String },

    #[error(
        "network `{network}` was found but its label com.docker.compose.network is {actual:?}, expected {expected:?} (remove the network, or set `external: true` to use it as it is)"
    )]
    NetworkLabelMismatch {
        network: String,
        actual: String,
        expected: String,
    },

    #[error(
        "container `{container}` has no valid com.docker.compose.container-number label (remove it, or run `berth plan --force-recreate`)"
    )]
    MissingNumber { container: String },

    #[error("{}", name_taken(name, holder, project.as_deref()))]
    NameTaken {
        name: String,
        holder: String,
        project: Option<String>,
    },

    #[error(
        "image `{image}` of service `{service}` is not on the engine, and its pull_policy `{policy}` neither pulls nor builds it (pull or build it first, or change pull_policy)"
    )]
    ImageMissing {
        service: String,
        image: String,
        policy: String,
    },

    #[error(
        "image `{image}` of service `{service}` is not on the engine, and --no-build forbids building it (build it first, or plan without --no-build)"
    )]
    NoBuildImageMissing { service: String, image: String },

    #[error("service `{service}` has an invalid pull_policy: {message}")]
    InvalidPullPolicy { service: String, message: String },

    #[error(
        "service `{service}` has a refresh pull_policy, but the snapshot records no engine clock in `observed_at` (observe the project again with `berth snapshot`)"
    )]
    MissingClock { service: String },

    #[error(
        "build.{key} of service `{service}` is not supported: berth does not send it to the engine's build API (remove it, or build the image before planning)"
    )]
    BuildNotSupported { service: String, key: String },

    #[error(
        "build context `{context}` of service `{service}` is not supported: berth builds from local folders only (clone it and point context at the folder)"
    )]
    RemoteBuildContext { service: String, context: String },

    #[error(
        "network `{network}` sets enable_ipv4: false, which needs engine api 1.47 or later; the engine has {api} (upgrade the engine, or remove enable_ipv4)"
    )]
    Ipv4OffNeedsNewerEngine { network: String, api: String },

    #[error(
        "volume `{volume}` must be replaced, but container `{container}` mounts it and is not a container of the services being planned (remove that container, or plan every service that mounts the volume)"
    )]
    VolumeInUse { volume: String, container: String },

    #[error(
        "host port {binding} is published by both {first} and {second} (give one of them another host port, or stop the other holder)"
    )]
    PortConflict {
        binding: String,
        first: String,
        second: String,
    },

    #[error(
        "host port {binding} is fixed, but service `{service}` asks for {count} containers and only one can publish it (publish a range such as 8000-8009, or scale the service to 1)"
    )]
    PortReplicas {
        binding: String,
        service: String,
        count: u64,
    },

    #[error(
        "host ports {binding} of {holder} leave {free} free for {needed} containers{others} (widen the range, or scale down)"
    )]
    PortRangeExhausted {
        binding: String,
        holder: String,
        needed: u64,
        free: u64,
        /// Empty, or `; also published by ...` naming the other holders.
        others: String,
    },

    #[error("cannot build the container of service `{service}`: {message}")]
    ContainerSpec { service: String, message: String },
}

fn name_taken(name: &str, holder: &str, project: Option<&str>) -> String {
    let short = &holder[..holder.len().min(12)];
    match project {
        Some(project) => format!(
            "container name `{name}` is already used by container {short} of project `{project}` (remove it, or change container_name)"
        ),
        None => format!(
            "container name `{name}` is already used by container {short}, which is not part of any Compose project (remove or rename it)"
        ),
    }
}
