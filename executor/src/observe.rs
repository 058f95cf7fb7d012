//! Observing a project: the engine's containers, networks, volumes and
//! images as a [`Snapshot`]. Label filters and lookups by exact name are
//! used, as Docker Compose does, plus one listing of every running
//! container for the host ports it publishes. Everything is sorted so that
//! the same engine state always gives the same bytes.

use std::collections::BTreeMap;

use berth_planner::snapshot::{
    EngineInfo, NameHolder, ObserveScope, ObservedImage, ObservedNetwork, ObservedVolume,
    PortHolder, ProjectImage, SNAPSHOT_FORMAT_VERSION, Snapshot,
};
use bollard::Docker;
use bollard::query_parameters::{
    InspectContainerOptions, InspectNetworkOptions, ListContainersOptions, ListImagesOptions,
    ListNetworksOptions, ListVolumesOptions,
};

use crate::container::{CONFIG_HASH_LABEL, PROJECT_LABEL, observed_container};
use crate::error::{ExecutorError, status_of};
use crate::observe_content::read_content_digests;

/// Scope of an observation: the project's labelled resources, plus the
/// names and references of the scope, which may exist without labels.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObserveRequest {
    /// The project name, as in the `com.docker.compose.project` label.
    pub project: String,
    /// Container names, networks, volumes and images the model uses.
    pub scope: ObserveScope,
}

impl ObserveRequest {
    /// Creates a request for `project` over `scope`.
    pub fn new(project: impl Into<String>, scope: ObserveScope) -> Self {
        ObserveRequest {
            project: project.into(),
            scope,
        }
    }
}

/// Observes the project named by `request` into a snapshot.
pub async fn observe(docker: &Docker, request: &ObserveRequest) -> Result<Snapshot, ExecutorError> {
    let engine = engine_info(docker).await?;
    let mut containers = observe_containers(docker, &request.project).await?;
    read_content_digests(docker, &mut containers, &request.scope.content_files).await;
    let name_holders = observe_name_holders(docker, request).await?;
    let port_holders = observe_port_holders(docker, &request.project).await?;
    let networks = observe_networks(docker, request).await?;
    let volumes = observe_volumes(docker, request).await?;
    let images = observe_images(docker, &request.scope.images).await?;
    let project_images = if request.scope.project_images {
        observe_project_images(docker, &request.project).await?
    } else {
        BTreeMap::new()
    };
    let observed_at = if request.scope.clock {
        Some(engine_clock(docker).await?)
    } else {
        None
    };
    Ok(Snapshot {
        format_version: SNAPSHOT_FORMAT_VERSION,
        project: request.project.clone(),
        engine,
        containers,
        name_holders,
        port_holders,
        networks,
        volumes,
        images,
        project_images,
        observed_at,
    })
}

/// Reads the engine's clock, against which refresh pull policies compare
/// the images' last tag times, which the same clock wrote.
async fn engine_clock(docker: &Docker) -> Result<String, ExecutorError> {
    let info = docker
        .info()
        .await
        .map_err(|error| ExecutorError::engine("read the engine's system info", &error))?;
    Ok(info.system_time.unwrap_or_default())
}

async fn engine_info(docker: &Docker) -> Result<EngineInfo, ExecutorError> {
    let version = docker
        .version()
        .await
        .map_err(|error| ExecutorError::engine("read the engine version", &error))?;
    Ok(EngineInfo {
        version: version.version.unwrap_or_default(),
        api_version: docker.client_version().to_string(),
    })
}

fn label_filter(labels: Vec<String>) -> std::collections::HashMap<String, Vec<String>> {
    std::collections::HashMap::from([("label".to_owned(), labels)])
}

async fn observe_containers(
    docker: &Docker,
    project: &str,
) -> Result<Vec<berth_planner::snapshot::ObservedContainer>, ExecutorError> {
    let options = ListContainersOptions {
        all: true,
        filters: Some(label_filter(vec![
            format!("{PROJECT_LABEL}={project}"),
            CONFIG_HASH_LABEL.to_owned(),
        ])),
        ..Default::default()
    };
    let listed = docker
        .list_containers(Some(options))
        .await
        .map_err(|error| {
            ExecutorError::engine(
                format!("list the containers of project `{project}`"),
                &error,
            )
        })?;

    let mut containers = Vec::new();
    for summary in listed {
        let Some(id) = summary.id else { continue };
        match docker
            .inspect_container(&id, None::<InspectContainerOptions>)
            .await
        {
            Ok(inspect) => containers.push(observed_container(inspect)),
            // Removed between the listing and the inspection, so it is gone,
            // as a later observation would also report.
            Err(error) if status_of(&error) == Some(404) => {
                tracing::debug!(id, "container vanished while observing");
            }
            Err(error) => {
                return Err(ExecutorError::engine(
                    format!("inspect container `{id}`"),
                    &error,
                ));
            }
        }
    }
    containers.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    Ok(containers)
}

