//! Create bodies of services using resource, device, logging, namespace,
//! secret and config fields, loaded from compose text.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Value, json};

use super::{ContainerSpec, ContainerSpecError, container_create};
use crate::load::{LoadRequest, load};
use crate::model::Project;

fn project(compose: &str) -> Project {
    let source: BTreeMap<PathBuf, String> = [
        (PathBuf::from("/p/compose.yaml"), compose.to_owned()),
        (PathBuf::from("/p/labels.txt"), "from.file=1\n".to_owned()),
    ]
    .into();
    let request = LoadRequest {
        working_dir: PathBuf::from("/p"),
        project_name: Some("p".to_owned()),
        ..LoadRequest::default()
    };
    match load(&request, &source) {
        Ok(loaded) => loaded.project,
        Err(error) => panic!("load failed: {error}"),
    }
}

fn create_body(project: &Project) -> Result<Value, ContainerSpecError> {
    create_body_on(project, "1.41")
}

fn create_body_on(project: &Project, api_version: &str) -> Result<Value, ContainerSpecError> {
    let links = BTreeMap::new();
    let spec = ContainerSpec {
        project,
        service_name: "app",
        service: &project.services["app"],
        number: 1,
        name: "p-app-1",
        config_hash: "0",
        image_id: None,
        api_version,
        inherited_mounts: &[],
        replace: None,
        link_targets: &links,
    };
    container_create(&spec).map(|create| serde_json::to_value(&create.body).unwrap_or_default())
}

/// A service setting every field that reaches `HostConfig` through this
/// module's resource, namespace, logging and mount code.
const RICH_SERVICE: &str = "services:
  app:
    image: busybox
    uts: host
    userns_mode: host
    cgroup: private
    cgroup_parent: parent
    external_links: [db, cache:redis]
    sysctls: [net.core.somaxconn=1024]
    logging: {driver: json-file, options: {max-size: 10m, max-file: 3}}
    ulimits: {nproc: 65535, nofile: {soft: 20000, hard: 40000}}
    mem_limit: 512m
    mem_reservation: 128m
    memswap_limit: 1g
    mem_swappiness: 10
    oom_kill_disable: true
    oom_score_adj: 100
    cpu_shares: 1024
    cpu_quota: 50000
    cpu_period: 100000
    cpu_rt_period: 1000
    cpu_rt_runtime: 500
    cpuset: 0-1
    pids_limit: 200
    shm_size: 64m
    blkio_config:
      weight: 300
      weight_device: [{path: /dev/sda, weight: 400}]
      device_read_bps: [{path: /dev/sda, rate: 12mb}]
      device_write_iops: [{path: /dev/sda, rate: 30}]
    devices: [/dev/null:/dev/fakenull:rwm, nvidia.com/gpu=all]
    device_cgroup_rules: ['c 1:3 mr']
    group_add: [100, users]
    runtime: runc
    isolation: default
    storage_opt: {size: 1G}
    label_file: labels.txt
    annotations: {com.example.note: value}
    gpus: [{driver: nvidia, count: 1, capabilities: [compute]}]
    secrets: [token, {source: token, target: other}]
    configs: [{source: settings, target: /etc/app.conf}]
secrets:
  token: {file: ./token.txt}
configs:
  settings: {file: ./app.conf}
";

#[test]
fn rich_service_maps_every_host_config_field() {
    let body = create_body(&project(RICH_SERVICE)).expect("body");
    let host = &body["HostConfig"];
    let expected: Value = serde_json::from_str(
        r#"{
        "NetworkMode": "p_default",
        "PortBindings": {},
        "RestartPolicy": {"Name": "", "MaximumRetryCount": 0},
        "ExtraHosts": [],
        "Links": ["db:db", "cache:redis"],
        "Privileged": false,
        "ReadonlyRootfs": false,
        "Mounts": [
            {"Type": "bind", "Source": "/p/app.conf", "Target": "/etc/app.conf", "ReadOnly": true},
            {"Type": "bind", "Source": "/p/token.txt", "Target": "/run/secrets/other",
             "ReadOnly": true, "BindOptions": {}},
            {"Type": "bind", "Source": "/p/token.txt", "Target": "/run/secrets/token",
             "ReadOnly": true, "BindOptions": {}}
        ],
        "LogConfig": {"Type": "json-file", "Config": {"max-file": "3", "max-size": "10m"}},
        "UTSMode": "host",
        "UsernsMode": "host",
        "CgroupnsMode": "private",
        "GroupAdd": ["100", "users"],
        "OomScoreAdj": 100,
        "Runtime": "runc",
        "Isolation": "default",
        "ShmSize": 67108864,
        "Sysctls": {"net.core.somaxconn": "1024"},
        "StorageOpt": {"size": "1G"},
        "Annotations": {"com.example.note": "value"},
        "CgroupParent": "parent",
        "Memory": 536870912,
        "MemorySwap": 1073741824,
        "MemorySwappiness": 10,
        "MemoryReservation": 134217728,
        "OomKillDisable": true,
        "CpuPeriod": 100000,
        "CpuQuota": 50000,
        "CpuRealtimePeriod": 1000,
        "CpuRealtimeRuntime": 500,
        "CpuShares": 1024,
        "CpusetCpus": "0-1",
        "DeviceCgroupRules": ["c 1:3 mr"],
        "PidsLimit": 200,
        "BlkioWeight": 300,
        "BlkioWeightDevice": [{"Path": "/dev/sda", "Weight": 400}],
        "BlkioDeviceReadBps": [{"Path": "/dev/sda", "Rate": 12582912}],
        "BlkioDeviceWriteIOps": [{"Path": "/dev/sda", "Rate": 30}],
        "Devices": [{"PathOnHost": "/dev/null", "PathInContainer": "/dev/fakenull",
                     "CgroupPermissions": "rwm"}],
        "DeviceRequests": [
            {"Driver": "cdi", "DeviceIDs": ["nvidia.com/gpu=all"]},
            {"Driver": "nvidia", "Count": 1, "Capabilities": [["compute", "gpu"]]}
        ],
        "Ulimits": [{"Name": "nofile", "Soft": 20000, "Hard": 40000},
                    {"Name": "nproc", "Soft": 65535, "Hard": 65535}]
    }"#,
    )
    .expect("valid JSON");
    assert_eq!(host, &expected);
    assert_eq!(body["Labels"]["from.file"], "1");
}

