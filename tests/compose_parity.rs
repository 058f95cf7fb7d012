//! Runs the real Docker Compose and berth side by side on every case of the
//! oracle corpus, live, in a copy of the case folder:
//!
//! - `config --format json` must give equal JSON (compared parsed);
//! - the `com.docker.compose.config-hash` labels of the containers that
//!   `docker compose create --pull never` makes (with the case's
//!   `create-override.yaml` as an extra `-f` file) must equal
//!   `berth config --hash '*'` for the same files;
//! - the config-hash labels of the networks and volumes Compose creates
//!   must equal the labels in the create steps of `berth plan`;
//! - for invalid input both must fail;
//! - for cases using fields berth does not support yet, berth must fail
//!   with a "not supported" error naming the field.
//!
//! The corpus folder is `BERTH_ORACLE_CORPUS`, by default
//! `shared/reference/oracle/corpus` beside the repository. Without it the
//! test prints that it is absent and passes. The test needs the test engine
//! (for `create`) and `BERTH_COMPOSE`, and follows the harness rules when
//! they are missing.

#[path = "support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;
use support::{Engine, TestProject, describe, run, stderr_text};

/// Cases whose compose file uses fields berth does not support yet, with
/// the fields; berth's error must name one of them. This is the same
/// judgement as the loader's own corpus test: a field is listed when
/// berth cannot honour it on the engine, and it leaves the list when the
/// loader learns it (the test then fails, to keep the list honest).
const UNSUPPORTED: &[(&str, &[&str])] = &[
    ("22", &["uts", "userns_mode"]),
    ("23", &["external_links"]),
    ("29", &["sysctls"]),
    ("30", &["logging"]),
    ("31", &["secrets", "configs"]),
    ("35", &["build"]),
    ("36", &["build"]),
    ("43", &["mem_limit", "cpus"]),
    (
        "53",
        &[
            "mem_limit",
            "mem_reservation",
            "memswap_limit",
            "cpus",
            "cpu_shares",
            "blkio_config",
        ],
    ),
    (
        "54",
        &["devices", "group_add", "cgroup", "runtime", "isolation"],
    ),
    ("58", &["develop"]),
    ("59", &["post_start", "pre_stop"]),
    ("60", &["label_file", "annotations", "gpus"]),
    ("64", &["cpus", "cpu_period"]),
];

/// How many cases run at once; each one starts a few short processes.
const WORKERS: usize = 4;

const HASH_LABEL: &str = "com.docker.compose.config-hash";

fn corpus_dir() -> PathBuf {
    match std::env::var_os("BERTH_ORACLE_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/oracle/corpus"),
    }
}

/// One corpus case: its two-digit number and its folder.
struct Case {
    number: String,
    source: PathBuf,
}

