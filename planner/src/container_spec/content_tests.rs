//! Secrets and configs given by `content:` or `environment:`: the files
//! copied before a start, the digest label, and the cases rejected.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{ContainerSpec, ContainerSpecError, container_create, copied_files};
use crate::content::{CONTENT_DIGESTS_LABEL, ContentSource, digest};
use crate::engine_body::ContainerBody;
use crate::load::{LoadRequest, load};
use crate::model::Project;

fn project_with(compose: &str, dotenv: &str, process: &[(&str, &str)]) -> Project {
    let source: BTreeMap<PathBuf, String> = [
        (PathBuf::from("/p/compose.yaml"), compose.to_owned()),
        (PathBuf::from("/p/.env"), dotenv.to_owned()),
        (PathBuf::from("/p/key.txt"), "file secret\n".to_owned()),
    ]
    .into();
    let request = LoadRequest {
        working_dir: PathBuf::from("/p"),
        project_name: Some("p".to_owned()),
        environment: process
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..LoadRequest::default()
    };
    match load(&request, &source) {
        Ok(loaded) => loaded.project,
        Err(error) => panic!("load failed: {error}"),
    }
}

fn body(project: &Project) -> ContainerBody {
    let links = BTreeMap::new();
    let spec = ContainerSpec {
        project,
        service_name: "app",
        service: &project.services["app"],
        number: 1,
        name: "p-app-1",
        config_hash: "0",
        image_id: None,
        api_version: "1.41",
        inherited_mounts: &[],
        replace: None,
        link_targets: &links,
    };
    match container_create(&spec) {
        Ok(create) => create.body,
        Err(error) => panic!("create body failed: {error}"),
    }
}

fn labels(project: &Project) -> BTreeMap<String, String> {
    body(project).labels
}

const EVERY_SOURCE: &str = "services:
  app:
    image: busybox
    secrets:
      - api_key
      - source: file_key
      - source: api_key
        target: custom
        uid: '1000'
        gid: '1001'
        mode: 0400
    configs:
      - routes
      - source: routes
        target: etc/routes.conf
        mode: 0440
secrets:
  api_key: {environment: API_KEY}
  file_key: {file: ./key.txt}
configs:
  routes:
    content: route ${ROUTE:-alpha}
";

#[test]
fn copied_files_defaults_and_long_syntax() {
    let project = project_with(EVERY_SOURCE, "API_KEY=from-dotenv\n", &[]);
    let files = copied_files(&project, "app", &project.services["app"]).expect("files");
    let summary: Vec<(&str, &str, u32, u32, u32)> = files
        .iter()
        .map(|f| (f.key.as_str(), f.target.as_str(), f.uid, f.gid, f.mode))
        .collect();
    assert_eq!(
        summary,
        [
            ("secrets.api_key", "/run/secrets/api_key", 0, 0, 0o444),
            ("secrets.api_key", "/run/secrets/custom", 1000, 1001, 0o400),
            ("configs.routes", "/routes", 0, 0, 0o444),
            ("configs.routes", "/etc/routes.conf", 0, 0, 0o440),
        ]
    );
    assert_eq!(files[0].digest, digest(b"from-dotenv"));
    assert_eq!(
        files[0].source,
        ContentSource::Environment {
            variable: "API_KEY".into(),
            env_files: vec!["/p/.env".into()],
        }
    );
    assert_eq!(
        files[2].source,
        ContentSource::Inline {
            content: "route alpha".into()
        }
    );
}

#[test]
fn process_value_wins_env_file_recorded() {
    let project = project_with(
        EVERY_SOURCE,
        "API_KEY=from-dotenv\n",
        &[("API_KEY", "shell")],
    );
    let files = copied_files(&project, "app", &project.services["app"]).expect("files");
    assert_eq!(files[0].digest, digest(b"shell"));
    assert_eq!(
        files[0].source,
        ContentSource::Environment {
            variable: "API_KEY".into(),
            env_files: vec!["/p/.env".into()],
        }
    );
}

#[test]
fn digest_label_covers_every_source() {
    let project = project_with(EVERY_SOURCE, "API_KEY=k\n", &[]);
    let label = &labels(&project)[CONTENT_DIGESTS_LABEL];
    let expected = format!(
        "configs.routes={},secrets.api_key={},secrets.file_key={}",
        digest(b"route alpha"),
        digest(b"k"),
        digest(b"file secret\n")
    );
    assert_eq!(label, &expected);
}

#[test]
fn digest_label_absent_without_secrets() {
    let project = project_with("services:\n  app:\n    image: busybox\n", "", &[]);
    assert!(!labels(&project).contains_key(CONTENT_DIGESTS_LABEL));
}

#[test]
fn copied_content_is_not_mounted() {
    let project = project_with(EVERY_SOURCE, "API_KEY=k\n", &[]);
    let body = body(&project);
    let targets: Vec<&str> = body
        .host_config
        .mounts
        .iter()
        .map(|m| m.target.as_str())
        .collect();
    assert_eq!(targets, ["/run/secrets/file_key"]);
}

fn rejection(compose: &str, dotenv: &str) -> (String, String) {
    let project = project_with(compose, dotenv, &[]);
    match copied_files(&project, "app", &project.services["app"]) {
        Err(ContainerSpecError::Unsupported { field, value, .. }) => (field, value),
        Err(ContainerSpecError::Invalid { field, reason, .. }) => (field, reason),
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn invalid_copies_rejected() {
    let cases = [
        (
            "secrets: [s]\nsecrets:\n  s: {content: x}\n",
            "secrets[0]",
            "plain text",
        ),
        (
            "secrets: [s]\nsecrets:\n  s: {environment: NOPE}\n",
            "secrets[0]",
            "NOPE is not set",
        ),
        (
            "read_only: true\n    configs: [c]\nconfigs:\n  c: {content: x}\n",
            "configs[0]",
            "read_only",
        ),
        (
            "configs: [{source: c, uid: root}]\nconfigs:\n  c: {content: x}\n",
            "configs[0].uid",
            "numeric",
        ),
    ];
    for (tail, expected_field, fragment) in cases {
        let compose = format!("services:\n  app:\n    image: busybox\n    {tail}");
        let (field, message) = rejection(&compose, "");
        assert_eq!(field, expected_field, "{compose}");
        assert!(message.contains(fragment), "{compose}: {message}");
    }
}
