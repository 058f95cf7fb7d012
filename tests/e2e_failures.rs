//! End-to-end tests of applies that meet failing dependencies, and of
//! containers found paused or stopped.

#[path = "support/mod.rs"]
mod support;

#[path = "e2e_util/mod.rs"]
mod e2e_util;

use std::time::{Duration, Instant};

use e2e_util::{
    CHANGES, NO_CHANGES, assert_converged, container_id, container_name, converge, plan, status,
    try_apply,
};
use support::{
    BUSYBOX_IMAGE, HC_IMAGE, TestProject, assert_failure, assert_success, describe, stderr_text,
};

/// A failed dependency must end the apply quickly, well before the
/// harness' own command timeout.
const FAILURE_DEADLINE: Duration = Duration::from_secs(60);

#[test]
fn healthy_dependency_exits() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write(
        "compose.yaml",
        &format!(
            r#"services:
  db:
    image: {BUSYBOX_IMAGE}
    command: ["sh", "-c", "exit 3"]
    healthcheck:
      test: ["CMD", "true"]
      interval: 2s
      retries: 3
  web:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    init: true
    depends_on:
      db:
        condition: service_healthy
"#
        ),
    );
    let planned = plan(&project, &[]);
    assert_eq!(planned.code, CHANGES, "{}", planned.pretty());

    let started = Instant::now();
    let out = try_apply(&project, &planned);
    let elapsed = started.elapsed();
    assert_failure(&out, "berth apply");
    assert!(
        elapsed < FAILURE_DEADLINE,
        "apply took {elapsed:?} to fail on an exited dependency"
    );
    let db = container_name(&project, "db", 1);
    let stderr = stderr_text(&out);
    assert!(
        stderr.contains(&db),
        "the error does not name {db}:\n{}",
        describe("berth apply", &out)
    );
    assert!(
        stderr.contains("exited (3)"),
        "the error does not give the exit code:\n{}",
        describe("berth apply", &out)
    );
    let web = container_name(&project, "web", 1);
    assert_eq!(status(&project, &web), "created", "web must not start");
}

#[test]
fn completion_chain_first_fails() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write(
        "compose.yaml",
        &format!(
            r#"services:
  migrate:
    image: {BUSYBOX_IMAGE}
    command: ["sh", "-c", "exit 1"]
  seed:
    image: {BUSYBOX_IMAGE}
    command: ["sh", "-c", "exit 0"]
    depends_on:
      migrate:
        condition: service_completed_successfully
  api:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    init: true
    depends_on:
      seed:
        condition: service_completed_successfully
"#
        ),
    );
    let planned = plan(&project, &[]);
    assert_eq!(planned.code, CHANGES, "{}", planned.pretty());

    let started = Instant::now();
    let out = try_apply(&project, &planned);
    let elapsed = started.elapsed();
    assert_failure(&out, "berth apply");
    assert!(
        elapsed < FAILURE_DEADLINE,
        "apply took {elapsed:?} to fail on a failed one-shot"
    );
    let stderr = stderr_text(&out);
    assert!(
        stderr.contains("\"migrate\""),
        "the error does not name migrate:\n{}",
        describe("berth apply", &out)
    );
    assert!(
        stderr.contains("exit 1"),
        "the error does not give the exit code:\n{}",
        describe("berth apply", &out)
    );
    for service in ["seed", "api"] {
        let name = container_name(&project, service, 1);
        assert_eq!(status(&project, &name), "created", "{name} must not start");
    }
}

#[test]
fn paused_and_stopped_are_resumed() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    let service = |name: &str| {
        format!(
            r#"  {name}:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    init: true
"#
        )
    };
    let file = format!(
        "services:\n{}{}{}",
        service("a"),
        service("b"),
        service("c")
    );
    project.write("compose.yaml", &file);
    converge(&project);

    let [a, b, c] = ["a", "b", "c"].map(|s| container_name(&project, s, 1));
    let ids = [&a, &b, &c].map(|n| container_id(&project, n));
    let pause = project.docker(&["pause", &b]);
    assert_success(&pause, "docker pause");
    let stop = project.docker(&["stop", "-t", "1", &a, &c]);
    assert_success(&stop, "docker stop");

    let planned = plan(&project, &[]);
    assert_eq!(planned.code, CHANGES, "{}", planned.pretty());
    assert_eq!(planned.action(&b), "unpause");
    assert_eq!(planned.action(&a), "start");
    assert_eq!(planned.action(&c), "start");

    let out = try_apply(&project, &planned);
    assert_success(&out, "berth apply");
    for (name, id) in [&a, &b, &c].into_iter().zip(&ids) {
        assert_eq!(status(&project, name), "running", "{name}");
        assert_eq!(&container_id(&project, name), id, "{name} was replaced");
    }
    assert_converged(&project);
}

fn healthy_dependency(db_command: &str) -> String {
    format!(
        r#"services:
  db:
    image: {BUSYBOX_IMAGE}
    command: ["sh", "-c", "{db_command}"]
    init: true
    healthcheck:
      test: ["CMD", "true"]
      interval: 1s
      retries: 3
  web:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    init: true
    depends_on:
      db:
        condition: service_healthy
"#
    )
}

