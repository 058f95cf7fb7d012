//! The plan: a public, versioned file format. It records what it was made
//! from, the resource-level changes a person reviews, and the engine-level
//! steps the executor replays, each complete enough that `apply` needs
//! neither the compose files nor any decision of its own.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::content::ContentFile;
use crate::engine_body::{BuildBody, ContainerBody, EndpointBody, NetworkBody, VolumeBody};
use crate::snapshot::ObserveScope;

/// Version of the plan format; bumped on any incompatible change.
pub const PLAN_FORMAT_VERSION: u32 = 1;

/// A complete, self-contained plan for one project.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub format_version: u32,
    /// Version of the berth that made the plan.
    pub berth_version: String,
    pub project: String,
    /// Whether this plan tears the project down instead of converging it.
    #[serde(default)]
    pub destroy: bool,
    /// SHA-256 of the normalized model the plan was made from.
    pub model_digest: String,
    /// Fingerprint of the observed state the plan was made against;
    /// `apply` rejects the plan when the engine no longer matches it.
    pub fingerprint: String,
    /// What the observation behind `fingerprint` covered.
    #[serde(default)]
    pub observed: ObserveScope,
    /// A short digest of each observed resource, keyed by kind and name
    /// (`container p-web-1`), so that `apply` can name what changed when
    /// the fingerprint no longer matches.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub observed_resources: BTreeMap<String, String>,
    pub options: PlanOptions,
    pub changes: Vec<ResourceChange>,
    pub steps: Vec<Step>,
    pub warnings: Vec<Warning>,
    pub summary: Summary,
}

impl Plan {
    /// Returns whether applying the plan would change anything on the
    /// engine.
    /// Wait steps alone change nothing: a plan made with `--wait` for a
    /// converged project still has no changes.
    pub fn has_changes(&self) -> bool {
        self.steps
            .iter()
            .any(|step| !matches!(step.action, StepAction::Wait { .. }))
    }
}

/// The options the plan was made with, recorded for review.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanOptions {
    /// Services named on the command line; empty means every service.
    #[serde(default)]
    pub services: Vec<String>,
    #[serde(default)]
    pub no_deps: bool,
    #[serde(default)]
    pub force_recreate: bool,
    #[serde(default)]
    pub no_recreate: bool,
    #[serde(default)]
    pub always_recreate_deps: bool,
    #[serde(default)]
    pub renew_anon_volumes: bool,
    #[serde(default)]
    pub remove_orphans: bool,
    /// Start one-shot services again even when they completed successfully
    /// and are up to date, as `docker compose up` does.
    #[serde(default)]
    pub rerun_completed: bool,
    /// `--scale SERVICE=N` overrides.
    #[serde(default)]
    pub scale: BTreeMap<String, u64>,
    /// Longest wait for one `depends_on` condition, in seconds.
    pub wait_timeout_seconds: u64,
    /// Wait, at the end, until every service is running or healthy, as
    /// `docker compose up --wait` does.
    #[serde(default)]
    pub wait: bool,
    /// For a teardown plan: remove named and anonymous volumes too
    /// (`docker compose down -v`).
    #[serde(default)]
    pub volumes: bool,
    /// For a teardown plan: the images to remove too
    /// (`docker compose down --rmi`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_images: Option<ImageRemoval>,
    /// Replace a volume whose config changed, and the containers that mount
    /// it, losing the volume's data. Without it such a volume is kept.
    /// Left out of the file when false, so older plans read the same.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_volume_replace: bool,
    /// `--pull POLICY`: the pull_policy of every service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull: Option<String>,
    /// `--build`: build every service that has a `build:` section.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub build: bool,
    /// `--no-build`: build nothing, even a missing image.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_build: bool,
}

/// The images a teardown removes, picked as `docker compose down --rmi`
/// picks them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImageRemoval {
    /// Images named `<project>-<service>` for services without `image:`.
    Local,
    /// Every image a service uses.
    All,
}

