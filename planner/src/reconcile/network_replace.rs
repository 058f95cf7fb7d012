//! Replacing a network whose config hash changed, without replacing the
//! containers attached to it.
//!
//! Docker Compose 2.40.3 stops the attached containers, removes and creates
//! the network, and connects the containers again with no endpoint
//! settings, so they lose their aliases and static addresses on it.
//!
//! berth disconnects every attached container, and running ones keep
//! running. It removes the network and creates it with its new config.
//! Then it connects each container that the plan keeps with the endpoint
//! its service's model gives it: aliases, addresses, link-local IPs, driver
//! options, gateway priority, MAC address and links.
//!
//! NOTE: because running containers keep running, none of them runs its
//! `pre_stop` or `post_start` hooks here, while Compose runs both around
//! the stop and the start again.

use std::collections::BTreeSet;

use crate::container_spec::{ContainerSpec, container_create};
use crate::engine_body::EndpointBody;
use crate::labels;
use crate::plan::{Action, Reason, ResourceChange, ResourceKind, StepAction, Warning};

use super::containers::number_of;
use super::resources::DivergedNetwork;
use super::{PlanError, Planner};

impl Planner<'_> {
    /// Plans, for every diverged network, the disconnection of each
    /// attached container, the removal and the creation. Containers
    /// created later in the plan come after that creation.
    pub(crate) fn plan_network_replacements(&mut self) {
        let diverged = std::mem::take(&mut self.resource_steps.diverged_networks);
        for network in &diverged {
            let name = network.observed.name.clone();
            let mut remove_after = Vec::new();
            for container in &self.attached_containers(network) {
                // A container already removed by this point (around a
                // replaced volume) needs no disconnection.
                let removal = format!("container.remove:{container}");
                if self.steps.contains(&removal) {
                    remove_after.push(removal);
                    continue;
                }
                let id = self.steps.create_phase(
                    format!("network.disconnect:{container}:{name}"),
                    Vec::new(),
                    StepAction::DisconnectNetwork {
                        container: container.clone(),
                        network: name.clone(),
                    },
                );
                self.resource_steps
                    .disconnects
                    .entry(container.clone())
                    .or_default()
                    .push(id.clone());
                remove_after.push(id);
            }
            let remove = self.steps.create_phase(
                format!("network.remove:{name}"),
                remove_after,
                StepAction::RemoveNetwork {
                    name: name.clone(),
                    id: network.observed.id.clone(),
                },
            );
            let create = self.steps.create_phase(
                format!("network.create:{name}"),
                vec![remove],
                StepAction::CreateNetwork {
                    name: name.clone(),
                    body: network.body.clone(),
                },
            );
            self.resource_steps
                .networks
                .insert(network.key.clone(), create);
            self.changes.push(ResourceChange {
                address: format!("network.{}", network.key),
                kind: ResourceKind::Network,
                name,
                service: None,
                action: Action::Replace,
                reasons: vec![Reason::ConfigChanged],
                diffs: Vec::new(),
                caused_by: Vec::new(),
            });
        }
        self.resource_steps.diverged_networks = diverged;
    }

    /// Connects every container disconnected from a replaced network again,
    /// once the network exists, unless the plan removes the container.
    /// Runs after the create phase of every service, when it is known which
    /// containers stay.
    pub(crate) fn plan_reconnects(&mut self) -> Result<(), PlanError> {
        let diverged = std::mem::take(&mut self.resource_steps.diverged_networks);
        for network in &diverged {
            let name = &network.observed.name;
            let create = format!("network.create:{name}");
            // Kept containers of the network's services are connected even
            // when they are not attached now, as after an interrupted apply
            // that disconnected them.
            let mut containers = self.attached_containers(network);
            for (service_name, service) in &self.selection.services {
                if !service.networks.contains_key(&network.key) {
                    continue;
                }
                let kept = self.converged.get(service_name).into_iter().flatten();
                containers.extend(kept.filter(|c| c.id.is_some()).map(|c| c.name.clone()));
            }
            for container in &containers {
                if self
                    .steps
                    .contains(&format!("container.remove:{container}"))
                {
                    continue;
                }
                let endpoint = self.reconnect_endpoint(container, network)?;
                self.steps.create_phase(
                    format!("network.reconnect:{container}:{name}"),
                    vec![create.clone()],
                    StepAction::ConnectNetwork {
                        container: container.clone(),
                        network: name.clone(),
                        endpoint,
                    },
                );
            }
        }
        self.resource_steps.diverged_networks = diverged;
        Ok(())
    }

    /// Returns the endpoint a container is connected with again: the one
    /// its service's model gives it, else the aliases the engine reported,
    /// else none. The last two cases are warned about.
    fn reconnect_endpoint(
        &mut self,
        container: &str,
        network: &DivergedNetwork,
    ) -> Result<EndpointBody, PlanError> {
        let network_name = &network.observed.name;
        let observed = self
            .snapshot
            .containers
            .iter()
            .find(|c| c.name == container);
        let Some(observed) = observed else {
            self.warnings.push(Warning {
                code: "network_reconnect_bare".into(),
                message: format!(
                    "container {container} is not part of the project; it is reconnected to network {network_name} without its previous aliases or addresses"
                ),
            });
            return Ok(EndpointBody::default());
        };
        let service_name = observed.label(labels::SERVICE);
        let one_off = observed.label(labels::ONEOFF) == "True";
        let service = self
            .selection
            .services
            .get(service_name)
            .or_else(|| self.project.services.get(service_name));
        if let (Some(service), false) = (service, one_off) {
            let link_targets = self.link_targets(service);
            let create = container_create(&ContainerSpec {
                project: self.project,
                service_name,
                service,
                number: number_of(observed).unwrap_or(0),
                name: container,
                config_hash: observed.label(labels::CONFIG_HASH),
                image_id: None,
                api_version: &self.snapshot.engine.api_version,
                inherited_mounts: &[],
                replace: None,
                link_targets: &link_targets,
            })
            .map_err(|source| PlanError::ContainerSpec {
                service: service_name.to_string(),
                message: source.to_string(),
            })?;
            let in_body = create
                .body
                .networking_config
                .and_then(|config| config.endpoints_config.get(network_name).cloned());
            let later = create
                .later_networks
                .into_iter()
                .find(|(name, _)| name == network_name)
                .map(|(_, endpoint)| endpoint);
            if let Some(endpoint) = in_body.or(later) {
                return Ok(endpoint);
            }
        }
        self.warnings.push(Warning {
            code: "network_reconnect_observed".into(),
            message: format!(
                "the compose files give container {container} no endpoint on network {network_name} (a one-off or orphan container); it is reconnected with the aliases the engine reported"
            ),
        });
        let aliases = observed
            .networks
            .get(network_name)
            .map(|endpoint| endpoint.aliases.clone())
            .unwrap_or_default();
        Ok(EndpointBody {
            aliases,
            ..EndpointBody::default()
        })
    }

    /// Returns the names of the containers attached to a network. The
    /// engine lists only running containers on a network, so stopped
    /// containers of the project whose settings name it are added.
    fn attached_containers(&self, network: &DivergedNetwork) -> BTreeSet<String> {
        let mut names: BTreeSet<String> = network.observed.containers.iter().cloned().collect();
        for container in &self.snapshot.containers {
            if container.networks.contains_key(&network.observed.name) {
                names.insert(container.name.clone());
            }
        }
        names
    }

    /// Returns whether this plan replaces the network of model key `key`.
    pub(crate) fn network_replaced(&self, key: &str) -> bool {
        self.resource_steps
            .diverged_networks
            .iter()
            .any(|network| network.key == key)
    }

    /// Returns the disconnection steps of a container, which a step that
    /// removes it must come after.
    pub(crate) fn disconnects_of(&self, container: &str) -> Vec<String> {
        self.resource_steps
            .disconnects
            .get(container)
            .cloned()
            .unwrap_or_default()
    }
}
