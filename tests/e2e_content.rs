//! End-to-end tests of secrets and configs whose content is copied into
//! the container (`content:` and `environment:`), and of image removal
//! with `berth plan --destroy --rmi`, against the test engine and the real
//! Docker Compose.

#[path = "support/mod.rs"]
mod support;

#[path = "e2e_util/mod.rs"]
mod e2e_util;

use e2e_util::{
    CHANGES, NO_CHANGES, STALE_PLAN, apply, assert_converged, container_id, container_name,
    converge, exec_sh, plan, try_apply,
};
use support::{BUSYBOX_IMAGE, Engine, TestProject, assert_success, describe, stderr_text};

const CONFIG_HASH: &str = "com.docker.compose.config-hash";

/// Returns a compose file with a proxy that has an inline config
/// interpolating ROUTE and a secret read from TOKEN with the long syntax.
/// Docker Compose 2.40.3 does not copy a new ROUTE into a running container.
fn proxy() -> String {
    format!(
        r#"services:
  proxy:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    init: true
    configs:
      - source: routes
        target: /etc/routes.conf
    secrets:
      - source: token
        target: custom
        uid: "1000"
        mode: 0400
configs:
  routes:
    content: |
      route ${{ROUTE:-alpha}}
secrets:
  token:
    environment: TOKEN
"#
    )
}

fn label(project: &TestProject, container: &str, key: &str) -> String {
    project.inspect_container(container)["Config"]["Labels"][key]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn content_change_replaces_container() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write("compose.yaml", &proxy());
    project.write(".env", "TOKEN=first\n");
    converge(&project);
    let proxy = container_name(&project, "proxy", 1);
    assert_eq!(
        exec_sh(&project, &proxy, "cat /etc/routes.conf"),
        "route alpha\n"
    );
    let old_id = container_id(&project, &proxy);
    let old_hash = label(&project, &proxy, CONFIG_HASH);

    project.write(".env", "TOKEN=first\nROUTE=beta\n");
    let planned = plan(&project, &[]);
    assert_eq!(planned.code, CHANGES, "{}", planned.pretty());
    assert_eq!(planned.action(&proxy), "replace");
    let change = planned.change(&proxy);
    assert_eq!(change["reasons"], serde_json::json!(["content_changed"]));
    assert_eq!(change["diffs"][0]["path"], "configs.routes");
    let shown = project.berth(&["show", "plan.json"]);
    assert_success(&shown, "berth show");
    assert!(
        String::from_utf8_lossy(&shown.stdout).contains("configs.routes"),
        "{}",
        describe("berth show", &shown)
    );

    apply(&project, &planned);
    assert_ne!(
        container_id(&project, &proxy),
        old_id,
        "proxy was not replaced"
    );
    assert_eq!(
        exec_sh(&project, &proxy, "cat /etc/routes.conf"),
        "route beta\n"
    );
    assert_eq!(
        label(&project, &proxy, CONFIG_HASH),
        old_hash,
        "the config hash must stay Docker Compose's"
    );
    assert_converged(&project);
}

#[test]
fn environment_secret_reaches_container() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write("compose.yaml", &proxy());
    project.write(".env", "TOKEN=s3cret-value\n");
    let planned = plan(&project, &[]);
    assert_eq!(planned.code, CHANGES, "{}", planned.pretty());
    let plan_text = std::fs::read_to_string(&planned.path).expect("read plan.json");
    assert!(
        !plan_text.contains("s3cret-value"),
        "the plan carries the secret"
    );
    let shown = project.berth(&["show", "plan.json", "--steps"]);
    assert!(
        !String::from_utf8_lossy(&shown.stdout).contains("s3cret-value"),
        "berth show prints the secret"
    );

    apply(&project, &planned);
    let proxy = container_name(&project, "proxy", 1);
    assert_eq!(
        exec_sh(&project, &proxy, "cat /run/secrets/custom"),
        "s3cret-value"
    );
    assert_eq!(
        exec_sh(&project, &proxy, "stat -c '%u %g %a' /run/secrets/custom"),
        "1000 0 400\n"
    );
    assert_eq!(
        exec_sh(&project, &proxy, "stat -c '%u %g %a' /etc/routes.conf"),
        "0 0 444\n"
    );
    assert_converged(&project);
}

