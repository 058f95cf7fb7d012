//! Wait steps fail fast against the real test engine: a dependency that
//! exits is reported at once, and its dependents stay created.

mod common;

use std::time::{Duration, Instant};

use berth_executor::{ApplyError, ApplyOptions, NoProgress, StepError, apply};
use berth_planner::plan::{Step, StepAction, WaitCondition};
use berth_planner::snapshot::ObserveScope;
use serde_json::json;

use common::{TestProject, by_name, engine_host, quick_healthcheck, step};

/// Steps creating the network and one container per `(service, command)`.
fn create_steps(project: &TestProject, services: &[(&str, &[&str], bool)]) -> Vec<Step> {
    let network_step = project.create_network_step();
    let network_id = network_step.id.clone();
    let mut steps = vec![network_step];
    for (service, command, healthcheck) in services {
        let mut body = project.container_body(service, command);
        if *healthcheck {
            body.healthcheck = Some(quick_healthcheck());
        }
        steps.push(step(
            &format!("create:{service}"),
            &[&network_id],
            StepAction::CreateContainer {
                name: project.container(service),
                body,
                hash_input: Some(json!({"service": service})),
            },
        ));
    }
    steps
}

fn start(project: &TestProject, service: &str, after: &[&str]) -> Step {
    step(
        &format!("start:{service}"),
        after,
        StepAction::StartContainer {
            container: by_name(&project.container(service)),
        },
    )
}

fn wait(project: &TestProject, service: &str, condition: WaitCondition) -> Step {
    step(
        &format!("wait:{service}"),
        &[&format!("start:{service}")],
        StepAction::Wait {
            service: service.to_owned(),
            containers: vec![project.container(service)],
            condition,
            timeout_seconds: 60,
        },
    )
}

/// A `service_healthy` dependency that exits fails the wait at once.
#[tokio::test]
async fn healthy_wait_fails_on_exit() {
    let Some(host) = engine_host() else { return };
    let project = TestProject::new(&host, "healthexit").await;
    let mut steps = create_steps(
        &project,
        &[
            ("db", &["sh", "-c", "exit 3"], true),
            ("web", &["sleep", "3600"], false),
        ],
    );
    steps.push(start(&project, "db", &["create:db", "create:web"]));
    steps.push(wait(&project, "db", WaitCondition::Healthy));
    steps.push(start(&project, "web", &["wait:db"]));
    let plan = project.plan(ObserveScope::default(), steps).await;

    let began = Instant::now();
    let error = apply(
        &project.docker,
        &plan,
        &ApplyOptions::default(),
        &NoProgress,
    )
    .await
    .expect_err("the dependency exited");
    assert!(
        began.elapsed() < Duration::from_secs(20),
        "took {:?}",
        began.elapsed()
    );

    let ApplyError::StepsFailed(failure) = &error else {
        panic!("{error:?}");
    };
    assert_eq!(failure.failed.len(), 1);
    assert_eq!(failure.failed[0].step, "wait:db");
    assert!(
        matches!(failure.failed[0].error, StepError::Exited { code: 3, .. }),
        "{error}"
    );
    let expected = format!("container {} exited (3)", project.container("db"));
    assert!(error.to_string().contains(&expected), "{error}");
    assert_eq!(failure.not_started, vec!["start:web"]);
    assert_eq!(project.state(&project.container("web")).await, "created");
}

/// A chain of completion dependencies stops at the first failure.
#[tokio::test]
async fn completion_wait_fails_on_nonzero_exit() {
    let Some(host) = engine_host() else { return };
    let project = TestProject::new(&host, "complete").await;
    let mut steps = create_steps(
        &project,
        &[
            ("migrate", &["sh", "-c", "exit 1"], false),
            ("seed", &["sh", "-c", "exit 0"], false),
            ("api", &["sleep", "3600"], false),
        ],
    );
    let created = ["create:migrate", "create:seed", "create:api"];
    steps.push(start(&project, "migrate", &created));
    steps.push(wait(
        &project,
        "migrate",
        WaitCondition::CompletedSuccessfully,
    ));
    steps.push(start(&project, "seed", &["wait:migrate"]));
    steps.push(wait(&project, "seed", WaitCondition::CompletedSuccessfully));
    steps.push(start(&project, "api", &["wait:seed"]));
    let plan = project.plan(ObserveScope::default(), steps).await;

    let began = Instant::now();
    let error = apply(
        &project.docker,
        &plan,
        &ApplyOptions::default(),
        &NoProgress,
    )
    .await
    .expect_err("migrate exited 1");
    assert!(
        began.elapsed() < Duration::from_secs(20),
        "took {:?}",
        began.elapsed()
    );

    let message = error.to_string();
    assert!(
        message.contains("service \"migrate\" didn't complete successfully: exit 1"),
        "{message}"
    );
    let ApplyError::StepsFailed(failure) = &error else {
        panic!("{error:?}");
    };
    assert_eq!(
        failure.not_started,
        vec!["start:seed", "wait:seed", "start:api"]
    );
    for service in ["seed", "api"] {
        assert_eq!(project.state(&project.container(service)).await, "created");
    }
}

/// A completion wait is satisfied by an exit code of 0.
#[tokio::test]
async fn completion_wait_passes_on_zero_exit() {
    let Some(host) = engine_host() else { return };
    let project = TestProject::new(&host, "completeok").await;
    let mut steps = create_steps(&project, &[("init", &["true"], false)]);
    steps.push(start(&project, "init", &["create:init"]));
    steps.push(wait(&project, "init", WaitCondition::CompletedSuccessfully));
    let plan = project.plan(ObserveScope::default(), steps).await;
    apply(
        &project.docker,
        &plan,
        &ApplyOptions::default(),
        &NoProgress,
    )
    .await
    .unwrap_or_else(|error| panic!("apply: {error}"));
}
