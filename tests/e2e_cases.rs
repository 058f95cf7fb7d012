//! End-to-end tests of planner decisions met in real projects: one-shot
//! services that already completed, anonymous volumes, the options that
//! target services, a replace with a dependent that restarts, and orphans.

#[path = "support/mod.rs"]
mod support;

#[path = "e2e_util/mod.rs"]
mod e2e_util;

use e2e_util::{
    CHANGES, NO_CHANGES, Planned, apply, assert_converged, container_id, container_name, converge,
    ids_by_name, plan, started_at, status, try_apply,
};
use support::{BUSYBOX_IMAGE, TestProject, assert_success, describe, stderr_text, stdout_text};

/// Returns a compose file with a one-shot `init` that exits with `code`,
/// and a long-running `app` that waits for it.
fn one_shot_and_app(code: u8) -> String {
    format!(
        r#"services:
  init:
    image: {BUSYBOX_IMAGE}
    command: ["sh", "-c", "echo seeded; exit {code}"]
  app:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    init: true
    depends_on:
      init:
        condition: service_completed_successfully
"#
    )
}

/// Returns the `after` list of the step with id `id`, failing when the plan
/// has no such step.
fn after_of(planned: &Planned, id: &str) -> Vec<String> {
    let step = planned
        .steps()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("the plan has no step {id}:\n{}", planned.pretty()));
    step["after"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|v| v.as_str())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Returns whether the plan changes a container, that is, lists it with an
/// action other than `no_op`.
fn touches(planned: &Planned, container: &str) -> bool {
    planned
        .changes()
        .iter()
        .any(|c| c["name"] == container && c["action"] != "no_op")
}

/// Brings up [`one_shot_and_app`] with a one-shot that succeeds and returns
/// the names of the init and app containers.
fn completed_one_shot(project: &TestProject) -> (String, String) {
    project.write("compose.yaml", &one_shot_and_app(0));
    converge(project);
    let init = container_name(project, "init", 1);
    let app = container_name(project, "app", 1);
    (init, app)
}

#[test]
fn completed_one_shot_is_converged() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    let (init, app) = completed_one_shot(&project);
    assert_eq!(status(&project, &init), "exited", "{init}");
    assert_eq!(status(&project, &app), "running", "{app}");
    let before = ids_by_name(&project);

    let planned = plan(&project, &[]);
    assert_eq!(planned.code, NO_CHANGES, "{}", planned.pretty());
    assert_eq!(planned.action(&init), "no_op");
    assert_eq!(planned.change(&init)["reasons"][0], "completed");
    assert!(planned.steps().is_empty(), "{}", planned.pretty());

    // The option that restores Docker Compose's behaviour starts the same
    // container again and leaves app alone.
    let rerun = plan(&project, &["--rerun-completed"]);
    assert_eq!(rerun.code, CHANGES, "{}", rerun.pretty());
    assert_eq!(rerun.action(&init), "start");
    assert_eq!(rerun.action(&app), "no_op");
    let app_started = started_at(&project, &app);
    apply(&project, &rerun);
    assert_eq!(ids_by_name(&project), before, "a container was replaced");
    assert_eq!(started_at(&project, &app), app_started, "app was restarted");
    let logs = project.docker(&["logs", &init]);
    assert_success(&logs, "docker logs");
    assert_eq!(
        stdout_text(&logs).matches("seeded").count(),
        2,
        "init ran twice"
    );
    assert_converged(&project);
}

#[test]
fn failing_rerun_of_one_shot_keeps_app_running() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    let (init, app) = completed_one_shot(&project);
    let app_id = container_id(&project, &app);
    let app_started = started_at(&project, &app);

    project.write("compose.yaml", &one_shot_and_app(1));
    let planned = plan(&project, &[]);
    assert_eq!(planned.action(&init), "replace", "{}", planned.pretty());
    assert!(!touches(&planned, &app), "{}", planned.pretty());
    let out = try_apply(&project, &planned);
    assert!(!out.status.success(), "{}", describe("berth apply", &out));
    let stderr = stderr_text(&out);
    assert!(
        stderr.contains("\"init\"") && stderr.contains("exit 1"),
        "the error does not name init and its exit code:\n{stderr}"
    );
    assert_eq!(container_id(&project, &app), app_id, "app was replaced");
    assert_eq!(status(&project, &app), "running", "{app}");
    assert_eq!(started_at(&project, &app), app_started, "app was restarted");
}