impl Case {
    fn folder_name(&self) -> String {
        self.source
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

fn list_cases(dir: &Path) -> Option<Vec<Case>> {
    let entries = fs::read_dir(dir).ok()?;
    let mut cases: Vec<Case> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .map(|source| {
            let name = source.file_name().unwrap_or_default().to_string_lossy();
            let number = name.get(..2).unwrap_or_default().to_owned();
            Case { number, source }
        })
        .collect();
    cases.sort_by(|a, b| a.source.cmp(&b.source));
    Some(cases)
}

/// What a case puts on the command line (`args.txt`, one argument a line)
/// and into the otherwise empty environment (`env.txt`).
struct Inputs {
    args: Vec<String>,
    env: Vec<(String, String)>,
}

fn read_inputs(dir: &Path) -> Inputs {
    let args = fs::read_to_string(dir.join("args.txt"))
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let env = fs::read_to_string(dir.join("env.txt"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    Inputs { args, env }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap_or_else(|e| panic!("create {}: {e}", to.display()));
    let entries = fs::read_dir(from).unwrap_or_else(|e| panic!("read {}: {e}", from.display()));
    for entry in entries {
        let entry = entry.expect("directory entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target)
                .unwrap_or_else(|e| panic!("copy {}: {e}", entry.path().display()));
        }
    }
}

/// The live copy of one case: a project of its own, named uniquely so that
/// concurrent runs do not meet, with the case's files in its folder.
struct Live {
    project: TestProject,
    inputs: Inputs,
}

impl Live {
    /// `PROGRAM -p NAME ARGS` in the case folder, with only the case's
    /// environment (plus the test engine's address when `engine` is set).
    fn command<S: AsRef<OsStr>>(&self, program: &Path, args: &[S], engine: bool) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .envs(self.inputs.env.iter().map(|(k, v)| (k, v)))
            .current_dir(self.project.dir())
            .arg("-p")
            .arg(self.project.name())
            .args(args);
        if engine {
            cmd.env("DOCKER_HOST", &self.project.engine().host);
        }
        cmd
    }

    fn compose<S: AsRef<OsStr>>(&self, args: &[S], engine: bool) -> Output {
        run(&mut self.command(&self.project.engine().compose, args, engine))
    }

    fn berth<S: AsRef<OsStr>>(&self, args: &[S], engine: bool) -> Output {
        run(&mut self.command(Path::new(env!("CARGO_BIN_EXE_berth")), args, engine))
    }

    fn has(&self, file: &str) -> bool {
        self.project.dir().join(file).exists()
    }

    /// The case's arguments followed by `rest`.
    fn with_args(&self, rest: &[&str]) -> Vec<String> {
        let mut args = self.inputs.args.clone();
        args.extend(rest.iter().map(|s| s.to_string()));
        args
    }

    /// The case's arguments with `create-override.yaml` added as the last
    /// `-f` file, followed by `rest`. Without `-f` in `args.txt` the
    /// default files are named explicitly first, because naming any file
    /// turns off the default lookup.
    fn create_args(&self, rest: &[&str]) -> Vec<String> {
        let mut args = Vec::new();
        let names_files = self.inputs.args.iter().any(|a| a == "-f" || a == "--file");
        if !names_files {
            for default in ["compose.yaml", "compose.override.yaml"] {
                if self.has(default) {
                    args.extend(["-f".to_owned(), default.to_owned()]);
                }
            }
        }
        args.extend(self.inputs.args.iter().cloned());
        if self.has("create-override.yaml") {
            args.extend(["-f".to_owned(), "create-override.yaml".to_owned()]);
        }
        args.extend(rest.iter().map(|s| s.to_string()));
        args
    }
}

/// Checks one case; on success returns what was compared.
fn check_case(engine: &Engine, case: &Case) -> Result<String, String> {
    let project = TestProject::new(engine);
    copy_dir(&case.source, project.dir());
    let live = Live {
        inputs: read_inputs(project.dir()),
        project,
    };
    let unsupported = UNSUPPORTED.iter().find(|(n, _)| *n == case.number);
    if let Some((_, fields)) = unsupported {
        check_unsupported(&live, fields)
    } else if live.has("error.txt") {
        check_invalid(&live)
    } else {
        let compose_model = check_config(&live)?;
        check_hashes(&live, &compose_model)
    }
}

/// Both must reject an invalid project.
fn check_invalid(live: &Live) -> Result<String, String> {
    let args = live.with_args(&["config", "--format", "json"]);
    let compose = live.compose(&args, false);
    if compose.status.success() {
        return Err(describe("compose accepted an invalid case", &compose));
    }
    let berth = live.berth(&args, false);
    if berth.status.success() {
        return Err(describe("berth accepted an invalid case", &berth));
    }
    Ok("both reject it".to_owned())
}

/// Compose accepts the case; berth rejects it, saying which field it does
/// not support.
fn check_unsupported(live: &Live, fields: &[&str]) -> Result<String, String> {
    let args = live.with_args(&["config", "--format", "json"]);
    let compose = live.compose(&args, false);
    if !compose.status.success() {
        return Err(describe("compose config", &compose));
    }
    let berth = live.berth(&args, false);
    if berth.status.success() {
        return Err(format!(
            "berth now loads this case: move it out of the unsupported list ({})",
            fields.join(", ")
        ));
    }
    let stderr = stderr_text(&berth);
    if !stderr.contains("not supported") {
        return Err(describe("berth error without \"not supported\"", &berth));
    }
    if !fields.iter().any(|field| stderr.contains(field)) {
        return Err(describe(
            &format!("berth error names none of {fields:?}"),
            &berth,
        ));
    }
    Ok(format!("not supported by berth: {}", fields.join(", ")))
}

/// Compares `config --format json` of both; returns Compose's model.
fn check_config(live: &Live) -> Result<Value, String> {
    let args = live.with_args(&["config", "--format", "json"]);
    let compose = live.compose(&args, false);
    if !compose.status.success() {
        return Err(describe("compose config", &compose));
    }
    let berth = live.berth(&args, false);
    if !berth.status.success() {
        return Err(describe("berth config", &berth));
    }
    let expected = parse_json(&compose, "compose config")?;
    let actual = parse_json(&berth, "berth config")?;
    if expected != actual {
        return Err(format!(
            "config --format json differs\n{}",
            json_diff(&expected, &actual)
        ));
    }
    Ok(expected)
}

fn parse_json(out: &Output, what: &str) -> Result<Value, String> {
    serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("{what}: invalid JSON ({e})\n{}", describe(what, out)))
}

/// A unified diff of two JSON values, pretty-printed, Compose first.
fn json_diff(expected: &Value, actual: &Value) -> String {
    let expected = serde_json::to_string_pretty(expected).unwrap_or_default();
    let actual = serde_json::to_string_pretty(actual).unwrap_or_default();
    similar::TextDiff::from_lines(&expected, &actual)
        .unified_diff()
        .header("compose", "berth")
        .to_string()
}

/// Compares the config-hash labels of what `docker compose create` makes
/// with berth's hashes of the same services, networks and volumes.
fn check_hashes(live: &Live, compose_model: &Value) -> Result<String, String> {
    let expect_create_error = live.has("create-error.txt");
    let prerequisites = Prerequisites::create(live, compose_model);
    // Planned before the project exists, so every network and volume has a
    // create step carrying its labels.
    let plan = live.berth(&live.create_args(&["plan"]), true);
    let create = live.compose(&live.create_args(&["create", "--pull", "never"]), true);
    let created = read_labels(live);
    // Removes the containers right away, so an interrupted run leaves
    // little behind; the project's drop removes what remains.
    let down = live.compose(&live.create_args(&["down", "-v", "-t", "0"]), true);
    prerequisites.remove(live);
    if expect_create_error {
        // Compose fails at create on this engine (a feature it lacks or a
        // conflict it rejects), so there are no labels to compare.
        return match create.status.success() {
            true => Err(describe("compose create succeeded", &create)),
            false => Ok("config; compose create fails as recorded".to_owned()),
        };
    }
    if !create.status.success() {
        return Err(describe("compose create", &create));
    }
    if !down.status.success() {
        return Err(describe("compose down -v", &down));
    }
    let created = created?;
    let compared = compare_service_hashes(live, compose_model, &created.services)?;
    if !plan.status.success() {
        return Err(describe("berth plan", &plan));
    }
    let plan = parse_json(&plan, "berth plan")?;
    let planned = planned_resource_labels(&plan);
    compare_labels("network", &created.networks, &planned.networks)?;
    compare_labels("volume", &created.volumes, &planned.volumes)?;
    Ok(format!(
        "config; hashes of {compared} services, {} networks, {} volumes",
        created.networks.len(),
        created.volumes.len()
    ))
}

/// Config-hash labels by logical name: service, network key, volume key.
#[derive(Default)]
struct HashLabels {
    services: BTreeMap<String, String>,
    networks: BTreeMap<String, String>,
    volumes: BTreeMap<String, String>,
}

fn read_labels(live: &Live) -> Result<HashLabels, String> {
    let services = list_labels(live, &["ps", "-a"], "com.docker.compose.service")?;
    let networks = list_labels(live, &["network", "ls"], "com.docker.compose.network")?;
    let volumes = list_labels(live, &["volume", "ls"], "com.docker.compose.volume")?;
    Ok(HashLabels {
        services,
        networks,
        volumes,
    })
}

/// Lists `KEY_LABEL hash` for the project's objects of one kind; replicas
/// of a service must agree.
fn list_labels(
    live: &Live,
    listing: &[&str],
    key_label: &str,
) -> Result<BTreeMap<String, String>, String> {
    let filter = format!("label={}={}", support::PROJECT_LABEL, live.project.name());
    let format = format!("{{{{.Label \"{key_label}\"}}}} {{{{.Label \"{HASH_LABEL}\"}}}}");
    let mut args: Vec<&str> = listing.to_vec();
    args.extend(["--filter", &filter, "--format", &format]);
    let out = live.project.docker(&args);
    if !out.status.success() {
        return Err(describe(&format!("docker {}", args.join(" ")), &out));
    }
    let mut labels = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some((key, hash)) = line.split_once(' ') else {
            continue;
        };
        let previous = labels.insert(key.to_owned(), hash.to_owned());
        if previous.is_some_and(|p| p != hash) {
            return Err(format!("replicas of {key} carry different hashes"));
        }
    }
    Ok(labels)
}

/// A service whose hash Compose computes with the ids of other containers
/// (`volumes_from`, `service:` in `network_mode`, `ipc` or `pid`). berth
/// resolves those ids when it creates the container, so `config --hash`
/// cannot show them.
fn refers_to_containers(service: &Value) -> bool {
    let volumes_from = service["volumes_from"]
        .as_array()
        .is_some_and(|v| !v.is_empty());
    let service_mode = ["network_mode", "ipc", "pid"].iter().any(|key| {
        service[key]
            .as_str()
            .is_some_and(|v| v.starts_with("service:"))
    });
    volumes_from || service_mode
}

/// Compares the labels with `berth config --hash`; returns how many
/// services were compared.
fn compare_service_hashes(
    live: &Live,
    compose_model: &Value,
    created: &BTreeMap<String, String>,
) -> Result<usize, String> {
    let out = live.berth(&live.create_args(&["config", "--hash", "*"]), false);
    if !out.status.success() {
        return Err(describe("berth config --hash", &out));
    }
    let berth: BTreeMap<String, String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(s, h)| (s.to_owned(), h.to_owned()))
        .collect();
    let mut compared = 0;
    for (service, label) in created {
        if refers_to_containers(&compose_model["services"][service]) {
            continue;
        }
        match berth.get(service) {
            Some(hash) if hash == label => compared += 1,
            other => {
                return Err(format!(
                    "config hash of {service}: label {label}, berth {other:?}"
                ));
            }
        }
    }
    Ok(compared)
}

