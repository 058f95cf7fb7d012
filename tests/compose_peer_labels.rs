//! Creates every loadable case of the peer corpus on the test engine with
//! the real Docker Compose (`create --pull never --no-build`), and compares
//! the config-hash labels it writes with berth's hashes:
//!
//! - each container's label with `berth config --hash` for its service
//!   (except services whose hash includes other containers' ids);
//! - each network's and volume's label with the create step of
//!   `berth plan`, planned before Compose creates anything.
//!
//! The hashes do not depend on what an image holds, so every image a case
//! names is a tag of a stand-in: the offline test image with a default
//! command. External networks and volumes are created for the run.
//!
//! Compose cannot create some cases on this engine (plugins, runtimes,
//! bind sources the corpus leaves out). They are listed in
//! [`CREATE_FAILS`] with the reason. What Compose made before failing is
//! still compared, and `compose_peer_parity` compares their services'
//! hashes through `config --hash`. A listed case that Compose
//! now creates, or an unlisted one it cannot, fails the test.
//!
//! berth rejects a few cases that Compose creates but would fail
//! to start (an unset secret variable, a fixed host port on two
//! replicas); they are listed in [`PLAN_REJECTS`] with the error berth
//! must give.
//!
//! Without the corpus the test prints that it is absent and passes;
//! without the test engine it follows the harness rules.

#[path = "support/mod.rs"]
mod support;

#[path = "corpus_util/mod.rs"]
mod corpus_util;

#[path = "peer_util/mod.rs"]
mod peer_util;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Mutex, RwLock};

use corpus_util::labels::{
    compare_labels, compare_service_hashes, hash_lines, planned_resource_labels, read_labels,
    refers_to_containers,
};
use corpus_util::parse_json;
use peer_util::{Copy, berth_binary, corpus_dir, list_cases, loads, run_cases};
use serde_json::Value;
use support::{BUSYBOX_IMAGE, Engine, TestProject, describe, stderr_text};

/// The stand-in image: the offline test image with `sh` as its command,
/// since the engine rejects creating a container with no command.
const STAND_IN: &str = "local/peer-stand-in:test";

/// How many cases run at once.
const WORKERS: usize = 4;

/// Cases that Compose 2.40.3 cannot create on the test engine, with why.
const CREATE_FAILS: &[(&str, &str)] = &[
    (
        "awesome-compose/wasmedge-kafka-mysql",
        "the wasmedge runtime is not installed",
    ),
    (
        "awesome-compose/wasmedge-mysql-nginx",
        "the wasmedge runtime is not installed",
    ),
    (
        "compose-e2e/pkg__e2e__fixtures__build-test__platforms__compose-service-platform-and-no-build-platforms.yaml",
        "the stand-in image is not of the platform the service asks for",
    ),
    (
        "compose-e2e/pkg__e2e__fixtures__volume-test",
        "a bind source the corpus leaves out",
    ),
    (
        "compose-e2e/pkg__e2e__testdata__TestComposeModel",
        "needs the Docker Model plugin",
    ),
    (
        "compose-e2e/pkg__e2e__testdata__TestDependsOnMultipleProviders",
        "needs a provider plugin",
    ),
    (
        "compose-e2e/pkg__e2e__testdata__TestImageVolume",
        "an image volume Compose pulls",
    ),
    (
        "compose-e2e/pkg__e2e__testdata__TestImageVolumeImageAlreadyLocal",
        "an image volume Compose pulls",
    ),
    (
        "compose-e2e/pkg__e2e__testdata__TestImageVolumeRecreateOnRebuild",
        "an image volume of a service's image",
    ),
    (
        "compose-e2e/pkg__e2e__testdata__TestInterfaceName",
        "interface_name needs engine 28.1",
    ),
    (
        "compose-e2e/pkg__e2e__testdata__TestProviderRawSetEnv",
        "needs a provider plugin",
    ),
    (
        "compose-e2e/pkg__e2e__testdata__TestProviderRawSetEnvOverridesInheritedEnv",
        "needs a provider plugin",
    ),
    (
        "compose-e2e/pkg__e2e__testdata__TestProviderRawSetEnvOverridesInheritedEnvMapForm",
        "needs a provider plugin",
    ),
    (
        "compose-e2e/pkg__e2e__testdata__TestProviderRawSetEnvOverridesUserEnv",
        "needs a provider plugin",
    ),
    (
        "compose-e2e/pkg__e2e__testdata__TestProviderStopHook",
        "needs a provider plugin",
    ),
    (
        "compose-e2e/pkg__e2e__testdata__TestPublishBuildOnly",
        "the default image name has capitals",
    ),
    (
        "compose-e2e/pkg__e2e__testdata__TestStartInterval",
        "start_interval needs engine 25",
    ),
    (
        "compose-e2e/pkg__e2e__testdata__TestUpSwitchVolumes",
        "the external volume's name is empty",
    ),
    (
        "compose-go/cli__testdata__simple__compose-with-paths.yaml",
        "a Windows bind source",
    ),
    (
        "compose-spec/02-model.md__L0081",
        "the flocker volume plugin",
    ),
    ("compose-spec/05-services.md__L0255", "an external config"),
    ("compose-spec/05-services.md__L0293", "an external config"),
    (
        "compose-spec/05-services.md__L1887",
        "a bind source the corpus leaves out",
    ),
    ("compose-spec/05-services.md__L1923", "an external secret"),
    (
        "compose-spec/06-networks.md__L0030",
        "a network driver plugin",
    ),
    (
        "compose-spec/10-fragments.md__L0047",
        "a volume target that is not absolute",
    ),
    ("compose-spec/develop.md__L0072", "the image name `...`"),
    (
        "compose-spec/models.md__L0010",
        "needs the Docker Model plugin",
    ),
    (
        "compose-spec/models.md__L0025",
        "needs the Docker Model plugin",
    ),
];

