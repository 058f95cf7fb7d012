//! End-to-end tests that mix berth and the real Docker Compose on one
//! project: what Compose brought up plans as no changes in berth, and what
//! berth created is left alone by `docker compose up`. Also the full shop
//! scenario: healthcheck, one-shot migration, replicas and a dependent that
//! restarts with its dependency.

#[path = "support/mod.rs"]
mod support;

#[path = "e2e_util/mod.rs"]
mod e2e_util;

use e2e_util::{
    CHANGES, NO_CHANGES, VolumeCleanup, apply, assert_converged, container_id, container_name,
    converge, exec_sh, ids_by_name, plan, started_at, status,
};
use support::{BUSYBOX_IMAGE, HC_IMAGE, TestProject, assert_success, stdout_text};

/// Services covering what goes into the config hash and the labels: a
/// healthcheck, an anonymous and a named volume, a port-free custom
/// network, depends_on with a condition, labels and environment.
fn mixed_services() -> String {
    format!(
        r#"services:
  db:
    image: {HC_IMAGE}
    init: true
    environment:
      MODE: primary
    labels:
      tier: data
    volumes:
      - /data
      - shared:/shared
    networks: [back]
  app:
    image: {BUSYBOX_IMAGE}
    command: ["sh", "-c", "exec sleep 3600"]
    init: true
    depends_on:
      db:
        condition: service_healthy
    networks: [back, default]
volumes:
  shared: {{}}
networks:
  back:
    labels:
      purpose: test
"#
    )
}

#[test]
fn compose_up_plans_no_changes() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write("compose.yaml", &mixed_services());
    let up = project.compose(&["up", "-d", "--wait"]);
    assert_success(&up, "compose up -d --wait");

    let planned = plan(&project, &[]);
    assert_eq!(
        planned.code,
        NO_CHANGES,
        "berth plans changes for a project Compose brought up:\n{}",
        planned.pretty()
    );
    assert!(planned.steps().is_empty(), "{}", planned.pretty());
}

#[test]
fn compose_keeps_berth_containers() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write("compose.yaml", &mixed_services());
    converge(&project);
    let before = ids_by_name(&project);

    let ps = project.compose(&["ps", "-a", "--format", "{{.Name}}"]);
    assert_success(&ps, "compose ps");
    let mut listed: Vec<String> = stdout_text(&ps).lines().map(str::to_owned).collect();
    listed.sort();
    let expected: Vec<String> = before.iter().map(|(name, _)| name.clone()).collect();
    assert_eq!(
        listed, expected,
        "compose ps does not list berth's containers"
    );

    let up = project.compose(&["up", "-d", "--wait"]);
    assert_success(&up, "compose up -d --wait");
    assert_eq!(
        ids_by_name(&project),
        before,
        "compose up replaced containers berth created:\n{}",
        support::describe("compose up", &up)
    );

    let down = project.compose(&["down", "-v", "-t", "1"]);
    assert_success(&down, "compose down -v");
    assert!(
        project.container_names().is_empty(),
        "compose down left containers"
    );
    assert!(
        project.network_names().is_empty(),
        "compose down left networks"
    );
    assert!(
        project.volume_names().is_empty(),
        "compose down -v left the named volume"
    );
}

/// Returns the shop's compose file: a store with a healthcheck and data in an anonymous volume, a
/// one-shot migration that waits for it, two api replicas that wait for the
/// migration, and a poller that restarts with the store.
fn shop(store_mode: &str) -> String {
    format!(
        r#"services:
  store:
    image: {BUSYBOX_IMAGE}
    command: ["sh", "-c", "mkdir -p /data && echo ready > /data/state && exec sleep 3600"]
    init: true
    environment:
      STORE_MODE: {store_mode}
    volumes:
      - /data
    healthcheck:
      test: ["CMD", "cat", "/data/state"]
      interval: 1s
      retries: 30
  migrate:
    image: {BUSYBOX_IMAGE}
    command: ["sh", "-c", "echo migrated"]
    depends_on:
      store:
        condition: service_healthy
  api:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    init: true
    scale: 2
    depends_on:
      migrate:
        condition: service_completed_successfully
  poller:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    init: true
    depends_on:
      store:
        condition: service_started
        restart: true
"#
    )
}

