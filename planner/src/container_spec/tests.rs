use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{ContainerCreate, ContainerSpec, ContainerSpecError, container_create};
use crate::engine_body::MountBody;
use crate::model::{
    BindOptions, DependsOn, Deploy, GoDuration, Healthcheck, Network, PortConfig, Project, Service,
    ServiceNetwork, ServiceVolume, TmpfsOptions, Volume, VolumeOptions,
};

const HASH: &str = "71b796a16956d776d25734ad3d175ced79c68e94822505a3382a441ba039148a";
const IMAGE_ID: &str = "sha256:bd889c047c4f0d4f535ca9419b9ae287146b712c06219a2c5e4b1d56f2f4b08b";

/// Builds the `oracletrace` project that Docker Compose 2.40.3 created
/// while its API calls were traced: one network, no volumes.
fn project() -> Project {
    let mut project = Project {
        name: "oracletrace".to_owned(),
        working_dir: "/srv/trace".to_owned(),
        config_files: vec!["/srv/trace/compose.yaml".to_owned()],
        ..Project::default()
    };
    project
        .networks
        .insert("default".to_owned(), network("oracletrace_default"));
    project
}

fn network(name: &str) -> Network {
    Network {
        name: name.to_owned(),
        ..Network::default()
    }
}

/// Builds the traced `web` service: `sleep 3600` with one variable.
fn web() -> Service {
    let mut service = Service {
        image: Some("local/busybox:test".to_owned()),
        command: Some(vec!["sleep".to_owned(), "3600".to_owned()]),
        ..Service::default()
    };
    service
        .environment
        .insert("GREETING".to_owned(), Some("hello".to_owned()));
    service.networks.insert("default".to_owned(), None);
    service
}

fn no_links() -> &'static BTreeMap<String, Vec<String>> {
    static EMPTY: BTreeMap<String, Vec<String>> = BTreeMap::new();
    &EMPTY
}

fn spec<'a>(project: &'a Project, service: &'a Service) -> ContainerSpec<'a> {
    ContainerSpec {
        project,
        service_name: "web",
        service,
        number: 1,
        name: "oracletrace-web-1",
        config_hash: HASH,
        image_id: Some(IMAGE_ID),
        api_version: "1.41",
        inherited_mounts: &[],
        replace: None,
        link_targets: no_links(),
    }
}

fn create(project: &Project, service: &Service) -> ContainerCreate {
    container_create(&spec(project, service)).expect("the service maps to a create body")
}

/// Serializes the body to JSON, to compare it with bodies Compose sent.
fn body_json(create: &ContainerCreate) -> Value {
    serde_json::to_value(&create.body).unwrap()
}

fn volume(kind: &str, source: Option<&str>, target: &str) -> ServiceVolume {
    ServiceVolume {
        kind: kind.to_owned(),
        source: source.map(str::to_owned),
        target: target.to_owned(),
        read_only: false,
        consistency: None,
        bind: None,
        volume: None,
        tmpfs: None,
        image: None,
    }
}

fn port(target: u32, published: Option<&str>, protocol: &str) -> PortConfig {
    PortConfig {
        name: None,
        mode: "ingress".to_owned(),
        host_ip: None,
        target,
        published: published.map(str::to_owned),
        protocol: protocol.to_owned(),
        app_protocol: None,
    }
}

fn seconds(count: i64) -> GoDuration {
    GoDuration(count * 1_000_000_000)
}

#[test]
fn minimal_service_matches_traced_body() {
    let body = body_json(&create(&project(), &web()));

    // Values from the create body of `oracletrace-web-1` that Docker
    // Compose 2.40.3 sent to the engine.
    assert_eq!(
        body["Labels"],
        json!({
            "com.docker.compose.config-hash": HASH,
            "com.docker.compose.container-number": "1",
            "com.docker.compose.depends_on": "",
            "com.docker.compose.image": IMAGE_ID,
            "com.docker.compose.oneoff": "False",
            "com.docker.compose.project": "oracletrace",
            "com.docker.compose.project.config_files": "/srv/trace/compose.yaml",
            "com.docker.compose.project.working_dir": "/srv/trace",
            "com.docker.compose.service": "web",
            "com.docker.compose.version": "2.40.3"
        })
    );
    assert_eq!(body["Env"], json!(["GREETING=hello"]));
    assert_eq!(body["Cmd"], json!(["sleep", "3600"]));
    assert_eq!(body["Image"], json!("local/busybox:test"));
    assert_eq!(body["AttachStdout"], json!(true));
    assert_eq!(body["AttachStderr"], json!(true));
    assert_eq!(body["Tty"], json!(false));
    assert_eq!(body["OpenStdin"], json!(false));
    assert_eq!(body.get("Entrypoint"), None);
    assert_eq!(body.get("Healthcheck"), None);
    assert_eq!(
        body["HostConfig"]["NetworkMode"],
        json!("oracletrace_default")
    );
    assert_eq!(
        body["HostConfig"]["RestartPolicy"],
        json!({"Name": "", "MaximumRetryCount": 0})
    );
    assert_eq!(body["HostConfig"].get("Binds"), None);
    assert_eq!(body["HostConfig"].get("Links"), None);
    assert_eq!(
        body["NetworkingConfig"],
        json!({
            "EndpointsConfig": {
                "oracletrace_default": {"Aliases": ["oracletrace-web-1", "web"]}
            }
        })
    );
}

