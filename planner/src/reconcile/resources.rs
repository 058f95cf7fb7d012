//! Networks and volumes: checked against what the engine has, created when
//! missing, before any container that needs them.

use std::collections::{BTreeMap, BTreeSet};

use crate::container_spec::api_at_least;
use crate::engine_body::{IpamPoolBody, NetworkBody, NetworkIpamBody, VolumeBody};
use crate::hash::{network_config_hash, volume_config_hash};
use crate::labels;
use crate::model::{Network, Project, Service, Volume};
use crate::plan::{Action, PlanOptions, Reason, ResourceChange, ResourceKind, StepAction, Warning};
use crate::snapshot::{ObservedNetwork, Snapshot};

use super::PlanError;
use super::steps::StepList;

/// Step ids that create networks and volumes, by model key, so that
/// container creations can depend on them.
#[derive(Default)]
pub(crate) struct ResourceSteps {
    pub networks: BTreeMap<String, String>,
    pub volumes: BTreeMap<String, String>,
    /// Networks whose config hash changed; their replacement is planned
    /// once it is known which containers stay.
    pub diverged_networks: Vec<DivergedNetwork>,
    /// Volumes whose config hash changed, with `--allow-volume-replace`.
    pub diverged_volumes: Vec<DivergedVolume>,
    /// Network disconnections of each container, by container name. A
    /// step that removes the container comes after them.
    pub disconnects: BTreeMap<String, Vec<String>>,
}

/// A network to remove and create again, with the body to create it with.
pub(crate) struct DivergedNetwork {
    pub key: String,
    pub observed: ObservedNetwork,
    pub body: NetworkBody,
}

/// A volume to remove and create again, with the body to create it with.
pub(crate) struct DivergedVolume {
    pub key: String,
    pub body: VolumeBody,
}

/// Network and volume keys that the selected services use.
pub(crate) fn used_keys(
    services: &BTreeMap<String, Service>,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut networks = BTreeSet::new();
    let mut volumes = BTreeSet::new();
    for service in services.values() {
        networks.extend(service.networks.keys().cloned());
        for volume in &service.volumes {
            if volume.kind == "volume"
                && let Some(source) = &volume.source
            {
                volumes.insert(source.clone());
            }
        }
    }
    (networks, volumes)
}

/// Returns `EnableIPv4` for the create body. Engines before API 1.47 do
/// not know the field and keep IPv4 on, so turning it off needs a newer
/// engine. Leaving it on, the default, works on any engine.
fn enable_ipv4(
    key: &str,
    network: &Network,
    snapshot: &Snapshot,
) -> Result<Option<bool>, PlanError> {
    let api = &snapshot.engine.api_version;
    let known = api_at_least(api, (1, 47)).unwrap_or(false);
    match network.enable_ipv4 {
        Some(false) if !known => Err(PlanError::Ipv4OffNeedsNewerEngine {
            network: key.to_owned(),
            api: api.clone(),
        }),
        value if known => Ok(value),
        _ => Ok(None),
    }
}

/// Checks every used network and volume and plans the missing ones.
pub(crate) fn plan_resources(
    project: &Project,
    services: &BTreeMap<String, Service>,
    options: &PlanOptions,
    snapshot: &Snapshot,
    steps: &mut StepList,
    changes: &mut Vec<ResourceChange>,
    warnings: &mut Vec<Warning>,
) -> Result<ResourceSteps, PlanError> {
    let (network_keys, volume_keys) = used_keys(services);
    let mut created = ResourceSteps::default();
    for key in network_keys {
        let Some(network) = project.networks.get(&key) else {
            return Err(PlanError::UndefinedNetwork { network: key });
        };
        if network.name.is_empty() {
            return Err(PlanError::EmptyResourceName {
                kind: "network",
                key,
            });
        }
        if let Some(id) = plan_network(
            project,
            &key,
            network,
            snapshot,
            steps,
            changes,
            warnings,
            &mut created,
        )? {
            created.networks.insert(key, id);
        }
    }
    for key in volume_keys {
        let Some(volume) = project.volumes.get(&key) else {
            return Err(PlanError::UndefinedVolume { volume: key });
        };
        if volume.name.is_empty() {
            return Err(PlanError::EmptyResourceName {
                kind: "volume",
                key,
            });
        }
        let allow_replace = options.allow_volume_replace;
        if let Some(id) = plan_volume(
            project,
            &key,
            volume,
            snapshot,
            steps,
            changes,
            warnings,
            allow_replace.then_some(&mut created),
        )? {
            created.volumes.insert(key, id);
        }
    }
    Ok(created)
}

