//! Applying hand-written plans against the real test engine: creation,
//! waiting, the recreate sequence, stale plans and unpausing.

mod common;

use berth_executor::{ApplyError, ApplyOptions, NoProgress, StderrProgress, StepError, apply};
use berth_planner::plan::{StepAction, WaitCondition};
use berth_planner::snapshot::ObserveScope;
use bollard::models::NetworkCreateRequest;
use serde_json::json;
use sha2::{Digest, Sha256};

use common::{TestProject, by_id, by_name, engine_host, quick_healthcheck, step};

fn scope(project: &TestProject) -> ObserveScope {
    ObserveScope {
        container_names: vec![project.container("db"), project.container("web")],
        networks: vec![project.network()],
        volumes: Vec::new(),
        images: vec![common::IMAGE.to_owned()],
        ..ObserveScope::default()
    }
}

fn expected_hash(input: &serde_json::Value) -> String {
    let encoded = berth_planner::hash::go_json_compact(input);
    hex::encode(Sha256::digest(encoded.as_bytes()))
}

#[tokio::test]
async fn creates_waits_healthy_then_recreates() {
    let Some(host) = engine_host() else { return };
    let project = TestProject::new(&host, "apply").await;
    let db = project.container("db");
    let web = project.container("web");

    let mut db_body = project.container_body("db", &["sleep", "3600"]);
    db_body.healthcheck = Some(quick_healthcheck());
    let db_hash_input = json!({"command": ["sleep", "3600"], "image": common::IMAGE});
    let web_body = project.container_body("web", &["sleep", "3600"]);
    let network_step = project.create_network_step();
    let network_id = network_step.id.clone();
    let steps = vec![
        network_step,
        step(
            "create:db",
            &[&network_id],
            StepAction::CreateContainer {
                name: db.clone(),
                body: Box::new(db_body),
                hash_input: Some(db_hash_input.clone()),
            },
        ),
        step(
            "create:web",
            &[&network_id],
            StepAction::CreateContainer {
                name: web.clone(),
                body: Box::new(web_body),
                hash_input: Some(json!({"image": common::IMAGE})),
            },
        ),
        step(
            "start:db",
            &["create:db", "create:web"],
            StepAction::StartContainer {
                container: by_name(&db),
                post_start: None,
            },
        ),
        step(
            "wait:db",
            &["start:db"],
            StepAction::Wait {
                service: "db".to_owned(),
                containers: vec![db.clone()],
                condition: WaitCondition::Healthy,
                timeout_seconds: 60,
            },
        ),
        step(
            "start:web",
            &["wait:db"],
            StepAction::StartContainer {
                container: by_name(&web),
                post_start: None,
            },
        ),
    ];
    let plan = project.plan(scope(&project), steps).await;
    let report = apply(
        &project.docker,
        &plan,
        &ApplyOptions::default(),
        &NoProgress,
    )
    .await
    .unwrap_or_else(|error| panic!("first apply: {error}"));
    assert_eq!(report.done.len(), 6);
    assert_eq!(report.done.last().map(String::as_str), Some("start:web"));

    let snapshot = project.observe(&scope(&project)).await;
    let names: Vec<&str> = snapshot
        .containers
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, vec![db.as_str(), web.as_str()]);
    let observed_db = &snapshot.containers[0];
    assert_eq!(observed_db.state, "running");
    assert_eq!(observed_db.health.as_deref(), Some("healthy"));
    assert_eq!(
        observed_db.label("com.docker.compose.config-hash"),
        expected_hash(&db_hash_input)
    );
    assert_eq!(
        snapshot.networks[&project.network()].containers,
        vec![db.clone(), web.clone()]
    );
    let old_web = snapshot.containers[1].clone();
    assert_eq!(old_web.state, "running");
    assert!(old_web.networks.contains_key(&project.network()));

    // The recreate sequence of Docker Compose: create under a temporary
    // name, stop and remove the old container, rename, start.
    let temporary = format!("{}_{web}", &old_web.id[..12]);
    let mut new_body = project.container_body("web", &["sleep", "3600"]);
    new_body.env = vec!["MODE=new".to_owned()];
    new_body
        .labels
        .insert("test.db-id".to_owned(), "berth-id(".to_owned() + &db + ")");
    let new_hash_input =
        json!({"image": common::IMAGE, "network_mode": format!("container:berth-id({db})")});
    let steps = vec![
        step(
            "create:web-new",
            &[],
            StepAction::CreateContainer {
                name: temporary.clone(),
                body: Box::new(new_body),
                hash_input: Some(new_hash_input),
            },
        ),
        step(
            "stop:web",
            &["create:web-new"],
            StepAction::StopContainer {
                container: by_id(&web, &old_web.id),
                timeout_seconds: Some(1),
                pre_stop: None,
            },
        ),
        step(
            "remove:web",
            &["stop:web"],
            StepAction::RemoveContainer {
                container: by_id(&web, &old_web.id),
                remove_volumes: false,
            },
        ),
        step(
            "rename:web",
            &["remove:web"],
            StepAction::RenameContainer {
                container: by_name(&temporary),
                to: web.clone(),
            },
        ),
        step(
            "start:web",
            &["rename:web"],
            StepAction::StartContainer {
                container: by_name(&web),
                post_start: None,
            },
        ),
    ];
    let plan = project.plan(scope(&project), steps).await;
    apply(
        &project.docker,
        &plan,
        &ApplyOptions::default(),
        &NoProgress,
    )
    .await
    .unwrap_or_else(|error| panic!("recreate apply: {error}"));

    let snapshot = project.observe(&scope(&project)).await;
    assert_eq!(snapshot.containers.len(), 2);
    let new_web = &snapshot.containers[1];
    assert_eq!(new_web.name, web);
    assert_ne!(new_web.id, old_web.id);
    assert_eq!(new_web.state, "running");
    assert_eq!(
        new_web.config.environment.get("MODE"),
        Some(&Some("new".to_owned()))
    );
    assert_eq!(new_web.label("test.db-id"), observed_db.id);
    let substituted =
        json!({"image": common::IMAGE, "network_mode": format!("container:{}", observed_db.id)});
    assert_eq!(
        new_web.label("com.docker.compose.config-hash"),
        expected_hash(&substituted)
    );
}

