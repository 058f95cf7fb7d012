//! End-to-end tests, against the test engine, of networks and volumes whose
//! config changed and of host ports published twice. A network is replaced
//! while its containers keep their ids, aliases and addresses. A volume is
//! replaced only with `--allow-volume-replace`. A port held outside the
//! project fails the plan before any step. A configured MAC address reaches
//! the engine, also on engines older than API 1.44.

#[path = "support/mod.rs"]
mod support;

#[path = "e2e_util/mod.rs"]
mod e2e_util;

use e2e_util::{
    CHANGES, NO_CHANGES, apply, assert_converged, container_id, container_name, converge, exec_sh,
    plan,
};
use support::{BUSYBOX_IMAGE, TestProject, assert_success, describe, stderr_text};

/// `web` with an alias and a static address on `back`, and `client` on the
/// same network; `tier` is the label that changes the network's config.
fn network_project(subnet_prefix: &str, tier: &str) -> String {
    format!(
        r#"services:
  web:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    init: true
    networks:
      back:
        aliases: [www]
        ipv4_address: {subnet_prefix}.0.10
  client:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    init: true
    networks: [back]
networks:
  back:
    ipam:
      config:
        - subnet: {subnet_prefix}.0.0/16
    labels:
      tier: {tier}
"#
    )
}

/// Returns the endpoint of a container on a network, from `docker inspect`.
fn endpoint(project: &TestProject, container: &str, network: &str) -> serde_json::Value {
    project.inspect_container(container)["NetworkSettings"]["Networks"][network].clone()
}

/// Returns the id of a network.
fn network_id(project: &TestProject, network: &str) -> String {
    let out = project.docker(&["network", "inspect", "--format", "{{.Id}}", network]);
    assert_success(&out, "docker network inspect");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Asserts that `web` is on `back` with its alias and address, and that
/// `client` resolves the alias to that address through the engine's DNS.
fn assert_web_reachable_as_www(project: &TestProject, network: &str, address: &str) {
    let web = container_name(project, "web", 1);
    let client = container_name(project, "client", 1);
    let endpoint = endpoint(project, &web, network);
    let aliases: Vec<&str> = endpoint["Aliases"]
        .as_array()
        .map(|aliases| aliases.iter().filter_map(|a| a.as_str()).collect())
        .unwrap_or_default();
    assert!(aliases.contains(&"www"), "aliases of {web}: {endpoint}");
    assert!(aliases.contains(&"web"), "aliases of {web}: {endpoint}");
    assert_eq!(
        endpoint["IPAddress"], address,
        "address of {web}: {endpoint}"
    );
    let answer = exec_sh(project, &client, "busybox nslookup www");
    assert!(
        answer.contains(&format!("Address: {address}")),
        "nslookup www from {client}:\n{answer}"
    );
}

#[test]
fn network_change_keeps_containers_and_aliases() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    let network = format!("{}_back", project.name());
    project.write("compose.yaml", &network_project("172.30", "one"));
    converge(&project);
    let web = container_name(&project, "web", 1);
    let client = container_name(&project, "client", 1);
    let web_id = container_id(&project, &web);
    let client_id = container_id(&project, &client);
    let old_network = network_id(&project, &network);
    // A stopped container is not listed on the network, but its settings
    // name it: it is reconnected too, then started.
    assert_success(&project.docker(&["stop", &client]), "docker stop");

    project.write("compose.yaml", &network_project("172.30", "two"));
    let planned = plan(&project, &[]);
    assert_eq!(planned.code, CHANGES, "{}", planned.pretty());
    assert_eq!(planned.action(&network), "replace", "{}", planned.pretty());
    assert_eq!(planned.action(&web), "no_op", "{}", planned.pretty());
    assert_eq!(planned.action(&client), "start", "{}", planned.pretty());
    let shown = project.berth(&["show", "plan.json"]);
    let shown_text = String::from_utf8_lossy(&shown.stdout);
    assert!(
        shown_text.contains(&format!("reconnects {web} without replacing it")),
        "{shown_text}"
    );
    apply(&project, &planned);

    assert_ne!(network_id(&project, &network), old_network);
    assert_eq!(container_id(&project, &web), web_id);
    assert_eq!(container_id(&project, &client), client_id);
    assert_web_reachable_as_www(&project, &network, "172.30.0.10");
    assert_converged(&project);
}

/// The network case where Docker Compose and berth share a project:
/// Compose brings it up, berth replaces the changed network, and Compose
/// then finds nothing to do. Compose alone would have reconnected the
/// containers without their aliases (docker compose 2.40.3 behaviour).
#[test]
fn network_replaced_by_berth_is_adopted_by_compose() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    let network = format!("{}_back", project.name());
    project.write("compose.yaml", &network_project("172.29", "one"));
    assert_success(&project.compose(&["up", "-d"]), "docker compose up");
    let web = container_name(&project, "web", 1);
    let web_id = container_id(&project, &web);

    project.write("compose.yaml", &network_project("172.29", "two"));
    let planned = plan(&project, &[]);
    assert_eq!(planned.action(&network), "replace", "{}", planned.pretty());
    apply(&project, &planned);
    assert_eq!(container_id(&project, &web), web_id);

    let up = project.compose(&["up", "-d"]);
    assert_success(&up, "docker compose up after berth");
    let events = stderr_text(&up);
    assert!(
        !events.contains("Network"),
        "compose touched the network:\n{events}"
    );
    assert!(!events.contains("Recreate"), "compose recreated:\n{events}");
    assert_eq!(container_id(&project, &web), web_id);
    assert_web_reachable_as_www(&project, &network, "172.29.0.10");
    assert_converged(&project);
}

