//! Project-wide steps after every file is merged: profiles, implicit
//! dependencies, the default network, dropping unused networks and
//! volumes, and the checks Compose makes on the whole project.

use std::collections::{BTreeMap, BTreeSet};

use super::error::LoadError;
use crate::model::{CONDITION_STARTED, DependsOn, Network, Project, Service, Volume};

/// Splits services into enabled and disabled ones. A service is enabled
/// when it has no profile, when one of its profiles is active, when `*`
/// is active, or when it was named on the command line.
pub(crate) fn apply_profiles(
    project: &mut Project,
    active: &BTreeSet<String>,
    named: &[String],
    files: &str,
) -> Result<(), LoadError> {
    let mut active = active.clone();
    for name in named {
        let Some(service) = project.services.get(name) else {
            return Err(LoadError::Project {
                files: files.to_owned(),
                message: format!("no such service: {name:?} (it is not defined under `services:`)"),
            });
        };
        active.extend(service.profiles.iter().cloned());
    }
    let all = active.contains("*");
    let names: Vec<String> = project.services.keys().cloned().collect();
    for name in names {
        let enabled = match project.services.get(&name) {
            Some(service) => {
                all || service.profiles.is_empty()
                    || service.profiles.iter().any(|p| active.contains(p))
            }
            None => continue,
        };
        if !enabled {
            if let Some(service) = project.services.remove(&name) {
                project.disabled_services.insert(name, service);
            }
        }
    }
    Ok(())
}

/// Keeps the services named on the command line and what they depend on,
/// moving the other enabled services to `disabled_services`: a command
/// naming services leaves the others alone, and their containers are not
/// orphans. Does nothing when no service is named.
pub(crate) fn select_services(project: &mut Project, named: &[String]) {
    if named.is_empty() {
        return;
    }
    let mut selected: BTreeSet<String> = BTreeSet::new();
    let mut pending: Vec<String> = named.to_vec();
    while let Some(name) = pending.pop() {
        let Some(service) = project.services.get(&name) else {
            continue;
        };
        if selected.insert(name) {
            pending.extend(service.depends_on.keys().cloned());
        }
    }
    let others: Vec<String> = project
        .services
        .keys()
        .filter(|name| !selected.contains(*name))
        .cloned()
        .collect();
    for name in others {
        if let Some(service) = project.services.remove(&name) {
            project.disabled_services.insert(name, service);
        }
    }
}

/// Returns the service named by a `service:NAME` reference.
fn service_reference(value: Option<&String>) -> Option<&str> {
    value.and_then(|v| v.strip_prefix("service:"))
}

/// Adds the dependencies Compose infers from `links`, `service:`
/// references and `volumes_from`, unless declared explicitly.
pub(crate) fn add_implicit_dependencies(service: &mut Service) {
    let mut implied: Vec<(String, bool)> = Vec::new();
    for link in &service.links {
        let target = link.split_once(':').map_or(link.as_str(), |(name, _)| name);
        implied.push((target.to_owned(), true));
    }
    for reference in [&service.network_mode, &service.ipc, &service.pid] {
        if let Some(target) = service_reference(reference.as_ref()) {
            implied.push((target.to_owned(), true));
        }
    }
    for source in &service.volumes_from {
        if source.starts_with("container:") {
            continue;
        }
        let target = source
            .split_once(':')
            .map_or(source.as_str(), |(name, _)| name);
        implied.push((target.to_owned(), false));
    }
    for (target, restart) in implied {
        service.depends_on.entry(target).or_insert(DependsOn {
            condition: CONDITION_STARTED.to_owned(),
            restart,
            required: true,
        });
    }
}

fn project_error(files: &str, message: String) -> LoadError {
    LoadError::Project {
        files: files.to_owned(),
        message,
    }
}