#[test]
fn minimal_service_body_snapshot() {
    insta::assert_json_snapshot!(create(&project(), &web()).body);
}

#[test]
fn optional_labels_when_given() {
    let mut project = project();
    project.environment_files = vec!["a.env".to_owned(), "b.env".to_owned()];
    let mut service = web();
    service
        .labels
        .insert("com.example.team".to_owned(), "core".to_owned());
    // A user label with Compose's prefix is overwritten, not rejected.
    service
        .labels
        .insert("com.docker.compose.service".to_owned(), "other".to_owned());
    service.depends_on.insert(
        "db".to_owned(),
        DependsOn {
            condition: "service_healthy".to_owned(),
            restart: true,
            required: true,
        },
    );
    service.depends_on.insert(
        "cache".to_owned(),
        DependsOn {
            condition: "service_started".to_owned(),
            restart: false,
            required: false,
        },
    );
    let mut spec = spec(&project, &service);
    spec.replace = Some("web-1");
    spec.image_id = None;
    spec.number = 3;

    let labels = container_create(&spec).unwrap().body.labels;
    assert_eq!(labels["com.example.team"], "core");
    assert_eq!(labels["com.docker.compose.service"], "web");
    assert_eq!(
        labels["com.docker.compose.project.environment_file"],
        "a.env,b.env"
    );
    assert_eq!(labels["com.docker.compose.replace"], "web-1");
    assert_eq!(labels["com.docker.compose.container-number"], "3");
    assert_eq!(
        labels["com.docker.compose.depends_on"],
        "cache:service_started:false,db:service_healthy:true"
    );
    assert!(!labels.contains_key("com.docker.compose.image"));
}

#[test]
fn container_number_zero_omits_label() {
    let (project, service) = (project(), web());
    let mut spec = spec(&project, &service);
    spec.number = 0;
    let labels = container_create(&spec).unwrap().body.labels;
    assert!(!labels.contains_key("com.docker.compose.container-number"));
}

#[test]
fn config_fields_map_one_to_one() {
    let mut service = web();
    service.image = None;
    service.entrypoint = Some(Vec::new());
    service.command = None;
    service.environment.insert("EMPTY".to_owned(), None);
    service
        .environment
        .insert("A".to_owned(), Some("1".to_owned()));
    service.hostname = Some("box".to_owned());
    service.domainname = Some("example.test".to_owned());
    service.user = Some("1000:1000".to_owned());
    service.working_dir = Some("/app".to_owned());
    service.tty = true;
    service.stdin_open = true;
    service.stop_signal = Some("SIGINT".to_owned());
    service.stop_grace_period = Some(GoDuration::parse("1m30.9s").unwrap());
    service.platform = Some("linux/amd64".to_owned());

    let create = create(&project(), &service);
    let body = body_json(&create);
    assert_eq!(body["Image"], json!("oracletrace-web"));
    assert_eq!(body["Entrypoint"], json!([]));
    assert_eq!(body.get("Cmd"), None);
    assert_eq!(body["Env"], json!(["A=1", "EMPTY", "GREETING=hello"]));
    assert_eq!(body["Hostname"], json!("box"));
    assert_eq!(body["Domainname"], json!("example.test"));
    assert_eq!(body["User"], json!("1000:1000"));
    assert_eq!(body["WorkingDir"], json!("/app"));
    assert_eq!(body["Tty"], json!(true));
    assert_eq!(body["OpenStdin"], json!(true));
    assert_eq!(body["StopSignal"], json!("SIGINT"));
    assert_eq!(body["StopTimeout"], json!(90));
    assert_eq!(create.platform.as_deref(), Some("linux/amd64"));
}

