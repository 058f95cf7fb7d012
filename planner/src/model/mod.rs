//! The normalized Compose model: what `docker compose config --format json`
//! prints, with Docker Compose 2.40.3's key order.
//!
//! Field order in every struct follows compose-go v2.9.1's declaration order,
//! because the config hash is a digest of this serialization: reordering a
//! field changes every hash and makes berth replace containers that Docker
//! Compose created.

mod duration;
mod lifecycle;
mod project;
mod pull_policy;
mod resources;
mod service;

pub use duration::GoDuration;
pub use lifecycle::{
    Build, CredentialSpec, Develop, FileMode, FileReference, Provider, ServiceHook, ServiceModel,
    WatchTrigger,
};
pub use project::{FileObject, Ipam, IpamPool, Network, Project, Volume};
pub use pull_policy::PullPolicy;
pub use resources::{
    BlkioConfig, ByteCount, DeployResources, DeviceMapping, DeviceRequest, GoFloat, Logging,
    Resource, RestartPolicy, ThrottleDevice, Ulimit, WeightDevice,
};
pub use service::{
    BindOptions, DependsOn, Deploy, DeployPlacement, Healthcheck, ImageVolumeOptions,
    PlacementPreference, PortConfig, Service, ServiceNetwork, ServiceVolume, TmpfsOptions,
    UpdateConfig, VolumeOptions,
};

/// `depends_on` condition: the dependency's container has started.
pub const CONDITION_STARTED: &str = "service_started";
/// `depends_on` condition: every container of the dependency reports healthy.
pub const CONDITION_HEALTHY: &str = "service_healthy";
/// `depends_on` condition: the dependency's container exited with code 0.
pub const CONDITION_COMPLETED: &str = "service_completed_successfully";
