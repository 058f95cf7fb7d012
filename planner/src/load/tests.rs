//! Loader scenarios on in-memory files: file discovery, environment,
//! merging, profiles, project names and the project-wide errors.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{LoadRequest, Loaded, load};

fn files(entries: &[(&str, &str)]) -> BTreeMap<PathBuf, String> {
    entries
        .iter()
        .map(|(path, text)| (PathBuf::from(path), (*text).to_owned()))
        .collect()
}

fn request(dir: &str) -> LoadRequest {
    LoadRequest {
        working_dir: PathBuf::from(dir),
        ..LoadRequest::default()
    }
}

fn ok(request: &LoadRequest, source: &BTreeMap<PathBuf, String>) -> Loaded {
    match load(request, source) {
        Ok(loaded) => loaded,
        Err(error) => panic!("load failed: {error}"),
    }
}

fn err(request: &LoadRequest, source: &BTreeMap<PathBuf, String>) -> String {
    match load(request, source) {
        Ok(loaded) => panic!("loaded: {:?}", loaded.project.services.keys()),
        Err(error) => error.to_string(),
    }
}

const APP: &str = "services:\n  app:\n    image: busybox\n";

#[test]
fn default_files_found_in_parent() {
    let source = files(&[
        ("/work/My_App/compose.yaml", APP),
        (
            "/work/My_App/compose.override.yaml",
            "services:\n  app:\n    command: [sleep, '1']\n",
        ),
    ]);
    let loaded = ok(&request("/work/My_App/sub/dir"), &source);
    assert_eq!(loaded.project.name, "my_app");
    assert_eq!(loaded.project.working_dir, "/work/My_App");
    assert_eq!(
        loaded.project.config_files,
        [
            "/work/My_App/compose.yaml",
            "/work/My_App/compose.override.yaml"
        ]
    );
    let app = &loaded.project.services["app"];
    assert_eq!(app.command, Some(vec!["sleep".to_owned(), "1".to_owned()]));
    let missing = err(&request("/elsewhere"), &source);
    assert!(
        missing.starts_with("no configuration file provided"),
        "{missing}"
    );
}

#[test]
fn compose_file_variable_lists_files() {
    let source = files(&[
        ("/p/a.yaml", APP),
        ("/p/b.yaml", "services:\n  app:\n    user: nobody\n"),
        ("/p/.env", "COMPOSE_FILE=a.yaml:b.yaml\n"),
    ]);
    let loaded = ok(&request("/p"), &source);
    assert_eq!(loaded.project.config_files, ["/p/a.yaml", "/p/b.yaml"]);
    assert_eq!(
        loaded.project.services["app"].user.as_deref(),
        Some("nobody")
    );
}

#[test]
fn process_environment_beats_dotenv() {
    let source = files(&[
        (
            "/p/compose.yaml",
            "services:\n  app:\n    image: ${IMAGE}\n    environment:\n      A: ${A}\n      B: ${B}\n      PASS:\n",
        ),
        ("/p/.env", "IMAGE=from-dotenv\nA=dotenv\nB=dotenv\n"),
        ("/p/other.env", "IMAGE=from-flag\nA=flag\nB=flag\n"),
    ]);
    let mut req = request("/p");
    req.environment.insert("A".into(), "shell".into());
    req.environment.insert("PASS".into(), "through".into());
    let loaded = ok(&req, &source);
    let app = &loaded.project.services["app"];
    assert_eq!(app.image.as_deref(), Some("from-dotenv"));
    assert_eq!(app.environment["A"].as_deref(), Some("shell"));
    assert_eq!(app.environment["B"].as_deref(), Some("dotenv"));
    assert_eq!(app.environment["PASS"].as_deref(), Some("through"));
    req.env_files = vec![PathBuf::from("other.env")];
    let loaded = ok(&req, &source);
    assert_eq!(
        loaded.project.services["app"].image.as_deref(),
        Some("from-flag")
    );
    assert_eq!(loaded.project.environment_files, ["other.env"]);
}