/// Config-hash labels in the create steps of a plan, by logical name.
fn planned_resource_labels(plan: &Value) -> HashLabels {
    let mut labels = HashLabels::default();
    let steps = plan["steps"].as_array().map_or(&[][..], Vec::as_slice);
    for step in steps {
        let action = &step["action"];
        let body_labels = &action["body"]["Labels"];
        let (map, key_label) = match action["kind"].as_str() {
            Some("create_network") => (&mut labels.networks, "com.docker.compose.network"),
            Some("create_volume") => (&mut labels.volumes, "com.docker.compose.volume"),
            _ => continue,
        };
        if let (Some(key), Some(hash)) = (
            body_labels[key_label].as_str(),
            body_labels[HASH_LABEL].as_str(),
        ) {
            map.insert(key.to_owned(), hash.to_owned());
        }
    }
    labels
}

fn compare_labels(
    kind: &str,
    created: &BTreeMap<String, String>,
    planned: &BTreeMap<String, String>,
) -> Result<(), String> {
    if created == planned {
        return Ok(());
    }
    Err(format!(
        "{kind} config hashes differ\ncompose created: {created:#?}\nberth plans:     {planned:#?}"
    ))
}

/// What a case expects the engine to hold before `create`: external
/// networks and volumes, and images other than the test image. The
/// missing ones are made for the run and removed after it.
// NOTE: they have fixed names, so two runs of this test at the same time
// on one engine can still disturb each other on those cases.
struct Prerequisites {
    networks: Vec<String>,
    volumes: Vec<String>,
    images: Vec<String>,
}

