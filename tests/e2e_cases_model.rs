//! End-to-end tests of how loading the compose files shapes what runs:
//! override files and mount targets, `include`, profiles with
//! `depends_on`, and interpolation defaults.

#[path = "support/mod.rs"]
mod support;

#[path = "e2e_util/mod.rs"]
mod e2e_util;

use e2e_util::{
    CHANGES, NO_CHANGES, Planned, apply, container_id, container_name, converge, plan, status,
};
use support::{BUSYBOX_IMAGE, TestProject, assert_failure, assert_success, stderr_text};

/// Returns one long-running service, with `extra` lines appended to it.
fn sleeper(name: &str, extra: &str) -> String {
    format!(
        "  {name}:\n    image: {BUSYBOX_IMAGE}\n    command: [\"sleep\", \"3600\"]\n    init: true\n{extra}"
    )
}

/// Runs `berth plan`, expects it to fail, and returns its stderr.
fn plan_error(project: &TestProject, args: &[&str]) -> String {
    let mut full = vec!["plan"];
    full.extend_from_slice(args);
    let out = project.berth(&full);
    assert_failure(&out, "berth plan");
    stderr_text(&out)
}

/// Names of the containers the plan creates.
fn created(planned: &Planned) -> Vec<String> {
    let mut names: Vec<String> = planned
        .changes()
        .iter()
        .filter(|c| c["kind"] == "container" && c["action"] == "create")
        .filter_map(|c| c["name"].as_str())
        .map(str::to_owned)
        .collect();
    names.sort();
    names
}

/// Returns a compose file with a service `app` that has the `volumes`
/// lines given, and a named volume `appdata`.
fn app_with_volumes(volumes: &str) -> String {
    let app = sleeper("app", &format!("    volumes:\n{volumes}"));
    format!("services:\n{app}volumes:\n  appdata: {{}}\n")
}

#[test]
fn override_file_replaces_mount_at_same_target() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write("dev-data/marker", "from dev-data\n");
    project.write("logs/.keep", "");
    project.write(
        "compose.yaml",
        &app_with_volumes("      - appdata:/srv/data\n      - ./logs:/srv/logs\n"),
    );
    project.write(
        "compose.override.yaml",
        "services:\n  app:\n    volumes:\n      - ./dev-data:/srv/data\n",
    );
    converge(&project);

    let app = container_name(&project, "app", 1);
    let inspected = project.inspect_container(&app);
    let mut mounts: Vec<(String, String, String)> = inspected["Mounts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|m| {
            let text = |key: &str| m[key].as_str().unwrap_or_default().to_owned();
            (text("Destination"), text("Type"), text("Source"))
        })
        .collect();
    mounts.sort();
    let dir = project.dir();
    let expected = [
        ("/srv/data", dir.join("dev-data")),
        ("/srv/logs", dir.join("logs")),
    ]
    .map(|(target, source)| {
        let source = source.to_string_lossy().into_owned();
        (target.to_owned(), "bind".to_owned(), source)
    });
    assert_eq!(mounts, expected, "mounts of {app}");
    assert!(
        project.volume_names().is_empty(),
        "the unused volume exists"
    );
}

#[test]
fn duplicate_mount_target_fails() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write(
        "compose.yaml",
        &app_with_volumes("      - appdata:/srv/data\n      - ./dev-data:/srv/data\n"),
    );
    let stderr = plan_error(&project, &[]);
    for part in ["/srv/data", "volumes[0]", "volumes[1]"] {
        assert!(
            stderr.contains(part),
            "the error does not name {part}:\n{stderr}"
        );
    }
}

