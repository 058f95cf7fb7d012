//! Plans built by hand from the contract types, shared by the renderer
//! tests. Each one pins a situation a reviewer meets: nothing to do, a first
//! start, a replacement with diffs, orphans, dependents restarted, a
//! teardown, a network replaced under its containers, and lifecycle hooks.

use serde_json::{Value, json};

use crate::engine_body::{ContainerBody, EndpointBody, EndpointIpamBody};
use crate::plan::{
    Action, ContainerRef, FieldDiff, Hook, Plan, Reason, ResourceChange, ResourceKind,
    ServiceHooks, Step, StepAction, Summary, WaitCondition, Warning,
};

/// Secret values in the replacement plan, of equal length so that a
/// rendering cannot tell them apart by size either.
pub(crate) const OLD_SECRET: &str = "hunter2-old";
pub(crate) const NEW_SECRET: &str = "hunter2-new";

/// Temporary name a replacement of `shop-api-1` is created under.
const TEMP_API: &str = "0123456789ab_shop-api-1";

/// Temporary name a replacement of `shop-db-1` is created under.
const TEMP_DB: &str = "ba9876543210_shop-db-1";

/// Returns every sample plan.
pub(crate) fn all() -> Vec<Plan> {
    vec![
        empty(),
        creates(),
        replacement(),
        orphan_removal(),
        dependent_restarts(),
        destroy(),
        network_replacement(),
        lifecycle_hooks(),
    ]
}

/// Builds a plan without changes. Fields that the contract gives defaults
/// are left to it, so the samples keep compiling when the contract grows.
fn base(project: &str) -> Plan {
    serde_json::from_value(json!({
        "format_version": 1,
        "berth_version": "0.1.0",
        "project": project,
        "model_digest": "sha256:0000",
        "fingerprint": "sha256:1111",
        "options": { "wait_timeout_seconds": 60 },
        "changes": [],
        "steps": [],
        "warnings": [],
        "summary": Summary::default(),
    }))
    .expect("the base plan matches the contract")
}

fn container(
    address: &str,
    name: &str,
    service: &str,
    action: Action,
    reasons: Vec<Reason>,
) -> ResourceChange {
    ResourceChange {
        address: address.to_string(),
        kind: ResourceKind::Container,
        name: name.to_string(),
        service: Some(service.to_string()),
        action,
        reasons,
        diffs: Vec::new(),
        caused_by: Vec::new(),
    }
}

fn network(address: &str, name: &str, action: Action, reasons: Vec<Reason>) -> ResourceChange {
    ResourceChange {
        address: address.to_string(),
        kind: ResourceKind::Network,
        name: name.to_string(),
        service: None,
        action,
        reasons,
        diffs: Vec::new(),
        caused_by: Vec::new(),
    }
}

fn field(path: &str, before: Option<Value>, after: Option<Value>, sensitive: bool) -> FieldDiff {
    FieldDiff {
        path: path.to_string(),
        before,
        after,
        sensitive,
    }
}

fn step(id: &str, after: &[&str], action: StepAction) -> Step {
    Step {
        id: id.to_string(),
        after: after.iter().map(|id| id.to_string()).collect(),
        action,
    }
}

fn by_name(name: &str) -> ContainerRef {
    ContainerRef {
        name: name.to_string(),
        id: None,
    }
}

fn by_id(name: &str, id: &str) -> ContainerRef {
    ContainerRef {
        name: name.to_string(),
        id: Some(id.to_string()),
    }
}

fn create_container(name: &str, service: &str, image: &str) -> StepAction {
    let mut body = ContainerBody {
        image: image.to_string(),
        ..ContainerBody::default()
    };
    body.labels.insert(
        "com.docker.compose.service".to_string(),
        service.to_string(),
    );
    StepAction::CreateContainer {
        name: name.to_string(),
        body: Box::new(body),
        hash_input: None,
    }
}

/// Builds a plan for a project that already matches its compose files.
pub(crate) fn empty() -> Plan {
    let mut plan = base("shop");
    plan.changes = vec![
        network("network.default", "shop_default", Action::NoOp, vec![]),
        container(
            "service.db[1]",
            "shop-db-1",
            "db",
            Action::NoOp,
            vec![Reason::UpToDate],
        ),
        container(
            "service.web[1]",
            "shop-web-1",
            "web",
            Action::NoOp,
            vec![Reason::UpToDate],
        ),
        container(
            "service.web[2]",
            "shop-web-2",
            "web",
            Action::NoOp,
            vec![Reason::UpToDate],
        ),
    ];
    plan
}

