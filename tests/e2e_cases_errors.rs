//! End-to-end tests of projects that berth must reject, or accept with a
//! warning, before it acts: a fixed container name with several replicas,
//! a network or container name already held by something else, and
//! external networks.

#[path = "support/mod.rs"]
mod support;

#[path = "e2e_util/mod.rs"]
mod e2e_util;

use std::sync::Mutex;

use e2e_util::{CHANGES, apply, container_name, converge, plan, status};
use support::{
    BUSYBOX_IMAGE, Engine, TestProject, assert_failure, assert_success, stderr_text, try_run,
};

/// Removes containers and networks made by hand, which carry no project
/// label for [`TestProject`] to find. Declare it before the project, so
/// that it drops after the project's containers are gone.
struct HandMade {
    engine: Engine,
    containers: Mutex<Vec<String>>,
    networks: Mutex<Vec<String>>,
}

impl HandMade {
    fn new(engine: &Engine) -> HandMade {
        HandMade {
            engine: engine.clone(),
            containers: Mutex::new(Vec::new()),
            networks: Mutex::new(Vec::new()),
        }
    }

    /// Runs `docker network create ARGS NAME` and tracks the network.
    fn network(&self, name: &str, args: &[&str]) {
        self.networks.lock().unwrap().push(name.to_owned());
        let mut full = vec!["network", "create"];
        full.extend_from_slice(args);
        full.push(name);
        assert_success(&self.engine.docker(&full), "docker network create");
    }

    /// Runs a sleeping busybox container called `name` and tracks it.
    fn container(&self, name: &str) {
        self.containers.lock().unwrap().push(name.to_owned());
        let args = [
            "run",
            "-d",
            "--init",
            "--name",
            name,
            BUSYBOX_IMAGE,
            "sleep",
            "3600",
        ];
        assert_success(&self.engine.docker(&args), "docker run");
    }

    fn network_exists(&self, name: &str) -> bool {
        let out = self.engine.docker(&["network", "inspect", name]);
        out.status.success()
    }
}

impl Drop for HandMade {
    fn drop(&mut self) {
        // Errors are ignored: this may run while a failed test unwinds.
        let remove = |mut args: Vec<String>, names: &Mutex<Vec<String>>| {
            let names = names.lock().unwrap_or_else(|e| e.into_inner());
            if names.is_empty() {
                return;
            }
            args.extend(names.iter().cloned());
            let mut cmd = self.engine.docker_command(&args);
            let _ = try_run(cmd.current_dir(std::env::temp_dir()));
        };
        remove(vec!["rm".into(), "-f".into()], &self.containers);
        remove(vec!["network".into(), "rm".into()], &self.networks);
    }
}

/// Runs `berth plan ARGS`, expects it to fail, checks that the engine has
/// nothing of the project, and returns stderr.
fn rejected(project: &TestProject, args: &[&str]) -> String {
    let mut full = vec!["plan"];
    full.extend_from_slice(args);
    let out = project.berth(&full);
    assert_failure(&out, "berth plan");
    assert!(project.container_names().is_empty(), "a container exists");
    assert!(project.network_names().is_empty(), "a network exists");
    stderr_text(&out)
}

/// Returns a compose file with a service `worker` that has a fixed
/// container name and the `count` lines.
fn fixed_name_worker(fixed: &str, count: &str) -> String {
    format!(
        "services:\n  worker:\n    image: {BUSYBOX_IMAGE}\n    command: [\"sleep\", \"3600\"]\n    container_name: {fixed}\n{count}"
    )
}

#[test]
fn fixed_name_with_replicas_rejected() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    let fixed = format!("{}-fixed-worker", project.name());
    let variants = [
        ("    scale: 2\n", &[][..]),
        ("    deploy:\n      replicas: 2\n", &[]),
        ("", &["--scale", "worker=2"]),
    ];
    for (count, args) in variants {
        project.write("compose.yaml", &fixed_name_worker(&fixed, count));
        let stderr = rejected(&project, args);
        for part in ["worker", &fixed] {
            assert!(
                stderr.contains(part),
                "{count}{args:?}: no {part}:\n{stderr}"
            );
        }
        let found = engine.docker(&["ps", "-aq", "--filter", &format!("name={fixed}")]);
        assert!(found.stdout.is_empty(), "{fixed} was created");
    }
}

/// Returns a compose file with one long-running service `app`.
fn app_only() -> String {
    format!(
        "services:\n  app:\n    image: {BUSYBOX_IMAGE}\n    command: [\"sleep\", \"3600\"]\n    init: true\n"
    )
}

#[test]
fn unlabelled_default_network_rejected() {
    let engine = require_engine!();
    let hand_made = HandMade::new(&engine);
    let project = TestProject::new(&engine);
    project.write("compose.yaml", &app_only());
    hand_made.network(&format!("{}_default", project.name()), &[]);

    let stderr = rejected(&project, &[]);
    for part in [
        "com.docker.compose.network",
        "\"\"",
        "\"default\"",
        "external: true",
    ] {
        assert!(stderr.contains(part), "the error lacks {part}:\n{stderr}");
    }
}