/// Checks dependencies of enabled services. A dependency on a service
/// disabled by its profiles is an error naming the profile, unless it is
/// not required: then it stays in `depends_on`, as Compose prints it, and
/// points into `disabled_services`.
pub(crate) fn check_dependencies(project: &Project, files: &str) -> Result<(), LoadError> {
    let enabled: BTreeSet<String> = project.services.keys().cloned().collect();
    for (name, service) in &project.services {
        for (target, dependency) in &service.depends_on {
            if enabled.contains(target) {
                continue;
            }
            match project.disabled_services.get(target) {
                Some(_) if !dependency.required => {
                    tracing::debug!(service = %name, dependency = %target, "optional dependency on a disabled service");
                }
                Some(disabled) => {
                    let profiles = disabled.profiles.join(", ");
                    let first = disabled.profiles.first().cloned().unwrap_or_default();
                    return Err(project_error(
                        files,
                        format!(
                            "service {name:?} depends on service {target:?}, which is disabled because its \
                             profiles ({profiles}) are not active (enable one with `--profile {first}`, \
                             or name {target:?} on the command line)"
                        ),
                    ));
                }
                None => {
                    return Err(project_error(
                        files,
                        format!(
                            "service {name:?} depends on undefined service {target:?} \
                             (define it under `services:` or remove the dependency)"
                        ),
                    ));
                }
            }
        }
    }
    find_cycle(project, files)
}

/// Fails on the first dependency cycle, visiting services and their
/// dependencies in name order so the reported cycle is stable.
fn find_cycle(project: &Project, files: &str) -> Result<(), LoadError> {
    let mut done: BTreeSet<&str> = BTreeSet::new();
    for start in project.services.keys() {
        let mut stack: Vec<&str> = Vec::new();
        visit(project, start, &mut stack, &mut done, files)?;
    }
    Ok(())
}

fn visit<'p>(
    project: &'p Project,
    name: &'p str,
    stack: &mut Vec<&'p str>,
    done: &mut BTreeSet<&'p str>,
    files: &str,
) -> Result<(), LoadError> {
    if done.contains(name) {
        return Ok(());
    }
    if let Some(position) = stack.iter().position(|s| *s == name) {
        let mut cycle: Vec<String> = stack
            .iter()
            .skip(position)
            .map(|s| (*s).to_owned())
            .collect();
        cycle.push(name.to_owned());
        return Err(LoadError::DependencyCycle {
            files: files.to_owned(),
            cycle,
        });
    }
    stack.push(name);
    if let Some(service) = project.services.get(name) {
        for target in service.depends_on.keys() {
            visit(project, target, stack, done, files)?;
        }
    }
    stack.pop();
    done.insert(name);
    Ok(())
}