#[test]
fn changed_secret_makes_plan_stale() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write("compose.yaml", &proxy());
    project.write(".env", "TOKEN=planned\n");
    let planned = plan(&project, &[]);
    assert_eq!(planned.code, CHANGES, "{}", planned.pretty());

    project.write(".env", "TOKEN=changed\n");
    let output = try_apply(&project, &planned);
    assert_eq!(
        output.status.code(),
        Some(STALE_PLAN),
        "{}",
        describe("berth apply", &output)
    );
    assert!(
        stderr_text(&output).contains("secrets.token"),
        "{}",
        describe("berth apply", &output)
    );
    assert!(
        project.container_names().is_empty(),
        "a stale apply created containers"
    );
}

/// A container Docker Compose created has no content-digests label, so
/// berth reads its copied files back: current content plans no change and
/// no warning, and changed content replaces the container.
#[test]
fn compose_content_config_adopted() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    project.write("compose.yaml", &proxy());
    project.write(".env", "TOKEN=t\n");
    let up = project.compose(&["up", "-d"]);
    assert_success(&up, "compose up -d");
    let proxy = container_name(&project, "proxy", 1);
    let id = container_id(&project, &proxy);

    let planned = plan(&project, &[]);
    assert_eq!(planned.code, NO_CHANGES, "{}", planned.pretty());
    assert_eq!(planned.action(&proxy), "no_op");
    assert_eq!(
        planned.json["warnings"],
        serde_json::json!([]),
        "{}",
        planned.pretty()
    );

    // The config's content changes under the container Compose made.
    project.write(".env", "TOKEN=t\nROUTE=beta\n");
    let changed = plan(&project, &[]);
    assert_eq!(changed.code, CHANGES, "{}", changed.pretty());
    assert_eq!(changed.action(&proxy), "replace");
    assert_eq!(
        changed.change(&proxy)["reasons"],
        serde_json::json!(["content_changed"]),
        "{}",
        changed.pretty()
    );
    apply(&project, &changed);
    assert_ne!(
        container_id(&project, &proxy),
        id,
        "proxy was not recreated"
    );
    assert_eq!(
        exec_sh(&project, &proxy, "cat /etc/routes.conf"),
        "route beta\n"
    );
    let again = plan(&project, &[]);
    assert_eq!(again.code, NO_CHANGES, "{}", again.pretty());
    assert_eq!(again.json["warnings"], serde_json::json!([]));

    // Docker Compose ignores berth's label: it keeps berth's container.
    let recreated = container_id(&project, &proxy);
    let up = project.compose(&["up", "-d"]);
    assert_success(&up, "compose up -d after berth");
    assert_eq!(
        container_id(&project, &proxy),
        recreated,
        "compose replaced it"
    );
}

/// Removes an image tag when dropped, so that a failed test leaves no tag
/// behind on the test engine.
struct TagCleanup {
    engine: Engine,
    tag: String,
}

impl Drop for TagCleanup {
    fn drop(&mut self) {
        let _ = self.engine.docker(&["rmi", &self.tag]);
    }
}

fn image_exists(project: &TestProject, image: &str) -> bool {
    project
        .docker(&["image", "inspect", image])
        .status
        .success()
}

#[test]
fn rmi_local_removes_default_image() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    // Compose names the image of a service without `image:` after the
    // project and the service.
    let default_name = format!("{}-svc", project.name());
    let tagged = project.docker(&["tag", BUSYBOX_IMAGE, &default_name]);
    assert_success(&tagged, "docker tag");
    let _cleanup = TagCleanup {
        engine: engine.clone(),
        tag: default_name.clone(),
    };
    project.write(
        "compose.yaml",
        &format!(
            r#"services:
  svc:
    build: .
    command: ["sleep", "3600"]
    init: true
  named:
    image: {BUSYBOX_IMAGE}
    command: ["sleep", "3600"]
    init: true
"#
        ),
    );
    converge(&project);

    let planned = plan(&project, &["--destroy", "--rmi", "local"]);
    assert_eq!(planned.code, CHANGES, "{}", planned.pretty());
    apply(&project, &planned);
    assert!(project.container_names().is_empty(), "containers are left");
    assert!(
        !image_exists(&project, &default_name),
        "{default_name} was not removed"
    );
    assert!(
        image_exists(&project, BUSYBOX_IMAGE),
        "{BUSYBOX_IMAGE} was removed"
    );
}

