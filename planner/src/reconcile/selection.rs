//! Which services a plan converges, and how eagerly it recreates them.
//!
//! Mirrors `docker compose up [SERVICE...]`: named services plus their
//! dependencies are selected (only the named ones with `--no-deps`), every
//! other service is left alone and is not an orphan either.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{Project, Service};
use crate::plan::PlanOptions;

use super::PlanError;

/// How a service's containers are compared with the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RecreateStrategy {
    /// Replace containers whose configuration or image diverged.
    Diverged,
    /// Replace every container.
    Force,
    /// Never replace; only create, start and scale.
    Never,
}

/// The services a plan acts on.
pub(crate) struct Selection {
    /// Selected services, with `depends_on` pruned to the selection.
    pub services: BTreeMap<String, Service>,
    /// Names of services that exist in the model but are not acted on.
    pub known: BTreeSet<String>,
    /// Services named on the command line, or every selected service.
    pub targeted: BTreeSet<String>,
    /// Expected container count per selected service.
    pub scale: BTreeMap<String, u64>,
}

impl Selection {
    pub(crate) fn strategy(&self, service: &str, options: &PlanOptions) -> RecreateStrategy {
        if options.no_recreate {
            return RecreateStrategy::Never;
        }
        let forced = if self.targeted.contains(service) {
            options.force_recreate || options.renew_anon_volumes
        } else {
            options.always_recreate_deps
        };
        if forced {
            RecreateStrategy::Force
        } else {
            RecreateStrategy::Diverged
        }
    }
}

/// Applies the service arguments, `--no-deps` and `--scale` to the model.
pub(crate) fn select(project: &Project, options: &PlanOptions) -> Result<Selection, PlanError> {
    check_flags(options)?;
    let known: BTreeSet<String> = project
        .services
        .keys()
        .chain(project.disabled_services.keys())
        .cloned()
        .collect();
    for name in options.services.iter().chain(options.scale.keys()) {
        if !project.services.contains_key(name) {
            return Err(PlanError::UnknownService {
                service: name.clone(),
                known: project
                    .services
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }

    let mut selected: BTreeSet<String> = BTreeSet::new();
    if options.services.is_empty() {
        selected.extend(project.services.keys().cloned());
    } else {
        let mut pending: Vec<String> = options.services.clone();
        while let Some(name) = pending.pop() {
            if !selected.insert(name.clone()) || options.no_deps {
                continue;
            }
            if let Some(service) = project.services.get(&name) {
                pending.extend(service.depends_on.keys().cloned());
            }
        }
    }

    let mut services = BTreeMap::new();
    for name in &selected {
        let Some(service) = project.services.get(name) else {
            continue;
        };
        check_disabled_dependencies(project, name, service)?;
        let mut service = service.clone();
        service
            .depends_on
            .retain(|dependency, _| selected.contains(dependency));
        services.insert(name.clone(), service);
    }

    let mut scale = BTreeMap::new();
    for (name, service) in &services {
        let count = options
            .scale
            .get(name)
            .copied()
            .unwrap_or_else(|| service.expected_scale());
        if count > 1
            && let Some(fixed) = &service.container_name
        {
            return Err(PlanError::FixedNameScaled {
                service: name.clone(),
                container_name: fixed.clone(),
                count,
            });
        }
        scale.insert(name.clone(), count);
    }

    let targeted = if options.services.is_empty() {
        services.keys().cloned().collect()
    } else {
        options.services.iter().cloned().collect()
    };
    Ok(Selection {
        services,
        known,
        targeted,
        scale,
    })
}

/// Rejects the flag combinations Docker Compose rejects.
fn check_flags(options: &PlanOptions) -> Result<(), PlanError> {
    let conflicts = [
        (options.force_recreate, "--force-recreate"),
        (options.renew_anon_volumes, "--renew-anon-volumes"),
        (options.always_recreate_deps, "--always-recreate-deps"),
    ];
    if options.build && options.no_build {
        return Err(PlanError::ConflictingFlags {
            first: "--build",
            second: "--no-build",
        });
    }
    if options.no_recreate {
        for (set, flag) in conflicts {
            if set {
                return Err(PlanError::ConflictingFlags {
                    first: "--no-recreate",
                    second: flag,
                });
            }
        }
    }
    Ok(())
}

/// A required dependency on a service that a profile disables cannot be
/// met; say which profile would enable it.
fn check_disabled_dependencies(
    project: &Project,
    name: &str,
    service: &Service,
) -> Result<(), PlanError> {
    for (dependency, condition) in &service.depends_on {
        if !condition.required || project.services.contains_key(dependency) {
            continue;
        }
        if let Some(disabled) = project.disabled_services.get(dependency) {
            return Err(PlanError::DisabledDependency {
                service: name.to_string(),
                dependency: dependency.clone(),
                profiles: disabled.profiles.join(", "),
            });
        }
    }
    Ok(())
}
