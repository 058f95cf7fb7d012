//! The create phase for one service: which containers to keep, replace,
//! create and remove, in the order Docker Compose 2.40.3 converges them.

use std::collections::{BTreeMap, BTreeSet};

use tracing::debug;

use crate::labels;
use crate::model::{CONDITION_COMPLETED, Service};
use crate::plan::{
    Action, ContainerRef, Reason, ResourceChange, ResourceKind, StepAction, Warning,
};
use crate::snapshot::ObservedContainer;

use super::content::{ContentState, content_state};
use super::hooks::service_hooks;
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

/// The result of comparing one observed container with the model.
struct Verdict {
    obsolete: bool,
    reasons: Vec<Reason>,
    /// Diverged, but kept because of `--no-recreate`.
    kept_diverged: bool,
}

impl Verdict {
    /// Returns the keep priority, lowest first: up-to-date containers,
    /// then those whose only fault is their name (the new half of an
    /// interrupted replacement), then the other obsolete ones.
    fn rank(&self) -> u8 {
        if !self.obsolete {
            0
        } else if self.reasons == [Reason::UnexpectedName] {
            1
        } else {
            2
        }
    }
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
        // What new containers record: the id a pull or build of this plan
        // gives the image, or the observed one.
        let created_image = self.create_image_id(&image);

        let mut observed: Vec<&ObservedContainer> = self
            .snapshot
            .containers
            .iter()
            .filter(|c| c.label(labels::SERVICE) == name && c.label(labels::ONEOFF) != "True")
            .collect();
        // Containers removed around a replaced volume are gone: the
        // service creates them again, numbered from 1.
        let volume_removals = self.volume_removals.remove(name);
        let mut dependents_stopped = Vec::new();
        if let Some(removals) = &volume_removals {
            observed.retain(|c| !removals.ids.contains(&c.id));
            dependents_stopped = self.stop_restart_dependents(name);
            self.replaced.insert(name.to_string());
        }
        let next_number = observed
            .iter()
            .filter_map(|c| number_of(c))
            .max()
            .unwrap_or(0)
            + 1;

        let mut verdicts: BTreeMap<String, Verdict> = BTreeMap::new();
        for container in &observed {
            let verdict = self.judge(
                name,
                container,
                service,
                &resolved,
                expected_image.as_deref(),
                strategy,
            );
            if verdict.obsolete {
                debug!(container = %container.name, reasons = ?verdict.reasons, "container diverged");
            } else if container.state == "running"
                && content_state(container, self.project, service) == ContentState::Unknown
            {
                // The files of a container Docker Compose created are read
                // back when observed. When that failed, replacing it would
                // act on a doubt, so it is kept and the doubt is stated. A
                // start copies the current content, so only running ones
                // are in doubt.
                self.warnings.push(Warning {
                    code: "content_unverified".into(),
                    message: format!(
                        "container {} has no {} label (Docker Compose created it) and its secret and config files could not be read back, so berth cannot tell whether they are current; it is kept (plan with --force-recreate to copy them again)",
                        container.name,
                        crate::content::CONTENT_DIGESTS_LABEL
                    ),
                });
            }
            verdicts.insert(container.id.clone(), verdict);
        }
        // Up-to-date containers first, then obsolete ones, each by number:
        // scaling down removes obsolete containers first, then the highest
        // numbers.
        observed.sort_by_key(|c| {
            (
                verdicts[&c.id].rank(),
                number_of(c).unwrap_or(u32::MAX),
                c.name.clone(),
            )
        });

        // Keep the first `expected` containers, one per number: an
        // interrupted replacement can leave two containers with the same
        // number, and only one of them can take the final name.
        let keep = usize::try_from(expected).unwrap_or(usize::MAX);
        let mut kept: Vec<&ObservedContainer> = Vec::new();
        let mut numbers = BTreeSet::new();
        for container in &observed {
            let unique = number_of(container).is_none_or(|number| !numbers.contains(&number));
            if !unique {
                self.plan_scale_down(name, container, Reason::DuplicateNumber);
            } else if kept.len() < keep {
                numbers.extend(number_of(container));
                kept.push(container);
            } else {
                self.plan_scale_down(name, container, Reason::ScaleDown);
            }
        }
        let mut finals = Vec::new();
        for container in kept {
            let verdict = verdicts.remove(&container.id).unwrap_or(Verdict {
                obsolete: false,
                reasons: Vec::new(),
                kept_diverged: false,
            });
            if verdict.kept_diverged {
                self.warnings.push(Warning {
                    code: "diverged_kept".into(),
                    message: format!(
                        "container {} differs from the compose files, but --no-recreate keeps it as it is",
                        container.name
                    ),
                });
            }
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
                    created_image.as_deref(),
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
        let mut created_numbers = BTreeSet::new();
        for offset in 0..missing {
            let number = next_number + u32::try_from(offset).unwrap_or(u32::MAX - next_number);
            let final_name = container_name(&self.project.name, name, service, number);
            self.plan_create(
                name,
                number,
                &final_name,
                &resolved,
                created_image.as_deref(),
                None,
                dependents_stopped.clone(),
            )?;
            let reason = if observed.is_empty() {
                Reason::Missing
            } else {
                Reason::ScaleUp
            };
            let mut change = ResourceChange {
                address: format!("service.{name}[{number}]"),
                kind: ResourceKind::Container,
                name: final_name.clone(),
                service: Some(name.to_string()),
                action: Action::Create,
                reasons: vec![reason],
                diffs: Vec::new(),
                caused_by: Vec::new(),
            };
            if let Some(removals) = &volume_removals
                && removals.numbers.contains_key(&number)
            {
                change.action = Action::Replace;
                change.reasons = vec![Reason::VolumeReplaced];
                change.caused_by = removals.volumes.iter().cloned().collect();
            }
            self.changes.push(change);
            created_numbers.insert(number);
            finals.push(FinalContainer {
                name: final_name,
                id: None,
                needs_start: true,
                needs_unpause: false,
            });
        }
        if let Some(removals) = &volume_removals {
            self.record_volume_removals(name, removals, &created_numbers);
        }
        self.converged.insert(name.to_string(), finals);
        Ok(())
    }

