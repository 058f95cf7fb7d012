//! The create phase for one service: which containers to keep, replace,
//! create and remove, in the order Docker Compose 2.40.3 converges them.

use std::collections::BTreeMap;

use tracing::debug;

use crate::container_spec::{ContainerSpec, container_create};
use crate::engine_body::{ContainerBody, MountBody};
use crate::labels;
use crate::model::{CONDITION_COMPLETED, Service};
use crate::plan::{Action, ContainerRef, Reason, ResourceChange, ResourceKind, StepAction};
use crate::snapshot::ObservedContainer;

use super::diff::replacement_diffs;
use super::references::{ResolvedService, resolve_references};
use super::selection::RecreateStrategy;
use super::{PlanError, Planner};

/// A container of a service as it will be once the plan is applied.
#[derive(Clone, Debug)]
pub(crate) struct FinalContainer {
    pub name: String,
    /// Id of a container that exists now and is kept.
    pub id: Option<String>,
    /// Whether the start phase must start it.
    pub needs_start: bool,
    /// Whether it is paused and must be unpaused.
    pub needs_unpause: bool,
}

/// How one observed container compares with the model.
struct Verdict {
    obsolete: bool,
    reasons: Vec<Reason>,
}

impl Planner<'_> {
    /// Plans the create phase of one service.
    pub(crate) fn plan_service(&mut self, name: &str) -> Result<(), PlanError> {
        let service = self.selection.services[name].clone();
        let service = &service;
        let expected = self.selection.scale[name];
        let strategy = self.selection.strategy(name, self.options);
        let resolved = resolve_references(name, service, &self.converged, &self.replaced);
        let image = service_image(&self.project.name, name, service);
        let expected_image = self
            .snapshot
            .images
            .get(&image)
            .map(|image| image.id.clone());

        let mut observed: Vec<&ObservedContainer> = self
            .snapshot
            .containers
            .iter()
            .filter(|c| c.label(labels::SERVICE) == name && c.label(labels::ONEOFF) != "True")
            .collect();
        let next_number = observed
            .iter()
            .filter_map(|c| number_of(c))
            .max()
            .unwrap_or(0)
            + 1;

        let mut verdicts: BTreeMap<String, Verdict> = BTreeMap::new();
        for container in &observed {
            let verdict = self.judge(
                container,
                service,
                &resolved,
                expected_image.as_deref(),
                strategy,
            );
            if verdict.obsolete {
                debug!(container = %container.name, reasons = ?verdict.reasons, "container diverged");
            }
            verdicts.insert(container.id.clone(), verdict);
        }
        // Up-to-date containers first, then obsolete ones, each by number:
        // scaling down removes obsolete containers first, then the highest
        // numbers.
        observed.sort_by_key(|c| {
            (
                verdicts[&c.id].obsolete,
                number_of(c).unwrap_or(u32::MAX),
                c.name.clone(),
            )
        });

        let keep = usize::try_from(expected).unwrap_or(usize::MAX);
        let mut finals = Vec::new();
        for container in observed.iter().skip(keep) {
            self.plan_scale_down(name, container);
        }
        for container in observed.iter().take(keep) {
            let verdict = verdicts.remove(&container.id).unwrap_or(Verdict {
                obsolete: false,
                reasons: Vec::new(),
            });
            if verdict.obsolete {
                let number = number_of(container).ok_or_else(|| PlanError::MissingNumber {
                    container: container.name.clone(),
                })?;
                let final_name = container_name(&self.project.name, name, service, number);
                self.plan_replace(
                    name,
                    container,
                    number,
                    &final_name,
                    &resolved,
                    expected_image.as_deref(),
                    verdict.reasons,
                )?;
                finals.push(FinalContainer {
                    name: final_name,
                    id: None,
                    needs_start: true,
                    needs_unpause: false,
                });
            } else {
                finals.push(self.plan_keep(name, container));
            }
        }
        let missing = keep.saturating_sub(finals.len());
        for offset in 0..missing {
            let number = next_number + u32::try_from(offset).unwrap_or(u32::MAX - next_number);
            let final_name = container_name(&self.project.name, name, service, number);
            self.plan_create(
                name,
                number,
                &final_name,
                &resolved,
                expected_image.as_deref(),
                None,
            )?;
            let reason = if observed.is_empty() {
                Reason::Missing
            } else {
                Reason::ScaleUp
            };
            self.changes.push(ResourceChange {
                address: format!("service.{name}[{number}]"),
                kind: ResourceKind::Container,
                name: final_name.clone(),
                service: Some(name.to_string()),
                action: Action::Create,
                reasons: vec![reason],
                diffs: Vec::new(),
            });
            finals.push(FinalContainer {
                name: final_name,
                id: None,
                needs_start: true,
                needs_unpause: false,
            });
        }
        self.converged.insert(name.to_string(), finals);
        Ok(())
    }

    fn judge(
        &self,
        container: &ObservedContainer,
        service: &Service,
        resolved: &ResolvedService,
        expected_image: Option<&str>,
        strategy: RecreateStrategy,
    ) -> Verdict {
        let mut reasons = Vec::new();
        match strategy {
            RecreateStrategy::Never => {}
            RecreateStrategy::Force => reasons.push(Reason::Forced),
            RecreateStrategy::Diverged => {
                if resolved.parent_replaced {
                    reasons.push(Reason::DependencyReplaced);
                } else if container.label(labels::CONFIG_HASH) != resolved.hash {
                    reasons.push(Reason::ConfigChanged);
                }
                if let Some(expected) = expected_image
                    && container.label(labels::IMAGE) != expected
                {
                    reasons.push(Reason::ImageChanged);
                }
                if container.state == "running"
                    && !self.attached_to_all_networks(container, service)
                {
                    reasons.push(Reason::NetworkDisconnected);
                }
                if !self.named_volumes_mounted(container, service) {
                    reasons.push(Reason::VolumeNotMounted);
                }
            }
        }
        Verdict {
            obsolete: !reasons.is_empty(),
            reasons,
        }
    }

    /// Whether a running container is on every network of its service,
    /// compared by network id as Docker Compose does.
    fn attached_to_all_networks(&self, container: &ObservedContainer, service: &Service) -> bool {
        service.networks.keys().all(|key| {
            let Some(network) = self.project.networks.get(key) else {
                return true;
            };
            let Some(observed) = self.snapshot.networks.get(&network.name) else {
                // The network is created by this plan, so no container can
                // be attached to it yet.
                return false;
            };
            container
                .networks
                .values()
                .any(|endpoint| endpoint.network_id == observed.id)
        })
    }

    /// Whether every named volume of the service is mounted; anonymous
    /// volumes and binds have no name to compare and are skipped.
    fn named_volumes_mounted(&self, container: &ObservedContainer, service: &Service) -> bool {
        service.volumes.iter().all(|volume| {
            if volume.kind != "volume" {
                return true;
            }
            let Some(source) = &volume.source else {
                return true;
            };
            let Some(declared) = self.project.volumes.get(source) else {
                return true;
            };
            container
                .mounts
                .iter()
                .any(|mount| mount.kind == "volume" && mount.name == declared.name)
        })
    }

    fn plan_keep(&mut self, name: &str, container: &ObservedContainer) -> FinalContainer {
        let number = number_of(container).unwrap_or(0);
        let address = format!("service.{name}[{number}]");
        let mut keep = FinalContainer {
            name: container.name.clone(),
            id: Some(container.id.clone()),
            needs_start: false,
            needs_unpause: false,
        };
        let (action, reason) = match container.state.as_str() {
            "running" => (Action::NoOp, Reason::UpToDate),
            "paused" => {
                keep.needs_unpause = true;
                (Action::Unpause, Reason::Paused)
            }
            "exited" if container.exit_code == 0 && self.completed_one_shot(name) => {
                (Action::NoOp, Reason::Completed)
            }
            _ => {
                keep.needs_start = true;
                (Action::Start, Reason::Stopped)
            }
        };
        self.changes.push(ResourceChange {
            address,
            kind: ResourceKind::Container,
            name: container.name.clone(),
            service: Some(name.to_string()),
            action,
            reasons: vec![reason],
            diffs: Vec::new(),
        });
        keep
    }

    /// Whether an exited-with-0, up-to-date container of `name` counts as
    /// converged: some selected service waits for it to complete, and the
    /// person did not ask to run completed one-shots again.
    fn completed_one_shot(&self, name: &str) -> bool {
        !self.options.rerun_completed
            && self.selection.services.values().any(|service| {
                service
                    .depends_on
                    .get(name)
                    .is_some_and(|dependency| dependency.condition == CONDITION_COMPLETED)
            })
    }

    fn plan_scale_down(&mut self, name: &str, container: &ObservedContainer) {
        let reference = container_ref(container);
        let mut after = Vec::new();
        if container.state != "exited" && container.state != "created" {
            after.push(self.stop_once(&reference));
        }
        self.steps.create_phase(
            format!("container.remove:{}", container.name),
            after,
            StepAction::RemoveContainer {
                container: reference,
                remove_volumes: false,
            },
        );
        let number = number_of(container).unwrap_or(0);
        self.changes.push(ResourceChange {
            address: format!("service.{name}[{number}]"),
            kind: ResourceKind::Container,
            name: container.name.clone(),
            service: Some(name.to_string()),
            action: Action::Remove,
            reasons: vec![Reason::ScaleDown],
            diffs: Vec::new(),
        });
    }

    /// Stops a container once, however many steps need it stopped.
    pub(crate) fn stop_once(&mut self, container: &ContainerRef) -> String {
        let id = format!("container.stop:{}", container.name);
        if !self.steps.contains(&id) {
            self.steps.create_phase(
                id.clone(),
                Vec::new(),
                StepAction::StopContainer {
                    container: container.clone(),
                    timeout_seconds: None,
                },
            );
        }
        id
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one call site; the values are unrelated"
    )]
    fn plan_replace(
        &mut self,
        name: &str,
        old: &ObservedContainer,
        number: u32,
        final_name: &str,
        resolved: &ResolvedService,
        expected_image: Option<&str>,
        reasons: Vec<Reason>,
    ) -> Result<(), PlanError> {
        // Dependents with `restart: true` stop before the replacement and
        // start again once it satisfies their condition.
        let mut dependents_stopped = Vec::new();
        let dependents: Vec<String> =
            super::graph::restart_dependents(&self.selection.services, name)
                .into_iter()
                .map(str::to_string)
                .collect();
        for dependent in &dependents {
            for container in self.running_containers_of(dependent) {
                dependents_stopped.push(self.stop_once(&container));
                self.restarted.insert(container.name.clone());
            }
        }
        let temporary = format!("{}_{}", &old.id[..old.id.len().min(12)], final_name);
        let inherited = if self.options.renew_anon_volumes {
            Vec::new()
        } else {
            self.inherited_mounts(name, old)
        };
        let replace_label = self.selection.services[name]
            .container_name
            .clone()
            .unwrap_or_else(|| format!("{name}-{number}"));
        let (create, body) = self.create_container_step(
            name,
            number,
            final_name,
            &temporary,
            resolved,
            expected_image,
            &inherited,
            Some(&replace_label),
            dependents_stopped,
        )?;
        // Network connections of the replacement address it by its
        // temporary name, so they finish before the rename.
        let created = self
            .service_create_steps
            .get_mut(name)
            .and_then(Vec::pop)
            .unwrap_or_else(|| create.clone());
        let reference = container_ref(old);
        let stop_id = format!("container.stop:{}", old.name);
        let mut remove_after = vec![created];
        if self.steps.contains(&stop_id) {
            // Already stopped earlier, as a dependent of a replaced service.
            remove_after.push(stop_id);
        } else if old.state != "exited" && old.state != "created" {
            // The old container stops only once its replacement exists, so
            // a failed create leaves the service running.
            remove_after.push(self.steps.create_phase(
                stop_id,
                vec![create.clone()],
                StepAction::StopContainer {
                    container: reference.clone(),
                    timeout_seconds: None,
                },
            ));
        }
        let remove = self.steps.create_phase(
            format!("container.remove:{final_name}"),
            remove_after,
            StepAction::RemoveContainer {
                container: reference,
                remove_volumes: false,
            },
        );
        // Dependents are created once the replacement holds its final
        // name, so that a reference to that name finds the new container.
        let rename = self.steps.create_phase(
            format!("container.rename:{final_name}"),
            vec![remove],
            StepAction::RenameContainer {
                container: ContainerRef {
                    name: temporary,
                    id: None,
                },
                to: final_name.to_string(),
            },
        );
        self.service_create_steps
            .entry(name.to_string())
            .or_default()
            .push(rename);
        let diffs = replacement_diffs(old, &body, &reasons, expected_image);
        self.changes.push(ResourceChange {
            address: format!("service.{name}[{number}]"),
            kind: ResourceKind::Container,
            name: final_name.to_string(),
            service: Some(name.to_string()),
            action: Action::Replace,
            reasons,
            diffs,
        });
        self.replaced.insert(name.to_string());
        Ok(())
    }

    /// Anonymous volumes of the old container that the replacement mounts
    /// again by name, so their data survives: those at a target where the
    /// service declares an anonymous volume or the image declares `VOLUME`.
    fn inherited_mounts(&self, name: &str, old: &ObservedContainer) -> Vec<MountBody> {
        let service = &self.selection.services[name];
        let image = service_image(&self.project.name, name, service);
        let image_volumes = self
            .snapshot
            .images
            .get(&image)
            .map(|image| image.volumes.clone())
            .unwrap_or_default();
        old.mounts
            .iter()
            .filter(|mount| mount.kind == "volume")
            .filter(|mount| {
                image_volumes.contains(&mount.destination)
                    || service.volumes.iter().any(|volume| {
                        volume.kind == "volume"
                            && volume.source.is_none()
                            && volume.target == mount.destination
                    })
            })
            .map(|mount| MountBody {
                kind: "volume".into(),
                source: Some(mount.name.clone()),
                target: mount.destination.clone(),
                read_only: !mount.read_write,
                ..MountBody::default()
            })
            .collect()
    }

    fn plan_create(
        &mut self,
        name: &str,
        number: u32,
        final_name: &str,
        resolved: &ResolvedService,
        expected_image: Option<&str>,
        replace: Option<&str>,
    ) -> Result<String, PlanError> {
        let (id, _) = self.create_container_step(
            name,
            number,
            final_name,
            final_name,
            resolved,
            expected_image,
            &[],
            replace,
            Vec::new(),
        )?;
        Ok(id)
    }

    /// Adds the create step of one container, after the networks and
    /// volumes it needs, the orphans removed first and its dependencies'
    /// create phase.
    #[expect(clippy::too_many_arguments, reason = "two call sites share it")]
    fn create_container_step(
        &mut self,
        name: &str,
        number: u32,
        final_name: &str,
        create_name: &str,
        resolved: &ResolvedService,
        expected_image: Option<&str>,
        inherited: &[MountBody],
        replace: Option<&str>,
        mut after: Vec<String>,
    ) -> Result<(String, ContainerBody), PlanError> {
        if let Some(holder) = self.snapshot.name_holders.get(final_name) {
            return Err(PlanError::NameTaken {
                name: final_name.to_string(),
                holder: holder.id.clone(),
                project: holder.project.clone(),
            });
        }
        let service = &resolved.service;
        if expected_image.is_none() {
            let image = service_image(&self.project.name, name, service);
            return Err(PlanError::ImageMissing {
                service: name.to_string(),
                image,
            });
        }
        let link_targets = self.link_targets(service);
        let create = container_create(&ContainerSpec {
            project: self.project,
            service_name: name,
            service,
            number,
            name: final_name,
            config_hash: &resolved.hash,
            image_id: expected_image,
            api_version: &self.snapshot.engine.api_version,
            inherited_mounts: inherited,
            replace,
            link_targets: &link_targets,
        })
        .map_err(|source| PlanError::ContainerSpec {
            service: name.to_string(),
            message: source.to_string(),
        })?;
        let body = create.body.clone();

        for key in service.networks.keys() {
            after.extend(self.resource_steps.networks.get(key).cloned());
        }
        for volume in &service.volumes {
            if let Some(source) = &volume.source {
                after.extend(self.resource_steps.volumes.get(source).cloned());
            }
        }
        after.extend(self.orphan_steps.iter().cloned());
        for dependency in service.depends_on.keys() {
            after.extend(
                self.service_create_steps
                    .get(dependency)
                    .cloned()
                    .unwrap_or_default(),
            );
        }
        let id = self.steps.create_phase(
            format!("container.create:{final_name}"),
            after,
            StepAction::CreateContainer {
                name: create_name.to_string(),
                body: Box::new(create.body),
                hash_input: resolved.deferred_hash_input.clone(),
            },
        );
        let mut last = id.clone();
        for (network, endpoint) in create.later_networks {
            last = self.steps.create_phase(
                format!("network.connect:{final_name}:{network}"),
                vec![last],
                StepAction::ConnectNetwork {
                    container: create_name.to_string(),
                    network,
                    endpoint,
                },
            );
        }
        self.service_create_steps
            .entry(name.to_string())
            .or_default()
            .push(last);
        Ok((id, body))
    }

    fn link_targets(&self, service: &Service) -> BTreeMap<String, Vec<String>> {
        let mut targets = BTreeMap::new();
        for link in &service.links {
            let target = link.split(':').next().unwrap_or(link);
            let names = self
                .converged
                .get(target)
                .map(|containers| containers.iter().map(|c| c.name.clone()).collect())
                .unwrap_or_default();
            targets.insert(target.to_string(), names);
        }
        targets
    }

    fn running_containers_of(&self, service: &str) -> Vec<ContainerRef> {
        self.snapshot
            .containers
            .iter()
            .filter(|c| c.label(labels::SERVICE) == service && c.label(labels::ONEOFF) != "True")
            .filter(|c| c.state == "running" || c.state == "restarting")
            .map(container_ref)
            .collect()
    }
}

/// The image reference a service runs: `image`, or `<project>-<service>`.
pub(crate) fn service_image(project: &str, name: &str, service: &Service) -> String {
    service
        .image
        .clone()
        .unwrap_or_else(|| format!("{project}-{name}"))
}

/// The name of a service's container: `container_name`, or
/// `<project>-<service>-<number>`.
pub(crate) fn container_name(project: &str, name: &str, service: &Service, number: u32) -> String {
    service
        .container_name
        .clone()
        .unwrap_or_else(|| format!("{project}-{name}-{number}"))
}

pub(crate) fn number_of(container: &ObservedContainer) -> Option<u32> {
    container.label(labels::CONTAINER_NUMBER).parse().ok()
}

pub(crate) fn container_ref(container: &ObservedContainer) -> ContainerRef {
    ContainerRef {
        name: container.name.clone(),
        id: Some(container.id.clone()),
    }
}
