//! Maps one service of the normalized model to the body of
//! `POST /containers/create`, field for field as Docker Compose 2.40.3
//! builds it.
//!
//! Compose fills several lists by iterating Go maps (environment, mounts,
//! the `depends_on` label), so its order varies from run to run. Here those
//! lists are sorted, which the engine treats the same way, so that the same
//! input always gives the same bytes.

#[cfg(test)]
mod content_tests;
mod fields;
mod host;
mod labels;
mod mounts;
mod network;
#[cfg(test)]
mod resource_tests;
mod resources;
mod secrets;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use crate::engine_body::{
    ContainerBody, EmptyObject, EndpointBody, HealthcheckBody, HostConfigBody, LogConfigBody,
    MountBody,
};
use crate::model::{Project, Service};

pub(crate) use labels::COMPOSE_VERSION;
pub use secrets::{copied_files, digested_targets};

/// Everything needed to build the create body of one container.
#[derive(Clone, Copy, Debug)]
pub struct ContainerSpec<'a> {
    /// The project: its name, paths, networks and volumes.
    pub project: &'a Project,
    /// Key of the service in `project.services`.
    pub service_name: &'a str,
    /// The service after the planner resolved references to other
    /// services: `service:X` in `network_mode`, `ipc` and `pid` became
    /// `container:<id>`, and `volumes_from` contains container ids.
    pub service: &'a Service,
    /// Value of `com.docker.compose.container-number`. Number 0 omits the
    /// label.
    pub number: u32,
    /// Final container name. Network aliases use it even when the
    /// container is created under a temporary name before a rename.
    pub name: &'a str,
    /// Value of `com.docker.compose.config-hash`.
    pub config_hash: &'a str,
    /// Local image id for `com.docker.compose.image`, when the image is
    /// present locally.
    pub image_id: Option<&'a str>,
    /// Negotiated Engine API version, such as `1.41`. Below 1.44 the
    /// create body carries only the primary network's endpoint.
    pub api_version: &'a str,
    /// Volumes carried over from the container being replaced. Each one
    /// takes the place of an anonymous service volume at the same target.
    pub inherited_mounts: &'a [MountBody],
    /// Value of `com.docker.compose.replace` on a replacement container:
    /// `container_name` if set, else `<service>-<number>`.
    pub replace: Option<&'a str>,
    /// Names of the current containers of each service named in `links`.
    /// A service missing from the map has no containers, so it adds no
    /// links.
    pub link_targets: &'a BTreeMap<String, Vec<String>>,
}

/// The create call for one container, plus what must follow it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContainerCreate {
    /// Body of `POST /containers/create`.
    pub body: ContainerBody,
    /// Networks to connect right after creation, before the container
    /// starts, as (engine network name, endpoint) in priority order. Only
    /// API versions below 1.44 need them, because those accept a single
    /// endpoint at creation.
    pub later_networks: Vec<(String, EndpointBody)>,
    /// The `platform` query parameter of the create call.
    pub platform: Option<String>,
}

/// Why a service cannot be turned into a create body.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ContainerSpecError {
    /// The model sets a field that berth cannot express in the create
    /// body yet.
    #[error("service `{service}`: `{field}` is not supported yet (value {value})")]
    Unsupported {
        service: String,
        /// Path of the field in the model, such as `volumes[0].bind.recursive`.
        field: String,
        value: String,
    },
    /// The model contains a value that no create body can be built from.
    #[error("service `{service}`: invalid `{field}` value `{value}`: {reason}")]
    Invalid {
        service: String,
        field: String,
        value: String,
        reason: String,
    },
    /// The negotiated API version is not of the form `MAJOR.MINOR`.
    #[error("invalid engine api version `{0}` (expected MAJOR.MINOR, such as 1.41)")]
    ApiVersion(String),
}

impl ContainerSpecError {
    fn unsupported(
        spec: &ContainerSpec,
        field: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        ContainerSpecError::Unsupported {
            service: spec.service_name.to_owned(),
            field: field.into(),
            value: value.into(),
        }
    }

    fn invalid(
        spec: &ContainerSpec,
        field: impl Into<String>,
        value: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        ContainerSpecError::Invalid {
            service: spec.service_name.to_owned(),
            field: field.into(),
            value: value.into(),
            reason: reason.into(),
        }
    }
}

