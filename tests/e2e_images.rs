//! End-to-end tests of images on the test engine: a build from a context
//! folder, a failing build step, a tag moved to another image, a pull
//! that cannot reach its registry, and a real pull from a registry the
//! test serves on loopback.
//! Each checks that `docker compose up` agrees with what berth did.

#[path = "support/mod.rs"]
mod support;

#[path = "e2e_util/mod.rs"]
mod e2e_util;

#[path = "registry_util/mod.rs"]
mod registry_util;

use e2e_util::{
    CHANGES, apply, assert_converged, container_name, converge, exec_sh, ids_by_name, plan,
    try_apply,
};
use support::{BUSYBOX_IMAGE, HC_IMAGE, TestProject, assert_success, stderr_text, stdout_text};

/// Removes images by reference when dropped, also after a failure, since
/// `TestProject` removes containers, networks and volumes only.
struct ImageCleanup<'a> {
    project: &'a TestProject,
    references: Vec<String>,
}

impl Drop for ImageCleanup<'_> {
    fn drop(&mut self) {
        self.project.remove_all();
        for reference in &self.references {
            let mut cmd = self
                .project
                .engine()
                .docker_command(&["rmi", "-f", reference]);
            let _ = support::try_run(&mut cmd);
        }
    }
}

/// Tags the offline test image as `local/<project>:TAG`; the returned
/// guard removes the tag and the project.
fn tag_test_image<'a>(project: &'a TestProject, tag: &str) -> (String, ImageCleanup<'a>) {
    let image = format!("local/{}:{tag}", project.name());
    assert_success(
        &project.docker(&["tag", BUSYBOX_IMAGE, &image]),
        "docker tag",
    );
    let cleanup = ImageCleanup {
        project,
        references: vec![image.clone()],
    };
    (image, cleanup)
}

/// Returns the id of a local image.
fn image_id(project: &TestProject, reference: &str) -> String {
    let out = project.docker(&["image", "inspect", "--format", "{{.Id}}", reference]);
    assert_success(&out, &format!("docker image inspect {reference}"));
    stdout_text(&out).trim().to_owned()
}

/// Returns the value of a label of an image or container.
fn label(project: &TestProject, object: &str, key: &str) -> String {
    let format = format!("{{{{index .Config.Labels \"{key}\"}}}}");
    let out = project.docker(&["inspect", "--format", &format, object]);
    assert_success(&out, &format!("docker inspect {object}"));
    stdout_text(&out).trim().to_owned()
}

/// Runs `docker compose up -d ARGS` and fails the test if it replaced any
/// container.
#[track_caller]
fn assert_compose_up_keeps_containers(project: &TestProject, args: &[&str]) {
    let before = ids_by_name(project);
    let mut full = vec!["up", "-d"];
    full.extend_from_slice(args);
    let up = project.compose(&full);
    assert_success(&up, "compose up");
    assert_eq!(
        ids_by_name(project),
        before,
        "compose up replaced containers:\n{}",
        support::describe("compose up", &up)
    );
}

/// Applies a plan that must fail with exit code 1; returns its error
/// output.
#[track_caller]
fn apply_fails(project: &TestProject, planned: &e2e_util::Planned) -> String {
    let out = try_apply(project, planned);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        support::describe("berth apply", &out)
    );
    stderr_text(&out)
}

