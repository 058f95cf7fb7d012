//! End-to-end tests of `post_start` and `pre_stop` hooks: berth runs them
//! in the service's containers where Docker Compose 2.40.3 runs them, and a
//! failing hook fails the apply.

#[path = "support/mod.rs"]
mod support;

#[path = "e2e_util/mod.rs"]
mod e2e_util;

use e2e_util::{CHANGES, apply, container_id, container_name, converge, exec_sh, plan, try_apply};
use support::{BUSYBOX_IMAGE, TestProject, assert_failure, assert_success, describe, stderr_text};

/// Reads the event log that the hooks of the lifecycle project append to,
/// from its named volume, through a throwaway container.
fn read_events(project: &TestProject) -> Vec<String> {
    let volume = format!("{}_events:/events", project.name());
    let out = project.docker(&[
        "run",
        "--rm",
        "-v",
        &volume,
        BUSYBOX_IMAGE,
        "cat",
        "/events/log",
    ]);
    assert_success(&out, "docker run cat /events/log");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Writes the lifecycle project: `web` with `replicas` containers, whose
/// hooks append `start ID` and `stop ID` to a shared named volume, ID
/// being the container's hostname (the first 12 digits of its id).
fn write_lifecycle_project(project: &TestProject, replicas: u32, revision: u32) {
    project.write(
        "compose.yaml",
        &format!(
            r#"services:
  web:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    init: true
    scale: {replicas}
    environment:
      REV: "{revision}"
    volumes:
      - events:/events
    post_start:
      - command: ["sh", "-c", "echo start $$(hostname) >> /events/log"]
    pre_stop:
      - command: ["sh", "-c", "echo stop $$(hostname) >> /events/log"]
volumes:
  events: {{}}
"#
        ),
    );
}

/// Writes a project with one service `app` that sleeps, followed by
/// `rest`: more keys of `app` and more services.
fn write_app(project: &TestProject, rest: &str) {
    let head = format!(
        "services:\n  app:\n    image: {BUSYBOX_IMAGE}\n    command: [\"sleep\", \"3600\"]\n    init: true\n"
    );
    project.write("compose.yaml", &(head + rest));
}

fn short_id(project: &TestProject, container: &str) -> String {
    container_id(project, container)[..12].to_owned()
}

#[test]
fn post_start_gets_merged_environment() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    // The hook gets its own variables on top of the container's, and a
    // name without a value removes the container's variable.
    write_app(
        &project,
        r#"    environment:
      BASE: from-service
      GONE: from-service
    post_start:
      - command: ["sh", "-c", "echo $$HOOK $$BASE $${GONE:-unset} $$(id -u) $$(pwd) > /tmp/hook"]
        user: "65534"
        working_dir: /tmp
        environment:
          HOOK: from-hook
          GONE:
"#,
    );
    converge(&project);
    let app = container_name(&project, "app", 1);
    let written = exec_sh(&project, &app, "cat /tmp/hook");
    assert_eq!(written.trim(), "from-hook from-service unset 65534 /tmp");
}

#[test]
fn failing_post_start_fails_apply() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    write_app(
        &project,
        &format!(
            r#"    post_start:
      - command: ["true"]
      - command: ["sh", "-c", "echo migration table missing >&2; exit 3"]
  after:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    depends_on: [app]
"#
        ),
    );
    let planned = plan(&project, &[]);
    assert_eq!(planned.code, CHANGES, "{}", planned.pretty());
    let out = try_apply(&project, &planned);
    assert_failure(&out, "berth apply");
    let stderr = stderr_text(&out);
    let app = container_name(&project, "app", 1);
    for expected in [
        "post_start[1] hook of service `app`".to_owned(),
        "exited with status 3".to_owned(),
        format!("in container `{app}`"),
        "`sh -c 'echo migration table missing >&2; exit 3'`".to_owned(),
    ] {
        assert!(
            stderr.contains(&expected),
            "the error lacks {expected:?}:\n{}",
            describe("berth apply", &out)
        );
    }
    let after = container_name(&project, "after", 1);
    let state = project.inspect_container(&after)["State"]["Status"].clone();
    assert_eq!(
        state, "created",
        "a dependent must not start after the failure"
    );
}

#[test]
fn pre_stop_on_scale_down_and_destroy() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    write_lifecycle_project(&project, 2, 1);
    converge(&project);
    let first = [
        short_id(&project, &container_name(&project, "web", 1)),
        short_id(&project, &container_name(&project, "web", 2)),
    ];
    let mut expected: Vec<String> = first.iter().map(|id| format!("start {id}")).collect();
    expected.sort();
    let mut events = read_events(&project);
    events.sort();
    assert_eq!(events, expected, "the first apply starts both replicas");

    // A changed environment replaces both replicas: the old ones stop
    // without their pre_stop hook and the new ones start with post_start.
    write_lifecycle_project(&project, 2, 2);
    converge(&project);
    let second = [
        short_id(&project, &container_name(&project, "web", 1)),
        short_id(&project, &container_name(&project, "web", 2)),
    ];
    assert_ne!(first, second, "the replicas must be replaced");
    let events = read_events(&project);
    assert!(
        !events.iter().any(|line| line.starts_with("stop ")),
        "a replacement ran a pre_stop hook: {events:?}"
    );
    let mut started: Vec<&String> = events[2..].iter().collect();
    started.sort();
    let mut expected: Vec<String> = second.iter().map(|id| format!("start {id}")).collect();
    expected.sort();
    assert_eq!(started, expected.iter().collect::<Vec<_>>());

    // Scaling down to one stops replica 2 after its pre_stop hook.
    write_lifecycle_project(&project, 1, 2);
    converge(&project);
    let events = read_events(&project);
    assert_eq!(events[4..], [format!("stop {}", second[1])]);

    // Tearing down stops replica 1 after its pre_stop hook.
    let destroy = plan(&project, &["--destroy"]);
    assert_eq!(destroy.code, CHANGES, "{}", destroy.pretty());
    apply(&project, &destroy);
    let events = read_events(&project);
    assert_eq!(events[5..], [format!("stop {}", second[0])]);
    assert_eq!(events.len(), 6, "{events:?}");
}

#[test]
fn unstartable_hook_warns_and_continues() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    // The test image has no passwd file, so the engine cannot start an
    // exec as `root`. Docker Compose 2.40.3 ignores that and so does berth,
    // with a warning.
    write_app(
        &project,
        r#"    post_start:
      - command: ["sh", "-c", "echo ran > /tmp/hook"]
        user: root
"#,
    );
    let planned = plan(&project, &[]);
    let stderr = stderr_text(&apply(&project, &planned));
    assert!(
        stderr.contains("the hook did not start"),
        "no warning about the hook:\n{stderr}"
    );
    assert!(
        stderr.contains("unable to find user root"),
        "the warning lacks the engine's message:\n{stderr}"
    );
    let app = container_name(&project, "app", 1);
    let out = project.docker(&["exec", &app, "cat", "/tmp/hook"]);
    assert_failure(&out, "cat /tmp/hook");
}