/// Builds the create body of one container of a service, and the network
/// connections that must follow it on API versions below 1.44.
pub fn container_create(spec: &ContainerSpec) -> Result<ContainerCreate, ContainerSpecError> {
    fields::reject_unmapped(spec)?;
    let multiple_endpoints = api_accepts_multiple_endpoints(spec.api_version)?;
    let service = spec.service;

    let links = host::links(spec);
    let networking = network::networking(spec, multiple_endpoints, &links)?;
    let (binds, mounts) = mounts::binds_and_mounts(spec)?;

    let mut host_config = HostConfigBody {
        binds,
        network_mode: Some(networking.network_mode),
        port_bindings: host::port_bindings(service),
        restart_policy: Some(host::restart_policy(service)),
        volumes_from: service.volumes_from.clone(),
        cap_add: host::capabilities(&service.cap_add),
        cap_drop: host::capabilities(&service.cap_drop),
        dns: service.dns.clone(),
        dns_options: service.dns_opt.clone(),
        dns_search: service.dns_search.clone(),
        extra_hosts: host::extra_hosts(spec)?,
        ipc_mode: service.ipc.clone(),
        links,
        pid_mode: service.pid.clone(),
        privileged: service.privileged,
        readonly_rootfs: service.read_only,
        security_opt: host::security_opt(spec)?,
        tmpfs: host::tmpfs(service),
        init: service.init,
        mounts,
        log_config: service.logging.as_ref().map(|logging| LogConfigBody {
            kind: logging.driver.clone().unwrap_or_default(),
            config: logging.options.clone(),
        }),
        uts_mode: service.uts.clone(),
        userns_mode: service.userns_mode.clone(),
        cgroupns_mode: service.cgroup.clone(),
        group_add: service.group_add.clone(),
        oom_score_adj: service.oom_score_adj,
        runtime: service.runtime.clone(),
        isolation: service.isolation.clone(),
        shm_size: service.shm_size.map_or(0, |size| size.0),
        sysctls: service.sysctls.clone(),
        storage_opt: service.storage_opt.clone(),
        annotations: service.annotations.clone(),
        ..HostConfigBody::default()
    };
    resources::apply(service, &mut host_config);

    let body = ContainerBody {
        hostname: service.hostname.clone(),
        domainname: service.domainname.clone(),
        user: service.user.clone(),
        attach_stdout: true,
        attach_stderr: true,
        tty: service.tty,
        open_stdin: service.stdin_open,
        exposed_ports: exposed_ports(service),
        env: environment(service),
        cmd: service.command.clone(),
        healthcheck: healthcheck(spec, multiple_endpoints)?,
        image: image_name(spec),
        working_dir: service.working_dir.clone(),
        entrypoint: service.entrypoint.clone(),
        mac_address: networking.container_mac_address,
        labels: labels::labels(spec),
        stop_signal: service.stop_signal.clone(),
        stop_timeout: service
            .stop_grace_period
            .map(|period| period.whole_seconds()),
        host_config,
        networking_config: networking.config,
    };
    Ok(ContainerCreate {
        body,
        later_networks: networking.later,
        platform: service.platform.clone(),
    })
}

/// Reports whether the API version takes every endpoint in the create body
/// (1.44 and later) rather than only the primary one.
fn api_accepts_multiple_endpoints(version: &str) -> Result<bool, ContainerSpecError> {
    api_at_least(version, (1, 44))
}

/// Reports whether the API version `MAJOR.MINOR` is `minimum` or later.
pub(crate) fn api_at_least(version: &str, minimum: (u32, u32)) -> Result<bool, ContainerSpecError> {
    let invalid = || ContainerSpecError::ApiVersion(version.to_owned());
    let (major, minor) = version.split_once('.').ok_or_else(invalid)?;
    let major: u32 = major.parse().map_err(|_| invalid())?;
    let minor: u32 = minor.parse().map_err(|_| invalid())?;
    Ok((major, minor) >= minimum)
}

/// Returns `image`, or `<project>-<service>`, the name Compose gives an
/// image it builds.
fn image_name(spec: &ContainerSpec) -> String {
    match &spec.service.image {
        Some(image) => image.clone(),
        None => format!("{}-{}", spec.project.name, spec.service_name),
    }
}

/// Returns `NAME=value` entries, and a bare `NAME` for a variable without
/// a value, sorted by name.
///
/// NOTE: Compose also adds the proxy variables of the Docker CLI
/// configuration (`~/.docker/config.json`) that the service does not set.
/// The planner reads no files, so those are missing here.
fn environment(service: &Service) -> Vec<String> {
    service
        .environment
        .iter()
        .map(|(name, value)| match value {
            Some(value) => format!("{name}={value}"),
            None => name.clone(),
        })
        .collect()
}

/// Returns the `expose` entries as written (`5000` stays without a
/// protocol) and `<target>/<protocol>` for every published port.
fn exposed_ports(service: &Service) -> BTreeMap<String, EmptyObject> {
    let exposed = service.expose.iter().cloned();
    let published = service
        .ports
        .iter()
        .map(|port| format!("{}/{}", port.target, port.protocol));
    exposed
        .chain(published)
        .map(|key| (key, EmptyObject {}))
        .collect()
}

/// Converts the healthcheck to nanoseconds. Without a `healthcheck` key the
/// body has none, so the image's own healthcheck applies.
fn healthcheck(
    spec: &ContainerSpec,
    start_interval_supported: bool,
) -> Result<Option<HealthcheckBody>, ContainerSpecError> {
    let Some(check) = &spec.service.healthcheck else {
        return Ok(None);
    };
    let nanos = |duration: Option<crate::model::GoDuration>| duration.map_or(0, |d| d.0);

    // Compose rejects `start_interval` before API 1.44, which introduced
    // it, and without `start_period`, because the engine ignores it then.
    if let Some(start_interval) = check.start_interval {
        if !start_interval_supported {
            return Err(ContainerSpecError::invalid(
                spec,
                "healthcheck.start_interval",
                start_interval.to_string(),
                format!(
                    "needs engine api 1.44 or later, the engine has {}",
                    spec.api_version
                ),
            ));
        }
        if check.start_period.is_none() {
            return Err(ContainerSpecError::invalid(
                spec,
                "healthcheck.start_interval",
                start_interval.to_string(),
                "needs `healthcheck.start_period` to be set",
            ));
        }
    }

    let test = if check.disable {
        vec!["NONE".to_owned()]
    } else {
        check.test.clone().unwrap_or_default()
    };
    let retries = match check.retries {
        Some(retries) => i64::try_from(retries).map_err(|_| {
            ContainerSpecError::invalid(
                spec,
                "healthcheck.retries",
                retries.to_string(),
                "too large",
            )
        })?,
        None => 0,
    };
    Ok(Some(HealthcheckBody {
        test,
        interval: nanos(check.interval),
        timeout: nanos(check.timeout),
        start_period: nanos(check.start_period),
        start_interval: nanos(check.start_interval),
        retries,
    }))
}