/// Lists the kinds of a plan's steps, in order.
fn kinds(planned: &e2e_util::Planned) -> Vec<String> {
    planned
        .steps()
        .iter()
        .map(|step| {
            step["action"]["kind"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[test]
fn build_from_context_then_converged() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    let image = format!("{}-app", project.name());
    let _cleanup = ImageCleanup {
        project: &project,
        references: vec![image.clone(), format!("{image}:extra")],
    };
    project.write(
        "app/Dockerfile",
        &format!(
            "FROM {BUSYBOX_IMAGE} AS base\nARG GREETING=unset\nRUN echo \"$GREETING\" > /greeting\n\
             FROM base AS final\nCOPY . /ctx/\nCMD [\"sleep\", \"3600\"]\n"
        ),
    );
    project.write("app/hello.txt", "hello\n");
    project.write("app/secret.txt", "do not send\n");
    project.write("app/cache/big.bin", "cached\n");
    project.write("app/.dockerignore", "secret.txt\ncache\n");
    project.write(
        "compose.yaml",
        &format!(
            r#"services:
  app:
    build:
      context: ./app
      target: final
      args:
        GREETING: from-args
      labels:
        com.example.team: web
      tags:
        - {image}:extra
"#
        ),
    );

    let planned = converge(&project);
    let steps = kinds(&planned);
    assert!(steps.contains(&"build_image".to_owned()), "{steps:?}");
    assert!(!steps.contains(&"pull_image".to_owned()), "{steps:?}");

    let container = container_name(&project, "app", 1);
    let listing = exec_sh(&project, &container, "ls -a /ctx; cat /greeting");
    assert!(listing.contains("hello.txt"), "{listing}");
    assert!(listing.contains("from-args"), "{listing}");
    assert!(
        !listing.contains("secret.txt"),
        "the .dockerignore was not honoured: {listing}"
    );
    assert!(
        !listing.contains("cache"),
        "the .dockerignore was not honoured: {listing}"
    );

    let id = image_id(&project, &image);
    assert_eq!(image_id(&project, &format!("{image}:extra")), id);
    assert_eq!(label(&project, &container, "com.docker.compose.image"), id);
    assert_eq!(
        label(&project, &image, "com.docker.compose.project"),
        project.name()
    );
    assert_eq!(label(&project, &image, "com.example.team"), "web");
    assert_converged(&project);

    // Compose finds the image and the image label it expects: it neither
    // builds nor replaces anything.
    assert_compose_up_keeps_containers(&project, &["--no-build"]);
    assert_eq!(image_id(&project, &image), id, "compose rebuilt the image");
}

#[test]
fn compose_built_image_plans_no_changes() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    let image = format!("{}-app", project.name());
    let _cleanup = ImageCleanup {
        project: &project,
        references: vec![image.clone()],
    };
    project.write(
        "app/Dockerfile",
        &format!("FROM {BUSYBOX_IMAGE}\nCOPY hello.txt /hello.txt\nCMD [\"sleep\", \"3600\"]\n"),
    );
    project.write("app/hello.txt", "hello\n");
    project.write("compose.yaml", "services:\n  app:\n    build: ./app\n");

    let up = project.compose(&["up", "-d"]);
    assert_success(&up, "compose up -d");
    assert_converged(&project);
}

/// A service whose tag now names another image is replaced, with its own
/// reason, and the replacement records the new image id.
#[test]
fn retagged_image_replaces_container() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    let (image, _cleanup) = tag_test_image(&project, "retag");
    project.write(
        "compose.yaml",
        &format!("services:\n  app:\n    image: {image}\n    command: [\"sleep\", \"3600\"]\n"),
    );
    converge(&project);
    let container = container_name(&project, "app", 1);
    let first = e2e_util::container_id(&project, &container);

    assert_success(&project.docker(&["tag", HC_IMAGE, &image]), "docker tag");
    let planned = plan(&project, &[]);
    assert_eq!(planned.code, CHANGES, "{}", planned.pretty());
    assert_eq!(planned.action(&container), "replace");
    assert_eq!(
        planned.change(&container)["reasons"],
        serde_json::json!(["image_changed"])
    );
    let shown = project.berth(&[std::ffi::OsStr::new("show"), planned.path.as_os_str()]);
    assert_success(&shown, "berth show");
    let text = stdout_text(&shown);
    assert!(
        text.contains(&format!("why: the image behind {image} changed")),
        "{text}"
    );

    apply(&project, &planned);
    assert_ne!(e2e_util::container_id(&project, &container), first);
    assert_eq!(
        label(&project, &container, "com.docker.compose.image"),
        image_id(&project, HC_IMAGE)
    );
    assert_converged(&project);

    assert_compose_up_keeps_containers(&project, &[]);
}

/// An image on a registry port where no server listens: the plan lists the
/// pull, and the apply fails on it, naming the image, before creating
/// anything.
#[test]
fn unreachable_registry_fails_pull() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    let port = registry_util::closed_port();
    let image = format!("127.0.0.1:{port}/nothing:1");
    project.write(
        "compose.yaml",
        &format!("services:\n  app:\n    image: {image}\n    command: [\"sleep\", \"3600\"]\n"),
    );

    let planned = plan(&project, &[]);
    assert_eq!(planned.code, CHANGES, "{}", planned.pretty());
    assert_eq!(kinds(&planned)[..2], ["create_network", "pull_image"]);
    let stderr = apply_fails(&project, &planned);
    assert!(
        stderr.contains(&format!("failed to pull image `{image}`")),
        "{stderr}"
    );
    assert!(stderr.contains("connection refused"), "{stderr}");
    assert!(project.container_names().is_empty());
}