#[expect(
    clippy::too_many_arguments,
    reason = "one call site; the planner's state is passed piecewise"
)]
fn plan_network(
    project: &Project,
    key: &str,
    network: &Network,
    snapshot: &Snapshot,
    steps: &mut StepList,
    changes: &mut Vec<ResourceChange>,
    warnings: &mut Vec<Warning>,
    created: &mut ResourceSteps,
) -> Result<Option<String>, PlanError> {
    let observed = snapshot.networks.get(&network.name);
    if network.external {
        return match observed {
            Some(_) => Ok(None),
            None => Err(PlanError::ExternalNetworkMissing {
                network: network.name.clone(),
            }),
        };
    }
    if let Some(observed) = observed {
        let label = |name: &str| observed.labels.get(name).map(String::as_str).unwrap_or("");
        warn_about_owner(
            "network",
            key,
            &network.name,
            label(labels::PROJECT),
            project,
            warnings,
        );
        let actual = label(labels::NETWORK);
        if actual != key {
            return Err(PlanError::NetworkLabelMismatch {
                network: network.name.clone(),
                actual: actual.to_string(),
                expected: key.to_string(),
            });
        }
        let hash = label(labels::CONFIG_HASH);
        if !hash.is_empty() && hash != network_config_hash(network) {
            created.diverged_networks.push(DivergedNetwork {
                key: key.to_string(),
                observed: observed.clone(),
                body: network_body(project, key, network, snapshot)?,
            });
        }
        return Ok(None);
    }
    let body = network_body(project, key, network, snapshot)?;
    let id = steps.create_phase(
        format!("network.create:{}", network.name),
        Vec::new(),
        StepAction::CreateNetwork {
            name: network.name.clone(),
            body,
        },
    );
    changes.push(ResourceChange {
        address: format!("network.{key}"),
        kind: ResourceKind::Network,
        name: network.name.clone(),
        service: None,
        action: Action::Create,
        reasons: vec![Reason::Missing],
        diffs: Vec::new(),
        caused_by: Vec::new(),
    });
    Ok(Some(id))
}

/// Plans one volume. `replace` is given with `--allow-volume-replace`: a
/// volume whose config changed is recorded there instead of kept.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site; the planner's state is passed piecewise"
)]
fn plan_volume(
    project: &Project,
    key: &str,
    volume: &Volume,
    snapshot: &Snapshot,
    steps: &mut StepList,
    changes: &mut Vec<ResourceChange>,
    warnings: &mut Vec<Warning>,
    replace: Option<&mut ResourceSteps>,
) -> Result<Option<String>, PlanError> {
    let observed = snapshot.volumes.get(&volume.name);
    if volume.external {
        return match observed {
            Some(_) => Ok(None),
            None => Err(PlanError::ExternalVolumeMissing {
                volume: volume.name.clone(),
            }),
        };
    }
    if let Some(observed) = observed {
        let label = |name: &str| observed.labels.get(name).map(String::as_str).unwrap_or("");
        warn_about_owner(
            "volume",
            key,
            &volume.name,
            label(labels::PROJECT),
            project,
            warnings,
        );
        let hash = label(labels::CONFIG_HASH);
        if !hash.is_empty() && hash != volume_config_hash(volume) {
            // Replacing a volume loses its data, so berth keeps it unless
            // the plan is made with `--allow-volume-replace`.
            match replace {
                Some(replace) => replace.diverged_volumes.push(DivergedVolume {
                    key: key.to_string(),
                    body: volume_body(project, key, volume),
                }),
                None => warnings.push(Warning {
                    code: "volume_config_changed".into(),
                    message: format!(
                        "volume {} differs from volumes.{key} in the compose files; berth keeps it and its data (plan with --allow-volume-replace to replace it, losing its data)",
                        volume.name
                    ),
                }),
            }
        }
        return Ok(None);
    }
    let body = volume_body(project, key, volume);
    let id = steps.create_phase(
        format!("volume.create:{}", volume.name),
        Vec::new(),
        StepAction::CreateVolume {
            name: volume.name.clone(),
            body,
        },
    );
    changes.push(ResourceChange {
        address: format!("volume.{key}"),
        kind: ResourceKind::Volume,
        name: volume.name.clone(),
        service: None,
        action: Action::Create,
        reasons: vec![Reason::Missing],
        diffs: Vec::new(),
        caused_by: Vec::new(),
    });
    Ok(Some(id))
}