    fn judge(
        &self,
        name: &str,
        container: &ObservedContainer,
        service: &Service,
        resolved: &ResolvedService,
        expected_image: Option<&str>,
        strategy: RecreateStrategy,
    ) -> Verdict {
        let mut reasons = Vec::new();
        if !resolved.replaced_parents.is_empty() {
            reasons.push(Reason::ReferenceReplaced);
        } else if container.label(labels::CONFIG_HASH) != resolved.hash {
            reasons.push(Reason::ConfigChanged);
        }
        if content_state(container, self.project, service) == ContentState::Changed {
            reasons.push(Reason::ContentChanged);
        }
        if let Some(expected) = expected_image
            && container.label(labels::IMAGE) != expected
        {
            reasons.push(Reason::ImageChanged);
        }
        if container.state == "running" && !self.attached_to_all_networks(container, service) {
            reasons.push(Reason::NetworkDisconnected);
        }
        if !self.named_volumes_mounted(container, service) {
            reasons.push(Reason::VolumeNotMounted);
        }
        if let Some(number) = number_of(container)
            && container.name != container_name(&self.project.name, name, service, number)
        {
            reasons.push(Reason::UnexpectedName);
        }
        match strategy {
            RecreateStrategy::Diverged => {}
            RecreateStrategy::Force => reasons = vec![Reason::Forced],
            RecreateStrategy::Never => {
                if !reasons.is_empty() {
                    debug!(container = %container.name, ?reasons, "diverged, kept by --no-recreate");
                    return Verdict {
                        obsolete: false,
                        reasons: Vec::new(),
                        kept_diverged: true,
                    };
                }
            }
        }
        Verdict {
            obsolete: !reasons.is_empty(),
            reasons,
            kept_diverged: false,
        }
    }

    /// Checks that a running container is on every network of its
    /// service, comparing network ids as Docker Compose does.
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
            // A network this plan replaces connects every kept container of
            // its services once it exists, attached now or not.
            if self.network_replaced(key) {
                return true;
            }
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
            caused_by: Vec::new(),
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

    fn plan_scale_down(&mut self, name: &str, container: &ObservedContainer, reason: Reason) {
        let reference = container_ref(container);
        let mut after = Vec::new();
        if container.state != "exited" && container.state != "created" {
            after.push(self.stop_once(&reference, Some(name)));
        }
        after.extend(self.disconnects_of(&container.name));
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
            reasons: vec![reason],
            diffs: Vec::new(),
            caused_by: Vec::new(),
        });
    }

    /// Stops a container once, however many steps need it stopped. The
    /// `pre_stop` hooks of `service` run first. An orphan has none.
    pub(crate) fn stop_once(&mut self, container: &ContainerRef, service: Option<&str>) -> String {
        let id = format!("container.stop:{}", container.name);
        if !self.steps.contains(&id) {
            let pre_stop = service.and_then(|name| {
                let declared = &self.selection.services.get(name)?.pre_stop;
                service_hooks(name, declared)
            });
            self.steps.create_phase(
                id.clone(),
                Vec::new(),
                StepAction::StopContainer {
                    container: container.clone(),
                    timeout_seconds: None,
                    pre_stop,
                },
            );
        }
        id
    }
}

/// Returns the image reference a service runs: `image`, or
/// `<project>-<service>`.
pub(crate) fn service_image(project: &str, name: &str, service: &Service) -> String {
    service
        .image
        .clone()
        .unwrap_or_else(|| format!("{project}-{name}"))
}

/// Returns the name of a service's container: `container_name`, or
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