#[test]
fn ports_and_expose() {
    let mut service = web();
    service.expose = vec!["5000".to_owned(), "6000/udp".to_owned()];
    service.ports = vec![
        port(80, Some("8080"), "tcp"),
        port(80, Some("8081"), "tcp"),
        port(53, None, "udp"),
        PortConfig {
            host_ip: Some("127.0.0.1".to_owned()),
            ..port(9000, Some("9000-9005"), "tcp")
        },
    ];

    let body = body_json(&create(&project(), &service));
    assert_eq!(
        body["ExposedPorts"],
        json!({"5000": {}, "53/udp": {}, "6000/udp": {}, "80/tcp": {}, "9000/tcp": {}})
    );
    assert_eq!(
        body["HostConfig"]["PortBindings"],
        json!({
            "53/udp": [{"HostIp": "", "HostPort": ""}],
            "80/tcp": [
                {"HostIp": "", "HostPort": "8080"},
                {"HostIp": "", "HostPort": "8081"}
            ],
            "9000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "9000-9005"}]
        })
    );
}

/// Builds a project like the traced `oracle71`, with a named volume
/// without options and one whose top-level entry has labels.
fn project_with_volumes() -> Project {
    let mut project = project();
    project.volumes.insert(
        "appdata".to_owned(),
        Volume {
            name: "oracletrace_appdata".to_owned(),
            ..Volume::default()
        },
    );
    let mut cache = Volume {
        name: "oracletrace_cache".to_owned(),
        ..Volume::default()
    };
    cache
        .labels
        .insert("com.example.purpose".to_owned(), "cache".to_owned());
    project.volumes.insert("cache".to_owned(), cache);
    project
}

#[test]
fn named_and_anonymous_volumes_as_compose_created_them() {
    let mut service = web();
    service.volumes = vec![
        ServiceVolume {
            volume: Some(VolumeOptions::default()),
            ..volume("volume", Some("appdata"), "/data")
        },
        ServiceVolume {
            volume: Some(VolumeOptions::default()),
            ..volume("volume", None, "/anon")
        },
        volume("volume", Some("cache"), "/cache"),
    ];

    let body = body_json(&create(&project_with_volumes(), &service));
    // `docker inspect` of the `oracle71-app-1` container that Compose
    // created showed these binds and this mount.
    assert_eq!(
        body["HostConfig"]["Binds"],
        json!([
            "oracletrace_cache:/cache:rw",
            "oracletrace_appdata:/data:rw"
        ])
    );
    assert_eq!(
        body["HostConfig"]["Mounts"],
        json!([{
            "Type": "volume",
            "Target": "/anon",
            "ReadOnly": false,
            "VolumeOptions": {"NoCopy": false}
        }])
    );
}

#[test]
fn volume_options_need_mount_api() {
    let mut service = web();
    service.volumes = vec![
        ServiceVolume {
            volume: Some(VolumeOptions {
                nocopy: true,
                ..VolumeOptions::default()
            }),
            ..volume("volume", Some("appdata"), "/nocopy")
        },
        ServiceVolume {
            read_only: true,
            volume: Some(VolumeOptions {
                subpath: Some("sub".to_owned()),
                ..VolumeOptions::default()
            }),
            ..volume("volume", Some("cache"), "/sub")
        },
        ServiceVolume {
            read_only: true,
            ..volume("volume", Some("appdata"), "/readonly")
        },
    ];

    let body = body_json(&create(&project_with_volumes(), &service));
    assert_eq!(
        body["HostConfig"]["Binds"],
        json!(["oracletrace_appdata:/readonly:ro"])
    );
    assert_eq!(
        body["HostConfig"]["Mounts"],
        json!([
            {
                "Type": "volume",
                "Source": "oracletrace_appdata",
                "Target": "/nocopy",
                "ReadOnly": false,
                "VolumeOptions": {"NoCopy": true}
            },
            {
                "Type": "volume",
                "Source": "oracletrace_cache",
                "Target": "/sub",
                "ReadOnly": true,
                "VolumeOptions": {"NoCopy": false, "Subpath": "sub"}
            }
        ])
    );
}

