//! Wait steps fail fast against the real test engine: a dependency that
//! exits is reported at once, and its dependents stay created.

mod common;

use std::time::{Duration, Instant};

use berth_executor::{ApplyError, ApplyOptions, NoProgress, StepError, apply};
use berth_planner::engine_body::HealthcheckBody;
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
                body: Box::new(body),
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
            post_start: None,
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

/// A container whose healthcheck is disabled has no health status, so a
/// `service_healthy` wait on it fails at once.
#[tokio::test]
async fn healthy_wait_fails_without_healthcheck() {
    let Some(host) = engine_host() else { return };
    let project = TestProject::new(&host, "nohealth").await;
    let network_step = project.create_network_step();
    let network_id = network_step.id.clone();
    let mut body = project.container_body("db", &["sleep", "3600"]);
    body.healthcheck = Some(HealthcheckBody {
        test: vec!["NONE".to_owned()],
        ..HealthcheckBody::default()
    });
    let steps = vec![
        network_step,
        step(
            "create:db",
            &[&network_id],
            StepAction::CreateContainer {
                name: project.container("db"),
                body: Box::new(body),
                hash_input: None,
            },
        ),
        start(&project, "db", &["create:db"]),
        wait(&project, "db", WaitCondition::Healthy),
    ];
    let plan = project.plan(ObserveScope::default(), steps).await;

    let error = apply(
        &project.docker,
        &plan,
        &ApplyOptions::default(),
        &NoProgress,
    )
    .await
    .expect_err("db has no healthcheck");
    let expected = format!(
        "container {} has no healthcheck configured",
        project.container("db")
    );
    assert!(error.to_string().contains(&expected), "{error}");
}

/// A container that stays `starting` past the step's timeout fails the
/// wait with the timeout and the service.
#[tokio::test]
async fn healthy_wait_times_out() {
    let Some(host) = engine_host() else { return };
    let project = TestProject::new(&host, "timeout").await;
    let network_step = project.create_network_step();
    let network_id = network_step.id.clone();
    let mut body = project.container_body("db", &["sleep", "3600"]);
    // Failing checks keep the status `starting` until 100 have failed.
    body.healthcheck = Some(HealthcheckBody {
        test: vec!["CMD".to_owned(), "false".to_owned()],
        interval: 1_000_000_000,
        retries: 100,
        ..HealthcheckBody::default()
    });
    let steps = vec![
        network_step,
        step(
            "create:db",
            &[&network_id],
            StepAction::CreateContainer {
                name: project.container("db"),
                body: Box::new(body),
                hash_input: None,
            },
        ),
        start(&project, "db", &["create:db"]),
        step(
            "wait:db",
            &["start:db"],
            StepAction::Wait {
                service: "db".to_owned(),
                containers: vec![project.container("db")],
                condition: WaitCondition::Healthy,
                timeout_seconds: 2,
            },
        ),
    ];
    let plan = project.plan(ObserveScope::default(), steps).await;

    let began = Instant::now();
    let error = apply(
        &project.docker,
        &plan,
        &ApplyOptions::default(),
        &NoProgress,
    )
    .await
    .expect_err("db never becomes healthy");
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "took {:?}",
        began.elapsed()
    );
    assert!(
        error
            .to_string()
            .contains("timed out after 2s waiting for db to be healthy"),
        "{error}"
    );
}

/// After a failure no new step starts, but the steps already running are
/// let finish and reported as done.
#[tokio::test]
async fn failure_lets_running_steps_finish() {
    let Some(host) = engine_host() else { return };
    let project = TestProject::new(&host, "drain").await;
    let mut steps = create_steps(
        &project,
        &[
            ("x", &["sh", "-c", "exit 1"], false),
            ("y", &["sleep", "3600"], true),
        ],
    );
    steps.push(start(&project, "x", &["create:x"]));
    steps.push(start(&project, "y", &["create:y"]));
    // Both waits become ready together, after both starts, so the wait on
    // y is running when the wait on x fails, however slow the engine is.
    let mut wait_x = wait(&project, "x", WaitCondition::CompletedSuccessfully);
    wait_x.after.push("start:y".to_owned());
    steps.push(wait_x);
    let mut wait_y = wait(&project, "y", WaitCondition::Healthy);
    wait_y.after.push("start:x".to_owned());
    steps.push(wait_y);
    steps.push(step(
        "stop:y",
        &["wait:y"],
        StepAction::StopContainer {
            container: by_name(&project.container("y")),
            timeout_seconds: Some(1),
            pre_stop: None,
        },
    ));
    let plan = project.plan(ObserveScope::default(), steps).await;

    let error = apply(
        &project.docker,
        &plan,
        &ApplyOptions::default(),
        &NoProgress,
    )
    .await
    .expect_err("x exited 1");
    let ApplyError::StepsFailed(failure) = &error else {
        panic!("{error:?}");
    };
    let failed: Vec<&str> = failure.failed.iter().map(|f| f.step.as_str()).collect();
    assert_eq!(failed, vec!["wait:x"]);
    assert!(
        failure.done.iter().any(|id| id == "wait:y"),
        "{:?}",
        failure.done
    );
    assert_eq!(failure.not_started, vec!["stop:y"]);
    assert_eq!(project.state(&project.container("y")).await, "running");
}
