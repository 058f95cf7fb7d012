//! Turning the engine's container inspection into berth's
//! [`ObservedContainer`], the only place where bollard's container model
//! meets the snapshot.

use std::collections::BTreeMap;

use berth_planner::snapshot::{ObservedConfig, ObservedContainer, ObservedEndpoint, ObservedMount};
use bollard::models::{ContainerInspectResponse, HealthStatusEnum, PortMap};

/// Label naming the project a resource belongs to.
pub const PROJECT_LABEL: &str = "com.docker.compose.project";
/// Label holding a container's config hash; without it a container is
/// not part of the project.
pub const CONFIG_HASH_LABEL: &str = "com.docker.compose.config-hash";

/// Converts an inspection into an observed container.
pub(crate) fn observed_container(inspect: ContainerInspectResponse) -> ObservedContainer {
    let state = inspect.state.unwrap_or_default();
    let health = state
        .health
        .and_then(|health| health.status)
        .and_then(|status| match status {
            HealthStatusEnum::EMPTY | HealthStatusEnum::NONE => None,
            other => Some(other.to_string()),
        });
    let config = inspect.config.unwrap_or_default();
    let host_config = inspect.host_config.unwrap_or_default();

    let mut mounts: Vec<ObservedMount> = inspect
        .mounts
        .unwrap_or_default()
        .into_iter()
        .map(|mount| {
            let kind = mount.typ.unwrap_or_default();
            let is_bind = kind == "bind";
            ObservedMount {
                name: mount.name.unwrap_or_default(),
                source: if is_bind {
                    mount.source.unwrap_or_default()
                } else {
                    String::new()
                },
                destination: mount.destination.unwrap_or_default(),
                read_write: mount.rw.unwrap_or(false),
                kind,
            }
        })
        .collect();
    mounts.sort_by(|a, b| a.destination.cmp(&b.destination));

    let networks: BTreeMap<String, ObservedEndpoint> = inspect
        .network_settings
        .and_then(|settings| settings.networks)
        .unwrap_or_default()
        .into_iter()
        .map(|(name, endpoint)| {
            let observed = ObservedEndpoint {
                network_id: endpoint.network_id.unwrap_or_default(),
                aliases: endpoint.aliases.unwrap_or_default(),
            };
            (name, observed)
        })
        .collect();

    let environment = config
        .env
        .unwrap_or_default()
        .into_iter()
        .map(|entry| match entry.split_once('=') {
            Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
            None => (entry, None),
        })
        .collect();

    let observed_config = ObservedConfig {
        image: config.image.unwrap_or_default(),
        command: config.cmd,
        entrypoint: config.entrypoint,
        environment,
        user: config.user.unwrap_or_default(),
        working_dir: config.working_dir.unwrap_or_default(),
        hostname: config.hostname.unwrap_or_default(),
        restart: host_config
            .restart_policy
            .and_then(|policy| policy.name)
            .map(|name| name.to_string())
            .unwrap_or_default(),
        ports: published_ports(host_config.port_bindings.unwrap_or_default()),
        healthcheck: config.healthcheck.and_then(|check| check.test),
    };

    ObservedContainer {
        id: inspect.id.unwrap_or_default(),
        name: inspect
            .name
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_owned(),
        labels: config.labels.unwrap_or_default().into_iter().collect(),
        state: state
            .status
            .map(|status| status.to_string())
            .unwrap_or_default(),
        health,
        exit_code: state.exit_code.unwrap_or(0),
        image_id: inspect.image.unwrap_or_default(),
        mounts,
        networks,
        config: observed_config,
        // Filled in afterwards, only for containers without berth's label.
        content_digests: Default::default(),
    }
}

/// Port bindings as sorted `[ip:]host:container/proto` strings; an
/// ephemeral host port leaves the host part empty (`:80/tcp`).
fn published_ports(bindings: PortMap) -> Vec<String> {
    let mut ports = Vec::new();
    for (container_port, host_bindings) in bindings {
        for binding in host_bindings.unwrap_or_default() {
            let host_port = binding.host_port.unwrap_or_default();
            let port = match binding.host_ip.as_deref() {
                Some(ip) if !ip.is_empty() => format!("{ip}:{host_port}:{container_port}"),
                _ => format!("{host_port}:{container_port}"),
            };
            ports.push(port);
        }
    }
    ports.sort();
    ports
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::PortBinding;

    #[test]
    fn published_ports_are_sorted_strings() {
        let bindings = PortMap::from([
            (
                "80/tcp".to_owned(),
                Some(vec![PortBinding {
                    host_ip: Some("127.0.0.1".to_owned()),
                    host_port: Some("8080".to_owned()),
                }]),
            ),
            (
                "53/udp".to_owned(),
                Some(vec![PortBinding {
                    host_ip: Some(String::new()),
                    host_port: Some("5353".to_owned()),
                }]),
            ),
            ("9000/tcp".to_owned(), None),
        ]);
        assert_eq!(
            published_ports(bindings),
            vec!["127.0.0.1:8080:80/tcp", "5353:53/udp"]
        );
    }
}
