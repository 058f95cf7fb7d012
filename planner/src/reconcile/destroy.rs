//! Teardown plans (`berth plan --destroy`) remove what `docker compose
//! down` removes. Containers stop in reverse dependency order and are
//! removed, then the networks go. With `volumes`, the project's named
//! volumes and the anonymous volumes of its service containers go too,
//! each as a step of its own. That includes the anonymous volumes a
//! replacement mounted by name, which `docker compose down -v` leaves.

use std::collections::BTreeSet;

use crate::labels;
use crate::model::Project;
use crate::plan::{
    Action, ContainerRef, PLAN_FORMAT_VERSION, Plan, PlanOptions, ResourceChange, ResourceKind,
    StepAction,
};
use crate::snapshot::{ObservedContainer, Snapshot};

use super::hooks::service_hooks;
use super::steps::StepList;
use super::{PlanError, graph, image_removal, model_digest, observe_scope_with, summarize};

/// Plans the teardown of `project`.
pub fn plan_destroy(
    project: &Project,
    snapshot: &Snapshot,
    options: &PlanOptions,
    berth_version: &str,
) -> Result<Plan, PlanError> {
    if snapshot.project != project.name {
        return Err(PlanError::SnapshotProject {
            snapshot: snapshot.project.clone(),
            project: project.name.clone(),
        });
    }
    let mut steps = StepList::default();
    let mut changes = Vec::new();
    let known: BTreeSet<&str> = project
        .services
        .keys()
        .chain(project.disabled_services.keys())
        .map(String::as_str)
        .collect();
    let is_removed = |container: &&ObservedContainer| {
        let one_off = container.label(labels::ONEOFF) == "True";
        let orphan = !known.contains(container.label(labels::SERVICE));
        // One-offs and orphans go only with --remove-orphans, as in
        // `docker compose down`.
        options.remove_orphans || !(one_off || orphan)
    };

    // Dependents first: reverse dependency order, then orphans.
    let mut order = graph::dependency_order(&project.services);
    order.reverse();
    let mut removals = Vec::new();
    let mut previous_service: Vec<String> = Vec::new();
    let mut visit = |service: Option<&str>, steps: &mut StepList, removals: &mut Vec<String>| {
        let mut this_service = Vec::new();
        // Orphans and containers of services the profiles disable have no
        // enabled service to take hooks from, so they stop without hooks.
        // `docker compose down` runs no hooks for orphans either.
        let pre_stop =
            service.and_then(|name| service_hooks(name, &project.services.get(name)?.pre_stop));
        for container in snapshot.containers.iter().filter(is_removed).filter(|c| {
            let label = c.label(labels::SERVICE);
            match service {
                Some(name) => label == name,
                None => !project.services.contains_key(label),
            }
        }) {
            let reference = ContainerRef {
                name: container.name.clone(),
                id: Some(container.id.clone()),
            };
            let mut after = previous_service.clone();
            if container.state != "exited" && container.state != "created" {
                after = vec![steps.create_phase(
                    format!("container.stop:{}", container.name),
                    previous_service.clone(),
                    StepAction::StopContainer {
                        container: reference.clone(),
                        timeout_seconds: None,
                        pre_stop: pre_stop.clone(),
                    },
                )];
            }
            let id = steps.create_phase(
                format!("container.remove:{}", container.name),
                after,
                StepAction::RemoveContainer {
                    container: reference,
                    // Anonymous volumes are removed by their own steps
                    // below, so that the plan lists each one.
                    remove_volumes: false,
                },
            );
            this_service.push(id.clone());
            removals.push(id);
            changes.push(ResourceChange {
                address: format!("container.{}", container.name),
                kind: ResourceKind::Container,
                name: container.name.clone(),
                service: Some(container.label(labels::SERVICE).to_string()),
                action: Action::Remove,
                reasons: Vec::new(),
                diffs: Vec::new(),
                caused_by: Vec::new(),
            });
        }
        if !this_service.is_empty() {
            previous_service = this_service;
        }
    };
    for service in &order {
        visit(Some(service), &mut steps, &mut removals);
    }
    visit(None, &mut steps, &mut removals);

    for (key, network) in &project.networks {
        let Some(observed) = snapshot.networks.get(&network.name) else {
            continue;
        };
        if network.external || observed.labels.get(labels::PROJECT) != Some(&project.name) {
            continue;
        }
        steps.create_phase(
            format!("network.remove:{}", network.name),
            removals.clone(),
            StepAction::RemoveNetwork {
                name: network.name.clone(),
                id: observed.id.clone(),
            },
        );
        changes.push(resource_change(
            "network",
            key,
            &network.name,
            ResourceKind::Network,
        ));
    }

    let mut warnings = Vec::new();
    if options.remove_images.is_some() {
        let kept: Vec<&ObservedContainer> = snapshot
            .containers
            .iter()
            .filter(|container| !is_removed(container))
            .collect();
        let removed = image_removal::plan_image_removal(
            project,
            snapshot,
            options,
            &kept,
            &removals,
            &mut steps,
            &mut warnings,
        );
        for image in removed {
            changes.push(resource_change(
                "image",
                &image,
                &image,
                ResourceKind::Image,
            ));
        }
    }

    if options.volumes {
        for (key, volume) in &project.volumes {
            let Some(observed) = snapshot.volumes.get(&volume.name) else {
                continue;
            };
            // A volume made by hand has no project label and is kept, as
            // `docker compose down -v` keeps it.
            if volume.external || observed.labels.get(labels::PROJECT) != Some(&project.name) {
                continue;
            }
            steps.create_phase(
                format!("volume.remove:{}", volume.name),
                removals.clone(),
                StepAction::RemoveVolume {
                    name: volume.name.clone(),
                },
            );
            changes.push(resource_change(
                "volume",
                key,
                &volume.name,
                ResourceKind::Volume,
            ));
        }
        for name in anonymous_volumes(project, snapshot) {
            steps.create_phase(
                format!("volume.remove:{name}"),
                removals.clone(),
                StepAction::RemoveVolume { name: name.clone() },
            );
            let short = &name[..name.len().min(12)];
            changes.push(resource_change(
                "anonymous_volume",
                short,
                &name,
                ResourceKind::Volume,
            ));
        }
    }

    Ok(Plan {
        format_version: PLAN_FORMAT_VERSION,
        berth_version: berth_version.to_string(),
        project: project.name.clone(),
        destroy: true,
        model_digest: model_digest(project),
        fingerprint: snapshot.fingerprint(),
        observed: observe_scope_with(project, options),
        observed_resources: snapshot.resource_digests(),
        options: options.clone(),
        summary: summarize(&changes),
        changes,
        steps: steps.into_steps(),
        warnings,
    })
}

