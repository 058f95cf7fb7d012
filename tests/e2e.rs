//! End-to-end tests of `berth plan` and `berth apply` against the test
//! engine: converging, replacing on an environment change, scaling,
//! anonymous volumes across a replace, stale plans, and what goes to
//! stdout and stderr.

#[path = "support/mod.rs"]
mod support;

#[path = "e2e_util/mod.rs"]
mod e2e_util;

use e2e_util::{
    CHANGES, NO_CHANGES, STALE_PLAN, VolumeCleanup, anonymous_volumes, apply, assert_converged,
    container_id, container_name, converge, exec_sh, plan, started_at, status, try_apply,
};
use support::{BUSYBOX_IMAGE, TestProject, describe, stderr_text};

/// `db`, a `web` that restarts with it, and an unrelated `other`. `init:
/// true` lets the containers stop at once (`sleep` as PID 1 ignores
/// SIGTERM).
fn db_web_other(db_level: &str) -> String {
    format!(
        r#"services:
  db:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    init: true
    environment:
      LEVEL: "{db_level}"
  web:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    init: true
    depends_on:
      db:
        condition: service_started
        restart: true
  other:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    init: true
"#
    )
}

#[test]
fn apply_then_plan_is_empty() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write("compose.yaml", &db_web_other("1"));

    let first = converge(&project);
    assert!(
        !first.steps().is_empty(),
        "the first plan has no steps:\n{}",
        first.pretty()
    );
    for service in ["db", "web", "other"] {
        let name = container_name(&project, service, 1);
        assert_eq!(status(&project, &name), "running", "{name}");
    }

    assert_converged(&project);
}

#[test]
fn environment_change_replaces_one() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write("compose.yaml", &db_web_other("1"));
    converge(&project);

    let db = container_name(&project, "db", 1);
    let web = container_name(&project, "web", 1);
    let other = container_name(&project, "other", 1);
    let db_id = container_id(&project, &db);
    let web_id = container_id(&project, &web);
    let web_started = started_at(&project, &web);
    let other_id = container_id(&project, &other);
    let other_started = started_at(&project, &other);

    project.write("compose.yaml", &db_web_other("2"));
    let planned = plan(&project, &[]);
    assert_eq!(planned.code, CHANGES, "{}", planned.pretty());
    assert_eq!(planned.action(&db), "replace");
    let diffs = planned.change(&db)["diffs"].as_array().cloned();
    let diff = diffs
        .unwrap_or_default()
        .into_iter()
        .find(|d| d["path"] == "environment.LEVEL")
        .unwrap_or_else(|| panic!("no diff environment.LEVEL:\n{}", planned.pretty()));
    assert_eq!(diff["before"], "1", "before value of LEVEL");
    assert_eq!(diff["after"], "2", "after value of LEVEL");
    assert_eq!(planned.action(&web), "restart");
    assert_eq!(planned.action(&other), "no_op");

    apply(&project, &planned);
    assert_ne!(container_id(&project, &db), db_id, "db was not replaced");
    assert_eq!(status(&project, &db), "running");
    assert_eq!(container_id(&project, &web), web_id, "web was replaced");
    assert_ne!(
        started_at(&project, &web),
        web_started,
        "web was not restarted"
    );
    assert_eq!(status(&project, &web), "running");
    assert_eq!(container_id(&project, &other), other_id, "other replaced");
    assert_eq!(
        started_at(&project, &other),
        other_started,
        "other was restarted"
    );
    assert_converged(&project);
}

fn scaled(count: u32) -> String {
    format!(
        r#"services:
  svc:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    init: true
    scale: {count}
"#
    )
}