#[test]
fn interpolation_defaults_and_warnings() {
    let source = files(&[
        (
            "/p/compose.yaml",
            "services:\n  app:\n    image: busybox\n    command: [sh, -c, echo $$HOME]\n    environment:\n      \
             E1: ${UNSET_VAR:-fallback}\n      E2: ${EMPTY_VAR:-fallback}\n      E3: ${EMPTY_VAR-fallback}\n      \
             E4: ${UNSET_VAR:-}\n      E5: ${UNSET_VAR}\n      E6: ${FROM_DOTENV:-none}\n      \
             E7: ${NESTED:-${FROM_DOTENV:-x}-suffix}\n",
        ),
        ("/p/.env", "FROM_DOTENV=dotenv-value\nEMPTY_VAR=\n"),
    ]);
    let loaded = ok(&request("/p"), &source);
    let env = &loaded.project.services["app"].environment;
    let value = |k: &str| env[k].clone().unwrap_or_default();
    assert_eq!(value("E1"), "fallback");
    assert_eq!(value("E2"), "fallback");
    assert_eq!(value("E3"), "");
    assert_eq!(value("E4"), "");
    assert_eq!(value("E5"), "");
    assert_eq!(value("E6"), "dotenv-value");
    assert_eq!(value("E7"), "dotenv-value-suffix");
    assert_eq!(
        loaded.warnings,
        ["The \"UNSET_VAR\" variable is not set. Defaulting to a blank string."]
    );
    let command = loaded.project.services["app"].command.clone();
    assert_eq!(
        command.and_then(|c| c.get(2).cloned()).as_deref(),
        Some("echo $HOME")
    );

    let required = files(&[(
        "/p/compose.yaml",
        "services:\n  app:\n    image: ${TAG:?TAG must be set}\n",
    )]);
    assert_eq!(
        err(&request("/p"), &required),
        "error while interpolating services.app.image in /p/compose.yaml: \
         required variable TAG is missing a value: TAG must be set"
    );
}

#[test]
fn override_replaces_volume_at_same_target() {
    let source = files(&[
        (
            "/p/compose.yaml",
            "services:\n  app:\n    image: busybox\n    volumes:\n      - appdata:/srv/data\n      - ./logs:/srv/logs\n\
             volumes:\n  appdata: {}\n",
        ),
        (
            "/p/compose.override.yaml",
            "services:\n  app:\n    volumes:\n      - ./dev-data:/srv/data\n",
        ),
    ]);
    let loaded = ok(&request("/p"), &source);
    let mounts: Vec<(String, String)> = loaded.project.services["app"]
        .volumes
        .iter()
        .map(|v| (v.source.clone().unwrap_or_default(), v.target.clone()))
        .collect();
    assert_eq!(
        mounts,
        [
            ("/p/dev-data".to_owned(), "/srv/data".to_owned()),
            ("/p/logs".to_owned(), "/srv/logs".to_owned())
        ]
    );
    assert!(loaded.project.volumes.is_empty(), "appdata is unused");

    let duplicate = files(&[(
        "/p/compose.yaml",
        "services:\n  app:\n    image: busybox\n    volumes:\n      - ./a:/srv/data\n      - ./b:/srv/data\n",
    )]);
    let message = err(&request("/p"), &duplicate);
    assert!(
        message.contains("services.app.volumes[0]") && message.contains("services.app.volumes[1]"),
        "{message}"
    );
}

#[test]
fn include_then_override() {
    let source = files(&[
        (
            "/p/db/database.yaml",
            "services:\n  db:\n    image: busybox\n    volumes: ['./data:/data']\n",
        ),
        (
            "/p/compose.yaml",
            "include:\n  - db/database.yaml\nservices:\n  app:\n    image: busybox\n    depends_on: [db]\n",
        ),
        (
            "/p/compose.override.yaml",
            "services:\n  db:\n    environment:\n      TUNED: '1'\n",
        ),
    ]);
    let loaded = ok(&request("/p"), &source);
    let db = &loaded.project.services["db"];
    assert_eq!(db.environment["TUNED"].as_deref(), Some("1"));
    assert_eq!(db.volumes[0].source.as_deref(), Some("/p/db/data"));

    let conflict = files(&[
        ("/p/database.yaml", "services:\n  db:\n    image: busybox\n"),
        (
            "/p/compose.yaml",
            "include:\n  - database.yaml\nservices:\n  db:\n    image: other\n",
        ),
    ]);
    let message = err(&request("/p"), &conflict);
    assert!(
        message.contains("services.db conflicts with imported resource"),
        "{message}"
    );

    let cycle = files(&[
        (
            "/p/compose.yaml",
            "include:\n  - a.yaml\nservices:\n  app:\n    image: busybox\n",
        ),
        ("/p/a.yaml", "include:\n  - compose.yaml\n"),
    ]);
    let message = err(&request("/p"), &cycle);
    assert!(message.contains("include cycle"), "{message}");
}