fn resource_change(kind: &str, key: &str, name: &str, resource: ResourceKind) -> ResourceChange {
    ResourceChange {
        address: format!("{kind}.{key}"),
        kind: resource,
        name: name.to_string(),
        service: None,
        action: Action::Remove,
        reasons: Vec::new(),
        diffs: Vec::new(),
        caused_by: Vec::new(),
    }
}

/// Anonymous volumes of the project's service containers: the volumes
/// with an engine-generated name (64 hex digits) that the model does not
/// declare. Removing them by name also catches those a replacement
/// re-mounted by name, which the engine no longer removes with the
/// container.
fn anonymous_volumes(project: &Project, snapshot: &Snapshot) -> BTreeSet<String> {
    let declared: BTreeSet<&str> = project.volumes.values().map(|v| v.name.as_str()).collect();
    snapshot
        .containers
        .iter()
        .filter(|c| project.services.contains_key(c.label(labels::SERVICE)))
        .flat_map(|c| c.mounts.iter())
        .filter(|mount| mount.kind == "volume")
        .filter(|mount| mount.name.len() == 64 && mount.name.bytes().all(|b| b.is_ascii_hexdigit()))
        .filter(|mount| !declared.contains(mount.name.as_str()))
        .map(|mount| mount.name.clone())
        .collect()
}