/// Builds a first start: a network and three containers, web waiting on db.
pub(crate) fn creates() -> Plan {
    let mut plan = base("shop");
    plan.changes = vec![
        network(
            "network.default",
            "shop_default",
            Action::Create,
            vec![Reason::Missing],
        ),
        container(
            "service.db[1]",
            "shop-db-1",
            "db",
            Action::Create,
            vec![Reason::Missing],
        ),
        container(
            "service.web[1]",
            "shop-web-1",
            "web",
            Action::Create,
            vec![Reason::Missing],
        ),
        container(
            "service.web[2]",
            "shop-web-2",
            "web",
            Action::Create,
            vec![Reason::ScaleUp],
        ),
    ];
    let network_body = crate::engine_body::NetworkBody {
        name: "shop_default".to_string(),
        ..Default::default()
    };
    plan.steps = vec![
        step(
            "create_network:shop_default",
            &[],
            StepAction::CreateNetwork {
                name: "shop_default".to_string(),
                body: network_body,
            },
        ),
        step(
            "create:shop-db-1",
            &["create_network:shop_default"],
            create_container("shop-db-1", "db", "postgres:16"),
        ),
        step(
            "start:shop-db-1",
            &["create:shop-db-1"],
            StepAction::StartContainer {
                container: by_name("shop-db-1"),
                post_start: None,
            },
        ),
        step(
            "wait:db",
            &["start:shop-db-1"],
            StepAction::Wait {
                service: "db".to_string(),
                containers: vec!["shop-db-1".to_string()],
                condition: WaitCondition::Healthy,
                timeout_seconds: 60,
            },
        ),
        step(
            "create:shop-web-1",
            &["create_network:shop_default"],
            create_container("shop-web-1", "web", "local/web:1.4"),
        ),
        step(
            "create:shop-web-2",
            &["create_network:shop_default"],
            create_container("shop-web-2", "web", "local/web:1.4"),
        ),
        step(
            "start:shop-web-1",
            &["create:shop-web-1", "wait:db"],
            StepAction::StartContainer {
                container: by_name("shop-web-1"),
                post_start: None,
            },
        ),
        step(
            "start:shop-web-2",
            &["create:shop-web-2", "wait:db"],
            StepAction::StartContainer {
                container: by_name("shop-web-2"),
                post_start: None,
            },
        ),
    ];
    plan.summary = Summary {
        create: 4,
        ..Summary::default()
    };
    plan
}

/// Builds the replacement of a container whose config and image changed,
/// with environment diffs (one sensitive), a multi-line command diff and a
/// nested healthcheck diff.
pub(crate) fn replacement() -> Plan {
    let mut plan = base("shop");
    let mut api = container(
        "service.api[1]",
        "shop-api-1",
        "api",
        Action::Replace,
        vec![Reason::ConfigChanged, Reason::ImageChanged],
    );
    api.diffs = vec![
        field(
            "environment.STORE_MODE",
            Some(json!("a")),
            Some(json!("b")),
            false,
        ),
        field(
            "environment.DB_PASSWORD",
            Some(json!(OLD_SECRET)),
            Some(json!(NEW_SECRET)),
            true,
        ),
        field("environment.API_TOKEN", None, Some(json!("tok-123")), true),
        field("environment.FEATURE_X", None, Some(json!("1")), false),
        field("environment.LEGACY_MODE", Some(json!("on")), None, false),
        field(
            "command",
            Some(json!([
                "sh",
                "-c",
                "set -e\n./migrate --check\n\nexec server --port 8080"
            ])),
            Some(json!([
                "sh",
                "-c",
                "set -e\n./migrate --check\n\nexec server --port 9090 --verbose"
            ])),
            false,
        ),
        field(
            "healthcheck",
            Some(
                json!({"test": ["CMD", "wget", "-q", "http://localhost:8080/health"], "retries": 3}),
            ),
            Some(
                json!({"test": ["CMD", "wget", "-q", "http://localhost:9090/health"], "retries": 5}),
            ),
            false,
        ),
        field(
            "stop_grace_period",
            Some(json!("10s")),
            Some(json!(30)),
            false,
        ),
    ];
    plan.changes = vec![
        container(
            "service.db[1]",
            "shop-db-1",
            "db",
            Action::NoOp,
            vec![Reason::UpToDate],
        ),
        api,
    ];
    plan.steps = vec![
        step(
            "create:shop-api-1",
            &[],
            create_container(TEMP_API, "api", "local/busybox:test"),
        ),
        step(
            "stop:shop-api-1",
            &["create:shop-api-1"],
            StepAction::StopContainer {
                container: by_id("shop-api-1", "c0ffee000001"),
                timeout_seconds: Some(10),
                pre_stop: None,
            },
        ),
        step(
            "remove:shop-api-1",
            &["stop:shop-api-1"],
            StepAction::RemoveContainer {
                container: by_id("shop-api-1", "c0ffee000001"),
                remove_volumes: false,
            },
        ),
        step(
            "rename:shop-api-1",
            &["remove:shop-api-1"],
            StepAction::RenameContainer {
                container: by_name(TEMP_API),
                to: "shop-api-1".to_string(),
            },
        ),
        step(
            "start:shop-api-1",
            &["rename:shop-api-1"],
            StepAction::StartContainer {
                container: by_name(TEMP_API),
                post_start: None,
            },
        ),
    ];
    plan.summary = Summary {
        replace: 1,
        ..Summary::default()
    };
    plan
}