#[test]
fn binds_short_and_long() {
    let short = |source: &str, target: &str| ServiceVolume {
        // The short syntax always sets `create_host_path`.
        bind: Some(BindOptions {
            create_host_path: true,
            ..BindOptions::default()
        }),
        ..volume("bind", Some(source), target)
    };
    let mut service = web();
    service.volumes = vec![
        short("/srv/trace/html", "/html"),
        ServiceVolume {
            read_only: true,
            ..short("/etc/hostname", "/hostname")
        },
        ServiceVolume {
            bind: Some(BindOptions {
                selinux: Some("z".to_owned()),
                create_host_path: true,
                ..BindOptions::default()
            }),
            ..volume("bind", Some("/srv/trace/z"), "/z")
        },
        // Long syntax without bind options.
        volume("bind", Some("/srv/trace/long"), "/long"),
        ServiceVolume {
            bind: Some(BindOptions::default()),
            ..volume("bind", Some("/srv/trace/must-exist"), "/must-exist")
        },
        ServiceVolume {
            read_only: true,
            bind: Some(BindOptions {
                propagation: Some("rshared".to_owned()),
                create_host_path: true,
                selinux: Some("Z".to_owned()),
                ..BindOptions::default()
            }),
            ..volume("bind", Some("/srv/trace/shared"), "/shared")
        },
    ];

    let body = body_json(&create(&project(), &service));
    assert_eq!(
        body["HostConfig"]["Binds"],
        json!([
            "/etc/hostname:/hostname:ro",
            "/srv/trace/html:/html:rw",
            "/srv/trace/long:/long:rw",
            "/srv/trace/z:/z:rw,z"
        ])
    );
    assert_eq!(
        body["HostConfig"]["Mounts"],
        json!([
            {
                "Type": "bind",
                "Source": "/srv/trace/must-exist",
                "Target": "/must-exist",
                "ReadOnly": false,
                "BindOptions": {}
            },
            {
                "Type": "bind",
                "Source": "/srv/trace/shared",
                "Target": "/shared",
                "ReadOnly": true,
                "BindOptions": {"Propagation": "rshared", "CreateMountpoint": true}
            }
        ])
    );
}

#[test]
fn tmpfs_key_and_tmpfs_volumes() {
    let mut service = web();
    service.tmpfs = vec!["/run".to_owned(), "/cache:size=64m,mode=1777".to_owned()];
    service.volumes = vec![
        volume("tmpfs", None, "/plain"),
        ServiceVolume {
            read_only: true,
            tmpfs: Some(TmpfsOptions {
                size: Some("65536".to_owned()),
                mode: Some(0o1777),
            }),
            ..volume("tmpfs", None, "/sized")
        },
    ];

    let body = body_json(&create(&project(), &service));
    assert_eq!(
        body["HostConfig"]["Tmpfs"],
        json!({"/cache": "size=64m,mode=1777", "/run": ""})
    );
    assert_eq!(
        body["HostConfig"]["Mounts"],
        json!([
            {"Type": "tmpfs", "Target": "/plain", "ReadOnly": false},
            {
                "Type": "tmpfs",
                "Target": "/sized",
                "ReadOnly": true,
                "TmpfsOptions": {"SizeBytes": 65536, "Mode": 1023}
            }
        ])
    );
}

#[test]
fn tmpfs_size_must_be_bytes() {
    let mut service = web();
    service.volumes = vec![ServiceVolume {
        tmpfs: Some(TmpfsOptions {
            size: Some("64m".to_owned()),
            mode: None,
        }),
        ..volume("tmpfs", None, "/t")
    }];
    let error = container_create(&spec(&project(), &service)).unwrap_err();
    assert_eq!(
        error.to_string(),
        "service `web`: invalid `volumes[0].tmpfs.size` value `64m`: expected a byte count"
    );
}