impl Prerequisites {
    fn create(live: &Live, model: &Value) -> Prerequisites {
        let external = |kind: &str| -> Vec<String> {
            let Some(map) = model[kind].as_object() else {
                return Vec::new();
            };
            map.values()
                .filter(|v| v["external"] == true)
                .filter_map(|v| v["name"].as_str().map(str::to_owned))
                .collect()
        };
        let images: Vec<String> = model["services"]
            .as_object()
            .into_iter()
            .flat_map(|services| services.values())
            .filter_map(|service| service["image"].as_str().map(str::to_owned))
            .collect();
        let missing = |kind: &str, name: &str| {
            !live
                .project
                .docker(&[kind, "inspect", name])
                .status
                .success()
        };
        let mut made = Prerequisites {
            networks: Vec::new(),
            volumes: Vec::new(),
            images: Vec::new(),
        };
        for name in external("networks") {
            if missing("network", &name) {
                live.project.docker(&["network", "create", &name]);
                made.networks.push(name);
            }
        }
        for name in external("volumes") {
            if missing("volume", &name) {
                live.project.docker(&["volume", "create", &name]);
                made.volumes.push(name);
            }
        }
        // The hashes do not depend on the image's content, so any other
        // tag the corpus names can be the offline test image.
        for name in images {
            if missing("image", &name) && !made.images.contains(&name) {
                live.project.docker(&["tag", support::BUSYBOX_IMAGE, &name]);
                made.images.push(name);
            }
        }
        made
    }