/// A failing Dockerfile step fails the apply before any container is
/// created, and the error quotes the step's last output.
#[test]
fn failed_build_step_fails_apply() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write(
        "app/Dockerfile",
        &format!("FROM {BUSYBOX_IMAGE}\nRUN echo output-$((40 + 2)) && exit 3\n"),
    );
    project.write("compose.yaml", "services:\n  app:\n    build: ./app\n");

    let planned = plan(&project, &[]);
    let stderr = apply_fails(&project, &planned);
    let image = format!("{}-app", project.name());
    assert!(
        stderr.contains(&format!("build image `{image}`")),
        "{stderr}"
    );
    assert!(stderr.contains("exit code: 3"), "{stderr}");
    // The shell computes the output, so only the quoted output contains it.
    assert!(stderr.contains("output-42"), "{stderr}");
    assert!(project.container_names().is_empty());
}

/// `pull_policy: never` with a missing image fails the plan, before any
/// step, naming the service and the image.
#[test]
fn never_policy_missing_image_fails_plan() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    let image = format!("local/{}:absent", project.name());
    project.write(
        "compose.yaml",
        &format!("services:\n  app:\n    image: {image}\n    pull_policy: never\n"),
    );
    let out = project.berth(&["plan"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        support::describe("berth plan", &out)
    );
    let stderr = stderr_text(&out);
    assert!(
        stderr.contains(&format!("image `{image}` of service `app`")),
        "{stderr}"
    );
    assert!(stdout_text(&out).is_empty());
}

/// A real pull from a registry the test serves on loopback: the image is
/// pulled before the container is created, the container records the
/// pulled id, and Compose agrees that nothing is left to do.
#[test]
fn pull_from_loopback_registry() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    let registry = registry_util::Registry::serve_image(&project, BUSYBOX_IMAGE, project.name());
    let image = format!("127.0.0.1:{}/{}/app:1", registry.port(), project.name());
    let _cleanup = ImageCleanup {
        project: &project,
        references: vec![image.clone()],
    };
    project.write(
        "compose.yaml",
        &format!("services:\n  app:\n    image: {image}\n    command: [\"sleep\", \"3600\"]\n"),
    );

    let planned = converge(&project);
    assert!(kinds(&planned).contains(&"pull_image".to_owned()));
    assert!(
        registry.manifest_requests() > 0,
        "the engine never asked the registry"
    );
    let id = image_id(&project, &image);
    assert_eq!(id, registry.image_id());
    let container = container_name(&project, "app", 1);
    assert_eq!(label(&project, &container, "com.docker.compose.image"), id);
    assert_converged(&project);

    assert_compose_up_keeps_containers(&project, &[]);
}