#[tokio::test]
async fn stale_plan_is_rejected() {
    let Some(host) = engine_host() else { return };
    let project = TestProject::new(&host, "stale").await;
    let plan = project
        .plan(scope(&project), vec![project.create_network_step()])
        .await;

    // Behind the plan's back, a labelled network appears.
    let request = NetworkCreateRequest {
        name: format!("{}_other", project.name),
        labels: Some(std::collections::HashMap::from([(
            "com.docker.compose.project".to_owned(),
            project.name.clone(),
        )])),
        ..Default::default()
    };
    project.docker.create_network(request).await.unwrap();

    let error = apply(
        &project.docker,
        &plan,
        &ApplyOptions::default(),
        &NoProgress,
    )
    .await
    .expect_err("a stale plan must be rejected");
    assert!(
        matches!(&error, ApplyError::StalePlan { planned, .. } if planned == &plan.fingerprint),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("engine changed since the plan was made"),
        "{message}"
    );
    assert!(message.contains("run `berth plan` again"), "{message}");
    let snapshot = project.observe(&scope(&project)).await;
    assert!(!snapshot.networks.contains_key(&project.network()));
}

#[tokio::test]
async fn unpause_resumes_paused_container() {
    let Some(host) = engine_host() else { return };
    let project = TestProject::new(&host, "unpause").await;
    let web = project.container("web");
    let network_step = project.create_network_step();
    let network_id = network_step.id.clone();
    let steps = vec![
        network_step,
        step(
            "create:web",
            &[&network_id],
            StepAction::CreateContainer {
                name: web.clone(),
                body: Box::new(project.container_body("web", &["sleep", "3600"])),
                hash_input: Some(json!({})),
            },
        ),
        step(
            "start:web",
            &["create:web"],
            StepAction::StartContainer {
                container: by_name(&web),
                post_start: None,
            },
        ),
    ];
    let plan = project.plan(scope(&project), steps).await;
    apply(
        &project.docker,
        &plan,
        &ApplyOptions::default(),
        &NoProgress,
    )
    .await
    .unwrap_or_else(|error| panic!("apply: {error}"));
    project.docker.pause_container(&web).await.unwrap();

    let snapshot = project.observe(&scope(&project)).await;
    assert_eq!(snapshot.containers[0].state, "paused");
    let id = snapshot.containers[0].id.clone();
    let steps = vec![step(
        "unpause:web",
        &[],
        StepAction::UnpauseContainer {
            container: by_id(&web, &id),
        },
    )];
    let plan = project.plan(scope(&project), steps).await;
    apply(
        &project.docker,
        &plan,
        &ApplyOptions::default(),
        &NoProgress,
    )
    .await
    .unwrap_or_else(|error| panic!("unpause apply: {error}"));
    assert_eq!(project.state(&web).await, "running");
}