/// What happens to a resource.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Replace,
    Start,
    Unpause,
    /// Stopped before a dependency is replaced, started again after it.
    Restart,
    Stop,
    Remove,
    NoOp,
    /// An image is pulled from its registry.
    Pull,
    /// An image is built from its `build:` section.
    Build,
}

/// The kind of resource a change is about.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    Container,
    Network,
    Volume,
    Image,
}

/// Why a resource changes (or does not).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The resource does not exist yet.
    Missing,
    /// More containers are expected than exist.
    ScaleUp,
    /// Fewer containers are expected than exist.
    ScaleDown,
    /// Another container of the service has the same number and is kept,
    /// as after an interrupted replacement.
    DuplicateNumber,
    /// The config hash label differs from the model's.
    ConfigChanged,
    /// The image behind the tag is not the one the container runs.
    ImageChanged,
    /// Recreation was requested (`--force-recreate`, `--always-recreate-deps`,
    /// `--renew-anon-volumes`).
    Forced,
    /// A running container is not attached to a network of its service.
    NetworkDisconnected,
    /// A named volume of the service is not mounted on the container.
    VolumeNotMounted,
    /// The container's name is not the one the model gives it, as after a
    /// replacement that was interrupted before its rename.
    UnexpectedName,
    /// The container is stopped.
    Stopped,
    /// The container is paused.
    Paused,
    /// A dependency with `restart: true` is replaced.
    DependencyReplaced,
    /// A service whose container this one shares a namespace or volumes
    /// with (`network_mode`, `ipc` or `pid` set to `service:NAME`, or
    /// `volumes_from`) gets a new container, so this one must follow it.
    ReferenceReplaced,
    /// A named volume the container mounts is removed and created again
    /// (`--allow-volume-replace`), so the container is removed before it
    /// and created fresh after it.
    VolumeReplaced,
    /// The container belongs to no service of the model.
    Orphan,
    /// A one-off container (`docker compose run`) that has exited. Nothing
    /// starts it again, so it counts as an orphan.
    ExitedOneOff,
    /// The container matches the model.
    UpToDate,
    /// A one-shot container exited with code 0 and is up to date.
    Completed,
    /// The content of a secret or config the container uses changed: a
    /// file, an environment variable or an inline `content:`.
    ContentChanged,
    /// `pull_policy: always` pulls the image on every apply.
    PullAlways,
    /// `pull_policy: build` builds the image on every apply.
    BuildAlways,
    /// A refresh pull policy (`daily`, `weekly`, `every_<duration>`) is
    /// due: the image was last tagged longer ago than its interval.
    RefreshDue,
    /// The local image is of another platform than the service's
    /// `platform`, so it counts as missing.
    OtherPlatform,
}

/// One resource-level change, as a person reviews it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceChange {
    /// Stable address: `service.web[1]`, `network.default`, `volume.data`,
    /// `orphan.p-legacy-1`.
    pub address: String,
    pub kind: ResourceKind,
    /// Engine name of the resource.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    pub action: Action,
    pub reasons: Vec<Reason>,
    /// For a replacement: the fields that differ.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diffs: Vec<FieldDiff>,
    /// Services whose replacement causes this change, for a restart or a
    /// replacement that follows another service's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caused_by: Vec<String>,
}

/// One field that differs between the running resource and the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldDiff {
    /// Compose key path, such as `environment.STORE_MODE`.
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<serde_json::Value>,
    /// Whether the values may be secrets; renderers mask them.
    #[serde(default)]
    pub sensitive: bool,
}

/// A container as a step refers to it: by name, plus its id when it exists
/// at planning time, so that `apply` acts on exactly that container.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContainerRef {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// What a wait step waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WaitCondition {
    /// Every container reports `healthy`.
    Healthy,
    /// The first container to exit exits with code 0.
    CompletedSuccessfully,
    /// Every container is healthy, or running when it has no healthcheck;
    /// what `docker compose up --wait` waits for.
    RunningOrHealthy,
}