#[test]
fn inherited_mount_replaces_anonymous_volume() {
    let mut service = web();
    service.volumes = vec![
        ServiceVolume {
            volume: Some(VolumeOptions::default()),
            ..volume("volume", None, "/anon")
        },
        volume("volume", None, "/fresh"),
        volume("volume", Some("appdata"), "/data"),
    ];
    let inherited = [
        MountBody {
            kind: "volume".to_owned(),
            source: Some("0f3c9a".to_owned()),
            target: "/anon".to_owned(),
            ..MountBody::default()
        },
        // Declared as a named volume now: the service's volume wins.
        MountBody {
            kind: "volume".to_owned(),
            source: Some("5b1e77".to_owned()),
            target: "/data".to_owned(),
            ..MountBody::default()
        },
        // A VOLUME of the image, not declared by the service.
        MountBody {
            kind: "volume".to_owned(),
            source: Some("9d2a41".to_owned()),
            target: "/var/lib/image".to_owned(),
            read_only: true,
            ..MountBody::default()
        },
        MountBody {
            kind: "tmpfs".to_owned(),
            target: "/scratch".to_owned(),
            ..MountBody::default()
        },
    ];
    let project = project_with_volumes();
    let mut spec = spec(&project, &service);
    spec.inherited_mounts = &inherited;

    let body = body_json(&container_create(&spec).unwrap());
    assert_eq!(
        body["HostConfig"]["Binds"],
        json!(["oracletrace_appdata:/data:rw"])
    );
    assert_eq!(
        body["HostConfig"]["Mounts"],
        json!([
            {"Type": "volume", "Source": "0f3c9a", "Target": "/anon", "ReadOnly": false},
            {"Type": "volume", "Target": "/fresh", "ReadOnly": false},
            {"Type": "volume", "Source": "9d2a41", "Target": "/var/lib/image", "ReadOnly": true}
        ])
    );
}

#[test]
fn healthcheck_durations_in_nanoseconds() {
    let mut service = web();
    service.healthcheck = Some(Healthcheck {
        test: Some(vec!["CMD-SHELL".to_owned(), "test -f /ready".to_owned()]),
        interval: Some(seconds(1)),
        timeout: Some(GoDuration::parse("1500ms").unwrap()),
        retries: Some(3),
        start_period: Some(seconds(1)),
        ..Healthcheck::default()
    });

    let body = body_json(&create(&project(), &service));
    assert_eq!(
        body["Healthcheck"],
        json!({
            "Test": ["CMD-SHELL", "test -f /ready"],
            "Interval": 1_000_000_000,
            "Timeout": 1_500_000_000,
            "StartPeriod": 1_000_000_000,
            "Retries": 3
        })
    );
}

#[test]
fn healthcheck_disable_sends_none() {
    let mut service = web();
    service.healthcheck = Some(Healthcheck {
        test: Some(vec!["CMD".to_owned(), "true".to_owned()]),
        disable: true,
        ..Healthcheck::default()
    });
    let body = body_json(&create(&project(), &service));
    assert_eq!(body["Healthcheck"], json!({"Test": ["NONE"]}));
}

#[test]
fn healthcheck_start_interval_rules() {
    let mut service = web();
    service.healthcheck = Some(Healthcheck {
        test: Some(vec!["CMD".to_owned(), "true".to_owned()]),
        start_interval: Some(seconds(2)),
        ..Healthcheck::default()
    });
    let project = project();

    let error = container_create(&spec(&project, &service)).unwrap_err();
    assert_eq!(
        error.to_string(),
        "service `web`: invalid `healthcheck.start_interval` value `2s`: \
         needs engine api 1.44 or later, the engine has 1.41"
    );

    let mut modern = spec(&project, &service);
    modern.api_version = "1.44";
    let error = container_create(&modern).unwrap_err();
    assert_eq!(
        error.to_string(),
        "service `web`: invalid `healthcheck.start_interval` value `2s`: \
         needs `healthcheck.start_period` to be set"
    );

    let mut service = service.clone();
    service.healthcheck.as_mut().unwrap().start_period = Some(seconds(5));
    let modern = ContainerSpec {
        service: &service,
        ..modern
    };
    let body = body_json(&container_create(&modern).unwrap());
    assert_eq!(body["Healthcheck"]["StartInterval"], json!(2_000_000_000));
    assert_eq!(body["Healthcheck"]["StartPeriod"], json!(5_000_000_000_i64));
}

#[test]
fn restart_policies() {
    let cases = [
        ("no", "no", 0),
        ("none", "no", 0),
        ("always", "always", 0),
        ("any", "always", 0),
        ("unless-stopped", "unless-stopped", 0),
        ("on-failure", "on-failure", 0),
        ("on-failure:5", "on-failure", 5),
        ("on-failure:x", "on-failure", 0),
    ];
    for (restart, name, count) in cases {
        let mut service = web();
        service.restart = Some(restart.to_owned());
        let policy = create(&project(), &service)
            .body
            .host_config
            .restart_policy
            .unwrap();
        assert_eq!(policy.name, name, "restart {restart}");
        assert_eq!(policy.maximum_retry_count, count, "restart {restart}");
    }
}

