//! The reconciler: turns a model and a snapshot into a plan, converging the
//! project as `docker compose up` (2.40.3) does, in two phases. The create
//! phase visits services in dependency order and creates, replaces, scales
//! and removes containers; the start phase then waits for each service's
//! `depends_on` conditions and starts what is not running.

mod clock;
mod containers;
mod content;
mod create;
mod destroy;
mod diff;
mod error;
mod graph;
mod hooks;
mod image_removal;
mod images;
mod network_replace;
mod no_effect;
mod orphans;
mod platform;
mod ports;
mod references;
mod replace;
mod resources;
mod selection;
mod start;
mod steps;
#[cfg(test)]
mod tests;
mod volume_replace;

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use crate::model::Project;
use crate::plan::{
    Action, PLAN_FORMAT_VERSION, Plan, PlanOptions, ResourceChange, Summary, Warning,
};
use crate::snapshot::{ObserveScope, Snapshot};

pub use destroy::plan_destroy;
pub use error::PlanError;

use containers::FinalContainer;
use resources::ResourceSteps;
use selection::Selection;
use steps::StepList;
use volume_replace::VolumeRemovals;

/// Working state of one planning run.
pub(crate) struct Planner<'a> {
    project: &'a Project,
    snapshot: &'a Snapshot,
    options: &'a PlanOptions,
    selection: Selection,
    steps: StepList,
    changes: Vec<ResourceChange>,
    warnings: Vec<Warning>,
    resource_steps: ResourceSteps,
    orphan_steps: Vec<String>,
    /// The containers each service is left with, filled in dependency
    /// order.
    converged: BTreeMap<String, Vec<FinalContainer>>,
    /// Services with at least one container replaced.
    replaced: BTreeSet<String>,
    /// Containers stopped because a dependency is replaced; the start phase
    /// starts them again.
    restarted: BTreeMap<String, BTreeSet<String>>,
    /// Last create-phase step of each service's containers.
    service_create_steps: BTreeMap<String, Vec<String>>,
    /// Containers removed around replaced volumes, by service.
    volume_removals: BTreeMap<String, VolumeRemovals>,
    /// Last pull or build step of each image reference the plan pulls or
    /// builds; creates of containers that run it wait for it.
    image_steps: BTreeMap<String, String>,
}

/// Plans the convergence of `project` from the state in `snapshot`.
pub fn plan(
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
    let selection = selection::select(project, options)?;
    let mut planner = Planner {
        project,
        snapshot,
        options,
        selection,
        steps: StepList::default(),
        changes: Vec::new(),
        warnings: Vec::new(),
        resource_steps: ResourceSteps::default(),
        orphan_steps: Vec::new(),
        converged: BTreeMap::new(),
        replaced: BTreeSet::new(),
        restarted: BTreeMap::new(),
        service_create_steps: BTreeMap::new(),
        volume_removals: BTreeMap::new(),
        image_steps: BTreeMap::new(),
    };
    ports::check_published_ports(
        project,
        &planner.selection,
        snapshot,
        options.remove_orphans,
    )?;
    planner.resource_steps = resources::plan_resources(
        project,
        &planner.selection.services,
        options,
        snapshot,
        &mut planner.steps,
        &mut planner.changes,
        &mut planner.warnings,
    )?;
    planner.plan_volume_replacements()?;
    planner.plan_network_replacements();
    planner.plan_images()?;
    planner.plan_orphans();
    let order = graph::dependency_order(&planner.selection.services);
    for name in &order {
        planner.plan_service(name)?;
    }
    planner.plan_reconnects()?;
    for name in &order {
        planner.plan_start(name)?;
    }
    if options.wait {
        planner.plan_final_waits(&order);
    }
    planner.warn_disabled_healthchecks();
    planner.warn_credential_specs();
    Ok(planner.finish(berth_version))
}

impl Planner<'_> {
    fn finish(mut self, berth_version: &str) -> Plan {
        // A dependent stopped for a replaced dependency shows as a restart,
        // unless it is replaced itself.
        for change in &mut self.changes {
            let Some(causes) = self.restarted.get(&change.name) else {
                continue;
            };
            if change.action == Action::NoOp {
                change.action = Action::Restart;
                change.reasons = vec![crate::plan::Reason::DependencyReplaced];
                change.caused_by = causes.iter().cloned().collect();
            }
        }
        let summary = summarize(&self.changes);
        Plan {
            format_version: PLAN_FORMAT_VERSION,
            berth_version: berth_version.to_string(),
            project: self.project.name.clone(),
            destroy: false,
            model_digest: model_digest(self.project),
            fingerprint: self.snapshot.fingerprint(),
            observed: observe_scope_with(self.project, self.options),
            observed_resources: self.snapshot.resource_digests(),
            options: self.options.clone(),
            changes: self.changes,
            steps: self.steps.into_steps(),
            warnings: self.warnings,
            summary,
        }
    }
}

fn summarize(changes: &[ResourceChange]) -> Summary {
    let mut summary = Summary::default();
    for change in changes {
        let counter = match change.action {
            Action::Create => &mut summary.create,
            Action::Replace => &mut summary.replace,
            Action::Remove => &mut summary.remove,
            Action::Start => &mut summary.start,
            Action::Restart => &mut summary.restart,
            Action::Stop => &mut summary.stop,
            Action::Unpause => &mut summary.unpause,
            Action::Pull => &mut summary.pull,
            Action::Build => &mut summary.build,
            Action::NoOp => continue,
        };
        *counter += 1;
    }
    summary
}

/// SHA-256 of the model's JSON, so that a plan records what it was made
/// from.
pub fn model_digest(project: &Project) -> String {
    let json = serde_json::to_vec(project).unwrap_or_default();
    hex::encode(Sha256::digest(json))
}

/// Returns the scope an observation for `project` must cover beyond the
/// resources that carry its label: the names its containers, networks and volumes will
/// have, and the images it runs.
pub fn observe_scope(project: &Project) -> ObserveScope {
    observe_scope_with(project, &PlanOptions::default())
}

/// Returns what a plan with `options` observes: [`observe_scope`], plus
/// the images carrying the project label for a teardown with `--rmi`.
pub fn observe_scope_with(project: &Project, options: &PlanOptions) -> ObserveScope {
    let mut container_names = BTreeSet::new();
    let mut images = BTreeSet::new();
    let mut content_files = BTreeMap::new();
    let mut clock = false;
    for (name, service) in &project.services {
        clock |= matches!(
            crate::model::PullPolicy::parse(service.pull_policy.as_deref()),
            Ok(crate::model::PullPolicy::Refresh { .. })
        );
        let count = service.expected_scale().max(1);
        for number in 1..=count.min(64) {
            let number = u32::try_from(number).unwrap_or(u32::MAX);
            container_names.insert(containers::container_name(
                &project.name,
                name,
                service,
                number,
            ));
        }
        images.insert(containers::service_image(&project.name, name, service));
        let targets = crate::container_spec::digested_targets(project, service);
        if !targets.is_empty() {
            content_files.insert(name.clone(), targets);
        }
    }
    ObserveScope {
        container_names: container_names.into_iter().collect(),
        networks: project.networks.values().map(|n| n.name.clone()).collect(),
        volumes: project.volumes.values().map(|v| v.name.clone()).collect(),
        images: images.into_iter().collect(),
        clock,
        project_images: options.remove_images.is_some(),
        content_files,
    }
}
