//! Reconciler tests on small compose files and hand-built snapshots.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::load::{LoadRequest, load};
use crate::model::Project;
use crate::plan::{Plan, PlanOptions};
use crate::snapshot::{
    EngineInfo, ObservedContainer, ObservedEndpoint, ObservedImage, ObservedNetwork, Snapshot,
};

const IMAGE_ID: &str = "sha256:1111";

fn project(compose: &str, environment: &[(&str, &str)]) -> Project {
    let root = PathBuf::from("/t");
    let files = BTreeMap::from([(root.join("compose.yaml"), compose.to_string())]);
    let request = LoadRequest {
        working_dir: root,
        project_name: Some("p".into()),
        environment: environment
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..LoadRequest::default()
    };
    load(&request, &files).expect("compose file loads").project
}

fn network(name: &str, key: &str) -> ObservedNetwork {
    ObservedNetwork {
        id: format!("id-{name}"),
        name: name.into(),
        labels: BTreeMap::from([
            ("com.docker.compose.project".into(), "p".into()),
            ("com.docker.compose.network".into(), key.into()),
        ]),
        containers: Vec::new(),
    }
}

/// Builds a running container of `service` whose config hash is outdated.
fn outdated(service: &str, networks: &[&str]) -> ObservedContainer {
    let name = format!("p-{service}-1");
    ObservedContainer {
        id: format!("{:0>64}", service.len()),
        labels: BTreeMap::from([
            ("com.docker.compose.project".into(), "p".into()),
            ("com.docker.compose.service".into(), service.into()),
            ("com.docker.compose.container-number".into(), "1".into()),
            ("com.docker.compose.oneoff".into(), "False".into()),
            ("com.docker.compose.config-hash".into(), "old".into()),
            ("com.docker.compose.image".into(), IMAGE_ID.into()),
        ]),
        name,
        state: "running".into(),
        image_id: IMAGE_ID.into(),
        networks: networks
            .iter()
            .map(|n| {
                let endpoint = ObservedEndpoint {
                    network_id: format!("id-{n}"),
                    aliases: Vec::new(),
                };
                (n.to_string(), endpoint)
            })
            .collect(),
        ..ObservedContainer::default()
    }
}

fn snapshot(containers: Vec<ObservedContainer>, networks: &[(&str, &str)]) -> Snapshot {
    Snapshot {
        format_version: 1,
        project: "p".into(),
        engine: EngineInfo {
            version: "20.10.24".into(),
            api_version: "1.41".into(),
        },
        containers,
        name_holders: BTreeMap::new(),
        port_holders: Vec::new(),
        networks: networks
            .iter()
            .map(|(name, key)| (name.to_string(), network(name, key)))
            .collect(),
        volumes: BTreeMap::new(),
        images: BTreeMap::from([(
            "local/busybox:test".into(),
            ObservedImage {
                id: IMAGE_ID.into(),
                ..ObservedImage::default()
            },
        )]),
        project_images: BTreeMap::new(),
        observed_at: None,
    }
}

fn after<'a>(plan: &'a Plan, id: &str) -> &'a [String] {
    &plan
        .steps
        .iter()
        .find(|step| step.id == id)
        .unwrap_or_else(|| panic!("no step {id}"))
        .after
}

#[test]
fn dependent_created_after_rename() {
    let project = project(
        "services:\n  a:\n    image: local/busybox:test\n  b:\n    image: local/busybox:test\n    network_mode: service:a\n",
        &[],
    );
    let state = snapshot(
        vec![outdated("a", &["p_default"]), outdated("b", &[])],
        &[("p_default", "default")],
    );
    let plan = super::plan(&project, &state, &PlanOptions::default(), "0").expect("plans");
    // b's create body names a's container by its final name; before the
    // rename that name still belongs to the old container.
    assert_eq!(
        after(&plan, "container.create:p-b-1"),
        ["container.rename:p-a-1"]
    );
}

#[test]
fn replacement_connects_before_rename() {
    let project = project(
        "services:\n  a:\n    image: local/busybox:test\n    networks: [front, back]\nnetworks:\n  front: {}\n  back: {}\n",
        &[],
    );
    let state = snapshot(
        vec![outdated("a", &["p_front", "p_back"])],
        &[("p_front", "front"), ("p_back", "back")],
    );
    let plan = super::plan(&project, &state, &PlanOptions::default(), "0").expect("plans");
    let connect = plan
        .steps
        .iter()
        .find(|step| step.id.starts_with("network.connect:p-a-1:"))
        .expect("an engine older than 1.44 joins the second network after create");
    let remove = after(&plan, "container.remove:p-a-1");
    assert!(
        remove.contains(&connect.id),
        "remove waits for {}: {remove:?}",
        connect.id
    );
}

#[test]
fn namespace_sharer_stays_up_to_date() {
    let project = project(
        "services:\n  a:\n    image: local/busybox:test\n  b:\n    image: local/busybox:test\n    network_mode: service:a\n",
        &[],
    );
    let mut a = outdated("a", &["p_default"]);
    a.labels.insert(
        "com.docker.compose.config-hash".into(),
        crate::hash::service_config_hash(&project.services["a"]),
    );
    // Docker Compose hashes b with the reference resolved to a's id.
    let mut resolved = project.services["b"].clone();
    resolved.network_mode = Some(format!("container:{}", a.id));
    let mut b = outdated("b", &[]);
    b.labels.insert(
        "com.docker.compose.config-hash".into(),
        crate::hash::service_config_hash(&resolved),
    );
    let state = snapshot(vec![a, b], &[("p_default", "default")]);
    let plan = super::plan(&project, &state, &PlanOptions::default(), "0").expect("plans");
    assert!(plan.steps.is_empty(), "unexpected steps: {:?}", plan.steps);
}
