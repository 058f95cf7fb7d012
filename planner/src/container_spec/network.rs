//! `NetworkMode`, the endpoints of each network, and the MAC address.

use std::collections::BTreeMap;

use crate::engine_body::{EndpointBody, EndpointIpamBody, NetworkingConfigBody};
use crate::model::ServiceNetwork;

use super::{ContainerSpec, ContainerSpecError};

/// How the container attaches to networks.
pub(super) struct Networking {
    pub network_mode: String,
    /// Endpoints sent in the create body, or `None` when `network_mode` is
    /// set or the project has no networks.
    pub config: Option<NetworkingConfigBody>,
    /// Endpoints to connect after creation, on API versions below 1.44.
    pub later: Vec<(String, EndpointBody)>,
    /// Container-wide `MacAddress`, used only below API 1.44.
    pub container_mac_address: Option<String>,
}

/// Chooses the primary network and builds the endpoints. The primary
/// network has the highest `priority`, ties going to the model key that
/// sorts first, and gives `NetworkMode` its engine name.
pub(super) fn networking(
    spec: &ContainerSpec,
    multiple_endpoints: bool,
    links: &[String],
) -> Result<Networking, ContainerSpecError> {
    let service = spec.service;
    let by_priority = networks_by_priority(&service.networks);
    // A service without networks joins `default`, as in Compose.
    let primary = by_priority.first().map_or("default", |(key, _)| key);
    let primary_config = by_priority.first().and_then(|(_, config)| *config);

    let container_mac_address = container_mac_address(spec, &by_priority, multiple_endpoints)?;

    if let Some(mode) = &service.network_mode {
        if mode == "disabled" {
            // Compose sends `NetworkDisabled: true`, which the body lacks.
            return Err(ContainerSpecError::unsupported(spec, "network_mode", mode));
        }
        return Ok(Networking {
            network_mode: mode.clone(),
            config: None,
            later: Vec::new(),
            container_mac_address,
        });
    }
    if spec.project.networks.is_empty() {
        return Ok(Networking {
            network_mode: "none".to_owned(),
            config: None,
            later: Vec::new(),
            container_mac_address,
        });
    }

    let primary_name = engine_network_name(spec, primary)?;
    let mut primary_endpoint = endpoint(spec, primary_config, links)?;
    let mut endpoints = BTreeMap::new();
    let mut later = Vec::new();
    for (key, config) in by_priority.iter().skip(1) {
        let name = engine_network_name(spec, key)?;
        let endpoint = endpoint(spec, *config, links)?;
        if multiple_endpoints {
            endpoints.insert(name, endpoint);
        } else {
            later.push((name, endpoint));
        }
    }
    // From API 1.44 the service-wide MAC address moves to the primary
    // endpoint, unless that endpoint sets its own.
    if multiple_endpoints && primary_endpoint.mac_address.is_none() {
        primary_endpoint.mac_address = service.mac_address.clone();
    }
    endpoints.insert(primary_name.clone(), primary_endpoint);

    Ok(Networking {
        network_mode: primary_name,
        config: Some(NetworkingConfigBody {
            endpoints_config: endpoints,
        }),
        later,
        container_mac_address,
    })
}

/// Sorts the service's networks by descending priority, then by key.
fn networks_by_priority(
    networks: &BTreeMap<String, Option<ServiceNetwork>>,
) -> Vec<(&str, Option<&ServiceNetwork>)> {
    let mut sorted: Vec<(&str, Option<&ServiceNetwork>)> = networks
        .iter()
        .map(|(key, config)| (key.as_str(), config.as_ref()))
        .collect();
    let priority = |config: Option<&ServiceNetwork>| config.map_or(0, |c| c.priority);
    // The sort is stable and the map iterates keys in ascending order, so
    // networks of equal priority keep that order.
    sorted.sort_by_key(|(_, config)| std::cmp::Reverse(priority(*config)));
    sorted
}

/// Returns the container-wide MAC address, set only below API 1.44: the
/// primary network's `mac_address`, else the service's. Fails where
/// Compose does: when the service's address differs from the primary
/// network's, and, below 1.44, when more than one network sets one.
///
/// With `network_mode` set and API 1.44 or later, Compose drops the
/// service's `mac_address`, and so does this function.
fn container_mac_address(
    spec: &ContainerSpec,
    by_priority: &[(&str, Option<&ServiceNetwork>)],
    multiple_endpoints: bool,
) -> Result<Option<String>, ContainerSpecError> {
    let service_mac = spec.service.mac_address.as_deref();
    let primary_mac = by_priority
        .first()
        .and_then(|(_, config)| *config)
        .and_then(|config| config.mac_address.as_deref());

    if let (Some(service_mac), Some(primary_mac)) = (service_mac, primary_mac) {
        if service_mac != primary_mac {
            return Err(ContainerSpecError::invalid(
                spec,
                "mac_address",
                service_mac,
                format!("differs from `{primary_mac}` set on the primary network"),
            ));
        }
    }
    if multiple_endpoints {
        return Ok(None);
    }

    let with_mac: Vec<&str> = by_priority
        .iter()
        .filter(|(_, config)| config.is_some_and(|c| c.mac_address.is_some()))
        .map(|(key, _)| *key)
        .collect();
    if with_mac.len() > 1 {
        return Err(ContainerSpecError::invalid(
            spec,
            "networks",
            with_mac.join(", "),
            format!(
                "a mac_address on more than one network needs engine api 1.44 or later, \
                 the engine has {}",
                spec.api_version
            ),
        ));
    }
    Ok(primary_mac.or(service_mac).map(str::to_owned))
}

fn engine_network_name(spec: &ContainerSpec, key: &str) -> Result<String, ContainerSpecError> {
    match spec.project.networks.get(key) {
        Some(network) => Ok(network.name.clone()),
        None => Err(ContainerSpecError::invalid(
            spec,
            "networks",
            key,
            "not declared in the project's networks",
        )),
    }
}

/// Builds one endpoint. Its aliases are the final container name, the
/// service name and the declared aliases, in that order. `IPAMConfig` is
/// present, possibly empty, whenever the service gives the network an
/// options object. `interface_name` becomes a driver option, which
/// engines before API 1.49 do not know.
fn endpoint(
    spec: &ContainerSpec,
    config: Option<&ServiceNetwork>,
    links: &[String],
) -> Result<EndpointBody, ContainerSpecError> {
    let mut aliases = vec![spec.name.to_owned(), spec.service_name.to_owned()];
    let mut driver_opts = BTreeMap::new();
    if let Some(config) = config {
        aliases.extend(config.aliases.iter().cloned());
        driver_opts.clone_from(&config.driver_opts);
        if let Some(name) = &config.interface_name {
            if !super::api_at_least(spec.api_version, (1, 49))? {
                return Err(ContainerSpecError::invalid(
                    spec,
                    "networks.interface_name",
                    name,
                    format!(
                        "needs engine api 1.49 or later, the engine has {}",
                        spec.api_version
                    ),
                ));
            }
            driver_opts.insert(
                "com.docker.network.endpoint.ifname".to_owned(),
                name.clone(),
            );
        }
    }
    Ok(EndpointBody {
        ipam_config: config.map(|config| EndpointIpamBody {
            ipv4_address: config.ipv4_address.clone(),
            ipv6_address: config.ipv6_address.clone(),
            link_local_ips: config.link_local_ips.clone(),
        }),
        links: links.to_vec(),
        aliases,
        mac_address: config.and_then(|config| config.mac_address.clone()),
        driver_opts,
        gw_priority: config.map_or(0, |config| config.gw_priority),
    })
}