    fn remove(&self, live: &Live) {
        for name in &self.networks {
            live.project.docker(&["network", "rm", name]);
        }
        for name in &self.volumes {
            live.project.docker(&["volume", "rm", name]);
        }
        for name in &self.images {
            live.project.docker(&["rmi", name]);
        }
    }
}

#[test]
fn corpus_matches_compose() {
    let dir = corpus_dir();
    let Some(cases) = list_cases(&dir) else {
        println!(
            "note: the oracle corpus is absent ({}); nothing to compare",
            dir.display()
        );
        return;
    };
    let engine = require_engine!();

    let next = AtomicUsize::new(0);
    let results: Mutex<BTreeMap<String, Result<String, String>>> = Mutex::new(BTreeMap::new());
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                while let Some(case) = cases.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let outcome = check_case(&engine, case);
                    let mut results = results.lock().unwrap_or_else(|e| e.into_inner());
                    results.insert(case.folder_name(), outcome);
                }
            });
        }
    });

    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut failures = Vec::new();
    for (folder, outcome) in &results {
        match outcome {
            Ok(compared) => println!("ok   {folder}: {compared}"),
            Err(message) => {
                println!("FAIL {folder}: {message}\n");
                failures.push(folder.as_str());
            }
        }
    }
    assert!(
        !results.is_empty(),
        "the corpus folder {} holds no cases",
        dir.display()
    );
    assert!(failures.is_empty(), "cases that differ: {failures:?}");
}
