//! Replacing a container: dependents with `restart: true` stop first, the
//! replacement is created under a temporary name, then the old container
//! is stopped and removed and the replacement takes its name. Anonymous
//! volumes move over to the replacement so their data survives.

use crate::engine_body::MountBody;
use crate::labels;
use crate::plan::{Action, ContainerRef, Reason, ResourceChange, ResourceKind, StepAction};
use crate::snapshot::ObservedContainer;

use super::containers::{container_ref, service_image};
use super::diff::replacement_diffs;
use super::references::ResolvedService;
use super::{PlanError, Planner};

impl Planner<'_> {
    #[expect(
        clippy::too_many_arguments,
        reason = "one call site; the values are unrelated"
    )]
    pub(crate) fn plan_replace(
        &mut self,
        name: &str,
        old: &ObservedContainer,
        number: u32,
        final_name: &str,
        resolved: &ResolvedService,
        expected_image: Option<&str>,
        reasons: Vec<Reason>,
    ) -> Result<(), PlanError> {
        let dependents_stopped = self.stop_restart_dependents(name);
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
                // No `pre_stop` hooks: Docker Compose 2.40.3 runs none
                // before it stops a container it replaces.
                StepAction::StopContainer {
                    container: reference.clone(),
                    timeout_seconds: None,
                    pre_stop: None,
                },
            ));
        }
        let remove = self.steps.create_phase(
            format!("container.remove:{}", old.name),
            remove_after,
            StepAction::RemoveContainer {
                container: reference,
                remove_volumes: false,
            },
        );
        // Dependents are created once the replacement holds its final
        // name, so that a reference to that name finds the new container.
        // The final name must be free: another container that has it
        // (left by an interrupted replacement) is removed first.
        let mut rename_after = vec![remove];
        let holder_removal = format!("container.remove:{final_name}");
        if old.name != final_name && self.steps.contains(&holder_removal) {
            rename_after.push(holder_removal);
        }
        let rename = self.steps.create_phase(
            format!("container.rename:{final_name}"),
            rename_after,
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
        // The diff shows the id the container was judged against, which is
        // the observed one even when a pull of this plan may change it.
        let observed_image =
            self.snapshot
                .images
                .get(&service_image(&self.project.name, name, &resolved.service));
        let diffs = replacement_diffs(old, &body, &reasons, observed_image);
        let caused_by = if reasons.contains(&Reason::ReferenceReplaced) {
            resolved.replaced_parents.clone()
        } else {
            Vec::new()
        };
        self.changes.push(ResourceChange {
            address: format!("service.{name}[{number}]"),
            kind: ResourceKind::Container,
            name: final_name.to_string(),
            service: Some(name.to_string()),
            action: Action::Replace,
            reasons,
            diffs,
            caused_by,
        });
        self.replaced.insert(name.to_string());
        Ok(())
    }

    /// Stops the running containers of the services that depend on `name`
    /// with `restart: true`, and returns the stop steps. They stop before
    /// `name` gets a new container and start again once it satisfies their
    /// condition.
    pub(crate) fn stop_restart_dependents(&mut self, name: &str) -> Vec<String> {
        let mut dependents_stopped = Vec::new();
        let dependents: Vec<String> =
            super::graph::restart_dependents(&self.selection.services, name)
                .into_iter()
                .map(str::to_string)
                .collect();
        for dependent in &dependents {
            for container in self.running_containers_of(dependent) {
                dependents_stopped.push(self.stop_once(&container, Some(dependent.as_str())));
                self.restarted
                    .entry(container.name.clone())
                    .or_default()
                    .insert(name.to_string());
            }
        }
        dependents_stopped
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

    pub(crate) fn running_containers_of(&self, service: &str) -> Vec<ContainerRef> {
        self.snapshot
            .containers
            .iter()
            .filter(|c| c.label(labels::SERVICE) == service && c.label(labels::ONEOFF) != "True")
            .filter(|c| c.state == "running" || c.state == "restarting")
            .map(container_ref)
            .collect()
    }
}
