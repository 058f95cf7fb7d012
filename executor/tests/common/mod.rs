//! Shared helpers of the executor's engine tests: finding the private test
//! engine, a project that cleans up after itself, and builders for plans
//! written by hand from the contract types.

// Each test file uses a different part of the helpers.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use berth_executor::{ObserveRequest, connect_to, observe};
use berth_planner::engine_body::{
    ContainerBody, EndpointBody, HealthcheckBody, HostConfigBody, NetworkBody, NetworkingConfigBody,
};
use berth_planner::plan::{ContainerRef, Plan, PlanOptions, Step, StepAction, Summary};
use berth_planner::snapshot::{ObserveScope, Snapshot};
use bollard::Docker;
use bollard::query_parameters::{
    InspectContainerOptions, ListContainersOptions, ListNetworksOptions, ListVolumesOptions,
    RemoveContainerOptions, RemoveVolumeOptions,
};

/// The offline test image: busybox without a CMD.
pub const IMAGE: &str = "local/busybox:test";

/// Sockets the tests refuse: they only ever use the private test engine.
const DEFAULT_SOCKETS: &[&str] = &["unix:///var/run/docker.sock", "unix:///run/docker.sock"];

/// Returns the test engine's address from `BERTH_TEST_DOCKER_HOST`, or `None`
/// (after printing why) when the tests are to be skipped. Panics when the
/// engine is required (`CI=true` or `BERTH_REQUIRE_ENGINE=1`).
pub fn engine_host() -> Option<String> {
    let host = std::env::var("BERTH_TEST_DOCKER_HOST")
        .ok()
        .filter(|host| !host.is_empty());
    let Some(host) = host else {
        let required = std::env::var("CI").is_ok_and(|value| value == "true")
            || std::env::var("BERTH_REQUIRE_ENGINE").is_ok_and(|value| value == "1");
        if required {
            panic!("no test engine: BERTH_TEST_DOCKER_HOST is unset but the engine is required");
        }
        eprintln!("skipped: no test engine");
        return None;
    };
    assert!(
        !DEFAULT_SOCKETS.contains(&host.as_str()),
        "BERTH_TEST_DOCKER_HOST={host} is the machine's own engine"
    );
    Some(host)
}

/// A project of one test: a unique name, and everything labelled with it
/// removed from the engine when dropped, also after a failed assertion.
pub struct TestProject {
    pub name: String,
    pub host: String,
    pub docker: Docker,
}

