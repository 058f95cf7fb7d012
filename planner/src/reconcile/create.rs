//! Creating a container: the create step with its full body, after what
//! it needs, and the network connections that follow it on older engines.

use std::collections::BTreeMap;

use crate::container_spec::{ContainerSpec, container_create};
use crate::engine_body::{ContainerBody, MountBody};
use crate::model::Service;
use crate::plan::StepAction;

use super::containers::service_image;
use super::references::ResolvedService;
use super::{PlanError, Planner};

impl Planner<'_> {
    #[expect(clippy::too_many_arguments, reason = "one call site")]
    pub(crate) fn plan_create(
        &mut self,
        name: &str,
        number: u32,
        final_name: &str,
        resolved: &ResolvedService,
        expected_image: Option<&str>,
        replace: Option<&str>,
        after: Vec<String>,
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
            after,
        )?;
        Ok(id)
    }

    /// Adds the create step of one container, after the networks and
    /// volumes it needs, the orphans removed first and its dependencies'
    /// create phase.
    #[expect(clippy::too_many_arguments, reason = "two call sites share it")]
    pub(crate) fn create_container_step(
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
        let image = service_image(&self.project.name, name, service);
        if expected_image.is_none() {
            return Err(PlanError::ImageMissing {
                service: name.to_string(),
                image,
                policy: service.pull_policy.clone().unwrap_or_default(),
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
        after.extend(self.image_steps.get(&image).cloned());
        after.extend(self.orphan_steps.iter().cloned());
        // A container that has the name now (an orphan, or a leftover of
        // an interrupted replacement) is removed before the create.
        let holder_removal = format!("container.remove:{create_name}");
        if self.steps.contains(&holder_removal) {
            after.push(holder_removal);
        }
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

    pub(crate) fn link_targets(&self, service: &Service) -> BTreeMap<String, Vec<String>> {
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
}