#[test]
fn scale_up_then_down() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    let name = |n| container_name(&project, "svc", n);

    project.write("compose.yaml", &scaled(1));
    converge(&project);
    assert_eq!(project.container_names(), vec![name(1)]);
    let first_id = container_id(&project, &name(1));

    project.write("compose.yaml", &scaled(3));
    converge(&project);
    assert_eq!(project.container_names(), vec![name(1), name(2), name(3)]);
    for n in 1..=3 {
        assert_eq!(status(&project, &name(n)), "running", "{}", name(n));
    }
    assert_eq!(
        container_id(&project, &name(1)),
        first_id,
        "scaling up replaced the first replica"
    );
    assert_converged(&project);

    project.write("compose.yaml", &scaled(1));
    let planned = converge(&project);
    assert_eq!(planned.action(&name(3)), "remove");
    assert_eq!(project.container_names(), vec![name(1)]);
    assert_eq!(
        container_id(&project, &name(1)),
        first_id,
        "scaling down replaced the first replica"
    );
    assert_converged(&project);
}

fn with_anonymous_volume(rev: &str) -> String {
    format!(
        r#"services:
  app:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    init: true
    environment:
      REV: "{rev}"
    volumes:
      - /data
"#
    )
}

#[test]
fn anonymous_volume_survives_replace() {
    let engine = require_engine!();
    let volumes = VolumeCleanup::new(&engine);
    let project = TestProject::new(&engine);
    project.write("compose.yaml", &with_anonymous_volume("1"));
    converge(&project);

    let app = container_name(&project, "app", 1);
    volumes.track(&project, &app);
    let old_id = container_id(&project, &app);
    exec_sh(&project, &app, "echo kept > /data/marker");

    project.write("compose.yaml", &with_anonymous_volume("2"));
    let planned = converge(&project);
    assert_eq!(planned.action(&app), "replace");
    assert_ne!(container_id(&project, &app), old_id, "app was not replaced");
    let marker = exec_sh(&project, &app, "cat /data/marker");
    assert_eq!(marker.trim(), "kept", "the marker in /data was lost");
    assert_eq!(
        anonymous_volumes(&project, &app),
        volumes.names(),
        "the replacement mounts another volume"
    );
}

#[test]
fn stale_plan_is_rejected() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write("compose.yaml", &db_web_other("1"));
    converge(&project);

    let db = container_name(&project, "db", 1);
    let other = container_name(&project, "other", 1);
    let db_id = container_id(&project, &db);
    project.write("compose.yaml", &db_web_other("2"));
    let planned = plan(&project, &[]);
    assert_eq!(planned.code, CHANGES, "{}", planned.pretty());

    // The engine changes after the plan was made.
    let stop = project.docker(&["stop", "-t", "1", &other]);
    support::assert_success(&stop, "docker stop");

    let out = try_apply(&project, &planned);
    assert_eq!(
        out.status.code(),
        Some(STALE_PLAN),
        "{}",
        describe("berth apply on a stale plan", &out)
    );
    assert!(
        stderr_text(&out).contains("berth plan"),
        "the message does not say to plan again:\n{}",
        describe("berth apply", &out)
    );
    assert!(
        stderr_text(&out).contains(&format!("): container {other} changed;")),
        "the message does not name the stopped container alone:\n{}",
        describe("berth apply", &out)
    );
    assert_eq!(container_id(&project, &db), db_id, "db was replaced");
    assert_eq!(status(&project, &other), "exited", "other was started");
}

#[test]
fn plan_stdout_is_only_json() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    // The obsolete `version` key and an unset variable both make warnings.
    project.write(
        "compose.yaml",
        &format!(
            r#"version: "3.8"
services:
  app:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    environment:
      FROM_SHELL: ${{BERTH_E2E_UNSET_VARIABLE}}
"#
        ),
    );

    let out = project.berth(&["plan"]);
    support::assert_success(&out, "berth plan");
    let parsed: Result<serde_json::Value, _> = serde_json::from_slice(&out.stdout);
    assert!(
        parsed.is_ok(),
        "stdout is not one JSON document: {:?}\n{}",
        parsed.err(),
        describe("berth plan", &out)
    );
    let stderr = stderr_text(&out);
    assert!(
        stderr.contains("warning"),
        "no warning on stderr:\n{}",
        describe("berth plan", &out)
    );
    assert!(
        stderr.contains("BERTH_E2E_UNSET_VARIABLE"),
        "the unset variable is not named on stderr:\n{}",
        describe("berth plan", &out)
    );
}

