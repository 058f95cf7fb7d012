//! Observation against the real test engine.

mod common;

use berth_planner::snapshot::ObserveScope;
use bollard::models::ContainerCreateBody;
use bollard::query_parameters::CreateContainerOptions;

use common::{IMAGE, TestProject, engine_host};

#[tokio::test]
async fn empty_project_observes_stable() {
    let Some(host) = engine_host() else { return };
    let project = TestProject::new(&host, "obsempty").await;
    let scope = ObserveScope {
        container_names: vec![project.container("web")],
        networks: vec![project.network()],
        volumes: vec![format!("{}_data", project.name)],
        images: vec![IMAGE.to_owned(), "local/absent:none".to_owned()],
        ..ObserveScope::default()
    };

    let first = project.observe(&scope).await;
    assert_eq!(first.project, project.name);
    assert!(first.containers.is_empty());
    assert!(first.name_holders.is_empty());
    assert!(first.networks.is_empty());
    assert!(first.volumes.is_empty());
    assert!(!first.engine.version.is_empty());
    assert!(first.engine.api_version.starts_with("1."));
    let image = &first.images[IMAGE];
    assert!(image.id.starts_with("sha256:"), "image id {}", image.id);
    assert!(!image.healthcheck);
    assert!(!first.images.contains_key("local/absent:none"));

    assert!(first.observed_at.is_none());

    let second = project.observe(&scope).await;
    assert_eq!(
        serde_json::to_string(&first).unwrap(),
        serde_json::to_string(&second).unwrap()
    );
}

/// A scope that requests the clock gets the engine's time, and an image
/// made by `docker import` reports when it was tagged. Refresh pull
/// policies compare these two times.
#[tokio::test]
async fn clock_scope_records_engine_time() {
    let Some(host) = engine_host() else { return };
    let project = TestProject::new(&host, "obsclock").await;
    let scope = ObserveScope {
        images: vec![IMAGE.to_owned()],
        clock: true,
        ..ObserveScope::default()
    };

    let snapshot = project.observe(&scope).await;
    let observed_at = snapshot.observed_at.expect("the clock is recorded");
    assert!(observed_at.starts_with("20"), "observed_at {observed_at}");
    let tagged = snapshot.images[IMAGE].last_tag_time.clone();
    let tagged = tagged.expect("an imported image has a tag time");
    assert!(tagged.starts_with("20"), "last_tag_time {tagged}");
    let platform = &snapshot.images[IMAGE].platform;
    assert!(platform.starts_with("linux/"), "platform {platform}");
    assert!(
        tagged[..19] <= observed_at[..19],
        "{tagged} after {observed_at}"
    );
}

/// A container that uses a name the project needs but carries no config
/// hash is outside the project, so it is a name holder, not a container.
#[tokio::test]
async fn unhashed_container_is_name_holder() {
    let Some(host) = engine_host() else { return };
    let project = TestProject::new(&host, "obsholder").await;
    let name = project.container("site");
    let body = ContainerCreateBody {
        image: Some(IMAGE.to_owned()),
        cmd: Some(vec!["sleep".to_owned(), "60".to_owned()]),
        labels: Some(std::collections::HashMap::from([(
            "com.docker.compose.project".to_owned(),
            project.name.clone(),
        )])),
        ..Default::default()
    };
    let options = CreateContainerOptions {
        name: Some(name.clone()),
        ..Default::default()
    };
    let created = project
        .docker
        .create_container(Some(options), body)
        .await
        .unwrap();

    let scope = ObserveScope {
        container_names: vec![name.clone()],
        ..ObserveScope::default()
    };
    let snapshot = project.observe(&scope).await;
    assert!(snapshot.containers.is_empty());
    let holder = &snapshot.name_holders[&name];
    assert_eq!(holder.id, created.id);
    assert_eq!(holder.project.as_deref(), Some(project.name.as_str()));
}