#[test]
fn rmi_all_keeps_image_in_use() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    // An image with a single tag, so that the engine refuses to remove it
    // while a container uses it, instead of only untagging it.
    let image = format!("{}-only:test", project.name());
    let archive = project.write("empty.tar", "");
    std::fs::write(&archive, empty_tar()).expect("write empty.tar");
    let archive = archive.display().to_string();
    let imported = project.docker(&["import", &archive, &image]);
    assert_success(&imported, "docker import");
    let _cleanup = TagCleanup {
        engine: engine.clone(),
        tag: image.clone(),
    };
    let outsider = format!("{}-outsider", project.name());
    let created = project.docker(&["create", "--name", &outsider, &image, "x"]);
    assert_success(&created, "docker create");
    project.write(
        "compose.yaml",
        &format!("services:\n  app:\n    image: {image}\n    command: [\"x\"]\n"),
    );

    let planned = plan(&project, &["--destroy", "--rmi", "all"]);
    assert_eq!(planned.code, CHANGES, "{}", planned.pretty());
    let output = apply(&project, &planned);
    let stderr = stderr_text(&output);
    assert!(
        stderr.contains(&format!("Image {image}  Kept: still in use")),
        "{}",
        describe("berth apply", &output)
    );
    assert!(
        !stderr.contains(&format!("Image {image}  Removed")),
        "{}",
        describe("berth apply", &output)
    );
    assert!(image_exists(&project, &image), "{image} was forced away");
    let removed = project.docker(&["rm", &outsider]);
    assert_success(&removed, "docker rm");
}

/// Imports an image of one empty file, tagged `tag`, with the project and
/// service labels a Docker Compose build writes, and returns the cleanup
/// that removes the tag.
fn import_labelled_image(project: &TestProject, tag: &str, service: &str) -> TagCleanup {
    let archive = project.write(format!("{service}.tar"), "");
    std::fs::write(&archive, empty_tar()).expect("write the image archive");
    let archive = archive.display().to_string();
    let project_label = format!("LABEL com.docker.compose.project={}", project.name());
    let service_label = format!("LABEL com.docker.compose.service={service}");
    let imported = project.docker(&[
        "import",
        "--change",
        &project_label,
        "--change",
        &service_label,
        &archive,
        tag,
    ]);
    assert_success(&imported, "docker import");
    TagCleanup {
        engine: project.engine().clone(),
        tag: tag.to_owned(),
    }
}

/// `--rmi local` removes an image that carries the project label and the
/// label of a service in the model, although `image:` names it, and keeps
/// the labelled image of a service that is no longer in the model.
#[test]
fn rmi_local_removes_labelled_image() {
    let engine = require_engine!();
    let project = TestProject::new(&engine);
    let built = format!("{}-custom:v1", project.name());
    let retired = format!("{}-retired:v1", project.name());
    let _built_cleanup = import_labelled_image(&project, &built, "app");
    let _retired_cleanup = import_labelled_image(&project, &retired, "retired");
    project.write(
        "compose.yaml",
        &format!(
            "services:\n  app:\n    image: {built}\n    command: [\"x\"]\n  \
             named:\n    image: {BUSYBOX_IMAGE}\n"
        ),
    );

    let planned = plan(&project, &["--destroy", "--rmi", "local"]);
    assert_eq!(planned.code, CHANGES, "{}", planned.pretty());
    apply(&project, &planned);
    assert!(!image_exists(&project, &built), "{built} was not removed");
    assert!(image_exists(&project, &retired), "{retired} was removed");
    assert!(
        image_exists(&project, BUSYBOX_IMAGE),
        "{BUSYBOX_IMAGE} was removed"
    );
}

/// Returns a tar archive holding one empty file, enough for `docker
/// import` to make an image.
fn empty_tar() -> Vec<u8> {
    let mut header = [0u8; 512];
    header[..5].copy_from_slice(b"empty");
    header[100..108].copy_from_slice(b"0000644\0");
    header[108..116].copy_from_slice(b"0000000\0");
    header[116..124].copy_from_slice(b"0000000\0");
    header[124..136].copy_from_slice(b"00000000000\0");
    header[136..148].copy_from_slice(b"00000000000\0");
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    header[148..156].fill(b' ');
    let sum: u32 = header.iter().map(|b| u32::from(*b)).sum();
    header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let mut archive = header.to_vec();
    archive.resize(512 * 3, 0);
    archive
}