#[test]
fn anonymous_bind_and_named_volumes_plan_no_changes() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write("conf/app.conf", "level = 1\n");
    project.write(
        "compose.yaml",
        &format!(
            r#"services:
  app:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    init: true
    volumes:
      - /cache
      - shared:/shared
      - ./conf:/conf:ro
volumes:
  shared: {{}}
"#
        ),
    );
    let up = project.compose(&["up", "-d"]);
    assert_success(&up, "docker compose up -d");
    let app = container_name(&project, "app", 1);

    let planned = plan(&project, &[]);
    assert_eq!(planned.code, NO_CHANGES, "{}", planned.pretty());
    assert_eq!(planned.action(&app), "no_op");
    assert!(planned.steps().is_empty(), "{}", planned.pretty());
    let shown = project.berth(&["show", "plan.json"]);
    assert_success(&shown, "berth show");
    assert!(
        stdout_text(&shown).contains("No changes"),
        "{}",
        describe("berth show", &shown)
    );
}

/// `cache` with a healthcheck, and `api` waiting for it to be healthy.
fn cache_and_api() -> String {
    format!(
        r#"services:
  cache:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    init: true
    healthcheck:
      test: ["CMD", "true"]
      interval: 1s
      retries: 3
  api:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    init: true
    depends_on:
      cache:
        condition: service_healthy
"#
    )
}

#[test]
fn no_deps_leaves_dependency_alone() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write("compose.yaml", &cache_and_api());
    converge(&project);
    let cache = container_name(&project, "cache", 1);
    let api = container_name(&project, "api", 1);
    let cache_id = container_id(&project, &cache);
    let api_id = container_id(&project, &api);

    let forced = plan(&project, &["--force-recreate", "--no-deps", "api"]);
    assert_eq!(forced.action(&api), "replace", "{}", forced.pretty());
    assert!(!touches(&forced, &cache), "{}", forced.pretty());
    assert!(
        forced.steps().iter().all(|s| {
            let id = s["id"].as_str().unwrap_or_default();
            !id.contains(&cache) && !id.ends_with(":cache")
        }),
        "a step acts on or waits for cache:\n{}",
        forced.pretty()
    );
    apply(&project, &forced);
    let new_api_id = container_id(&project, &api);
    assert_ne!(new_api_id, api_id, "api was not replaced");
    assert_eq!(
        container_id(&project, &cache),
        cache_id,
        "cache was replaced"
    );

    let removed = project.docker(&["rm", "-f", &cache]);
    assert_success(&removed, "docker rm -f");
    let without_deps = plan(&project, &["--no-deps", "api"]);
    assert_eq!(without_deps.code, NO_CHANGES, "{}", without_deps.pretty());

    // Naming api brings its missing dependency back; api is not restarted
    // because cache is created, not replaced.
    let api_started = started_at(&project, &api);
    let with_deps = plan(&project, &["api"]);
    assert_eq!(with_deps.action(&cache), "create", "{}", with_deps.pretty());
    assert_eq!(with_deps.action(&api), "no_op", "{}", with_deps.pretty());
    assert!(
        with_deps
            .steps()
            .iter()
            .any(|s| s["id"] == "wait.healthy:cache"),
        "the plan does not wait for cache:\n{}",
        with_deps.pretty()
    );
    apply(&project, &with_deps);
    let health = project.inspect_container(&cache)["State"]["Health"]["Status"].clone();
    assert_eq!(health, "healthy", "{cache}");
    assert_eq!(container_id(&project, &api), new_api_id, "api was replaced");
    assert_eq!(started_at(&project, &api), api_started, "api was restarted");
}

#[test]
fn dependency_options_pick_the_right_side() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    let service = |name: &str, extra: &str| {
        format!(
            "  {name}:\n    image: {BUSYBOX_IMAGE}\n    command: [\"sleep\", \"3600\"]\n    init: true\n{extra}"
        )
    };
    let file = format!(
        "services:\n{}{}{}",
        service("db", ""),
        service("web", "    depends_on: [db]\n"),
        service("other", "")
    );
    project.write("compose.yaml", &file);
    converge(&project);
    let [db, web, other] = ["db", "web", "other"].map(|s| container_name(&project, s, 1));
    let other_id = container_id(&project, &other);

    let db_id = container_id(&project, &db);
    let web_id = container_id(&project, &web);
    let deps = plan(&project, &["--always-recreate-deps", "web"]);
    assert_eq!(deps.action(&db), "replace", "{}", deps.pretty());
    assert!(!touches(&deps, &web), "{}", deps.pretty());
    assert!(!touches(&deps, &other), "{}", deps.pretty());
    apply(&project, &deps);
    assert_ne!(container_id(&project, &db), db_id, "db was not replaced");
    assert_eq!(container_id(&project, &web), web_id, "web was replaced");
    assert_eq!(status(&project, &web), "running", "{web}");

    let db_id = container_id(&project, &db);
    let forced = plan(&project, &["--force-recreate", "web"]);
    assert_eq!(forced.action(&web), "replace", "{}", forced.pretty());
    assert!(!touches(&forced, &db), "{}", forced.pretty());
    apply(&project, &forced);
    assert_ne!(container_id(&project, &web), web_id, "web was not replaced");
    assert_eq!(container_id(&project, &db), db_id, "db was replaced");
    assert_eq!(status(&project, &db), "running", "{db}");
    assert_eq!(
        container_id(&project, &other),
        other_id,
        "other was replaced"
    );
}