#[test]
fn apply_output_goes_to_stderr() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write("compose.yaml", &scaled(1));
    let planned = plan(&project, &[]);
    assert_eq!(planned.code, CHANGES, "{}", planned.pretty());

    let out = apply(&project, &planned);
    assert!(
        out.stdout.is_empty(),
        "apply wrote to stdout:\n{}",
        describe("berth apply", &out)
    );
    let again = plan(&project, &[]);
    assert_eq!(again.code, NO_CHANGES, "{}", again.pretty());
}

#[test]
fn applied_plan_is_stale() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write("compose.yaml", &scaled(1));
    let planned = converge(&project);

    // Applying it changed the engine, so the same plan must not run twice.
    let again = try_apply(&project, &planned);
    assert_eq!(
        again.status.code(),
        Some(STALE_PLAN),
        "{}",
        describe("berth apply of an applied plan", &again)
    );
    assert_eq!(
        project.container_names(),
        vec![container_name(&project, "svc", 1)]
    );
}

#[test]
fn snapshot_plan_equals_live() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write("compose.yaml", &db_web_other("1"));
    converge(&project);
    project.write("compose.yaml", &db_web_other("2"));

    let snapshot = project.berth(&["snapshot", "-o", "snapshot.json"]);
    support::assert_success(&snapshot, "berth snapshot");
    let from_file = plan(&project, &["--snapshot", "snapshot.json"]);
    let live = plan(&project, &[]);
    assert_eq!(
        from_file.json, live.json,
        "the plan from `berth snapshot` differs from the live plan"
    );
}

/// Brings up an app with an anonymous volume and replaces it once, so the
/// replacement mounts the volume by name; returns that volume's name.
fn replaced_app(project: &TestProject, volumes: &VolumeCleanup) -> Vec<String> {
    project.write("compose.yaml", &with_anonymous_volume("1"));
    converge(project);
    let app = container_name(project, "app", 1);
    volumes.track(project, &app);
    project.write("compose.yaml", &with_anonymous_volume("2"));
    converge(project);
    anonymous_volumes(project, &app)
}

fn engine_volumes(project: &TestProject) -> String {
    let listed = project.engine().docker(&["volume", "ls", "-q"]);
    String::from_utf8_lossy(&listed.stdout).to_string()
}

/// `plan --destroy` removes the containers and networks; the volumes and
/// their data stay.
#[test]
fn destroy_keeps_volumes() {
    let engine = require_engine!();
    let volumes = VolumeCleanup::new(&engine);
    let project = TestProject::new(&engine);
    let anonymous = replaced_app(&project, &volumes);

    let planned = plan(&project, &["--destroy"]);
    assert_eq!(planned.code, CHANGES, "{}", planned.pretty());
    apply(&project, &planned);
    assert!(project.container_names().is_empty(), "containers remain");
    assert!(project.network_names().is_empty(), "networks remain");
    let listed = engine_volumes(&project);
    assert!(
        anonymous.iter().all(|name| listed.contains(name.as_str())),
        "without -v the anonymous volume {anonymous:?} must stay"
    );
}

/// `plan --destroy -v` also removes the anonymous volume that a
/// replacement mounted by name, which `docker compose down -v` leaves.
#[test]
fn destroy_with_volumes_removes_them() {
    let engine = require_engine!();
    let volumes = VolumeCleanup::new(&engine);
    let project = TestProject::new(&engine);
    let anonymous = replaced_app(&project, &volumes);
    assert!(!anonymous.is_empty(), "the app mounts an anonymous volume");

    let planned = plan(&project, &["--destroy", "-v"]);
    apply(&project, &planned);
    assert!(project.container_names().is_empty(), "containers remain");
    let listed = engine_volumes(&project);
    assert!(
        anonymous.iter().all(|name| !listed.contains(name.as_str())),
        "the anonymous volume {anonymous:?} remains after --destroy -v"
    );
}