/// Checks each enabled service on its own: an image, a unique container
/// name, `network_mode` not mixed with `networks`, defined networks and
/// volumes. Also attaches services without networks to `default`.
pub(crate) fn check_services(
    project: &mut Project,
    networks: &BTreeMap<String, Network>,
    volumes: &BTreeMap<String, Volume>,
    files: &str,
) -> Result<(), LoadError> {
    for (name, service) in project.services.iter_mut() {
        if service.image.is_none() && service.build.is_none() && service.provider.is_none() {
            return Err(project_error(
                files,
                format!(
                    "service {name:?} has neither an image nor a build context specified (set `image:` or `build:`)"
                ),
            ));
        }
        let replicas = service.deploy.as_ref().and_then(|d| d.replicas);
        if let (Some(scale), Some(replicas)) = (service.scale, replicas) {
            if scale != replicas {
                return Err(project_error(
                    files,
                    format!(
                        "service {name:?} sets scale {scale} and deploy.replicas {replicas}, \
                         which must not differ (keep one of them)"
                    ),
                ));
            }
        }
        if let Some(container_name) = &service.container_name {
            let scale = service.expected_scale();
            if scale > 1 {
                return Err(project_error(
                    files,
                    format!(
                        "service {name:?} sets container_name {container_name:?} and asks for {scale} \
                         containers, but a container name must be unique (remove container_name or run one replica)"
                    ),
                ));
            }
        }
        if service.network_mode.is_some() && !service.networks.is_empty() {
            return Err(project_error(
                files,
                format!(
                    "service {name:?} declares both network_mode and networks, which cannot be used together (keep one of them)"
                ),
            ));
        }
        // A provider service runs no container, so it joins no network.
        let runs_container = service.provider.is_none();
        if runs_container && service.network_mode.is_none() && service.networks.is_empty() {
            service.networks.insert("default".to_owned(), None);
        }
        for network in service.networks.keys() {
            if network != "default" && !networks.contains_key(network) {
                return Err(project_error(
                    files,
                    format!(
                        "service {name:?} refers to undefined network {network} \
                         (declare it under the top-level `networks:`)"
                    ),
                ));
            }
        }
        for mount in &service.volumes {
            if mount.kind != "volume" {
                continue;
            }
            if let Some(source) = &mount.source {
                if !volumes.contains_key(source) {
                    return Err(project_error(
                        files,
                        format!(
                            "service {name:?} refers to undefined volume {source} \
                             (declare it under the top-level `volumes:`)"
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Keeps the networks and volumes that enabled services use, adding the
/// `default` network when used and not declared.
pub(crate) fn keep_used_resources(
    project: &mut Project,
    mut networks: BTreeMap<String, Network>,
    mut volumes: BTreeMap<String, Volume>,
) {
    let used_networks: BTreeSet<&String> = project
        .services
        .values()
        .flat_map(|s| s.networks.keys())
        .collect();
    let used_volumes: BTreeSet<&String> = project
        .services
        .values()
        .flat_map(|s| s.volumes.iter())
        .filter(|v| v.kind == "volume")
        .filter_map(|v| v.source.as_ref())
        .collect();
    for key in used_networks {
        let network = networks.remove(key.as_str()).unwrap_or_else(|| Network {
            name: format!("{}_{key}", project.name),
            ..Network::default()
        });
        project.networks.insert(key.clone(), network);
    }
    for key in used_volumes {
        if let Some(volume) = volumes.remove(key.as_str()) {
            project.volumes.insert(key.clone(), volume);
        }
    }
}

/// Lower-cases a directory name and keeps only what a project name
/// allows: `[a-z0-9_-]`, not starting with `_` or `-`.
pub(crate) fn normalize_project_name(raw: &str) -> String {
    let lowered: String = raw
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    lowered.trim_start_matches(['_', '-']).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names() {
        assert_eq!(normalize_project_name("My App.v2"), "myappv2");
        assert_eq!(normalize_project_name("__-x_y"), "x_y");
        assert_eq!(normalize_project_name("日本"), "");
    }

    fn service(deps: &[&str]) -> Service {
        let mut s = Service {
            image: Some("i".into()),
            ..Service::default()
        };
        for d in deps {
            s.depends_on.insert(
                (*d).to_owned(),
                DependsOn {
                    condition: CONDITION_STARTED.into(),
                    restart: false,
                    required: true,
                },
            );
        }
        s
    }

    #[test]
    fn cycles_are_reported_in_order() {
        let mut project = Project::default();
        project.services.insert("a".into(), service(&["b"]));
        project.services.insert("b".into(), service(&["c"]));
        project.services.insert("c".into(), service(&["a"]));
        let error = check_dependencies(&project, "/p/compose.yaml")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some(
                "dependency cycle detected: a -> b -> c -> a (services.a depends on b through \
                 depends_on, links or a service: reference, and so on around the cycle; remove \
                 one of these dependencies) (files: /p/compose.yaml)"
            )
        );
        let mut project = Project::default();
        project.services.insert("app".into(), service(&["app"]));
        let error = check_dependencies(&project, "f")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            error.starts_with("dependency cycle detected: app -> app"),
            "{error}"
        );
    }

    #[test]
    fn implicit_dependencies() {
        let mut s = service(&[]);
        s.links = vec!["db".into(), "cache:redis".into()];
        s.network_mode = Some("service:base".into());
        s.volumes_from = vec!["data:ro".into(), "container:x".into()];
        add_implicit_dependencies(&mut s);
        let got: Vec<(String, bool)> = s
            .depends_on
            .iter()
            .map(|(k, d)| (k.clone(), d.restart))
            .collect();
        assert_eq!(
            got,
            [
                ("base".into(), true),
                ("cache".into(), true),
                ("data".into(), false),
                ("db".into(), true)
            ]
        );
    }
}