/// Builds the create body of a network: its settings, its labels and the
/// labels Compose adds, config hash included.
pub(crate) fn network_body(
    project: &Project,
    key: &str,
    network: &Network,
    snapshot: &Snapshot,
) -> Result<NetworkBody, PlanError> {
    let mut labels = network.labels.clone();
    labels.insert(labels::CONFIG_HASH.into(), network_config_hash(network));
    labels.insert(labels::NETWORK.into(), key.into());
    labels.insert(labels::PROJECT.into(), project.name.clone());
    labels.insert(labels::VERSION.into(), labels::COMPOSE_VERSION.into());
    let ipam = (network.ipam.driver.is_some() || !network.ipam.config.is_empty()).then(|| {
        NetworkIpamBody {
            driver: network.ipam.driver.clone(),
            config: network
                .ipam
                .config
                .iter()
                .map(|pool| IpamPoolBody {
                    subnet: pool.subnet.clone(),
                    ip_range: pool.ip_range.clone(),
                    gateway: pool.gateway.clone(),
                    aux_address: pool.aux_addresses.clone(),
                })
                .collect(),
        }
    });
    Ok(NetworkBody {
        name: network.name.clone(),
        driver: network.driver.clone(),
        internal: network.internal,
        attachable: network.attachable,
        enable_ipv4: enable_ipv4(key, network, snapshot)?,
        enable_ipv6: network.enable_ipv6,
        ipam,
        options: network.driver_opts.clone(),
        labels,
    })
}

/// Builds the create body of a volume: its settings, its labels and the
/// labels Compose adds, config hash included.
pub(crate) fn volume_body(project: &Project, key: &str, volume: &Volume) -> VolumeBody {
    let mut labels = volume.labels.clone();
    labels.insert(labels::CONFIG_HASH.into(), volume_config_hash(volume));
    labels.insert(labels::PROJECT.into(), project.name.clone());
    labels.insert(labels::VERSION.into(), labels::COMPOSE_VERSION.into());
    labels.insert(labels::VOLUME.into(), key.into());
    VolumeBody {
        name: volume.name.clone(),
        driver: volume.driver.clone(),
        driver_opts: volume.driver_opts.clone(),
        labels,
    }
}

/// Warns when an existing network or volume was not created by Compose
/// (`owner` is empty) or belongs to another project; berth uses it as it is
/// in both cases, as Docker Compose does.
fn warn_about_owner(
    kind: &str,
    key: &str,
    name: &str,
    owner: &str,
    project: &Project,
    warnings: &mut Vec<Warning>,
) {
    if owner.is_empty() {
        warnings.push(Warning {
            code: format!("{kind}_not_created_by_compose"),
            message: format!(
                "{kind} {name} exists but was not created by Compose; set `external: true` on {kind}s.{key} to use it as it is"
            ),
        });
    } else if owner != project.name {
        warnings.push(Warning {
            code: format!("{kind}_foreign_project"),
            message: format!(
                "{kind} {name} was created for project {owner:?}, not {:?}; berth uses it as it is",
                project.name
            ),
        });
    }
}