/// One engine-level step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Unique within the plan, such as `create:p-web-1`.
    pub id: String,
    /// Steps that must finish before this one starts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<String>,
    pub action: StepAction,
}

/// The engine call a step makes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum StepAction {
    CreateNetwork {
        name: String,
        body: NetworkBody,
    },
    RemoveNetwork {
        name: String,
        id: String,
    },
    ConnectNetwork {
        container: String,
        network: String,
        endpoint: EndpointBody,
    },
    DisconnectNetwork {
        container: String,
        network: String,
    },
    CreateVolume {
        name: String,
        body: VolumeBody,
    },
    RemoveVolume {
        name: String,
    },
    /// Creates a container. Strings of the form `berth-id(NAME)` in the
    /// body and in `hash_input` stand for the id of the container named
    /// NAME at that moment; when `hash_input` is present the executor
    /// substitutes them, hashes it and writes the config-hash label. A
    /// string `berth-image-id(REF)` stands for the id of image REF at that
    /// moment, for an image that a step of the same plan pulls or builds.
    CreateContainer {
        name: String,
        body: Box<ContainerBody>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hash_input: Option<serde_json::Value>,
    },
    /// Starts a container, then runs the service's `post_start` hooks in
    /// it, one after the other.
    StartContainer {
        container: ContainerRef,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        post_start: Option<ServiceHooks>,
    },
    /// Runs the service's `pre_stop` hooks in a container, then stops it.
    /// Docker Compose 2.40.3 runs them on every stop but the one of a
    /// container being replaced and the one of an orphan, so those steps
    /// carry none.
    StopContainer {
        container: ContainerRef,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout_seconds: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pre_stop: Option<ServiceHooks>,
    },
    RemoveContainer {
        container: ContainerRef,
        /// Removes the container's anonymous volumes too.
        remove_volumes: bool,
    },
    RenameContainer {
        container: ContainerRef,
        to: String,
    },
    UnpauseContainer {
        container: ContainerRef,
    },
    /// Pulls an image from its registry.
    PullImage {
        image: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        platform: Option<String>,
        /// A failed pull is logged and ignored, because a service of the
        /// image has a `build:` section, as Docker Compose ignores it then.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        ignore_failure: bool,
    },
    /// Builds an image with the engine's build API from the context folder
    /// in `build`, which the executor packs into a tar.
    BuildImage {
        image: String,
        service: String,
        build: Box<BuildBody>,
    },
    /// Polls containers until the condition holds; fails as soon as one
    /// exits in a way that can never satisfy it.
    Wait {
        service: String,
        containers: Vec<String>,
        condition: WaitCondition,
        timeout_seconds: u64,
    },
    /// Copies secrets and configs given by `content:` or `environment:`
    /// into a created or stopped container, right before it starts.
    CopyContent {
        container: ContainerRef,
        files: Vec<ContentFile>,
    },
    /// Removes an image without forcing it; an image that a container
    /// outside the project still uses is kept with a warning.
    RemoveImage {
        name: String,
    },
}

/// The `post_start` or `pre_stop` hooks a container step runs, in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceHooks {
    /// The service that declares the hooks, for messages.
    pub service: String,
    pub hooks: Vec<Hook>,
}

/// One hook: a command run in the container through the engine's exec
/// API. The engine adds `environment` to the container's own environment.
/// A name without a value removes that variable for the command.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Hook {
    pub command: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub privileged: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: BTreeMap<String, Option<String>>,
}

/// A warning for the person applying the plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Warning {
    /// Stable code such as `orphans` or `network_foreign_project`.
    pub code: String,
    pub message: String,
}

/// Counts of resource changes by action.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub create: u32,
    pub replace: u32,
    pub remove: u32,
    pub start: u32,
    pub restart: u32,
    pub stop: u32,
    pub unpause: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pull: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub build: u32,
}

fn is_zero(count: &u32) -> bool {
    *count == 0
}
