//! Resource, device, hook and build fields, compared with what Docker
//! Compose 2.40.3 printed and hashed for the same files.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{LoadRequest, load};
use crate::config_json::render_config_json;
use crate::hash::{go_json_compact, service_config_hash};

fn service_json(compose: &str) -> (String, String) {
    let source: BTreeMap<PathBuf, String> =
        [(PathBuf::from("/p/compose.yaml"), compose.to_owned())].into();
    let request = LoadRequest {
        working_dir: PathBuf::from("/p"),
        project_name: Some("p".to_owned()),
        ..LoadRequest::default()
    };
    let loaded = match load(&request, &source) {
        Ok(loaded) => loaded,
        Err(error) => panic!("load failed: {error}"),
    };
    let printed: serde_json::Value =
        serde_json::from_str(&render_config_json(&loaded.project)).unwrap_or_default();
    let service = &loaded.project.services["app"];
    (
        go_json_compact(&printed["services"]["app"]),
        service_config_hash(service),
    )
}

fn load_error(compose: &str) -> String {
    let source: BTreeMap<PathBuf, String> =
        [(PathBuf::from("/p/compose.yaml"), compose.to_owned())].into();
    let request = LoadRequest {
        working_dir: PathBuf::from("/p"),
        ..LoadRequest::default()
    };
    match load(&request, &source) {
        Ok(_) => panic!("loaded an invalid file"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn limits_deploy_resources_and_logging_print_like_compose() {
    let compose = "services:
  app:
    image: busybox
    ulimits:
      nproc: 65535
      core: 0
      nofile: {soft: 20000, hard: 40000}
    cpus: 0.5
    cpu_rt_runtime: 400
    cpu_rt_period: 1400
    cpu_count: 2
    cpu_percent: 50
    mem_swappiness: 60
    oom_kill_disable: true
    storage_opt: {size: 1G}
    device_cgroup_rules: ['c 1:3 mr']
    deploy:
      resources:
        limits: {cpus: '0.50', memory: 50M, pids: 1}
        reservations:
          cpus: 0.25
          memory: 20M
          devices:
            - capabilities: [gpu]
              count: 1
              driver: nvidia
      restart_policy: {condition: on-failure, delay: 5s, max_attempts: 3, window: 120s}
    gpus:
      - driver: nvidia
        count: 2
    logging:
      driver: syslog
      options: {syslog-address: 'tcp://192.168.0.42:123'}
    blkio_config:
      weight_device: [{path: /dev/sda, weight: 400}]
      device_write_iops: [{path: /dev/sda, rate: 30}]
    use_api_socket: true
    credential_spec: {config: my-cred}
";
    let (printed, hash) = service_json(compose);
    assert_eq!(
        printed,
        r#"{"blkio_config":{"weight_device":[{"Path":"/dev/sda","Weight":400}],"device_write_iops":[{"Path":"/dev/sda","Rate":"30"}]},"cpu_count":2,"cpu_percent":50,"cpu_rt_period":1400,"cpu_rt_runtime":400,"cpus":0.5,"command":null,"credential_spec":{"config":"my-cred"},"deploy":{"resources":{"limits":{"cpus":0.5,"memory":"52428800","pids":1},"reservations":{"cpus":0.25,"memory":"20971520","devices":[{"capabilities":["gpu"],"driver":"nvidia","count":1}]}},"restart_policy":{"condition":"on-failure","delay":"5s","max_attempts":3,"window":"2m0s"},"placement":{}},"device_cgroup_rules":["c 1:3 mr"],"entrypoint":null,"gpus":[{"driver":"nvidia","count":2}],"image":"busybox","logging":{"driver":"syslog","options":{"syslog-address":"tcp://192.168.0.42:123"}},"mem_swappiness":"60","networks":{"default":null},"oom_kill_disable":true,"storage_opt":{"size":"1G"},"ulimits":{"core":{},"nofile":{"soft":20000,"hard":40000},"nproc":65535},"use_api_socket":true}"#
    );
    // `config --hash` of the same file: `use_api_socket` is rewritten only
    // when containers are created.
    assert_eq!(
        hash,
        "91229c124976369e7ff4b06ee93bcf6a5001dcd259f935f79984bdde2aeac8f8"
    );
}

#[test]
fn scalar_forms_print_like_compose() {
    let compose = "services:
  app:
    image: busybox
    ulimits:
      nproc: '65535'
      x: {soft: '5', hard: 6}
    sysctls: {a: 1.50, b: true, c: null}
    logging:
      options: {max-file: 3, y: 1.0, z: null}
    storage_opt: {size: 1}
    annotations: [a=b, c]
    group_add: [100, users]
    devices:
      - source: /dev/a
        target: /dev/b
      - /dev/c:/dev/d
    gpus:
      - capabilities: [gpu]
        count: all
        options: {a: 1}
    mem_limit: 1.5g
    memswap_limit: -1
    shm_size: 1024
    cpu_shares: '512'
    pids_limit: -1
    oom_score_adj: -500
    cpus: '1.0'
    blkio_config:
      weight: 0
      device_read_iops: [{path: /dev/sda, rate: '100'}]
    post_start:
      - command: echo hi
        privileged: true
        environment: [A=1, B]
    develop:
      watch:
        - path: ./x
          action: sync+exec
          target: /x
          exec:
            command: ls
            user: root
";
    let (printed, hash) = service_json(compose);
    assert_eq!(
        printed,
        r#"{"annotations":{"a":"b","c":""},"develop":{"watch":[{"path":"/p/x","action":"sync+exec","target":"/x","exec":{"command":["ls"],"user":"root"}}]},"blkio_config":{"device_read_iops":[{"Path":"/dev/sda","Rate":"100"}]},"cpus":1,"cpu_shares":512,"command":null,"devices":[{"source":"/dev/a","target":"/dev/b"},{"source":"/dev/c","target":"/dev/d","permissions":"rwm"}],"entrypoint":null,"group_add":["100","users"],"gpus":[{"capabilities":["gpu"],"count":-1,"options":{"a":"1"}}],"image":"busybox","logging":{"options":{"max-file":"3","y":"1","z":""}},"mem_limit":"1610612736","memswap_limit":"-1","networks":{"default":null},"oom_score_adj":-500,"pids_limit":-1,"shm_size":"1024","storage_opt":{"size":"1"},"sysctls":{"a":"1.5","b":"true","c":""},"ulimits":{"nproc":65535,"x":{"soft":5,"hard":6}},"post_start":[{"command":["echo","hi"],"privileged":true,"environment":{"A":"1","B":null}}]}"#
    );
    assert_eq!(hash.len(), 64);
}

#[test]
fn conflicting_resource_settings_rejected() {
    let message = load_error(
        "services:\n  app:\n    image: busybox\n    mem_limit: 10m\n    deploy:\n      resources:\n        limits: {memory: 20m}\n",
    );
    assert!(
        message.contains(
            "can't set distinct values on 'mem_limit' and 'deploy.resources.limits.memory'"
        ),
        "{message}"
    );
}

#[test]
fn bad_values_name_key_and_value() {
    let cases = [
        (
            "services:\n  app:\n    image: busybox\n    mem_limit: 12q\n",
            "services.app.mem_limit: invalid value \"12q\"",
        ),
        (
            "services:\n  app:\n    image: busybox\n    devices: ['a:b:c:d']\n",
            "services.app.devices[0]: invalid value \"a:b:c:d\"",
        ),
        (
            "services:\n  app:\n    image: busybox\n    gpus: [{count: 1, device_ids: ['0']}]\n",
            "services.app.gpus[0] \"count\" and \"device_ids\" attributes are exclusive",
        ),
        (
            "services:\n  app:\n    image: busybox\n    secrets: [missing]\n",
            "refers to undefined secret missing",
        ),
        (
            "services:\n  app:\n    image: busybox\n    oom_score_adj: 2000\n",
            "services.app.oom_score_adj: invalid value \"2000\"",
        ),
    ];
    for (compose, fragment) in cases {
        let message = load_error(compose);
        assert!(
            message.contains(fragment),
            "{fragment:?} not in {message:?}"
        );
    }
}

#[test]
fn override_file_merges_like_compose() {
    let base = "services:
  app:
    image: busybox
    logging: {driver: json-file, options: {max-size: 1m}}
    devices: [/dev/a:/dev/b]
    build: {context: ., args: [A=1]}
";
    let overlay = "services:
  app:
    logging: {driver: syslog, options: {tag: x}}
    devices: [/dev/c:/dev/b, /dev/d]
    build: {args: {B: 2}}
";
    let source: BTreeMap<PathBuf, String> = [
        (PathBuf::from("/p/compose.yaml"), base.to_owned()),
        (PathBuf::from("/p/override.yaml"), overlay.to_owned()),
    ]
    .into();
    let request = LoadRequest {
        working_dir: PathBuf::from("/p"),
        project_name: Some("p".to_owned()),
        files: vec![
            PathBuf::from("compose.yaml"),
            PathBuf::from("override.yaml"),
        ],
        ..LoadRequest::default()
    };
    let loaded = match load(&request, &source) {
        Ok(loaded) => loaded,
        Err(error) => panic!("load failed: {error}"),
    };
    let app = &loaded.project.services["app"];
    let value = serde_json::to_value(app).unwrap_or_default();
    // Another driver drops the earlier options; devices merge by target.
    assert_eq!(
        go_json_compact(&value["logging"]),
        r#"{"driver":"syslog","options":{"tag":"x"}}"#
    );
    assert_eq!(
        go_json_compact(&value["devices"]),
        r#"[{"source":"/dev/c","target":"/dev/b","permissions":"rwm"},{"source":"/dev/d","target":"/dev/d","permissions":"rwm"}]"#
    );
    assert_eq!(
        go_json_compact(&value["build"]["args"]),
        r#"{"A":"1","B":"2"}"#
    );
}

#[test]
fn raw_env_files_are_read_literally() {
    let source: BTreeMap<PathBuf, String> = [
        (
            PathBuf::from("/p/compose.yaml"),
            "services:\n  app:\n    image: busybox\n    env_file: [{path: raw.env, format: raw}]\n"
                .to_owned(),
        ),
        (
            PathBuf::from("/p/raw.env"),
            "# comment\n\nA=1 # c\nB=\"x\\ty\"\nC\nD\n".to_owned(),
        ),
    ]
    .into();
    let request = LoadRequest {
        working_dir: PathBuf::from("/p"),
        environment: [("C".to_owned(), "7".to_owned())].into(),
        ..LoadRequest::default()
    };
    let loaded = match load(&request, &source) {
        Ok(loaded) => loaded,
        Err(error) => panic!("load failed: {error}"),
    };
    // What Compose 2.40.3 printed for the same file and variable.
    let environment = &loaded.project.services["app"].environment;
    let expected: BTreeMap<String, Option<String>> = [
        ("A".to_owned(), Some("1 # c".to_owned())),
        ("B".to_owned(), Some("\"x\\ty\"".to_owned())),
        ("C".to_owned(), Some("7".to_owned())),
    ]
    .into();
    assert_eq!(environment, &expected);
}

#[test]
fn extension_keys_and_default_gpu_count() {
    let compose = "services:
  app:
    image: busybox
    sysctls: {net.a: '1', x-b: 2}
    logging: {options: {x-a: 1}}
    gpus: [{capabilities: [gpu]}]
";
    let (printed, _) = service_json(compose);
    // What Compose 2.40.3 printed for these fields.
    assert!(
        printed.contains(r##""sysctls":{"#extensions":"map[x-b:2]","net.a":"1"}"##),
        "{printed}"
    );
    assert!(
        printed.contains(r##""logging":{"options":{"#extensions":"map[x-a:1]"}}"##),
        "{printed}"
    );
    assert!(
        printed.contains(r#""gpus":[{"capabilities":["gpu"],"count":-1}]"#),
        "{printed}"
    );
}