#[test]
fn override_file_extends_included_service() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write(
        "database.yaml",
        &format!("services:\n{}", sleeper("db", "")),
    );
    project.write(
        "compose.yaml",
        &format!(
            "include:\n  - database.yaml\nservices:\n{}",
            sleeper("app", "    depends_on: [db]\n")
        ),
    );
    project.write(
        "compose.override.yaml",
        "services:\n  db:\n    environment:\n      TUNED: \"1\"\n",
    );
    converge(&project);
    let db = container_name(&project, "db", 1);
    let env = project.inspect_container(&db)["Config"]["Env"].clone();
    let has_tuned = env
        .as_array()
        .is_some_and(|list| list.iter().any(|v| v == "TUNED=1"));
    assert!(has_tuned, "{db} lacks TUNED=1: {env}");
    assert_eq!(
        status(&project, &container_name(&project, "app", 1)),
        "running"
    );

    // Defining db next to the include, rather than in an override, is a
    // conflict.
    project.write(
        "compose.yaml",
        &format!(
            "include:\n  - database.yaml\nservices:\n{}{}",
            sleeper("app", "    depends_on: [db]\n"),
            sleeper("db", "")
        ),
    );
    let stderr = plan_error(&project, &[]);
    assert!(
        stderr.contains("services.db conflicts with imported resource"),
        "{stderr}"
    );
}

/// `web` needs `mock`, which only the `dev` profile enables; `tools` sits
/// in a `debug` profile of its own.
fn profiled_dependency() -> String {
    format!(
        "services:\n{}{}{}",
        sleeper("mock", "    profiles: [dev]\n"),
        sleeper("web", "    depends_on:\n      - mock\n"),
        sleeper("tools", "    profiles: [debug]\n")
    )
}

#[test]
fn dependency_disabled_by_profile_is_named() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write("compose.yaml", &profiled_dependency());
    let stderr = plan_error(&project, &[]);
    for part in ["\"web\"", "\"mock\"", "--profile dev"] {
        assert!(
            stderr.contains(part),
            "the error does not name {part}:\n{stderr}"
        );
    }
    assert!(
        project.network_names().is_empty(),
        "planning created a network"
    );

    let [mock, tools] = ["mock", "tools"].map(|s| container_name(&project, s, 1));
    let named = plan(&project, &["mock"]);
    assert_eq!(created(&named), [mock.as_str()], "{}", named.pretty());
    apply(&project, &named);
    let named = plan(&project, &["tools"]);
    assert_eq!(created(&named), [tools.as_str()], "{}", named.pretty());
    apply(&project, &named);
    assert_eq!(
        project.container_names(),
        [mock, tools],
        "only the named services run"
    );
}

#[test]
fn active_profile_starts_dependency_first() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write("compose.yaml", &profiled_dependency());
    let [mock, web] = ["mock", "web"].map(|s| container_name(&project, s, 1));
    let planned = plan(&project, &["--profile", "dev"]);
    assert_eq!(created(&planned), [mock.as_str(), web.as_str()]);
    let start_web = planned
        .steps()
        .iter()
        .find(|s| s["id"] == format!("container.start:{web}"))
        .unwrap_or_else(|| panic!("no start of web:\n{}", planned.pretty()));
    let start_mock = format!("container.start:{mock}");
    assert!(
        start_web["after"]
            .as_array()
            .is_some_and(|a| a.iter().any(|v| v == start_mock.as_str())),
        "web does not start after mock:\n{}",
        planned.pretty()
    );
    apply(&project, &planned);
    for name in [&mock, &web] {
        assert_eq!(status(&project, name), "running", "{name}");
    }
}

