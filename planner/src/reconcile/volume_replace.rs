//! Replacing a volume whose config hash changed, with
//! `--allow-volume-replace`, as Docker Compose 2.40.3 does after its prompt
//! is answered yes. Every container that mounts the volume is stopped and
//! removed, and the volume is removed and created again. The services of
//! those containers then create them fresh, numbered from 1, without their
//! anonymous volumes. The volume's data is lost.

use std::collections::{BTreeMap, BTreeSet};

use crate::labels;
use crate::plan::{Action, Reason, ResourceChange, ResourceKind, StepAction, Warning};

use super::containers::{container_ref, number_of};
use super::hooks::service_hooks;
use super::{PlanError, Planner};

/// The containers of one service removed around replaced volumes.
#[derive(Clone, Debug, Default)]
pub(crate) struct VolumeRemovals {
    /// Model keys of the replaced volumes the service mounts.
    pub volumes: BTreeSet<String>,
    /// Ids of the removed containers.
    pub ids: BTreeSet<String>,
    /// Names of the removed containers, by container number.
    pub numbers: BTreeMap<u32, String>,
}

impl Planner<'_> {
    /// Plans, for every diverged volume, the removal of each container
    /// that mounts it, the removal of the volume and its creation.
    /// Containers created later in the plan come after that creation.
    pub(crate) fn plan_volume_replacements(&mut self) -> Result<(), PlanError> {
        let diverged = std::mem::take(&mut self.resource_steps.diverged_volumes);
        for volume in &diverged {
            let name = volume.body.name.clone();
            let mut remove_after = Vec::new();
            // NOTE: a container outside the project that mounts the volume
            // is not observed, so the removal of the volume fails at apply.
            let holders: Vec<_> = self
                .snapshot
                .containers
                .iter()
                .filter(|c| {
                    c.mounts
                        .iter()
                        .any(|m| m.kind == "volume" && m.name == name)
                })
                .collect();
            for container in holders {
                let service = container.label(labels::SERVICE);
                let one_off = container.label(labels::ONEOFF) == "True";
                if one_off || !self.selection.services.contains_key(service) {
                    return Err(PlanError::VolumeInUse {
                        volume: name,
                        container: container.name.clone(),
                    });
                }
                let reference = container_ref(container);
                // Dependents with `restart: true` stop before the container
                // they depend on, as for a replacement.
                let dependents_stopped = self.stop_restart_dependents(service);
                let mut after = Vec::new();
                let stop = format!("container.stop:{}", container.name);
                if self.steps.contains(&stop) {
                    after.push(stop);
                } else if container.state != "exited" && container.state != "created" {
                    after.push(self.steps.create_phase(
                        stop,
                        dependents_stopped,
                        StepAction::StopContainer {
                            container: reference.clone(),
                            timeout_seconds: None,
                            pre_stop: service_hooks(
                                service,
                                &self.selection.services[service].pre_stop,
                            ),
                        },
                    ));
                }
                let removal = format!("container.remove:{}", container.name);
                if !self.steps.contains(&removal) {
                    self.steps.create_phase(
                        removal.clone(),
                        after,
                        StepAction::RemoveContainer {
                            container: reference,
                            remove_volumes: false,
                        },
                    );
                }
                remove_after.push(removal);
                let removals = self.volume_removals.entry(service.to_string()).or_default();
                removals.volumes.insert(volume.key.clone());
                removals.ids.insert(container.id.clone());
                removals
                    .numbers
                    .insert(number_of(container).unwrap_or(0), container.name.clone());
            }
            let remove = self.steps.create_phase(
                format!("volume.remove:{name}"),
                remove_after,
                StepAction::RemoveVolume { name: name.clone() },
            );
            let create = self.steps.create_phase(
                format!("volume.create:{name}"),
                vec![remove],
                StepAction::CreateVolume {
                    name: name.clone(),
                    body: volume.body.clone(),
                },
            );
            self.resource_steps
                .volumes
                .insert(volume.key.clone(), create);
            self.warnings.push(Warning {
                code: "volume_data_lost".into(),
                message: format!(
                    "volume {name} is removed and created again because volumes.{} changed: the data in it will be lost",
                    volume.key
                ),
            });
            self.changes.push(ResourceChange {
                address: format!("volume.{}", volume.key),
                kind: ResourceKind::Volume,
                name,
                service: None,
                action: Action::Replace,
                reasons: vec![Reason::ConfigChanged],
                diffs: Vec::new(),
                caused_by: Vec::new(),
            });
        }
        self.resource_steps.diverged_volumes = diverged;
        Ok(())
    }

    /// Records the removal of the containers of `service` that the volume
    /// replacements removed and that it does not create again (the
    /// service now has fewer containers).
    pub(crate) fn record_volume_removals(
        &mut self,
        service: &str,
        removals: &VolumeRemovals,
        created: &BTreeSet<u32>,
    ) {
        for (number, name) in &removals.numbers {
            if created.contains(number) {
                continue;
            }
            self.changes.push(ResourceChange {
                address: format!("service.{service}[{number}]"),
                kind: ResourceKind::Container,
                name: name.clone(),
                service: Some(service.to_string()),
                action: Action::Remove,
                reasons: vec![Reason::VolumeReplaced],
                diffs: Vec::new(),
                caused_by: removals.volumes.iter().cloned().collect(),
            });
        }
    }
}