/// Cases that Compose creates but berth rejects at plan time, because Compose
/// would fail later, when it starts them. berth's error must contain the
/// text given.
const PLAN_REJECTS: &[(&str, &str)] = &[
    (
        "compose-e2e/pkg__e2e__testdata__TestConfigFromEnv",
        "environment variable CONFIG is not set",
    ),
    (
        "compose-e2e/pkg__e2e__testdata__TestSecretFromEnv",
        "environment variable SECRET is not set",
    ),
    (
        "compose-spec/deploy.md__L0025",
        "host port *:8080/tcp is fixed",
    ),
];

/// What one case compared.
struct Compared {
    services: usize,
    networks: usize,
    volumes: usize,
    /// Compose's error, when it could not create the whole case.
    create_error: Option<String>,
    /// berth's error, when it reports a field as not supported.
    unsupported: Option<String>,
    /// berth's error, when it rejects a case listed in [`PLAN_REJECTS`].
    rejected: Option<String>,
}

fn first_line(text: &str) -> String {
    text.trim().lines().last().unwrap_or_default().to_owned()
}

/// Returns whether the case names something that two cases running at once
/// could both claim: a fixed container, network or volume name, an external
/// resource, or a fixed subnet.
fn claims_fixed_names(model: &Value, project: &str) -> bool {
    let fixed_resource = |kind: &str| {
        model[kind].as_object().is_some_and(|map| {
            map.iter().any(|(key, r)| {
                r["external"] == true
                    || r["name"].as_str() != Some(&format!("{project}_{key}"))
                    || r["ipam"]["config"]
                        .as_array()
                        .is_some_and(|c| !c.is_empty())
            })
        })
    };
    let container_name = model["services"]
        .as_object()
        .is_some_and(|s| s.values().any(|s| s["container_name"].is_string()));
    container_name || fixed_resource("networks") || fixed_resource("volumes")
}

/// Creates the case's external networks and volumes that are missing;
/// returns the `docker ... rm` arguments that remove them again.
fn create_externals(engine: &Engine, model: &Value) -> Vec<[String; 3]> {
    let mut created = Vec::new();
    for (kind, section) in [("network", "networks"), ("volume", "volumes")] {
        let Some(map) = model[section].as_object() else {
            continue;
        };
        for resource in map.values().filter(|r| r["external"] == true) {
            let Some(name) = resource["name"].as_str().filter(|n| !n.is_empty()) else {
                continue;
            };
            if !engine.docker(&[kind, "inspect", name]).status.success()
                && engine.docker(&[kind, "create", name]).status.success()
            {
                created.push([kind.to_owned(), "rm".to_owned(), name.to_owned()]);
            }
        }
    }
    created
}