#[test]
fn profiled_dependent_is_not_an_orphan() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write(
        "compose.yaml",
        &format!(
            "services:\n{}{}",
            sleeper("web", ""),
            sleeper("tools", "    profiles: [debug]\n    depends_on: [web]\n")
        ),
    );
    let web = container_name(&project, "web", 1);
    let tools = container_name(&project, "tools", 1);
    let planned = converge(&project);
    assert_eq!(created(&planned), [web.as_str()], "{}", planned.pretty());
    let web_id = container_id(&project, &web);

    let named = plan(&project, &["tools"]);
    assert_eq!(created(&named), [tools.as_str()], "{}", named.pretty());
    apply(&project, &named);
    assert_eq!(container_id(&project, &web), web_id, "web was replaced");

    let again = plan(&project, &[]);
    assert_eq!(again.code, NO_CHANGES, "{}", again.pretty());
    assert_eq!(
        again.json["warnings"],
        serde_json::json!([]),
        "{}",
        again.pretty()
    );
    assert!(!stderr_text(&again.output).contains("orphan"));
    assert_eq!(status(&project, &tools), "running", "{tools}");
}

#[test]
fn interpolation_defaults_tell_empty_from_unset() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write(".env", "FROM_DOTENV=dotenv-value\nEMPTY_VAR=\n");
    project.write(
        "compose.yaml",
        &format!(
            r#"services:
  app:
    image: {BUSYBOX_IMAGE}
    command: ["sh", "-c", "echo $$HOME"]
    environment:
      E1: ${{UNSET_VAR:-fallback}}
      E2: ${{EMPTY_VAR:-fallback}}
      E3: ${{EMPTY_VAR-fallback}}
      E4: ${{UNSET_VAR:-}}
      E5: ${{UNSET_VAR}}
      E6: ${{FROM_DOTENV:-none}}
      E7: ${{NESTED:-${{FROM_DOTENV:-x}}-suffix}}
"#
        ),
    );
    let berth = |args: &[&str], dotenv_override: Option<&str>| {
        let mut cmd = project.berth_command(args);
        for name in ["UNSET_VAR", "NESTED", "EMPTY_VAR", "FROM_DOTENV"] {
            cmd.env_remove(name);
        }
        if let Some(value) = dotenv_override {
            cmd.env("FROM_DOTENV", value);
        }
        support::run(&mut cmd)
    };
    let planned = berth(&["plan", "-o", "plan.json"], None);
    assert_success(&planned, "berth plan");
    let stderr = stderr_text(&planned);
    assert_eq!(stderr.matches("variable is not set").count(), 1, "{stderr}");
    assert!(
        stderr.contains("\"UNSET_VAR\" variable is not set"),
        "{stderr}"
    );
    assert_success(&berth(&["apply", "plan.json"], None), "berth apply");

    let app = container_name(&project, "app", 1);
    let config = project.inspect_container(&app)["Config"].clone();
    let env: Vec<&str> = config["Env"]
        .as_array()
        .map(|l| l.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    for entry in [
        "E1=fallback",
        "E2=fallback",
        "E3=",
        "E4=",
        "E5=",
        "E6=dotenv-value",
        "E7=dotenv-value-suffix",
    ] {
        assert!(env.contains(&entry), "{app} lacks {entry}: {env:?}");
    }
    assert_eq!(config["Cmd"][2], "echo $HOME", "$$ stays a literal $");

    // A value set in the shell wins over .env.
    let shell = berth(&["plan", "--detailed-exitcode"], Some("shell-value"));
    assert_eq!(
        shell.status.code(),
        Some(CHANGES),
        "{}",
        stderr_text(&shell)
    );
    let shell: serde_json::Value = serde_json::from_slice(&shell.stdout).expect("plan JSON");
    let diffs = shell["changes"][0]["diffs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let e6 = diffs.iter().find(|d| d["path"] == "environment.E6");
    assert_eq!(
        e6.map(|d| &d["after"]),
        Some(&"shell-value".into()),
        "{shell:#}"
    );

    project.write(
        "compose.yaml",
        &format!(
            "services:\n  app:\n    image: {BUSYBOX_IMAGE}\n    environment:\n      TAG: ${{TAG:?TAG must be set}}\n"
        ),
    );
    let stderr = plan_error(&project, &[]);
    assert!(stderr.contains("TAG must be set"), "{stderr}");
    assert!(stderr.contains("variable TAG"), "{stderr}");
}