#[test]
fn profiles_and_dependencies() {
    let source = files(&[(
        "/p/compose.yaml",
        "services:\n  mock:\n    image: busybox\n    profiles: [dev]\n  web:\n    image: busybox\n    \
         depends_on: [mock]\n  tools:\n    image: busybox\n    profiles: [debug]\n",
    )]);
    let message = err(&request("/p"), &source);
    assert!(
        message.contains("\"web\"")
            && message.contains("\"mock\"")
            && message.contains("--profile dev"),
        "{message}"
    );

    let mut by_name = request("/p");
    by_name.services = vec!["mock".into()];
    let loaded = ok(&by_name, &source);
    assert_eq!(loaded.project.services.keys().collect::<Vec<_>>(), ["mock"]);
    assert_eq!(
        loaded.project.disabled_services.keys().collect::<Vec<_>>(),
        ["tools", "web"]
    );

    // Naming a service leaves aside the others, even one whose dependency
    // is disabled.
    by_name.services = vec!["tools".into()];
    let loaded = ok(&by_name, &source);
    assert_eq!(
        loaded.project.services.keys().collect::<Vec<_>>(),
        ["tools"]
    );

    by_name.services = vec!["web".into()];
    let message = err(&by_name, &source);
    assert!(message.contains("--profile dev"), "{message}");

    by_name.services = vec!["web".into(), "mock".into()];
    let loaded = ok(&by_name, &source);
    assert_eq!(
        loaded.project.services.keys().collect::<Vec<_>>(),
        ["mock", "web"]
    );

    let mut by_variable = request("/p");
    by_variable
        .environment
        .insert("COMPOSE_PROFILES".into(), "dev,debug".into());
    assert_eq!(ok(&by_variable, &source).project.services.len(), 3);

    let mut all = request("/p");
    all.profiles = vec!["*".into()];
    assert_eq!(ok(&all, &source).project.services.len(), 3);
}

#[test]
fn project_name_sources() {
    let named = files(&[(
        "/p/compose.yaml",
        "name: from-file\nservices:\n  app:\n    image: busybox\n",
    )]);
    assert_eq!(ok(&request("/p"), &named).project.name, "from-file");
    let mut req = request("/p");
    req.environment
        .insert("COMPOSE_PROJECT_NAME".into(), "from-env".into());
    assert_eq!(ok(&req, &named).project.name, "from-env");
    req.project_name = Some("from-flag".into());
    assert_eq!(ok(&req, &named).project.name, "from-flag");
    req.project_name = Some("Bad Name".into());
    let message = err(&req, &named);
    assert!(
        message.starts_with("invalid project name \"Bad Name\" given by the `-p` flag: "),
        "{message}"
    );
    assert!(!message.contains("compose.yaml"), "{message}");

    req.project_name = None;
    req.environment
        .insert("COMPOSE_PROJECT_NAME".into(), "Env Name".into());
    let message = err(&req, &named);
    assert!(
        message.starts_with(
            "invalid project name \"Env Name\" given by the COMPOSE_PROJECT_NAME variable: "
        ),
        "{message}"
    );

    let misnamed = files(&[(
        "/p/compose.yaml",
        "name: File Name\nservices:\n  app:\n    image: busybox\n",
    )]);
    let message = err(&request("/p"), &misnamed);
    assert!(
        message.starts_with("/p/compose.yaml: name: invalid value \"File Name\""),
        "{message}"
    );
}