/// Builds the removal of orphans with `--remove-orphans`, a scale-down,
/// and warnings.
pub(crate) fn orphan_removal() -> Plan {
    let mut plan = base("shop");
    plan.options.remove_orphans = true;
    let legacy = container(
        "orphan.shop-legacy-1",
        "shop-legacy-1",
        "legacy",
        Action::Remove,
        vec![Reason::Orphan],
    );
    let mut unlabeled = legacy.clone();
    unlabeled.address = "orphan.shop-tmp-1".to_string();
    unlabeled.name = "shop-tmp-1".to_string();
    unlabeled.service = None;

    plan.changes = vec![
        container(
            "service.web[1]",
            "shop-web-1",
            "web",
            Action::NoOp,
            vec![Reason::UpToDate],
        ),
        container(
            "service.web[2]",
            "shop-web-2",
            "web",
            Action::Remove,
            vec![Reason::ScaleDown],
        ),
        legacy,
        unlabeled,
    ];

    plan.steps = ["shop-web-2", "shop-legacy-1", "shop-tmp-1"]
        .iter()
        .flat_map(|name| {
            [
                step(
                    &format!("stop:{name}"),
                    &[],
                    StepAction::StopContainer {
                        container: by_name(name),
                        timeout_seconds: None,
                        pre_stop: None,
                    },
                ),
                step(
                    &format!("remove:{name}"),
                    &[&format!("stop:{name}")],
                    StepAction::RemoveContainer {
                        container: by_name(name),
                        remove_volumes: false,
                    },
                ),
            ]
        })
        .collect();

    plan.warnings = vec![
        Warning {
            code: "orphans".to_string(),
            message: "containers shop-legacy-1 and shop-tmp-1 belong to no service \
                      of the compose files; they are removed because of --remove-orphans"
                .to_string(),
        },
        Warning {
            code: "ignored_field".to_string(),
            message: "service web: deploy.placement is not supported and is ignored".to_string(),
        },
    ];
    plan.summary = Summary {
        remove: 3,
        ..Summary::default()
    };
    plan
}