/// Lists the host ports that running containers outside the project
/// publish: one listing call, since the summaries carry the ports.
async fn observe_port_holders(
    docker: &Docker,
    project: &str,
) -> Result<Vec<PortHolder>, ExecutorError> {
    let listed = docker
        .list_containers(None::<ListContainersOptions>)
        .await
        .map_err(|error| ExecutorError::engine("list the running containers", &error))?;
    let mut holders = Vec::new();
    for summary in listed {
        let labels = summary.labels.unwrap_or_default();
        if labels.get(PROJECT_LABEL).map(String::as_str) == Some(project) {
            continue;
        }
        let name = summary
            .names
            .unwrap_or_default()
            .first()
            .map(|name| name.trim_start_matches('/').to_owned())
            .or(summary.id)
            .unwrap_or_default();
        for port in summary.ports.unwrap_or_default() {
            let Some(public_port) = port.public_port else {
                continue;
            };
            holders.push(PortHolder {
                container: name.clone(),
                host_ip: port.ip.unwrap_or_default(),
                port: public_port,
                protocol: port
                    .typ
                    .map_or_else(|| "tcp".to_owned(), |typ| typ.to_string()),
            });
        }
    }
    holders.sort();
    holders.dedup();
    Ok(holders)
}

async fn observe_name_holders(
    docker: &Docker,
    request: &ObserveRequest,
) -> Result<BTreeMap<String, NameHolder>, ExecutorError> {
    let mut holders = BTreeMap::new();
    for name in &request.scope.container_names {
        let inspect = match docker
            .inspect_container(name, None::<InspectContainerOptions>)
            .await
        {
            Ok(inspect) => inspect,
            Err(error) if status_of(&error) == Some(404) => continue,
            Err(error) => {
                return Err(ExecutorError::engine(
                    format!("inspect container `{name}`"),
                    &error,
                ));
            }
        };
        // The engine also resolves ids and id prefixes, but only a
        // container with exactly this name occupies it.
        let found = inspect.name.as_deref().unwrap_or("");
        if found.trim_start_matches('/') != name {
            continue;
        }
        let labels = inspect
            .config
            .as_ref()
            .and_then(|config| config.labels.clone())
            .unwrap_or_default();
        let holder_project = labels.get(PROJECT_LABEL).cloned();
        let in_project = holder_project.as_deref() == Some(request.project.as_str())
            && labels.contains_key(CONFIG_HASH_LABEL);
        if in_project {
            continue;
        }
        tracing::debug!(name, project = ?holder_project, "name held outside the project");
        holders.insert(
            name.clone(),
            NameHolder {
                id: inspect.id.unwrap_or_default(),
                project: holder_project,
            },
        );
    }
    Ok(holders)
}

async fn observe_networks(
    docker: &Docker,
    request: &ObserveRequest,
) -> Result<BTreeMap<String, ObservedNetwork>, ExecutorError> {
    let project = &request.project;
    let options = ListNetworksOptions {
        filters: Some(label_filter(vec![format!("{PROJECT_LABEL}={project}")])),
    };
    let listed = docker.list_networks(Some(options)).await.map_err(|error| {
        ExecutorError::engine(format!("list the networks of project `{project}`"), &error)
    })?;

    // Listing leaves out attached containers, so every network is
    // inspected: the labelled ones by id, the declared ones by name.
    let mut networks: BTreeMap<String, ObservedNetwork> = BTreeMap::new();
    for id in listed.into_iter().filter_map(|network| network.id) {
        let Some(network) = inspect_network(docker, &id).await? else {
            continue;
        };
        // Engines before API 1.44 accept duplicate names. The smallest id
        // is kept, so that the choice does not depend on list order.
        if let Some(previous) = networks.get(&network.name)
            && previous.id < network.id
        {
            tracing::debug!(name = network.name, "several networks share the name");
            continue;
        }
        networks.insert(network.name.clone(), network);
    }
    for name in &request.scope.networks {
        if networks.contains_key(name) {
            continue;
        }
        // A lookup by name also matches ids and id prefixes.
        if let Some(network) = inspect_network(docker, name).await?
            && &network.name == name
        {
            networks.insert(name.clone(), network);
        }
    }
    Ok(networks)
}

async fn inspect_network(
    docker: &Docker,
    key: &str,
) -> Result<Option<ObservedNetwork>, ExecutorError> {
    let inspect = match docker
        .inspect_network(key, None::<InspectNetworkOptions>)
        .await
    {
        Ok(inspect) => inspect,
        Err(error) if status_of(&error) == Some(404) => return Ok(None),
        Err(error) => {
            return Err(ExecutorError::engine(
                format!("inspect network `{key}`"),
                &error,
            ));
        }
    };
    let mut containers: Vec<String> = inspect
        .containers
        .unwrap_or_default()
        .into_values()
        .filter_map(|endpoint| endpoint.name)
        .collect();
    containers.sort();
    Ok(Some(ObservedNetwork {
        id: inspect.id.unwrap_or_default(),
        name: inspect.name.unwrap_or_default(),
        labels: inspect.labels.unwrap_or_default().into_iter().collect(),
        containers,
    }))
}