#[test]
fn shop_scenario() {
    let engine = require_engine!();
    let volumes = VolumeCleanup::new(&engine);
    let project = TestProject::new(&engine);
    let name = |service, n| container_name(&project, service, n);
    project.write("compose.yaml", &shop("primary"));

    converge(&project);
    let store = name("store", 1);
    let poller = name("poller", 1);
    let apis = [name("api", 1), name("api", 2)];
    volumes.track(&project, &store);
    assert_eq!(
        project.inspect_container(&store)["State"]["Health"]["Status"],
        "healthy"
    );
    let migrate = project.inspect_container(&name("migrate", 1));
    assert_eq!(migrate["State"]["Status"], "exited", "migrate did not run");
    assert_eq!(migrate["State"]["ExitCode"], 0, "migrate failed");
    for container in apis.iter().chain([&poller]) {
        assert_eq!(status(&project, container), "running", "{container}");
    }
    assert_converged(&project);

    // Change the store's environment: only the store is replaced.
    exec_sh(&project, &store, "echo kept > /data/marker");
    let store_id = container_id(&project, &store);
    let poller_id = container_id(&project, &poller);
    let poller_started = started_at(&project, &poller);
    let api_ids: Vec<String> = apis.iter().map(|a| container_id(&project, a)).collect();

    project.write("compose.yaml", &shop("replica"));
    let planned = plan(&project, &[]);
    assert_eq!(planned.code, CHANGES, "{}", planned.pretty());
    let diffs = planned.change(&store)["diffs"].clone();
    let diff = diffs
        .as_array()
        .and_then(|d| d.iter().find(|d| d["path"] == "environment.STORE_MODE"))
        .unwrap_or_else(|| panic!("no diff for STORE_MODE:\n{}", planned.pretty()));
    assert_eq!(diff["before"], "primary");
    assert_eq!(diff["after"], "replica");

    apply(&project, &planned);
    assert_ne!(container_id(&project, &store), store_id, "store kept");
    let marker = exec_sh(&project, &store, "cat /data/marker");
    assert_eq!(marker.trim(), "kept", "the store's volume data was lost");
    assert_eq!(
        container_id(&project, &poller),
        poller_id,
        "poller replaced"
    );
    assert_ne!(
        started_at(&project, &poller),
        poller_started,
        "poller was not restarted"
    );
    assert_eq!(status(&project, &poller), "running");
    for (api, id) in apis.iter().zip(&api_ids) {
        assert_eq!(&container_id(&project, api), id, "{api} was replaced");
    }
    assert_converged(&project);

    // Compose agrees: it replaces nothing berth made, and what it leaves
    // behind still plans as no changes.
    let before = ids_by_name(&project);
    let up = project.compose(&["up", "-d", "--wait"]);
    assert_success(&up, "compose up -d --wait");
    assert_eq!(
        ids_by_name(&project),
        before,
        "compose up replaced containers"
    );
    assert_converged(&project);
}

#[test]
fn shop_from_compose_converged() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write("compose.yaml", &shop("primary"));
    let up = project.compose(&["up", "-d", "--wait"]);
    assert_success(&up, "compose up -d --wait");

    let planned = plan(&project, &[]);
    assert_eq!(
        planned.code,
        NO_CHANGES,
        "berth plans changes for the shop Compose brought up:\n{}",
        planned.pretty()
    );
}

// Docker Compose 2.40.3 normalizes an anonymous volume whose target is one
// letter (`/d`) without the empty `volume: {}` it gives longer targets
// (`/dd`), and that changes its config hash. berth adds `volume: {}`
// either way, so it plans to replace what Compose made.
#[test]
fn one_letter_volume_converged() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write(
        "compose.yaml",
        &format!(
            r#"services:
  app:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    init: true
    volumes:
      - /d
"#
        ),
    );
    let up = project.compose(&["up", "-d", "--wait"]);
    assert_success(&up, "compose up -d --wait");

    let planned = plan(&project, &[]);
    assert_eq!(
        planned.code,
        NO_CHANGES,
        "berth plans changes for a one-letter anonymous volume:\n{}",
        planned.pretty()
    );
}
