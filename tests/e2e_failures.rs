//! End-to-end tests of applies that meet failing dependencies, and of
//! containers found paused or stopped.

#[path = "support/mod.rs"]
mod support;

#[path = "e2e_util/mod.rs"]
mod e2e_util;

use std::time::{Duration, Instant};

use e2e_util::{
    CHANGES, assert_converged, container_id, container_name, converge, plan, status, try_apply,
};
use support::{BUSYBOX_IMAGE, TestProject, assert_failure, assert_success, describe, stderr_text};

/// A failed dependency must end the apply quickly; the harness' own
/// command timeout is much longer.
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
