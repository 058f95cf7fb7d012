//! Helpers for the tests that run the real Docker Compose and berth on
//! the cases of the oracle corpus. They find the cases, copy one into a
//! project of its own, run both tools on it with only the case's
//! environment, tell which cases the test engine cannot bring up, and run
//! all cases in parallel.
//!
//! The corpus folder is `BERTH_ORACLE_CORPUS`, by default
//! `shared/reference/oracle/corpus` beside the repository. Include this
//! module after the harness:
//!
//! ```ignore
//! #[path = "support/mod.rs"]
//! mod support;
//! #[path = "corpus_util/mod.rs"]
//! mod corpus_util;
//! ```

// Each test file uses a different part of these helpers.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde_json::Value;

pub mod labels;
pub mod reach;

use crate::support::{BUSYBOX_IMAGE, Engine, TestProject, describe, run};

/// Cases whose compose file uses fields berth does not support yet, with
/// the fields. berth's error must name one of them. A field is listed
/// while berth cannot honour it on the engine, whether the loader or the
/// planner rejects it. A listed case that berth plans fails the test, so
/// that the list is kept current.
pub const UNSUPPORTED: &[(&str, &[&str])] = &[];

/// Cases that `docker compose create` rejects on the test engine although
/// their model is valid, with the reason. They are checked as if their
/// folder held a `create-error.txt`.
pub const CREATE_FAILS: &[(&str, &str)] = &[];

/// How many cases run at once. Each one starts a few short processes.
const WORKERS: usize = 4;

pub fn corpus_dir() -> PathBuf {
    match std::env::var_os("BERTH_ORACLE_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/oracle/corpus"),
    }
}

/// One corpus case: its two-digit number and its folder.
pub struct Case {
    pub number: String,
    pub source: PathBuf,
}