#[test]
fn fixed_dependency_converges() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write("compose.yaml", &healthy_dependency("exit 3"));
    let planned = plan(&project, &[]);
    let out = try_apply(&project, &planned);
    assert_failure(&out, "berth apply");

    project.write("compose.yaml", &healthy_dependency("exec sleep 3600"));
    let fixed = plan(&project, &[]);
    let db = container_name(&project, "db", 1);
    let web = container_name(&project, "web", 1);
    assert_eq!(fixed.action(&db), "replace");
    assert_eq!(fixed.action(&web), "start");
    let web_id = container_id(&project, &web);
    let out = try_apply(&project, &fixed);
    assert_success(&out, "berth apply after the fix");
    assert_eq!(status(&project, &web), "running");
    assert_eq!(container_id(&project, &web), web_id, "web was replaced");
    assert_converged(&project);
}

/// `api` waits for `dependency` to be healthy.
fn waits_for_healthy(dependency: &str) -> String {
    format!(
        r#"  api:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    init: true
    depends_on:
      {dependency}:
        condition: service_healthy
"#
    )
}

#[test]
fn disabled_healthcheck_fails_wait() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    let file = format!(
        r#"services:
  db:
    image: {HC_IMAGE}
    init: true
    healthcheck:
      disable: true
{}"#,
        waits_for_healthy("db")
    );
    project.write("compose.yaml", &file);
    let planned = plan(&project, &[]);
    let out = try_apply(&project, &planned);
    assert_failure(&out, "berth apply");
    let db = container_name(&project, "db", 1);
    assert!(
        stderr_text(&out).contains(&format!("{db} has no healthcheck configured")),
        "{}",
        describe("berth apply", &out)
    );
    let api = container_name(&project, "api", 1);
    assert_eq!(status(&project, &api), "created", "api must not start");
}

#[test]
fn image_healthcheck_is_awaited() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    let file = format!(
        "services:\n  db:\n    image: {HC_IMAGE}\n    init: true\n{}",
        waits_for_healthy("db")
    );
    project.write("compose.yaml", &file);
    converge(&project);
    let db = container_name(&project, "db", 1);
    let api = container_name(&project, "api", 1);
    assert_eq!(
        project.inspect_container(&db)["State"]["Health"]["Status"],
        "healthy"
    );
    assert_eq!(status(&project, &api), "running");
}

#[test]
fn wait_timeout_fails_apply() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    let file = format!(
        r#"services:
  slow:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    init: true
    healthcheck:
      test: ["CMD", "false"]
      interval: 30s
      start_period: 60s
{}"#,
        waits_for_healthy("slow")
    );
    project.write("compose.yaml", &file);
    let planned = plan(&project, &["--wait-timeout", "2"]);

    let started = Instant::now();
    let out = try_apply(&project, &planned);
    let elapsed = started.elapsed();
    assert_failure(&out, "berth apply");
    assert!(
        elapsed < FAILURE_DEADLINE,
        "apply took {elapsed:?} with a 2s wait timeout"
    );
    assert!(
        stderr_text(&out).contains("timed out after 2s"),
        "{}",
        describe("berth apply", &out)
    );
    let slow = container_name(&project, "slow", 1);
    assert_eq!(status(&project, &slow), "running", "slow was stopped");
    let api = container_name(&project, "api", 1);
    assert_eq!(status(&project, &api), "created", "api must not start");
}

/// `--wait` counts a one-shot as ready once it completes, when a service
/// waits on it to complete, and a running service without a healthcheck
/// as ready once it runs.
#[test]
fn wait_accepts_completed_one_shot() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write(
        "compose.yaml",
        &format!(
            r#"services:
  setup:
    image: {BUSYBOX_IMAGE}
    command: ["true"]
  app:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    init: true
    depends_on:
      setup:
        condition: service_completed_successfully
"#
        ),
    );
    let planned = plan(&project, &["--wait"]);
    let out = try_apply(&project, &planned);
    assert_success(&out, "berth apply with --wait");
    let again = plan(&project, &["--wait"]);
    assert_eq!(again.code, NO_CHANGES, "{}", again.pretty());
}

/// `--wait` fails on a one-shot that nothing waits on to complete, naming
/// it. It runs for less than one poll interval, so a single poll can see it
/// running and must not take that as ready.
#[test]
fn wait_fails_on_one_shot_nothing_waits_on() {
    let engine = require_engine!();
    for _ in 0..3 {
        let project = TestProject::new(&engine);
        project.write(
            "compose.yaml",
            &format!(
                r#"services:
  janitor:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "0.3"]
"#
            ),
        );
        let planned = plan(&project, &["--wait"]);
        let out = try_apply(&project, &planned);
        assert_failure(&out, "berth apply with --wait");
        let janitor = format!("{}-janitor-1", project.name());
        let message = stderr_text(&out);
        assert!(
            message.contains(&format!("container {janitor} exited (0)")),
            "the error does not name {janitor}: {message}"
        );
    }
}

/// `--wait --wait-timeout` gives up on a service that never turns healthy
/// and leaves it running.
#[test]
fn wait_times_out_on_unhealthy_service() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write(
        "compose.yaml",
        &format!(
            r#"services:
  slow:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    init: true
    healthcheck:
      test: ["CMD", "false"]
      interval: 30s
      start_period: 60s
"#
        ),
    );
    let planned = plan(&project, &["--wait", "--wait-timeout", "2"]);
    let started = Instant::now();
    let out = try_apply(&project, &planned);
    assert_failure(&out, "berth apply with --wait");
    assert!(
        started.elapsed() < FAILURE_DEADLINE,
        "the timeout was not honoured"
    );
    assert!(
        stderr_text(&out).contains("timed out after 2s"),
        "{}",
        describe("berth apply", &out)
    );
    let slow = container_name(&project, "slow", 1);
    assert_eq!(status(&project, &slow), "running", "slow was stopped");
}
