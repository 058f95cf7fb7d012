//! Proves the engine harness with the real Docker Compose only (no berth):
//! a project with a healthy dependency comes up, carries the Compose labels,
//! and goes away with `down -v`.

#[path = "support/mod.rs"]
mod support;

use std::process::Command;

use support::{
    BUSYBOX_IMAGE, HC_IMAGE, TestProject, assert_failure, assert_success, describe, stderr_text,
};

fn compose_file() -> String {
    format!(
        r#"services:
  db:
    image: {HC_IMAGE}
    volumes:
      - /data
  app:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    depends_on:
      db:
        condition: service_healthy
"#
    )
}

fn label<'a>(container: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    container["Config"]["Labels"][key].as_str()
}

#[test]
fn compose_up_wait_then_down() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write("compose.yaml", &compose_file());

    let up = project.compose(&["up", "-d", "--wait"]);
    assert_success(&up, "compose up -d --wait");

    let db = format!("{}-db-1", project.name());
    let app = format!("{}-app-1", project.name());
    assert_eq!(project.container_names(), vec![app.clone(), db.clone()]);

    for name in [&db, &app] {
        let container = project.inspect_container(name);
        assert_eq!(container["State"]["Running"], true, "{name} is not running");
        assert_eq!(
            label(&container, "com.docker.compose.project"),
            Some(project.name())
        );
        let hash = label(&container, "com.docker.compose.config-hash").unwrap_or_default();
        assert_eq!(hash.len(), 64, "{name}: config-hash label {hash:?}");
    }

    let db_container = project.inspect_container(&db);
    assert_eq!(db_container["State"]["Health"]["Status"], "healthy");
    let mounts = db_container["Mounts"].as_array().expect("Mounts array");
    let data = mounts
        .iter()
        .find(|m| m["Destination"] == "/data")
        .expect("anonymous volume on /data");
    assert_eq!(data["Type"], "volume");
    let volume = data["Name"].as_str().expect("volume name").to_owned();

    let app_container = project.inspect_container(&app);
    let depends = label(&app_container, "com.docker.compose.depends_on").unwrap_or_default();
    assert!(
        depends.contains("db:service_healthy"),
        "depends_on label: {depends:?}"
    );
    assert_eq!(app_container["Config"]["Image"], BUSYBOX_IMAGE);

    assert_eq!(
        project.network_names(),
        vec![format!("{}_default", project.name())]
    );

    // `sleep` as PID 1 ignores SIGTERM: a short timeout keeps the test fast.
    let down = project.compose(&["down", "-v", "--timeout", "1"]);
    assert_success(&down, "compose down -v");
    assert!(project.container_names().is_empty());
    assert!(project.network_names().is_empty());
    let volumes = project.engine().docker(&["volume", "ls", "-q"]);
    assert_success(&volumes, "docker volume ls");
    assert!(
        !String::from_utf8_lossy(&volumes.stdout).contains(&volume),
        "anonymous volume {volume} survived down -v"
    );
}

/// Runs this test binary again on the smoke test alone, with the engine
/// settings removed and `extra` set.
fn rerun_smoke_without_engine(extra: &[(&str, &str)]) -> std::process::Output {
    let exe = std::env::current_exe().expect("test binary path");
    let mut cmd = Command::new(exe);
    cmd.args([
        "--exact",
        "compose_up_wait_then_down",
        "--nocapture",
        "--test-threads=1",
    ])
    .env_remove("BERTH_TEST_DOCKER_HOST")
    .env_remove("BERTH_COMPOSE")
    .env_remove("BERTH_REQUIRE_ENGINE")
    .env_remove("CI");
    for (key, value) in extra {
        cmd.env(key, value);
    }
    support::run(&mut cmd)
}

#[test]
fn smoke_skips_without_engine() {
    let out = rerun_smoke_without_engine(&[]);
    assert_success(&out, "smoke test without an engine");
    assert!(
        stderr_text(&out).contains("skipped: no test engine (run scripts/test)"),
        "{}",
        describe("smoke test without an engine", &out)
    );
}

#[test]
fn smoke_fails_without_engine_under_ci() {
    let out = rerun_smoke_without_engine(&[("CI", "true")]);
    assert_failure(&out, "smoke test without an engine, CI=true");
    let out = rerun_smoke_without_engine(&[("BERTH_REQUIRE_ENGINE", "1")]);
    assert_failure(&out, "smoke test without an engine, BERTH_REQUIRE_ENGINE=1");
}
