//! Helpers shared by the end-to-end tests: running `berth plan` and
//! `berth apply` in a [`TestProject`] and reading container state.
//!
//! Include it after the harness:
//!
//! ```ignore
//! #[path = "support/mod.rs"]
//! mod support;
//! #[path = "e2e_util/mod.rs"]
//! mod e2e_util;
//! ```

// Each test file uses a different part of these helpers.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Output;
use std::sync::Mutex;

use serde_json::Value;

use crate::support::{Engine, TestProject, assert_success, describe, try_run};

/// `plan --detailed-exitcode`: no changes.
pub const NO_CHANGES: i32 = 0;
/// `plan --detailed-exitcode`: the plan has changes.
pub const CHANGES: i32 = 2;
/// `apply`: the engine changed since the plan was made.
pub const STALE_PLAN: i32 = 3;

/// One `berth plan --detailed-exitcode` run.
pub struct Planned {
    /// The exit code: 0 or 2, because any other code fails the test.
    pub code: i32,
    /// The plan, parsed from stdout.
    pub json: Value,
    /// The plan file written into the project folder, for `berth apply`.
    pub path: PathBuf,
    /// The raw output, for failure messages.
    pub output: Output,
}

impl Planned {
    /// Returns the resource change of a container, looked up by container name.
    pub fn change(&self, container: &str) -> &Value {
        self.changes()
            .iter()
            .find(|c| c["name"] == container)
            .unwrap_or_else(|| panic!("the plan has no change for {container}:\n{}", self.pretty()))
    }

    /// Returns the action planned for a container (`create`, `replace`, `no_op`...).
    pub fn action(&self, container: &str) -> String {
        self.change(container)["action"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub fn changes(&self) -> &[Value] {
        self.json["changes"].as_array().map_or(&[], Vec::as_slice)
    }

    pub fn steps(&self) -> &[Value] {
        self.json["steps"].as_array().map_or(&[], Vec::as_slice)
    }

    /// Renders the plan as indented JSON, for failure messages.
    pub fn pretty(&self) -> String {
        serde_json::to_string_pretty(&self.json).unwrap_or_default()
    }
}

/// Runs `berth plan --detailed-exitcode ARGS`, checks that stdout is one
/// JSON document and writes it to `plan.json` in the project folder.
pub fn plan(project: &TestProject, args: &[&str]) -> Planned {
    let mut full = vec!["plan", "--detailed-exitcode"];
    full.extend_from_slice(args);
    let output = project.berth(&full);
    let code = output.status.code().unwrap_or(-1);
    assert!(
        code == NO_CHANGES || code == CHANGES,
        "{}",
        describe("berth plan", &output)
    );
    let json: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "berth plan: stdout is not JSON ({e})\n{}",
            describe("berth plan", &output)
        )
    });
    let path = project.dir().join("plan.json");
    std::fs::write(&path, &output.stdout).expect("write plan.json");
    Planned {
        code,
        json,
        path,
        output,
    }
}

/// Runs `berth apply` on a plan and returns its output, whatever the result.
pub fn try_apply(project: &TestProject, planned: &Planned) -> Output {
    project.berth(&[std::ffi::OsStr::new("apply"), planned.path.as_os_str()])
}

/// Runs `berth apply` on a plan and fails the test unless it succeeds.
pub fn apply(project: &TestProject, planned: &Planned) -> Output {
    let output = try_apply(project, planned);
    assert_success(&output, "berth apply");
    output
}

/// Plans and applies, expecting changes, and returns the applied plan.
pub fn converge(project: &TestProject) -> Planned {
    let planned = plan(project, &[]);
    assert_eq!(
        planned.code,
        CHANGES,
        "expected changes:\n{}",
        describe("berth plan", &planned.output)
    );
    apply(project, &planned);
    planned
}

/// Plans and fails the test unless the plan has no changes and no steps.
#[track_caller]
pub fn assert_converged(project: &TestProject) {
    let planned = plan(project, &[]);
    assert_eq!(
        planned.code,
        NO_CHANGES,
        "expected no changes:\n{}",
        planned.pretty()
    );
    assert!(
        planned.steps().is_empty(),
        "a plan without changes has steps:\n{}",
        planned.pretty()
    );
}

/// Returns the container name Compose gives replica `n` of `service`.
pub fn container_name(project: &TestProject, service: &str, n: u32) -> String {
    format!("{}-{service}-{n}", project.name())
}

/// Returns the full id of a container.
pub fn container_id(project: &TestProject, name: &str) -> String {
    project.inspect_container(name)["Id"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Returns the `State.Status` of a container (`running`, `created`, `exited`...).
pub fn status(project: &TestProject, name: &str) -> String {
    project.inspect_container(name)["State"]["Status"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Returns the `State.StartedAt` of a container, which changes on every
/// start.
pub fn started_at(project: &TestProject, name: &str) -> String {
    project.inspect_container(name)["State"]["StartedAt"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Lists the project's containers with their ids, sorted by name, to
/// compare before and after a command.
pub fn ids_by_name(project: &TestProject) -> Vec<(String, String)> {
    project
        .container_names()
        .into_iter()
        .map(|name| {
            let id = container_id(project, &name);
            (name, id)
        })
        .collect()
}

/// Runs `docker exec CONTAINER sh -c SCRIPT` and returns stdout.
pub fn exec_sh(project: &TestProject, container: &str, script: &str) -> String {
    let out = project.docker(&["exec", container, "sh", "-c", script]);
    assert_success(&out, &format!("docker exec {container} sh -c {script:?}"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Lists the anonymous volumes mounted by a container.
pub fn anonymous_volumes(project: &TestProject, container: &str) -> Vec<String> {
    let inspected = project.inspect_container(container);
    let mounts = inspected["Mounts"].as_array().cloned().unwrap_or_default();
    let is_anonymous = |name: &str| name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit());
    mounts
        .iter()
        .filter(|m| m["Type"] == "volume")
        .filter_map(|m| m["Name"].as_str())
        .filter(|name| is_anonymous(name))
        .map(str::to_owned)
        .collect()
}

/// Removes tracked volumes when dropped. An anonymous volume that a
/// replacement container took over is mounted by name, so removing the
/// container with its volumes leaves it behind, and it carries no project
/// label for [`TestProject`]'s clean-up to find. Declare the guard before
/// the project so that it drops after the project's containers are gone.
pub struct VolumeCleanup {
    engine: Engine,
    names: Mutex<Vec<String>>,
}

impl VolumeCleanup {
    pub fn new(engine: &Engine) -> VolumeCleanup {
        VolumeCleanup {
            engine: engine.clone(),
            names: Mutex::new(Vec::new()),
        }
    }

    /// Tracks the anonymous volumes of a container.
    pub fn track(&self, project: &TestProject, container: &str) {
        let volumes = anonymous_volumes(project, container);
        let mut names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        names.extend(volumes);
    }

    /// Returns the tracked volume names.
    pub fn names(&self) -> Vec<String> {
        self.names.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Drop for VolumeCleanup {
    fn drop(&mut self) {
        let names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        if names.is_empty() {
            return;
        }
        let mut args = vec!["volume".to_owned(), "rm".to_owned(), "-f".to_owned()];
        args.extend(names.iter().cloned());
        // Errors are ignored: this may run while a failed test unwinds.
        let _ = try_run(
            self.engine
                .docker_command(&args)
                .current_dir(std::env::temp_dir()),
        );
    }
}