#[test]
fn deploy_resources_override_service_settings() {
    let body = create_body(&project(
        "services:
  app:
    image: busybox
    restart: always
    mem_limit: 64m
    deploy:
      resources:
        limits: {cpus: '1.25', memory: 64m, pids: 5}
        reservations:
          memory: 32m
          devices: [{capabilities: [gpu], count: all}]
      restart_policy: {condition: on-failure, max_attempts: 3, delay: 5s}
",
    ))
    .expect("body");
    let host = &body["HostConfig"];
    assert_eq!(host["Memory"], 67108864);
    assert_eq!(host["NanoCpus"], 1250000000);
    assert_eq!(host["PidsLimit"], 5);
    assert_eq!(host["MemoryReservation"], 33554432);
    assert_eq!(
        host["DeviceRequests"],
        json!([{"Count": -1, "Capabilities": [["gpu"]]}])
    );
    assert_eq!(
        host["RestartPolicy"],
        json!({"Name": "on-failure", "MaximumRetryCount": 3})
    );
}

#[test]
fn cpus_become_nano_cpus_in_single_precision() {
    let body = create_body(&project(
        "services:\n  app:\n    image: busybox\n    cpus: 0.3\n",
    ))
    .expect("body");
    // 0.3 widened to `f64` first would give 300000011.
    assert_eq!(body["HostConfig"]["NanoCpus"], 300000000);
}

#[test]
fn socket_and_providers_rejected() {
    let cases = [
        (
            "services:\n  app:\n    image: busybox\n    use_api_socket: true\n",
            "use_api_socket",
        ),
        (
            "services:\n  app:\n    provider: {type: example}\n",
            "provider",
        ),
        (
            "services:\n  app:\n    image: busybox\n    models: [m]\nmodels:\n  m: {model: ai/x}\n",
            "models",
        ),
    ];
    for (compose, field) in cases {
        match create_body(&project(compose)) {
            Err(ContainerSpecError::Unsupported {
                service,
                field: actual,
                ..
            }) => {
                assert_eq!(service, "app");
                assert_eq!(actual, field);
            }
            other => panic!("{field}: expected a not-supported error, got {other:?}"),
        }
    }
}

#[test]
fn endpoint_driver_options_and_interface_name() {
    let project = project(
        "services:
  app:
    image: busybox
    networks:
      default: {driver_opts: {mtu: 1400}, gw_priority: 5, interface_name: eth7}
",
    );
    let body = create_body_on(&project, "1.49").expect("body");
    assert_eq!(
        body["NetworkingConfig"]["EndpointsConfig"]["p_default"],
        json!({
            "IPAMConfig": {},
            "Aliases": ["p-app-1", "app"],
            "DriverOpts": {"com.docker.network.endpoint.ifname": "eth7", "mtu": "1400"},
            "GwPriority": 5
        })
    );
    match create_body_on(&project, "1.41") {
        Err(ContainerSpecError::Invalid { field, reason, .. }) => {
            assert_eq!(field, "networks.interface_name");
            assert!(reason.contains("1.49"), "{reason}");
        }
        other => panic!("expected an api version error, got {other:?}"),
    }
}

#[test]
fn image_volumes_and_volume_labels_use_the_mount_api() {
    let project = project(
        "services:
  app:
    image: busybox
    volumes:
      - {type: image, source: alpine, target: /mnt, image: {subpath: etc}}
      - {type: volume, source: data, target: /data, volume: {labels: {a: b}}}
volumes:
  data:
",
    );
    let body = create_body_on(&project, "1.48").expect("body");
    assert_eq!(
        body["HostConfig"]["Mounts"],
        json!([
            {"Type": "volume", "Source": "p_data", "Target": "/data", "ReadOnly": false,
             "VolumeOptions": {"NoCopy": false, "Labels": {"a": "b"}}},
            {"Type": "image", "Source": "alpine", "Target": "/mnt", "ReadOnly": false,
             "ImageOptions": {"Subpath": "etc"}}
        ])
    );
    match create_body_on(&project, "1.41") {
        Err(ContainerSpecError::Invalid { field, .. }) => assert_eq!(field, "volumes[0].type"),
        other => panic!("expected an api version error, got {other:?}"),
    }
}
