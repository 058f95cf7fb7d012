//! Fault tests: a proxy between berth and the test engine fails one chosen
//! Engine API call during `berth apply`. The apply must fail, say what was
//! done and what failed, and a new plan must converge the project without
//! losing the data in its volumes.

#[path = "support/mod.rs"]
mod support;

#[path = "support/fault_proxy.rs"]
mod fault_proxy;

#[path = "e2e_util/mod.rs"]
mod e2e_util;

use e2e_util::VolumeCleanup;
use fault_proxy::{Fault, FaultProxy};
use support::{BUSYBOX_IMAGE, TestProject, assert_failure, assert_success, stderr_text};

/// A store whose data lives in an anonymous volume; `REV` changes force a
/// replacement.
fn store(rev: u32) -> String {
    format!(
        r#"services:
  store:
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

/// Plans and applies directly against the engine, expecting success.
fn converge(project: &TestProject) {
    let plan = project.dir().join("plan.json");
    let plan = plan.to_str().expect("utf-8 path");
    assert_success(&project.berth(&["plan", "-o", plan]), "berth plan");
    assert_success(&project.berth(&["apply", plan]), "berth apply");
}

fn read_marker(project: &TestProject) -> String {
    let name = format!("{}-store-1", project.name());
    let out = project.docker(&["exec", &name, "cat", "/data/marker"]);
    assert_success(&out, "read the marker");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Replaces the store through the proxy with `fault` injected; returns
/// berth's stderr.
fn interrupted_replace(project: &TestProject, volumes: &VolumeCleanup, fault: Fault) -> String {
    converge(project);
    let name = format!("{}-store-1", project.name());
    // A replacement mounts the anonymous volume by name, so removing the
    // containers no longer removes it: the guard does.
    volumes.track(project, &name);
    let out = project.docker(&["exec", &name, "sh", "-c", "echo kept > /data/marker"]);
    assert_success(&out, "write the marker");

    project.write("compose.yaml", &store(2));
    let plan = project.dir().join("replace.json");
    let plan = plan.to_str().expect("utf-8 path");
    assert_success(
        &project.berth(&["plan", "-o", plan]),
        "plan the replacement",
    );

    let proxy = FaultProxy::start(&project.engine().host, project.dir(), vec![fault]);
    let out = support::run(
        project
            .berth_command(&["apply", plan])
            .env("DOCKER_HOST", proxy.docker_host()),
    );
    assert_failure(&out, "apply through the failing proxy");
    assert_eq!(proxy.injected(), 1, "the fault was injected once");
    stderr_text(&out)
}

/// After an interrupted apply, one new plan converges and a third has no
/// changes; the data survived.
fn converges_again(project: &TestProject) {
    converge(project);
    let out = project.berth(&["plan", "--detailed-exitcode", "-o", "/dev/null"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert_eq!(read_marker(project), "kept", "the anonymous volume's data");
    let names = project.container_names();
    assert_eq!(names, vec![format!("{}-store-1", project.name())]);
}

#[test]
fn failed_rename_converges_on_next_plan() {
    let engine = require_engine!();
    let volumes = VolumeCleanup::new(&engine);
    let project = TestProject::new(&engine);
    project.write("compose.yaml", &store(1));

    let stderr = interrupted_replace(&project, &volumes, Fault::once("POST", "/rename"));
    assert!(
        stderr.contains("fault injected"),
        "the engine's message is shown: {stderr}"
    );
    assert!(
        stderr.contains("container.rename:"),
        "the failed step is named: {stderr}"
    );

    converges_again(&project);
}

#[test]
fn failed_removal_converges_on_next_plan() {
    let engine = require_engine!();
    let volumes = VolumeCleanup::new(&engine);
    let project = TestProject::new(&engine);
    project.write("compose.yaml", &store(1));

    let stderr = interrupted_replace(&project, &volumes, Fault::once("DELETE", "/containers/"));
    assert!(
        stderr.contains("container.remove:"),
        "the failed step is named: {stderr}"
    );

    converges_again(&project);
}

#[test]
fn failed_create_leaves_old_container_running() {
    let engine = require_engine!();
    let volumes = VolumeCleanup::new(&engine);
    let project = TestProject::new(&engine);
    project.write("compose.yaml", &store(1));

    interrupted_replace(
        &project,
        &volumes,
        Fault::once("POST", "/containers/create"),
    );
    let name = format!("{}-store-1", project.name());
    let state = project.inspect_container(&name)["State"]["Status"].clone();
    assert_eq!(state, "running", "the old container keeps running");

    converges_again(&project);
}