#[test]
fn project_errors_name_service_and_value() {
    let cases = [
        (
            "services:\n  app:\n    image: busybox\n    container_name: fixed\n    scale: 2\n",
            &["\"app\"", "\"fixed\""][..],
        ),
        (
            "services:\n  app:\n    image: busybox\n    network_mode: host\n    networks: [front]\nnetworks:\n  front:\n",
            &["\"app\"", "network_mode"][..],
        ),
        (
            "services:\n  app:\n    image: busybox\n    env_file: missing.env\n",
            &["/p/missing.env", "services.app.env_file[0]"][..],
        ),
        (
            "services:\n  web:\n    image: busybox\n    volumes: [{type: npipe, source: a, target: /b}]\n",
            &["/p/compose.yaml: services.web.volumes[0].type: field not supported by berth yet"][..],
        ),
        (
            "services:\n  app:\n    image: busybox\n    imagee: typo\n",
            &[
                "validating /p/compose.yaml: services.app additional properties 'imagee' not allowed",
                "did you mean 'image'?",
            ][..],
        ),
        (
            "services:\n  app:\n    image: busybox\n    zzzz: typo\n",
            &["'zzzz' not allowed (expected a key Compose defines here"][..],
        ),
        (
            "services:\n  app:\n    image: busybox\n    user: 1000\n",
            &["services.app.user must be a string (got number 1000)"][..],
        ),
        (
            "services:\n  app:\n    image: busybox\n    scale: 2\n    deploy: {replicas: 3}\n",
            &["\"app\"", "scale 2", "deploy.replicas 3"][..],
        ),
        (
            "services:\n  app:\n    image: busybox\n    network_mode: service:ghost\n",
            &["\"ghost\""][..],
        ),
        (
            "services:\n  app:\n    image: busybox\n    ports: ['80:80:80:80:x']\n",
            &["services.app.ports[0]"][..],
        ),
    ];
    for (yaml, fragments) in cases {
        let message = err(&request("/p"), &files(&[("/p/compose.yaml", yaml)]));
        for fragment in fragments {
            assert!(message.contains(fragment), "{message:?} lacks {fragment:?}");
        }
    }
}

#[test]
fn env_file_values_merge_under_environment() {
    let source = files(&[
        (
            "/p/compose.yaml",
            "services:\n  app:\n    image: busybox\n    env_file: [a.env, {path: b.env, required: false}, c.env]\n    \
             environment:\n      WIN: inline\n      FROM_SHELL:\n",
        ),
        ("/p/a.env", "WIN=a\nLATER=a\nREF=${NAME}\n"),
        ("/p/c.env", "LATER=c\n"),
        ("/p/.env", "NAME=dotenv\n"),
    ]);
    let mut req = request("/p");
    req.environment.insert("FROM_SHELL".into(), "shell".into());
    let env = ok(&req, &source).project.services["app"]
        .environment
        .clone();
    let value = |k: &str| env.get(k).cloned().flatten();
    assert_eq!(value("WIN").as_deref(), Some("inline"));
    assert_eq!(value("LATER").as_deref(), Some("c"));
    assert_eq!(value("REF").as_deref(), Some("dotenv"));
    assert_eq!(value("FROM_SHELL").as_deref(), Some("shell"));
}

#[test]
fn odd_documents_fail_without_panicking() {
    let documents = [
        "services: [1, 2]\n",
        "services:\n  a: 3\n",
        "- a\n- b\n",
        "services:\n  a:\n    image: x\n    ports: [{}]\n",
        "services:\n  a:\n    image: x\n    volumes: [{type: bind}]\n",
        "services:\n  a:\n    image: x\n    healthcheck: {interval: 10x}\n",
        "services:\n  a:\n    image: x\n    command: \"unclosed 'quote\"\n",
        "services:\n  a:\n    image: x\n    environment: [[1]]\n",
        "services:\n  a:\n    image: x\n    depends_on: {b: {condition: never}}\n  b:\n    image: x\n",
        "services:\n  a:\n    image: x\n    <<: 3\n",
        "services:\n  a:\n    image: ${\n",
        "networks:\n  n:\n    ipam: {config: [3]}\nservices:\n  a:\n    image: x\n    networks: [n]\n",
        "services:\n  a:\n    image: x\n    tmpfs: {a: b}\n",
        "services:\n  a:\n    image: x\n    extra_hosts: [nocolon]\n",
        "services:\n  a:\n    image: x\n    ports: ['99999:1']\n",
    ];
    for document in documents {
        let source = files(&[("/p/compose.yaml", document)]);
        let outcome = load(&request("/p"), &source);
        assert!(outcome.is_err(), "accepted {document:?}");
    }
}