#[test]
fn foreign_default_network_warns() {
    let engine = require_engine!();
    let hand_made = HandMade::new(&engine);
    let project = TestProject::new(&engine);
    project.write("compose.yaml", &app_only());
    let network = format!("{}_default", project.name());
    let labels = [
        "--label",
        "com.docker.compose.project=otherproj",
        "--label",
        "com.docker.compose.network=default",
    ];
    hand_made.network(&network, &labels);

    let planned = plan(&project, &[]);
    assert_eq!(planned.code, CHANGES, "{}", planned.pretty());
    let warnings = planned.json["warnings"].to_string();
    assert!(warnings.contains("otherproj"), "{}", planned.pretty());
    apply(&project, &planned);
    let app = container_name(&project, "app", 1);
    assert_eq!(status(&project, &app), "running", "{app}");
    let inspected = project.inspect_container(&app);
    assert!(
        inspected["NetworkSettings"]["Networks"]
            .get(&network)
            .is_some(),
        "{app} is not on {network}"
    );
}

/// [`app_only`] on an external network `edge` that is called `name`.
fn app_on_external(name: &str) -> String {
    let app = app_only();
    format!("{app}    networks: [edge]\nnetworks:\n  edge:\n    external: true\n    name: {name}\n")
}

#[test]
fn missing_external_network_rejected() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    let edge = format!("{}-edge", project.name());
    project.write("compose.yaml", &app_on_external(&edge));
    let stderr = rejected(&project, &[]);
    assert!(stderr.contains(&format!("`{edge}`")), "{stderr}");

    // Without `name:`, the key itself is the name, never prefixed with the
    // project.
    project.write(
        "compose.yaml",
        &format!("{}networks:\n  default:\n    external: true\n", app_only()),
    );
    let stderr = rejected(&project, &[]);
    assert!(stderr.contains("`default`"), "{stderr}");
    assert!(
        !stderr.contains(&format!("{}_default", project.name())),
        "{stderr}"
    );
}

#[test]
fn external_network_outlives_teardown() {
    let engine = require_engine!();
    let hand_made = HandMade::new(&engine);
    let project = TestProject::new(&engine);
    let edge = format!("{}-edge", project.name());
    hand_made.network(&edge, &[]);
    project.write("compose.yaml", &app_on_external(&edge));
    let planned = converge(&project);
    let network_kinds = planned.steps().iter().filter(|s| {
        let kind = s["action"]["kind"].as_str().unwrap_or_default();
        kind.contains("network")
    });
    assert_eq!(network_kinds.count(), 0, "{}", planned.pretty());
    let app = container_name(&project, "app", 1);
    assert_eq!(status(&project, &app), "running", "{app}");

    let down = plan(&project, &["--destroy"]);
    apply(&project, &down);
    assert!(project.container_names().is_empty(), "app was not removed");
    assert!(hand_made.network_exists(&edge), "teardown removed {edge}");
}

/// `proxy` with a fixed name and `site` with the default one.
fn proxy_and_site(fixed: &str) -> String {
    format!(
        "services:\n  proxy:\n    image: {BUSYBOX_IMAGE}\n    command: [\"sleep\", \"3600\"]\n    init: true\n    container_name: {fixed}\n  site:\n    image: {BUSYBOX_IMAGE}\n    command: [\"sleep\", \"3600\"]\n    init: true\n"
    )
}

#[test]
fn name_held_by_project_rejected() {
    let engine = require_engine!();
    let other = TestProject::new(&engine);
    let fixed = format!("{}-shared-proxy", other.name());
    other.write("compose.yaml", &proxy_and_site(&fixed));
    assert_success(&other.compose(&["up", "-d"]), "docker compose up -d");

    let project = TestProject::new(&engine);
    project.write("compose.yaml", &proxy_and_site(&fixed));
    let stderr = rejected(&project, &[]);
    let owner = format!("`{}`", other.name());
    for part in [&format!("`{fixed}`"), &owner] {
        assert!(
            stderr.contains(part.as_str()),
            "the error lacks {part}:\n{stderr}"
        );
    }
}

#[test]
fn name_held_by_unlabelled_rejected() {
    let engine = require_engine!();
    let hand_made = HandMade::new(&engine);
    let project = TestProject::new(&engine);
    let fixed = format!("{}-shared-proxy", project.name());
    project.write("compose.yaml", &proxy_and_site(&fixed));
    let site = container_name(&project, "site", 1);
    hand_made.container(&site);

    let stderr = rejected(&project, &[]);
    assert!(stderr.contains(&format!("`{site}`")), "{stderr}");
    assert!(
        stderr.contains("not part of any Compose project"),
        "{stderr}"
    );
}