impl Case {
    pub fn folder_name(&self) -> String {
        self.source
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

pub fn list_cases(dir: &Path) -> Option<Vec<Case>> {
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
pub struct Inputs {
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

pub fn read_inputs(dir: &Path) -> Inputs {
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

pub fn copy_dir(from: &Path, to: &Path) {
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
pub struct Live {
    pub project: TestProject,
    pub inputs: Inputs,
}

impl Live {
    /// Copies the case into a new project folder.
    pub fn new(engine: &Engine, case: &Case) -> Live {
        let project = TestProject::new(engine);
        copy_dir(&case.source, project.dir());
        Live {
            inputs: read_inputs(project.dir()),
            project,
        }
    }

    /// `PROGRAM -p NAME ARGS` in the case folder, with only the case's
    /// environment (plus the test engine's address when `engine` is set).
    pub fn command<S: AsRef<OsStr>>(&self, program: &Path, args: &[S], engine: bool) -> Command {
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

    pub fn compose<S: AsRef<OsStr>>(&self, args: &[S], engine: bool) -> Output {
        run(&mut self.command(&self.project.engine().compose, args, engine))
    }

    pub fn berth<S: AsRef<OsStr>>(&self, args: &[S], engine: bool) -> Output {
        run(&mut self.command(Path::new(env!("CARGO_BIN_EXE_berth")), args, engine))
    }

    pub fn has(&self, file: &str) -> bool {
        self.project.dir().join(file).exists()
    }

    /// Returns the case's arguments followed by `rest`.
    pub fn with_args(&self, rest: &[&str]) -> Vec<String> {
        let mut args = self.inputs.args.clone();
        args.extend(rest.iter().map(|s| s.to_string()));
        args
    }

    /// Returns the case's arguments with `create-override.yaml` added as the last
    /// `-f` file, followed by `rest`. Without `-f` in `args.txt` the
    /// default files are named explicitly first, because naming any file
    /// turns off the default lookup.
    pub fn create_args(&self, rest: &[&str]) -> Vec<String> {
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

pub fn parse_json(out: &Output, command: &str) -> Result<Value, String> {
    serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("{command}: invalid JSON ({e})\n{}", describe(command, out)))
}

/// Runs Compose with the case's files and `down -v` afterwards, whatever
/// `inner` returned, then removes the images built for the project, so
/// that the next tool builds its own even where the case names the image.
pub fn with_down<T>(live: &Live, inner: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    let outcome = inner();
    let args = live.create_args(&["down", "-v", "-t", "0"]);
    let mut down = live.compose(&args, true);
    if !down.status.success() {
        // NOTE: `down` has failed here once, with the network left behind
        // holding a stale endpoint; the cause is unknown. A second try
        // separates an engine hiccup from a project Compose cannot remove,
        // and the first output is printed.
        println!("note: {}", describe("compose down -v (first try)", &down));
        down = live.compose(&args, true);
    }
    live.project.remove_images();
    let outcome = outcome?;
    if !down.status.success() {
        return Err(describe("compose down -v", &down));
    }
    Ok(outcome)
}

/// What a case expects the engine to hold before `create`: external
/// networks and volumes, and images other than the test image. The
/// missing ones are prepared for the run and removed after it. The image
/// of a service with `build:` is left to the tool under test, which must
/// build it.
// NOTE: they have fixed names, so two runs of this test at the same time
// on one engine can still disturb each other on those cases.
pub struct Prerequisites {
    networks: Vec<String>,
    volumes: Vec<String>,
    images: Vec<String>,
}

impl Prerequisites {
    pub fn create(live: &Live, model: &Value) -> Prerequisites {
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
            .filter(|service| service["build"].is_null())
            .filter_map(|service| service["image"].as_str().map(str::to_owned))
            .collect();
        let missing = |kind: &str, name: &str| {
            !live
                .project
                .docker(&[kind, "inspect", name])
                .status
                .success()
        };
        let mut prepared = Prerequisites {
            networks: Vec::new(),
            volumes: Vec::new(),
            images: Vec::new(),
        };
        for name in external("networks") {
            if missing("network", &name) {
                live.project.docker(&["network", "create", &name]);
                prepared.networks.push(name);
            }
        }
        for name in external("volumes") {
            if missing("volume", &name) {
                live.project.docker(&["volume", "create", &name]);
                prepared.volumes.push(name);
            }
        }
        // The hashes do not depend on the image's content, so any other
        // tag the corpus names can be the offline test image.
        for name in images {
            if missing("image", &name) && !prepared.images.contains(&name) {
                live.project.docker(&["tag", BUSYBOX_IMAGE, &name]);
                prepared.images.push(name);
            }
        }
        prepared
    }

    pub fn remove(&self, live: &Live) {
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

/// Runs `check` on every case, a few at a time, prints one line per case
/// and fails the test if any check failed. Passes with a note when the
/// corpus is absent. Without a test engine it skips or fails like every
/// engine test.
pub fn for_each_case<F>(check: F)
where
    F: Fn(&Engine, &Case) -> Result<String, String> + Sync,
{
    let dir = corpus_dir();
    let Some(cases) = list_cases(&dir) else {
        println!(
            "note: the oracle corpus is absent ({}); nothing to compare",
            dir.display()
        );
        return;
    };
    let Some(engine) = Engine::require() else {
        return;
    };

    let next = AtomicUsize::new(0);
    let results: Mutex<BTreeMap<String, Result<String, String>>> = Mutex::new(BTreeMap::new());
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                while let Some(case) = cases.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let started = Instant::now();
                    let outcome = check(&engine, case);
                    let seconds = started.elapsed().as_secs_f64();
                    let outcome = outcome.map(|compared| format!("{compared} ({seconds:.1}s)"));
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
    assert!(failures.is_empty(), "cases that failed: {failures:?}");
}

/// Cases that the test engine cannot run, with the reason.
pub const CANNOT_RUN: &[(&str, &str)] = &[
    (
        "27",
        "the engine runs without the capabilities a privileged container needs",
    ),
    ("53", "the blkio_config device /dev/sda does not exist"),
    ("54", "the image has no group `users` for group_add"),
    ("60", "the engine has no GPU device driver"),
];

/// Returns why a case is not brought up, or `None` when it is.
pub fn skip_reason(live: &Live, case: &Case) -> Option<String> {
    if let Some((_, reason)) = CANNOT_RUN.iter().find(|(n, _)| *n == case.number) {
        return Some((*reason).to_owned());
    }
    if UNSUPPORTED.iter().any(|(n, _)| *n == case.number) {
        return Some("berth does not support it yet".to_owned());
    }
    let skips = [
        ("error.txt", "invalid input"),
        (
            "create-error.txt",
            "Compose cannot create it on this engine",
        ),
        ("up-error.txt", "Compose cannot start it"),
    ];
    skips
        .iter()
        .find(|(file, _)| live.has(file))
        .map(|(_, reason)| (*reason).to_owned())
}