/// `db` with data in the named volume `dbdata`, whose label `tier` is the
/// config that changes.
fn volume_project(tier: &str) -> String {
    format!(
        r#"services:
  db:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    init: true
    volumes:
      - dbdata:/var/lib/db
volumes:
  dbdata:
    labels:
      tier: {tier}
"#
    )
}

#[test]
fn volume_change_needs_consent() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write("compose.yaml", &volume_project("gold"));
    converge(&project);
    let db = container_name(&project, "db", 1);
    exec_sh(&project, &db, "echo kept > /var/lib/db/marker");
    let db_id = container_id(&project, &db);

    project.write("compose.yaml", &volume_project("silver"));
    let kept = plan(&project, &[]);
    assert_eq!(kept.code, NO_CHANGES, "{}", kept.pretty());
    let codes: Vec<&str> = kept.json["warnings"]
        .as_array()
        .map(|w| w.iter().filter_map(|w| w["code"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        codes.contains(&"volume_config_changed"),
        "{}",
        kept.pretty()
    );
    assert_eq!(
        exec_sh(&project, &db, "cat /var/lib/db/marker").trim(),
        "kept"
    );

    let replaced = plan(&project, &["--allow-volume-replace"]);
    assert_eq!(replaced.code, CHANGES, "{}", replaced.pretty());
    let volume = format!("{}_dbdata", project.name());
    assert_eq!(replaced.action(&volume), "replace", "{}", replaced.pretty());
    assert_eq!(replaced.action(&db), "replace", "{}", replaced.pretty());
    let shown = project.berth(&["show", "plan.json"]);
    let shown_text = String::from_utf8_lossy(&shown.stdout);
    assert!(shown_text.contains("data"), "{shown_text}");
    assert!(shown_text.contains("will be lost"), "{shown_text}");
    apply(&project, &replaced);

    assert_ne!(container_id(&project, &db), db_id);
    let listing = exec_sh(&project, &db, "ls -A /var/lib/db");
    assert_eq!(listing.trim(), "", "the replaced volume kept data");
    let out = project.docker(&[
        "volume",
        "inspect",
        "--format",
        "{{index .Labels \"tier\"}}",
        &volume,
    ]);
    assert_success(&out, "docker volume inspect");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "silver");
    assert_converged(&project);
}

/// Compose brings the volume up and berth replaces it with consent. A
/// second Compose `up` then neither prompts about the volume nor recreates
/// `db`.
#[test]
fn volume_replaced_by_berth_is_adopted_by_compose() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write("compose.yaml", &volume_project("gold"));
    assert_success(&project.compose(&["up", "-d"]), "docker compose up");

    project.write("compose.yaml", &volume_project("silver"));
    let replaced = plan(&project, &["--allow-volume-replace"]);
    assert_eq!(replaced.code, CHANGES, "{}", replaced.pretty());
    apply(&project, &replaced);
    let db = container_name(&project, "db", 1);
    let db_id = container_id(&project, &db);

    let up = project.compose(&["up", "-d"]);
    assert_success(&up, "docker compose up after berth");
    let events = stderr_text(&up);
    assert!(
        !events.contains("data will be lost"),
        "compose asked:\n{events}"
    );
    assert!(!events.contains("Recreate"), "compose recreated:\n{events}");
    assert_eq!(container_id(&project, &db), db_id);
    assert_converged(&project);
}

#[test]
fn port_held_outside_fails_plan() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    // A port far from the ones other tests publish; the engine is private
    // to this checkout.
    let port = 47_000 + (std::process::id() % 1000);
    let holder = format!("{}-outsider", project.name());
    let publish = format!("127.0.0.1:{port}:80");
    let started = project.docker(&[
        "run",
        "-d",
        "--name",
        &holder,
        "--init",
        "-p",
        &publish,
        BUSYBOX_IMAGE,
        "sleep",
        "3600",
    ]);
    assert_success(&started, "docker run the outsider");
    project.write(
        "compose.yaml",
        &format!(
            r#"services:
  web:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    ports: ["{port}:80"]
"#
        ),
    );

    let out = project.berth(&["plan", "-o", "plan.json"]);
    let removed = project.docker(&["rm", "-f", &holder]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        describe("berth plan", &out)
    );
    let error = stderr_text(&out);
    assert!(error.contains(&holder), "{error}");
    assert!(error.contains(&format!(":{port}/tcp")), "{error}");
    assert!(project.container_names().is_empty());
    assert_success(&removed, "docker rm the outsider");
}

/// A service-level `mac_address` and a network's `mac_address` both reach
/// the endpoint. Below API 1.44 berth sends them as the container-level
/// `MacAddress`, which bollard's model lacks, and the engine reports it in
/// `Config.MacAddress` too.
#[test]
fn mac_address_reaches_engine() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write(
        "compose.yaml",
        &format!(
            r#"services:
  fixed:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    init: true
    mac_address: "02:42:ac:11:00:99"
  per-network:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    init: true
    networks:
      back:
        mac_address: "02:42:ac:11:00:98"
networks:
  back: {{}}
"#
        ),
    );
    converge(&project);

    let default_network = format!("{}_default", project.name());
    let fixed = container_name(&project, "fixed", 1);
    assert_eq!(
        endpoint(&project, &fixed, &default_network)["MacAddress"],
        "02:42:ac:11:00:99"
    );
    assert_eq!(
        project.inspect_container(&fixed)["Config"]["MacAddress"],
        "02:42:ac:11:00:99"
    );
    let back = format!("{}_back", project.name());
    let per_network = container_name(&project, "per-network", 1);
    assert_eq!(
        endpoint(&project, &per_network, &back)["MacAddress"],
        "02:42:ac:11:00:98"
    );
    assert_converged(&project);
}