/// Returns the images the case needs: each service's image, or Compose's
/// default name for a service that only builds.
fn needed_images(model: &Value, project: &str) -> Vec<String> {
    let Some(services) = model["services"].as_object() else {
        return Vec::new();
    };
    services
        .iter()
        .map(|(name, service)| match service["image"].as_str() {
            Some(image) => image.to_owned(),
            None => format!("{project}-{name}"),
        })
        .collect()
}

/// Tags the stand-in as every missing image and records the new tags in
/// `tagged`. They are removed only when every case is done, because a
/// container of a case still running may use one.
fn tag_stand_ins(engine: &Engine, images: &[String], tagged: &Mutex<BTreeSet<String>>) {
    for image in images {
        let mut tagged = tagged.lock().unwrap_or_else(|e| e.into_inner());
        if tagged.contains(image) || exists(engine, image) {
            continue;
        }
        if engine.docker(&["tag", STAND_IN, image]).status.success() {
            tagged.insert(image.clone());
        }
    }
}

/// Returns whether the engine has a local image `image`. A name without a tag gets
/// `:latest`, so that a short name such as `a` is not taken for the prefix
/// of an image id.
fn exists(engine: &Engine, image: &str) -> bool {
    let last = image.rsplit('/').next().unwrap_or(image);
    let reference = match image.contains('@') || last.contains(':') {
        true => image.to_owned(),
        false => format!("{image}:latest"),
    };
    engine
        .docker(&["image", "inspect", &reference])
        .status
        .success()
}

fn check_case(
    engine: &Engine,
    case: &str,
    source: &Path,
    tagged: &Mutex<BTreeSet<String>>,
    exclusive: &RwLock<()>,
) -> Result<Compared, String> {
    let project = TestProject::new(engine);
    let copy = Copy::new(source, project.name(), Some(&engine.host));
    let compose = &engine.compose;
    let model = copy.run(compose, &["config", "--format", "json"]);
    let model = parse_json(&model, "compose config")?;

    // Cases with fixed names run alone; the others share the engine.
    let (_alone, _shared);
    if claims_fixed_names(&model, project.name()) {
        _alone = exclusive.write().unwrap_or_else(|e| e.into_inner());
    } else {
        _shared = exclusive.read().unwrap_or_else(|e| e.into_inner());
    }
    tag_stand_ins(engine, &needed_images(&model, project.name()), tagged);
    let externals = create_externals(engine, &model);

    let plan = copy.run(berth_binary(), &["plan"]);
    let create = copy.run(compose, &["create", "--pull", "never", "--no-build"]);
    let created = read_labels(engine, project.name());
    let down = copy.run(compose, &["down", "-v", "-t", "0"]);
    for args in &externals {
        engine.docker(args);
    }
    let created = created?;
    if !down.status.success() {
        return Err(describe("compose down -v", &down));
    }

    let hashes = copy.run(berth_binary(), &["config", "--hash", "*"]);
    let hashes = hash_lines(&hashes, "berth config --hash")?;
    let services = compare_service_hashes(&created.services, &hashes, |service| {
        !refers_to_containers(&model["services"][service])
    })?;

    let create_error = (!create.status.success()).then(|| first_line(&stderr_text(&create)));
    let (mut unsupported, mut rejected) = (None, None);
    if plan.status.success() {
        let planned = planned_resource_labels(&parse_json(&plan, "berth plan")?);
        let all = create_error.is_none();
        compare_labels("network", &created.networks, &planned.networks, all)?;
        compare_labels("volume", &created.volumes, &planned.volumes, all)?;
    } else if stderr_text(&plan).contains("not supported") {
        unsupported = Some(first_line(&stderr_text(&plan)));
    } else if let Some((_, why)) = PLAN_REJECTS.iter().find(|(name, _)| *name == case) {
        let error = stderr_text(&plan);
        if !error.contains(why) {
            return Err(format!("berth plan fails, but not with {why:?}: {error}"));
        }
        rejected = Some(first_line(&error));
    } else if create_error.is_none() {
        return Err(describe("berth plan of a case Compose creates", &plan));
    }
    if rejected.is_none() && PLAN_REJECTS.iter().any(|(name, _)| *name == case) {
        return Err("berth now plans it; remove it from PLAN_REJECTS".to_owned());
    }
    Ok(Compared {
        services,
        networks: created.networks.len(),
        volumes: created.volumes.len(),
        create_error,
        unsupported,
        rejected,
    })
}