#[test]
fn host_config_fields() {
    let mut service = web();
    service.cap_add = vec![
        "sys_time".to_owned(),
        "CAP_NET_ADMIN".to_owned(),
        "Chown".to_owned(),
        "NET_ADMIN".to_owned(),
    ];
    service.cap_drop = vec!["all".to_owned(), "CAP_MKNOD".to_owned()];
    service.privileged = true;
    service.read_only = true;
    service.init = Some(false);
    service.ipc = Some("shareable".to_owned());
    service.pid = Some("container:4f1e".to_owned());
    service.dns = Some(vec!["10.0.0.53".to_owned()]);
    service.dns_search = vec!["example.test".to_owned()];
    service.dns_opt = vec!["ndots:2".to_owned()];
    service.extra_hosts = vec!["db=10.0.0.5".to_owned(), "v6=::1".to_owned()];
    service.security_opt = vec![
        "no-new-privileges".to_owned(),
        "label:disable".to_owned(),
        "seccomp=unconfined".to_owned(),
    ];
    service.volumes_from = vec!["4f1e".to_owned()];

    let host = &body_json(&create(&project(), &service))["HostConfig"];
    assert_eq!(
        host["CapAdd"],
        json!(["CAP_CHOWN", "CAP_NET_ADMIN", "CAP_SYS_TIME"])
    );
    assert_eq!(host["CapDrop"], json!(["ALL", "CAP_MKNOD"]));
    assert_eq!(host["Privileged"], json!(true));
    assert_eq!(host["ReadonlyRootfs"], json!(true));
    assert_eq!(host["Init"], json!(false));
    assert_eq!(host["IpcMode"], json!("shareable"));
    assert_eq!(host["PidMode"], json!("container:4f1e"));
    assert_eq!(host["Dns"], json!(["10.0.0.53"]));
    assert_eq!(host["DnsSearch"], json!(["example.test"]));
    assert_eq!(host["DnsOptions"], json!(["ndots:2"]));
    assert_eq!(host["ExtraHosts"], json!(["db:10.0.0.5", "v6:::1"]));
    assert_eq!(
        host["SecurityOpt"],
        json!(["no-new-privileges", "label:disable", "seccomp=unconfined"])
    );
    assert_eq!(host["VolumesFrom"], json!(["4f1e"]));
}

#[test]
fn security_opt_needing_files_is_unsupported() {
    for option in ["seccomp=profile.json", "systempaths=unconfined"] {
        let mut service = web();
        service.security_opt = vec![option.to_owned()];
        let error = container_create(&spec(&project(), &service)).unwrap_err();
        assert_eq!(
            error,
            ContainerSpecError::Unsupported {
                service: "web".to_owned(),
                field: "security_opt".to_owned(),
                value: option.to_owned(),
            }
        );
    }
}

/// Builds a project with two networks named like the traced
/// `oracletrace2`.
fn project_with_two_networks() -> Project {
    let mut project = project();
    project.networks.clear();
    project
        .networks
        .insert("back".to_owned(), network("oracletrace_back"));
    project
        .networks
        .insert("front".to_owned(), network("oracletrace_front"));
    project
}

fn attach(service: &mut Service, key: &str, config: Option<ServiceNetwork>) {
    service.networks.insert(key.to_owned(), config);
}

#[test]
fn primary_network_ties_go_to_first_key() {
    let mut service = web();
    service.networks.clear();
    attach(&mut service, "front", None);
    attach(&mut service, "back", Some(ServiceNetwork::default()));

    let create = create(&project_with_two_networks(), &service);
    let body = body_json(&create);
    assert_eq!(body["HostConfig"]["NetworkMode"], json!("oracletrace_back"));
    assert_eq!(
        body["NetworkingConfig"]["EndpointsConfig"],
        json!({
            "oracletrace_back": {"IPAMConfig": {}, "Aliases": ["oracletrace-web-1", "web"]}
        })
    );
    let later: Vec<&str> = create
        .later_networks
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(later, ["oracletrace_front"]);
}

#[test]
fn primary_network_highest_priority() {
    let mut service = web();
    service.networks.clear();
    attach(&mut service, "back", None);
    attach(
        &mut service,
        "front",
        Some(ServiceNetwork {
            priority: 100,
            ..ServiceNetwork::default()
        }),
    );
    let body = body_json(&create(&project_with_two_networks(), &service));
    assert_eq!(
        body["HostConfig"]["NetworkMode"],
        json!("oracletrace_front")
    );
}