/// `image:` and `build:` with the image missing from an unreachable
/// registry: the failed pull is ignored and the build makes the image,
/// as `docker compose up` does.
#[test]
fn failed_pull_falls_back_to_build() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    let image = format!(
        "127.0.0.1:{}/{}/app:1",
        registry_util::closed_port(),
        project.name()
    );
    let _cleanup = ImageCleanup {
        project: &project,
        references: vec![image.clone()],
    };
    project.write(
        "app/Dockerfile",
        &format!("FROM {BUSYBOX_IMAGE}\nCMD [\"sleep\", \"3600\"]\n"),
    );
    project.write(
        "compose.yaml",
        &format!("services:\n  app:\n    image: {image}\n    build: ./app\n"),
    );

    let planned = plan(&project, &[]);
    assert_eq!(planned.code, CHANGES);
    let steps = kinds(&planned);
    assert!(steps.contains(&"pull_image".to_owned()), "{steps:?}");
    assert!(steps.contains(&"build_image".to_owned()), "{steps:?}");
    let stderr = stderr_text(&apply(&project, &planned));
    assert!(
        stderr.contains(&format!(
            "Image {image}  Not pulled: the plan builds it instead"
        )),
        "{stderr}"
    );
    assert!(
        !stderr.contains(&format!("Image {image}  Pulled")),
        "{stderr}"
    );
    let id = image_id(&project, &image);
    let container = container_name(&project, "app", 1);
    assert_eq!(label(&project, &container, "com.docker.compose.image"), id);
    assert_converged(&project);
    assert_compose_up_keeps_containers(&project, &[]);
}

/// `pull_policy: daily` on an image tagged a moment ago: the engine's
/// clock and the tag time are observed, and no pull is due.
#[test]
fn daily_policy_skips_fresh_tag() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    let (image, _cleanup) = tag_test_image(&project, "fresh");
    project.write(
        "compose.yaml",
        &format!(
            "services:\n  app:\n    image: {image}\n    pull_policy: daily\n    command: [\"sleep\", \"3600\"]\n"
        ),
    );

    let planned = converge(&project);
    let steps = kinds(&planned);
    assert!(!steps.contains(&"pull_image".to_owned()), "{steps:?}");
    assert_eq!(planned.json["observed"]["clock"], serde_json::json!(true));
    assert_converged(&project);
}

/// `--build` on a changed context builds a new image under the same tag.
/// The apply keeps the running container, because the plan judged it
/// against the old image; the next plan replaces it for the new one.
#[test]
fn rebuild_replaces_in_next_plan() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    let image = format!("{}-app", project.name());
    let _cleanup = ImageCleanup {
        project: &project,
        references: vec![image.clone()],
    };
    let dockerfile = |revision: &str| {
        format!("FROM {BUSYBOX_IMAGE}\nLABEL revision={revision}\nCMD [\"sleep\", \"3600\"]\n")
    };
    project.write("app/Dockerfile", &dockerfile("1"));
    project.write("compose.yaml", "services:\n  app:\n    build: ./app\n");
    converge(&project);
    let container = container_name(&project, "app", 1);
    let first = e2e_util::container_id(&project, &container);
    let first_image = image_id(&project, &image);

    project.write("app/Dockerfile", &dockerfile("2"));
    let planned = plan(&project, &["--build"]);
    assert_eq!(kinds(&planned), ["build_image"], "{}", planned.pretty());
    apply(&project, &planned);
    let second_image = image_id(&project, &image);
    assert_ne!(second_image, first_image, "the build made no new image");
    assert_eq!(e2e_util::container_id(&project, &container), first);

    let planned = plan(&project, &[]);
    assert_eq!(
        planned.action(&container),
        "replace",
        "{}",
        planned.pretty()
    );
    assert_eq!(
        planned.change(&container)["reasons"],
        serde_json::json!(["image_changed"])
    );
    apply(&project, &planned);
    assert_eq!(
        label(&project, &container, "com.docker.compose.image"),
        second_image
    );
    assert_converged(&project);
    // The old image lost its tag, and no container uses it since the
    // replacement, so the test removes it.
    let _ = project.docker(&["rmi", &first_image]);
}