/// Builds the replacement of a dependency with `restart: true`
/// dependents, next to a stopped container started again, a paused one
/// unpaused and a completed one-shot left alone.
pub(crate) fn dependent_restarts() -> Plan {
    let mut plan = base("shop");
    plan.changes = vec![
        container(
            "service.db[1]",
            "shop-db-1",
            "db",
            Action::Replace,
            vec![Reason::ConfigChanged],
        ),
        container(
            "service.web[1]",
            "shop-web-1",
            "web",
            Action::Restart,
            vec![Reason::DependencyReplaced],
        ),
        container(
            "service.web[2]",
            "shop-web-2",
            "web",
            Action::Restart,
            vec![Reason::DependencyReplaced],
        ),
        container(
            "service.worker[1]",
            "shop-worker-1",
            "worker",
            Action::Start,
            vec![Reason::Stopped],
        ),
        container(
            "service.cache[1]",
            "shop-cache-1",
            "cache",
            Action::Unpause,
            vec![Reason::Paused],
        ),
        container(
            "service.migrate[1]",
            "shop-migrate-1",
            "migrate",
            Action::NoOp,
            vec![Reason::Completed],
        ),
    ];
    let stop = |name: &str| StepAction::StopContainer {
        container: by_name(name),
        timeout_seconds: None,
        pre_stop: None,
    };
    let start = |name: &str| StepAction::StartContainer {
        container: by_name(name),
        post_start: None,
    };
    plan.steps = vec![
        step("stop:shop-web-1", &[], stop("shop-web-1")),
        step("stop:shop-web-2", &[], stop("shop-web-2")),
        step(
            "create:shop-db-1",
            &[],
            create_container(TEMP_DB, "db", "postgres:16"),
        ),
        step(
            "stop:shop-db-1",
            &["create:shop-db-1", "stop:shop-web-1", "stop:shop-web-2"],
            stop("shop-db-1"),
        ),
        step(
            "remove:shop-db-1",
            &["stop:shop-db-1"],
            StepAction::RemoveContainer {
                container: by_name("shop-db-1"),
                remove_volumes: false,
            },
        ),
        step(
            "rename:shop-db-1",
            &["remove:shop-db-1"],
            StepAction::RenameContainer {
                container: by_name(TEMP_DB),
                to: "shop-db-1".to_string(),
            },
        ),
        step("start:shop-db-1", &["rename:shop-db-1"], start(TEMP_DB)),
        step(
            "wait:db",
            &["start:shop-db-1"],
            StepAction::Wait {
                service: "db".to_string(),
                containers: vec![TEMP_DB.to_string()],
                condition: WaitCondition::Healthy,
                timeout_seconds: 60,
            },
        ),
        step("start:shop-web-1", &["wait:db"], start("shop-web-1")),
        step("start:shop-web-2", &["wait:db"], start("shop-web-2")),
        step("start:shop-worker-1", &[], start("shop-worker-1")),
        step(
            "unpause:shop-cache-1",
            &[],
            StepAction::UnpauseContainer {
                container: by_name("shop-cache-1"),
            },
        ),
    ];
    plan.summary = Summary {
        replace: 1,
        restart: 2,
        start: 1,
        unpause: 1,
        ..Summary::default()
    };
    plan
}

/// Builds a teardown of the whole project.
pub(crate) fn destroy() -> Plan {
    let mut plan = base("shop");
    plan.destroy = true;
    plan.changes = vec![
        container(
            "service.web[1]",
            "shop-web-1",
            "web",
            Action::Remove,
            vec![],
        ),
        container("service.db[1]", "shop-db-1", "db", Action::Remove, vec![]),
        network("network.default", "shop_default", Action::Remove, vec![]),
    ];
    plan.steps = vec![
        step(
            "stop:shop-web-1",
            &[],
            StepAction::StopContainer {
                container: by_name("shop-web-1"),
                timeout_seconds: None,
                pre_stop: None,
            },
        ),
        step(
            "remove:shop-web-1",
            &["stop:shop-web-1"],
            StepAction::RemoveContainer {
                container: by_name("shop-web-1"),
                remove_volumes: false,
            },
        ),
        step(
            "stop:shop-db-1",
            &["stop:shop-web-1"],
            StepAction::StopContainer {
                container: by_name("shop-db-1"),
                timeout_seconds: None,
                pre_stop: None,
            },
        ),
        step(
            "remove:shop-db-1",
            &["stop:shop-db-1"],
            StepAction::RemoveContainer {
                container: by_name("shop-db-1"),
                remove_volumes: false,
            },
        ),
        step(
            "remove_network:shop_default",
            &["remove:shop-web-1", "remove:shop-db-1"],
            StepAction::RemoveNetwork {
                name: "shop_default".to_string(),
                id: "feed00000001".to_string(),
            },
        ),
    ];
    plan.summary = Summary {
        remove: 3,
        ..Summary::default()
    };
    plan
}