impl TestProject {
    /// Connects and picks a project name no other test run uses.
    pub async fn new(host: &str, prefix: &str) -> TestProject {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!(
            "bx{prefix}{}x{}x{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let docker = connect_to(host).await.expect("connect to the test engine");
        TestProject {
            name,
            host: host.to_owned(),
            docker,
        }
    }

    /// `<project>-<service>-1`.
    pub fn container(&self, service: &str) -> String {
        format!("{}-{service}-1", self.name)
    }

    /// `<project>_default`.
    pub fn network(&self) -> String {
        format!("{}_default", self.name)
    }

    /// Observes the project over `scope`.
    pub async fn observe(&self, scope: &ObserveScope) -> Snapshot {
        let request = ObserveRequest::new(self.name.clone(), scope.clone());
        observe(&self.docker, &request).await.expect("observe")
    }

    /// Builds a plan of `steps` against the engine as it is now.
    pub async fn plan(&self, scope: ObserveScope, steps: Vec<Step>) -> Plan {
        let snapshot = self.observe(&scope).await;
        Plan {
            format_version: berth_planner::plan::PLAN_FORMAT_VERSION,
            berth_version: "test".to_owned(),
            project: self.name.clone(),
            destroy: false,
            model_digest: String::new(),
            fingerprint: snapshot.fingerprint(),
            observed_resources: snapshot.resource_digests(),
            observed: scope,
            options: PlanOptions {
                wait_timeout_seconds: 60,
                ..PlanOptions::default()
            },
            changes: Vec::new(),
            steps,
            warnings: Vec::new(),
            summary: Summary::default(),
        }
    }

    /// Inspects a container.
    pub async fn inspect(&self, name: &str) -> bollard::models::ContainerInspectResponse {
        self.docker
            .inspect_container(name, None::<InspectContainerOptions>)
            .await
            .unwrap_or_else(|error| panic!("inspect {name}: {error}"))
    }

    /// Returns the engine state of a container (`running`, `created`, ...).
    pub async fn state(&self, name: &str) -> String {
        let inspect = self.inspect(name).await;
        inspect.state.unwrap().status.unwrap().to_string()
    }

    /// Builds the labels of the project's resources, plus `extra`.
    pub fn labels(&self, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut labels =
            BTreeMap::from([("com.docker.compose.project".to_owned(), self.name.clone())]);
        for (key, value) in extra {
            labels.insert((*key).to_owned(), (*value).to_owned());
        }
        labels
    }

    /// Builds a create-network step for `<project>_default`.
    pub fn create_network_step(&self) -> Step {
        let name = self.network();
        step(
            &format!("create-network:{name}"),
            &[],
            StepAction::CreateNetwork {
                name: name.clone(),
                body: NetworkBody {
                    name,
                    driver: Some("bridge".to_owned()),
                    labels: self.labels(&[("com.docker.compose.network", "default")]),
                    ..NetworkBody::default()
                },
            },
        )
    }

    /// Builds a container body of `service` on the default network running
    /// `command`, labelled as Docker Compose labels service containers.
    pub fn container_body(&self, service: &str, command: &[&str]) -> ContainerBody {
        let network = self.network();
        let endpoint = EndpointBody {
            aliases: vec![self.container(service), service.to_owned()],
            ..EndpointBody::default()
        };
        ContainerBody {
            attach_stdout: true,
            attach_stderr: true,
            image: IMAGE.to_owned(),
            cmd: Some(command.iter().map(|part| (*part).to_owned()).collect()),
            labels: self.labels(&[
                ("com.docker.compose.service", service),
                ("com.docker.compose.container-number", "1"),
                ("com.docker.compose.oneoff", "False"),
            ]),
            host_config: HostConfigBody {
                network_mode: Some(network.clone()),
                ..HostConfigBody::default()
            },
            networking_config: Some(NetworkingConfigBody {
                endpoints_config: BTreeMap::from([(network, endpoint)]),
            }),
            ..ContainerBody::default()
        }
    }

    /// Removes everything labelled with the project, by force.
    async fn clean_up(docker: &Docker, project: &str) {
        let filter = |label: String| {
            Some(std::collections::HashMap::from([(
                "label".to_owned(),
                vec![label],
            )]))
        };
        let label = format!("com.docker.compose.project={project}");
        let containers = docker
            .list_containers(Some(ListContainersOptions {
                all: true,
                filters: filter(label.clone()),
                ..Default::default()
            }))
            .await
            .unwrap_or_default();
        for container in containers {
            let options = RemoveContainerOptions {
                force: true,
                v: true,
                link: false,
            };
            let _ = docker
                .remove_container(&container.id.unwrap_or_default(), Some(options))
                .await;
        }
        let networks = docker
            .list_networks(Some(ListNetworksOptions {
                filters: filter(label.clone()),
            }))
            .await
            .unwrap_or_default();
        for network in networks {
            let _ = docker.remove_network(&network.id.unwrap_or_default()).await;
        }
        let volumes = docker
            .list_volumes(Some(ListVolumesOptions {
                filters: filter(label),
            }))
            .await
            .map(|list| list.volumes.unwrap_or_default())
            .unwrap_or_default();
        for volume in volumes {
            let _ = docker
                .remove_volume(&volume.name, None::<RemoveVolumeOptions>)
                .await;
        }
    }
}

impl Drop for TestProject {
    fn drop(&mut self) {
        // The test's runtime cannot be blocked on from inside, so the
        // clean-up runs on a thread with a runtime of its own.
        let host = self.host.clone();
        let project = self.name.clone();
        let cleaner = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("clean-up runtime");
            runtime.block_on(async {
                if let Ok(docker) = connect_to(&host).await {
                    TestProject::clean_up(&docker, &project).await;
                }
            });
        });
        let _ = cleaner.join();
    }
}

/// Builds a step with an id and the steps it comes after.
pub fn step(id: &str, after: &[&str], action: StepAction) -> Step {
    Step {
        id: id.to_owned(),
        after: after.iter().map(|id| (*id).to_owned()).collect(),
        action,
    }
}

/// Refers to a container by name only.
pub fn by_name(name: &str) -> ContainerRef {
    ContainerRef {
        name: name.to_owned(),
        id: None,
    }
}

/// Refers to a container by name and id.
pub fn by_id(name: &str, id: &str) -> ContainerRef {
    ContainerRef {
        name: name.to_owned(),
        id: Some(id.to_owned()),
    }
}

/// A healthcheck running `true` every second.
pub fn quick_healthcheck() -> HealthcheckBody {
    HealthcheckBody {
        test: vec!["CMD".to_owned(), "true".to_owned()],
        interval: 1_000_000_000,
        retries: 3,
        ..HealthcheckBody::default()
    }
}