#[test]
fn version_attribute_warns() {
    let source = files(&[(
        "/p/compose.yaml",
        "version: '3.8'\nservices:\n  app:\n    image: busybox\n",
    )]);
    let loaded = ok(&request("/p"), &source);
    assert_eq!(
        loaded.warnings,
        [
            "/p/compose.yaml: the attribute `version` is obsolete, it will be ignored, please remove it \
          to avoid potential confusion"
        ]
    );
}

#[test]
fn extends_same_and_other_file() {
    let source = files(&[
        (
            "/p/common/base.yaml",
            "services:\n  base:\n    image: busybox\n    ports: ['80:80']\n    volumes: ['./static:/static']\n    \
             environment: {A: base, B: base}\n",
        ),
        (
            "/p/compose.yaml",
            "services:\n  web:\n    extends: {file: common/base.yaml, service: base}\n    ports: ['81:81']\n    \
             environment: {B: web}\n  worker:\n    extends: web\n    command: [work]\n",
        ),
    ]);
    let loaded = ok(&request("/p"), &source);
    let web = &loaded.project.services["web"];
    let published: Vec<Option<String>> = web.ports.iter().map(|p| p.published.clone()).collect();
    assert_eq!(published, [Some("80".to_owned()), Some("81".to_owned())]);
    assert_eq!(web.volumes[0].source.as_deref(), Some("/p/common/static"));
    assert_eq!(web.environment["A"].as_deref(), Some("base"));
    assert_eq!(web.environment["B"].as_deref(), Some("web"));
    let worker = &loaded.project.services["worker"];
    assert_eq!(worker.image.as_deref(), Some("busybox"));
    assert_eq!(worker.command, Some(vec!["work".to_owned()]));
    assert_eq!(worker.ports.len(), 2);

    let cycle = files(&[(
        "/p/compose.yaml",
        "services:\n  a:\n    image: x\n    extends: b\n  b:\n    extends: a\n",
    )]);
    let message = err(&request("/p"), &cycle);
    assert!(message.contains("extends cycle"), "{message}");
    let missing = files(&[("/p/compose.yaml", "services:\n  a:\n    extends: ghost\n")]);
    let message = err(&request("/p"), &missing);
    assert!(
        message.contains("services.a.extends.service") && message.contains("\"ghost\""),
        "{message}"
    );
}

#[test]
fn deprecated_external_name_warns() {
    let source = files(&[(
        "/p/compose.yaml",
        "services:\n  app:\n    image: busybox\n    volumes: ['data:/data']\nvolumes:\n  data:\n    external:\n      name: shared\n",
    )]);
    let loaded = ok(&request("/p"), &source);
    let volume = &loaded.project.volumes["data"];
    assert!(volume.external);
    assert_eq!(volume.name, "shared");
    assert_eq!(
        loaded.warnings,
        ["volumes.data: external.name is deprecated. Please set name and external: true"]
    );
}

#[test]
fn project_directory_and_path_separator() {
    let source = files(&[
        ("/repo/deploy/a.yaml", APP),
        (
            "/repo/deploy/b.yaml",
            "services:\n  app:\n    volumes: ['./data:/data']\n",
        ),
        ("/repo/app/.env", "FROM_APP_DIR=yes\n"),
    ]);
    let mut req = request("/repo");
    req.project_directory = Some(PathBuf::from("app"));
    req.environment.insert(
        "COMPOSE_FILE".into(),
        "/repo/deploy/a.yaml;/repo/deploy/b.yaml".into(),
    );
    req.environment
        .insert("COMPOSE_PATH_SEPARATOR".into(), ";".into());
    let loaded = ok(&req, &source);
    assert_eq!(loaded.project.name, "app");
    assert_eq!(loaded.project.working_dir, "/repo/app");
    assert_eq!(loaded.project.config_files.len(), 2);
    let app = &loaded.project.services["app"];
    assert_eq!(app.volumes[0].source.as_deref(), Some("/repo/app/data"));
}