/// A step that names a container by an id that no longer exists fails
/// with that id instead of acting on whatever now has the name.
#[tokio::test]
async fn gone_container_id_is_reported() {
    let Some(host) = engine_host() else { return };
    let project = TestProject::new(&host, "gone").await;
    let web = project.container("web");
    let steps = vec![step(
        "start:web",
        &[],
        StepAction::StartContainer {
            container: by_id(
                &web,
                "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            ),
            post_start: None,
        },
    )];
    let plan = project.plan(scope(&project), steps).await;
    let error = apply(
        &project.docker,
        &plan,
        &ApplyOptions::default(),
        &NoProgress,
    )
    .await
    .expect_err("the container is gone");
    let ApplyError::StepsFailed(failure) = &error else {
        panic!("{error:?}");
    };
    assert!(matches!(
        failure.failed[0].error,
        StepError::ContainerGone { .. }
    ));
    assert!(error.to_string().contains("step `start:web`"), "{error}");
}

/// Engines before API 1.44 would create a second network of the same
/// name. The step fails instead, naming the network.
#[tokio::test]
async fn network_name_clash_fails() {
    let Some(host) = engine_host() else { return };
    let project = TestProject::new(&host, "netclash").await;
    // Unlabelled and outside the plan's scope, so the plan is not stale.
    let request = NetworkCreateRequest {
        name: project.network(),
        ..Default::default()
    };
    let created = project.docker.create_network(request).await.unwrap();
    let steps = vec![project.create_network_step()];
    let plan = project.plan(ObserveScope::default(), steps).await;
    let result = apply(
        &project.docker,
        &plan,
        &ApplyOptions::default(),
        &StderrProgress,
    )
    .await;
    let _ = project.docker.remove_network(&created.id).await;
    let error = result.expect_err("the name is taken");
    let ApplyError::StepsFailed(failure) = &error else {
        panic!("{error:?}");
    };
    assert!(
        matches!(&failure.failed[0].error, StepError::NetworkExists { name, .. } if name == &project.network()),
        "{error}"
    );
    assert!(error.to_string().contains("already exists"), "{error}");
}

/// A `pre_stop` hook cannot run in a container that does not run. The
/// engine rejects the exec with 409, which Docker Compose 2.40.3 ignores,
/// so the hook is skipped and the stop goes on.
#[tokio::test]
async fn pre_stop_of_stopped_container_is_skipped() {
    let Some(host) = engine_host() else { return };
    let project = TestProject::new(&host, "prestop").await;
    let web = project.container("web");
    let network_step = project.create_network_step();
    let network_id = network_step.id.clone();

    let failing_hook = berth_planner::plan::ServiceHooks {
        service: "web".to_owned(),
        hooks: vec![berth_planner::plan::Hook {
            command: vec!["false".to_owned()],
            ..Default::default()
        }],
    };
    let steps = vec![
        network_step,
        step(
            "create:web",
            &[&network_id],
            StepAction::CreateContainer {
                name: web.clone(),
                body: Box::new(project.container_body("web", &["sleep", "3600"])),
                hash_input: None,
            },
        ),
        step(
            "stop:web",
            &["create:web"],
            StepAction::StopContainer {
                container: by_name(&web),
                timeout_seconds: None,
                pre_stop: Some(failing_hook),
            },
        ),
    ];

    let plan = project.plan(scope(&project), steps).await;
    apply(
        &project.docker,
        &plan,
        &ApplyOptions::default(),
        &NoProgress,
    )
    .await
    .unwrap_or_else(|error| {
        panic!("a pre_stop hook of a created container must be skipped: {error}")
    });
    assert_eq!(project.state(&web).await, "created");
}