/// Builds a plan that replaces network `shop_back`: `shop-web-1` is
/// connected again with its alias and address, and `shop-old-1`, which the
/// plan removes, is only disconnected.
pub(crate) fn network_replacement() -> Plan {
    let mut plan = base("shop");
    plan.changes = vec![
        network(
            "network.back",
            "shop_back",
            Action::Replace,
            vec![Reason::ConfigChanged],
        ),
        container(
            "service.old[1]",
            "shop-old-1",
            "old",
            Action::Remove,
            vec![Reason::ScaleDown],
        ),
    ];
    let disconnect = |container: &str| StepAction::DisconnectNetwork {
        container: container.to_string(),
        network: "shop_back".to_string(),
    };
    plan.steps = vec![
        step(
            "network.disconnect:shop-old-1:shop_back",
            &[],
            disconnect("shop-old-1"),
        ),
        step(
            "network.disconnect:shop-web-1:shop_back",
            &[],
            disconnect("shop-web-1"),
        ),
        step(
            "network.remove:shop_back",
            &[
                "network.disconnect:shop-old-1:shop_back",
                "network.disconnect:shop-web-1:shop_back",
            ],
            StepAction::RemoveNetwork {
                name: "shop_back".to_string(),
                id: "9".repeat(64),
            },
        ),
        step(
            "network.reconnect:shop-web-1:shop_back",
            &["network.remove:shop_back"],
            StepAction::ConnectNetwork {
                container: "shop-web-1".to_string(),
                network: "shop_back".to_string(),
                endpoint: EndpointBody {
                    aliases: vec![
                        "shop-web-1".to_string(),
                        "web".to_string(),
                        "www".to_string(),
                    ],
                    ipam_config: Some(EndpointIpamBody {
                        ipv4_address: Some("172.28.0.10".to_string()),
                        ..EndpointIpamBody::default()
                    }),
                    ..EndpointBody::default()
                },
            },
        ),
    ];
    plan.summary = Summary {
        replace: 1,
        remove: 1,
        ..Summary::default()
    };
    plan
}

/// Secret value of a hook's environment in the hooks plan.
pub(crate) const HOOK_SECRET: &str = "hunter2-hook";

/// A restart of a dependent with both kinds of hooks, and a scale-down
/// whose stop runs a `pre_stop` hook.
pub(crate) fn lifecycle_hooks() -> Plan {
    let mut plan = base("shop");
    plan.changes = vec![
        container(
            "service.web[1]",
            "shop-web-1",
            "web",
            Action::Restart,
            vec![Reason::DependencyReplaced],
        ),
        container(
            "service.worker[2]",
            "shop-worker-2",
            "worker",
            Action::Remove,
            vec![Reason::ScaleDown],
        ),
    ];
    plan.changes[0].caused_by = vec!["db".to_string()];
    let warm_up = Hook {
        command: vec!["sh".into(), "-c".into(), "echo ready > /tmp/ready".into()],
        user: Some("root".into()),
        environment: [
            ("TOKEN".to_string(), Some(HOOK_SECRET.to_string())),
            ("DEBUG".to_string(), None),
        ]
        .into_iter()
        .collect(),
        ..Hook::default()
    };
    let drain = Hook {
        command: vec!["/bin/drain".into(), "--grace".into(), "5s".into()],
        working_dir: Some("/srv".into()),
        privileged: true,
        ..Hook::default()
    };
    let web_hooks = |hooks: Vec<Hook>| ServiceHooks {
        service: "web".into(),
        hooks,
    };
    plan.steps = vec![
        step(
            "stop:shop-web-1",
            &[],
            StepAction::StopContainer {
                container: by_id("shop-web-1", "5eb1"),
                timeout_seconds: None,
                pre_stop: Some(web_hooks(vec![drain.clone()])),
            },
        ),
        step(
            "stop:shop-worker-2",
            &[],
            StepAction::StopContainer {
                container: by_id("shop-worker-2", "40b2"),
                timeout_seconds: None,
                pre_stop: Some(ServiceHooks {
                    service: "worker".into(),
                    hooks: vec![drain],
                }),
            },
        ),
        step(
            "remove:shop-worker-2",
            &["stop:shop-worker-2"],
            StepAction::RemoveContainer {
                container: by_id("shop-worker-2", "40b2"),
                remove_volumes: false,
            },
        ),
        step(
            "start:shop-web-1",
            &["stop:shop-web-1", "remove:shop-worker-2"],
            StepAction::StartContainer {
                container: by_id("shop-web-1", "5eb1"),
                post_start: Some(web_hooks(vec![warm_up])),
            },
        ),
    ];
    plan.summary = Summary {
        remove: 1,
        restart: 1,
        ..Summary::default()
    };
    plan
}