fn two_network_service() -> Service {
    let mut service = web();
    service.networks.clear();
    attach(&mut service, "back", Some(ServiceNetwork::default()));
    attach(
        &mut service,
        "front",
        Some(ServiceNetwork {
            aliases: vec!["web.local".to_owned()],
            ipv4_address: Some("172.30.0.10".to_owned()),
            link_local_ips: vec!["169.254.8.8".to_owned()],
            ..ServiceNetwork::default()
        }),
    );
    service
}

#[test]
fn api_1_41_connects_other_networks_later() {
    let create = create(&project_with_two_networks(), &two_network_service());

    let endpoints = &create
        .body
        .networking_config
        .as_ref()
        .unwrap()
        .endpoints_config;
    let names: Vec<&str> = endpoints.keys().map(String::as_str).collect();
    assert_eq!(names, ["oracletrace_back"]);
    // The connect body Compose sent for the traced `api` service on its
    // second network had the same shape.
    assert_eq!(create.later_networks.len(), 1);
    let (name, endpoint) = &create.later_networks[0];
    assert_eq!(name, "oracletrace_front");
    assert_eq!(
        serde_json::to_value(endpoint).unwrap(),
        json!({
            "IPAMConfig": {"IPv4Address": "172.30.0.10", "LinkLocalIPs": ["169.254.8.8"]},
            "Aliases": ["oracletrace-web-1", "web", "web.local"]
        })
    );
}

#[test]
fn api_1_44_sends_every_endpoint() {
    let (project, service) = (project_with_two_networks(), two_network_service());
    let mut spec = spec(&project, &service);
    spec.api_version = "1.44";
    let create = container_create(&spec).unwrap();

    assert!(create.later_networks.is_empty());
    let body = body_json(&create);
    assert_eq!(
        body["NetworkingConfig"]["EndpointsConfig"],
        json!({
            "oracletrace_back": {"IPAMConfig": {}, "Aliases": ["oracletrace-web-1", "web"]},
            "oracletrace_front": {
                "IPAMConfig": {"IPv4Address": "172.30.0.10", "LinkLocalIPs": ["169.254.8.8"]},
                "Aliases": ["oracletrace-web-1", "web", "web.local"]
            }
        })
    );
}

#[test]
fn aliases_use_final_name_and_service() {
    let (project, service) = (project(), web());
    let mut spec = spec(&project, &service);
    spec.name = "custom";
    spec.replace = Some("custom");
    let body = body_json(&container_create(&spec).unwrap());
    assert_eq!(
        body["NetworkingConfig"]["EndpointsConfig"]["oracletrace_default"]["Aliases"],
        json!(["custom", "web"])
    );
}

#[test]
fn mac_address_placement_by_api() {
    let mut service = web();
    service.mac_address = Some("02:42:ac:11:00:02".to_owned());
    let project = project();

    let legacy = body_json(&create(&project, &service));
    assert_eq!(legacy["MacAddress"], json!("02:42:ac:11:00:02"));
    let endpoint = &legacy["NetworkingConfig"]["EndpointsConfig"]["oracletrace_default"];
    assert_eq!(endpoint.get("MacAddress"), None);

    let mut modern = spec(&project, &service);
    modern.api_version = "1.45";
    let modern = body_json(&container_create(&modern).unwrap());
    assert_eq!(modern.get("MacAddress"), None);
    let endpoint = &modern["NetworkingConfig"]["EndpointsConfig"]["oracletrace_default"];
    assert_eq!(endpoint["MacAddress"], json!("02:42:ac:11:00:02"));
}

#[test]
fn mac_address_conflicts() {
    let mut service = two_network_service();
    service.mac_address = Some("02:42:ac:11:00:02".to_owned());
    service
        .networks
        .get_mut("back")
        .unwrap()
        .as_mut()
        .unwrap()
        .mac_address = Some("02:42:ac:11:00:03".to_owned());
    let project = project_with_two_networks();
    let error = container_create(&spec(&project, &service)).unwrap_err();
    assert_eq!(
        error.to_string(),
        "service `web`: invalid `mac_address` value `02:42:ac:11:00:02`: \
         differs from `02:42:ac:11:00:03` set on the primary network"
    );

    service.mac_address = None;
    service
        .networks
        .get_mut("front")
        .unwrap()
        .as_mut()
        .unwrap()
        .mac_address = Some("02:42:ac:11:00:04".to_owned());
    let error = container_create(&spec(&project, &service)).unwrap_err();
    assert!(
        matches!(&error, ContainerSpecError::Invalid { field, value, .. }
            if field == "networks" && value == "back, front"),
        "{error}"
    );

    let mut modern = spec(&project, &service);
    modern.api_version = "1.44";
    assert!(container_create(&modern).is_ok());
}