/// Makes the stand-in image once per engine.
fn make_stand_in(engine: &Engine) {
    if engine
        .docker(&["image", "inspect", STAND_IN])
        .status
        .success()
    {
        return;
    }
    let holder = format!("peer-stand-in-{}", std::process::id());
    let create = engine.docker(&["create", "--name", &holder, BUSYBOX_IMAGE, "sh"]);
    assert!(
        create.status.success(),
        "{}",
        describe("docker create", &create)
    );
    let commit = engine.docker(&["commit", "--change", "CMD [\"sh\"]", &holder, STAND_IN]);
    engine.docker(&["rm", "-f", &holder]);
    assert!(
        commit.status.success(),
        "{}",
        describe("docker commit", &commit)
    );
}

#[test]
fn peer_corpus_labels_match_compose() {
    let dir = corpus_dir();
    let Some(cases) = list_cases(&dir) else {
        println!(
            "note: the peer corpus is absent ({}); nothing to compare",
            dir.display()
        );
        return;
    };
    let Some(engine) = Engine::require() else {
        return;
    };
    make_stand_in(&engine);
    let cases: Vec<&str> = cases
        .iter()
        .map(String::as_str)
        .filter(|c| loads(&dir.join(c)))
        .collect();

    let tagged = Mutex::new(BTreeSet::new());
    let exclusive = RwLock::new(());
    let results = run_cases(&cases, WORKERS, |case| {
        check_case(&engine, case, &dir.join(case), &tagged, &exclusive)
    });
    for image in tagged.into_inner().unwrap_or_else(|e| e.into_inner()) {
        engine.docker(&["rmi", &image]);
    }

    let mut failures = Vec::new();
    let (mut services, mut networks, mut volumes) = (0, 0, 0);
    for (case, outcome) in &results {
        let listed = CREATE_FAILS.iter().find(|(name, _)| name == case);
        let compared = match outcome {
            Ok(compared) => compared,
            Err(message) => {
                println!("FAIL {case}: {message}\n");
                failures.push(*case);
                continue;
            }
        };
        services += compared.services;
        networks += compared.networks;
        volumes += compared.volumes;
        let counts = format!(
            "labels of {} services, {} networks, {} volumes",
            compared.services, compared.networks, compared.volumes
        );
        let note = match (&compared.unsupported, &compared.rejected) {
            (Some(why), _) => format!("; berth plan: {why}"),
            (None, Some(why)) => format!("; berth rejects the plan: {why}"),
            (None, None) => String::new(),
        };
        match (&compared.create_error, listed) {
            (None, None) => println!("ok   {case}: {counts}{note}"),
            (Some(error), Some((_, why))) => {
                println!("ok   {case}: {counts}; compose create fails ({why}): {error}{note}")
            }
            (None, Some(_)) => {
                println!("FAIL {case}: compose now creates it; remove it from CREATE_FAILS\n");
                failures.push(*case);
            }
            (Some(error), None) => {
                println!("FAIL {case}: compose create failed: {error}\n");
                failures.push(*case);
            }
        }
    }
    println!(
        "peer corpus labels: {} cases, {services} service, {networks} network and \
         {volumes} volume labels equal, {} failures",
        results.len(),
        failures.len()
    );
    assert!(
        !results.is_empty(),
        "the corpus folder {} holds no loadable cases",
        dir.display()
    );
    assert!(failures.is_empty(), "cases that failed: {failures:?}");
}