async fn observe_volumes(
    docker: &Docker,
    request: &ObserveRequest,
) -> Result<BTreeMap<String, ObservedVolume>, ExecutorError> {
    let project = &request.project;
    let options = ListVolumesOptions {
        filters: Some(label_filter(vec![format!("{PROJECT_LABEL}={project}")])),
    };
    let listed = docker.list_volumes(Some(options)).await.map_err(|error| {
        ExecutorError::engine(format!("list the volumes of project `{project}`"), &error)
    })?;

    let mut volumes = BTreeMap::new();
    for volume in listed.volumes.unwrap_or_default() {
        volumes.insert(
            volume.name.clone(),
            ObservedVolume {
                name: volume.name,
                driver: volume.driver,
                labels: volume.labels.into_iter().collect(),
            },
        );
    }
    for name in &request.scope.volumes {
        if volumes.contains_key(name) {
            continue;
        }
        let volume = match docker.inspect_volume(name).await {
            Ok(volume) => volume,
            Err(error) if status_of(&error) == Some(404) => continue,
            Err(error) => {
                return Err(ExecutorError::engine(
                    format!("inspect volume `{name}`"),
                    &error,
                ));
            }
        };
        volumes.insert(
            volume.name.clone(),
            ObservedVolume {
                name: volume.name,
                driver: volume.driver,
                labels: volume.labels.into_iter().collect(),
            },
        );
    }
    Ok(volumes)
}

async fn observe_images(
    docker: &Docker,
    references: &[String],
) -> Result<BTreeMap<String, ObservedImage>, ExecutorError> {
    let mut images = BTreeMap::new();
    for reference in references {
        let inspect = match docker.inspect_image(reference).await {
            Ok(inspect) => inspect,
            Err(error) if status_of(&error) == Some(404) => continue,
            Err(error) => {
                return Err(ExecutorError::engine(
                    format!("inspect image `{reference}`"),
                    &error,
                ));
            }
        };
        let platform = image_platform(
            inspect.os.as_deref(),
            inspect.architecture.as_deref(),
            inspect.variant.as_deref(),
        );
        let config = inspect.config.unwrap_or_default();
        let environment = config.env.unwrap_or_default();
        let mut volumes = config.volumes.unwrap_or_default();
        volumes.sort();
        let healthcheck = config
            .healthcheck
            .and_then(|check| check.test)
            .and_then(|test| test.first().cloned())
            .is_some_and(|kind| kind != "NONE");
        // Go's zero time stands for "never tagged", as for a pulled image.
        let last_tag_time = inspect
            .metadata
            .and_then(|metadata| metadata.last_tag_time)
            .filter(|time| !time.starts_with("0001-01-01"));
        images.insert(
            reference.clone(),
            ObservedImage {
                id: inspect.id.unwrap_or_default(),
                volumes,
                healthcheck,
                last_tag_time,
                platform,
                environment,
            },
        );
    }
    Ok(images)
}

/// Lists the tagged images that carry the project label, keyed by their
/// first tag, which is the one `docker compose down --rmi` removes.
async fn observe_project_images(
    docker: &Docker,
    project: &str,
) -> Result<BTreeMap<String, ProjectImage>, ExecutorError> {
    let mut filters = label_filter(vec![format!("{PROJECT_LABEL}={project}")]);
    filters.insert("dangling".to_owned(), vec!["false".to_owned()]);
    let options = ListImagesOptions {
        filters: Some(filters),
        ..Default::default()
    };
    let listed = docker.list_images(Some(options)).await.map_err(|error| {
        ExecutorError::engine(format!("list the images of project `{project}`"), &error)
    })?;
    let mut images = BTreeMap::new();
    for summary in listed {
        // An image listed as not dangling may still have no tag, only a
        // digest; Compose skips those too.
        let Some(tag) = summary.repo_tags.first() else {
            continue;
        };
        let service = summary
            .labels
            .get(berth_planner::labels::SERVICE)
            .cloned()
            .unwrap_or_default();
        images.insert(
            tag.clone(),
            ProjectImage {
                id: summary.id,
                service,
            },
        );
    }
    Ok(images)
}

/// Joins an image's platform fields as `os/architecture[/variant]`.
fn image_platform(os: Option<&str>, architecture: Option<&str>, variant: Option<&str>) -> String {
    let (Some(os), Some(architecture)) = (os, architecture) else {
        return String::new();
    };
    if os.is_empty() || architecture.is_empty() {
        return String::new();
    }
    match variant {
        Some(variant) if !variant.is_empty() => format!("{os}/{architecture}/{variant}"),
        _ => format!("{os}/{architecture}"),
    }
}