#[test]
fn network_mode_skips_networking_config() {
    let mut service = web();
    service.networks.clear();
    service.network_mode = Some("container:4f1e".to_owned());
    let body = body_json(&create(&project(), &service));
    assert_eq!(body["HostConfig"]["NetworkMode"], json!("container:4f1e"));
    assert_eq!(body.get("NetworkingConfig"), None);

    service.network_mode = Some("disabled".to_owned());
    let error = container_create(&spec(&project(), &service)).unwrap_err();
    assert!(
        matches!(error, ContainerSpecError::Unsupported { .. }),
        "{error}"
    );
}

#[test]
fn project_without_networks_uses_none() {
    let mut project = project();
    project.networks.clear();
    let mut service = web();
    service.networks.clear();
    let body = body_json(&create(&project, &service));
    assert_eq!(body["HostConfig"]["NetworkMode"], json!("none"));
    assert_eq!(body.get("NetworkingConfig"), None);
}

#[test]
fn links_name_every_target_container() {
    let mut service = web();
    service.links = vec!["db".to_owned(), "cache:memo".to_owned(), "gone".to_owned()];
    let mut targets = BTreeMap::new();
    targets.insert(
        "db".to_owned(),
        vec!["oracletrace-db-1".to_owned(), "oracletrace-db-2".to_owned()],
    );
    targets.insert("cache".to_owned(), vec!["redis".to_owned()]);
    let project = project();
    let mut spec = spec(&project, &service);
    spec.number = 2;
    spec.link_targets = &targets;

    let body = body_json(&container_create(&spec).unwrap());
    let expected = json!([
        "oracletrace-db-1:db",
        "oracletrace-db-1:db-2",
        "oracletrace-db-1:oracletrace-db-2",
        "oracletrace-db-2:db",
        "oracletrace-db-2:db-2",
        "oracletrace-db-2:oracletrace-db-2",
        "redis:memo",
        "redis:cache-2",
        "redis:oracletrace-cache-2"
    ]);
    assert_eq!(body["HostConfig"]["Links"], expected);
    assert_eq!(
        body["NetworkingConfig"]["EndpointsConfig"]["oracletrace_default"]["Links"],
        expected
    );
}

#[test]
fn invalid_api_version() {
    let (project, service) = (project(), web());
    let mut spec = spec(&project, &service);
    spec.api_version = "v1";
    assert_eq!(
        container_create(&spec).unwrap_err(),
        ContainerSpecError::ApiVersion("v1".to_owned())
    );
}

#[test]
fn recursive_bind_is_unsupported() {
    let mut service = web();
    service.volumes = vec![ServiceVolume {
        bind: Some(BindOptions {
            recursive: Some("readonly".to_owned()),
            create_host_path: true,
            ..BindOptions::default()
        }),
        ..volume("bind", Some("/srv"), "/srv")
    }];
    let error = container_create(&spec(&project(), &service)).unwrap_err();
    assert_eq!(
        error.to_string(),
        "service `web`: `volumes[0].bind.recursive` is not supported yet (value readonly)"
    );
}

#[test]
fn relative_bind_source_is_invalid() {
    let mut service = web();
    service.volumes = vec![volume("bind", Some("./data"), "/data")];
    let error = container_create(&spec(&project(), &service)).unwrap_err();
    assert!(
        matches!(error, ContainerSpecError::Invalid { .. }),
        "{error}"
    );
}

#[test]
fn deterministic_output() {
    let mut service = two_network_service();
    service.environment.insert("Z".to_owned(), None);
    service.volumes = vec![volume("volume", None, "/b"), volume("volume", None, "/a")];
    let project = project_with_two_networks();
    let first = serde_json::to_string(&create(&project, &service).body).unwrap();
    let second = serde_json::to_string(&create(&project, &service).body).unwrap();
    assert_eq!(first, second);
}

#[test]
fn fields_outside_the_engine_are_accepted() {
    let mut service = web();
    service.profiles = vec!["debug".to_owned()];
    service.attach = Some(false);
    service.container_name = Some("custom".to_owned());
    service.scale = Some(2);
    service.pull_policy = Some("never".to_owned());
    service.deploy = Some(Deploy {
        replicas: Some(2),
        ..Deploy::default()
    });
    let plain = create(&project(), &web()).body;
    assert_eq!(create(&project(), &service).body, plain);
}