#[test]
fn replace_plan_lists_every_step_under_final_names() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write(
        "compose.yaml",
        &format!(
            r#"services:
  db:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    init: true
    environment:
      REV: ${{REV:-1}}
  web:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    init: true
    depends_on:
      db:
        condition: service_started
        restart: true
"#
        ),
    );
    converge(&project);
    let db = container_name(&project, "db", 1);
    let web = container_name(&project, "web", 1);
    let before = ids_by_name(&project);

    project.write(".env", "REV=2\n");
    let planned = plan(&project, &[]);
    assert_eq!(planned.action(&db), "replace", "{}", planned.pretty());
    assert_eq!(planned.action(&web), "restart", "{}", planned.pretty());
    // Planning is dry: the engine still runs the same containers.
    assert_eq!(ids_by_name(&project), before, "planning changed the engine");
    for name in [&db, &web] {
        assert_eq!(status(&project, name), "running", "{name}");
    }

    let stop_web = format!("container.stop:{web}");
    let create_db = format!("container.create:{db}");
    let start_db = format!("container.start:{db}");
    let start_web = format!("container.start:{web}");
    assert!(after_of(&planned, &create_db).contains(&stop_web));
    assert!(after_of(&planned, &start_db).contains(&create_db));
    assert!(after_of(&planned, &start_web).contains(&start_db));
    let started: Vec<&str> = planned
        .steps()
        .iter()
        .filter(|s| s["action"]["kind"] == "start_container")
        .filter_map(|s| s["action"]["container"]["name"].as_str())
        .collect();
    assert_eq!(started, [db.as_str(), web.as_str()], "{}", planned.pretty());

    apply(&project, &planned);
    assert_ne!(
        container_id(&project, &db),
        before[0].1,
        "db was not replaced"
    );
    assert_eq!(
        container_id(&project, &web),
        before[1].1,
        "web was replaced"
    );
    assert_eq!(status(&project, &web), "running", "{web}");
    assert_converged(&project);
}

#[test]
fn orphans_are_warned_about_then_removed_on_request() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    let service = |name: &str| {
        format!(
            "  {name}:\n    image: {BUSYBOX_IMAGE}\n    command: [\"sleep\", \"3600\"]\n    init: true\n"
        )
    };
    project.write(
        "compose.yaml",
        &format!("services:\n{}{}", service("api"), service("legacy")),
    );
    assert_success(&project.compose(&["up", "-d"]), "docker compose up -d");
    let exited = project.compose(&["run", "-T", "api", "true"]);
    assert_success(&exited, "docker compose run api true");
    let running = project.compose(&["run", "-d", "api", "sleep", "3600"]);
    assert_success(&running, "docker compose run -d api");
    let one_off = |state: &str| {
        project
            .container_names()
            .into_iter()
            .find(|n| n.contains("-api-run-") && status(&project, n) == state)
            .unwrap_or_else(|| panic!("no {state} one-off container"))
    };
    let (exited, running) = (one_off("exited"), one_off("running"));
    let api = container_name(&project, "api", 1);
    let legacy = container_name(&project, "legacy", 1);
    let api_id = container_id(&project, &api);

    project.write("compose.yaml", &format!("services:\n{}", service("api")));
    let warned = plan(&project, &[]);
    assert_eq!(warned.code, NO_CHANGES, "{}", warned.pretty());
    let orphans: Vec<&serde_json::Value> = warned.json["warnings"]
        .as_array()
        .map(|w| w.iter().filter(|w| w["code"] == "orphans").collect())
        .unwrap_or_default();
    assert_eq!(orphans.len(), 1, "one orphan warning:\n{}", warned.pretty());
    let message = orphans[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&exited) && message.contains(&legacy),
        "{message}"
    );
    assert!(!message.contains(&running), "a running one-off: {message}");

    let removing = plan(&project, &["--remove-orphans"]);
    assert_eq!(removing.action(&exited), "remove", "{}", removing.pretty());
    assert_eq!(removing.action(&legacy), "remove", "{}", removing.pretty());
    assert!(!touches(&removing, &api), "{}", removing.pretty());
    assert!(!touches(&removing, &running), "{}", removing.pretty());
    apply(&project, &removing);
    let mut expected = vec![api.clone(), running];
    expected.sort();
    assert_eq!(project.container_names(), expected);
    assert_eq!(container_id(&project, &api), api_id, "api was replaced");
}
