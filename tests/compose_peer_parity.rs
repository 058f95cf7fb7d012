//! Runs the real Docker Compose and berth side by side on every case of the
//! peer corpus (compose files written by other projects), live, in a copy
//! of the case folder, with the same clean environment:
//!
//! - `config --format json` must give equal JSON (compared parsed);
//! - `config --hash '*'` must agree for the services where Compose's
//!   command hashes the same model as berth (see [`hash_comparable`]);
//! - where Compose fails, berth must fail too;
//! - where berth reports a field as not supported, the case is counted,
//!   not failed.
//!
//! The corpus folder is `BERTH_PEER_CORPUS`, by default
//! `shared/reference/peer-corpus` beside the repository; without it the
//! test prints that it is absent and passes. It needs `BERTH_COMPOSE`
//! but no engine: `config` reads only files. Without `BERTH_COMPOSE` it
//! skips, or fails under `CI=true` or `BERTH_REQUIRE_ENGINE=1`.

#[path = "support/mod.rs"]
mod support;

#[path = "corpus_util/mod.rs"]
mod corpus_util;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use corpus_util::{copy_dir, parse_json, read_inputs};
use serde_json::Value;
use support::{describe, engine_required, run, stderr_text};

/// The project name both tools get, as when the corpus was recorded.
const PROJECT: &str = "peer";

/// How many cases run at once. Each runs a few short processes.
const WORKERS: usize = 8;

/// Cases where berth knowingly prints something else than Compose, with
/// the reason. Such a case still runs, and a listed case that now
/// matches fails the test, so that the list stays current.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[(
    // Compose omits the name of an external volume whose `name:` is empty
    // after substitution; berth's model always contains a volume name, so it
    // falls back to the key.
    "compose-e2e/pkg__e2e__testdata__TestUpSwitchVolumes",
    "external volume with an empty name",
)];

fn corpus_dir() -> PathBuf {
    match std::env::var_os("BERTH_PEER_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/peer-corpus"),
    }
}

/// Returns the real Compose binary, or `None` (after printing why) when
/// the test should skip. Panics when it must not skip.
fn compose_binary() -> Option<PathBuf> {
    match std::env::var_os("BERTH_COMPOSE").filter(|v| !v.is_empty()) {
        Some(path) => {
            let path = PathBuf::from(path);
            assert!(
                path.is_absolute() && path.is_file(),
                "BERTH_COMPOSE={} is not an absolute path to a file",
                path.display()
            );
            Some(path)
        }
        None if engine_required() => panic!(
            "BERTH_COMPOSE must be set because CI=true or BERTH_REQUIRE_ENGINE=1; \
             run the tests with scripts/test"
        ),
        None => {
            eprintln!("skipped: BERTH_COMPOSE is not set (run scripts/test)");
            None
        }
    }
}

/// Lists every case folder (`SOURCE/CASE`, with a `result.txt`), sorted.
fn list_cases(dir: &Path) -> Option<Vec<String>> {
    let mut cases = Vec::new();
    for source in fs::read_dir(dir).ok()?.filter_map(Result::ok) {
        let Ok(entries) = fs::read_dir(source.path()) else {
            continue;
        };
        for case in entries.filter_map(Result::ok) {
            if case.path().join("result.txt").is_file() {
                let source = source.file_name().to_string_lossy().into_owned();
                let case = case.file_name().to_string_lossy().into_owned();
                cases.push(format!("{source}/{case}"));
            }
        }
    }
    cases.sort();
    Some(cases)
}

/// One case copied into a folder of its own.
struct Copy {
    // Removes the copy on drop. `cwd` is inside it.
    _root: tempfile::TempDir,
    cwd: PathBuf,
    args: Vec<String>,
}

impl Copy {
    fn new(source: &Path) -> Copy {
        let root = tempfile::Builder::new()
            .prefix("berth-peer-")
            .tempdir()
            .expect("create a temporary folder");
        let dir = root.path().join("case");
        copy_dir(source, &dir);
        // One case runs from a sub folder, to test the upward search.
        let cwd = match fs::read_to_string(dir.join("cwd.txt")) {
            Ok(sub) => dir.join(sub.trim()),
            Err(_) => dir.clone(),
        };
        Copy {
            args: read_inputs(&dir).args,
            _root: root,
            cwd,
        }
    }

    /// Runs `PROGRAM -p peer ARGS REST` in the case folder, with the environment
    /// the corpus was recorded with: only `PATH` and `HOME=/root`.
    fn run(&self, program: &Path, rest: &[&str]) -> Output {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", "/root")
            .current_dir(&self.cwd)
            .args(["-p", PROJECT])
            .args(&self.args)
            .args(rest);
        run(&mut cmd)
    }
}

fn berth_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_berth"))
}

/// Outcome of one case that did not fail.
enum Outcome {
    Same(String),
    Unsupported,
    BothFail,
}

fn check_case(compose: &Path, source: &Path) -> Result<Outcome, String> {
    let copy = Copy::new(source);
    let config = ["config", "--format", "json"];
    let from_compose = copy.run(compose, &config);
    let from_berth = copy.run(berth_binary(), &config);
    match (from_compose.status.success(), from_berth.status.success()) {
        (false, false) => return Ok(Outcome::BothFail),
        (false, true) => {
            return Err(format!(
                "berth accepts what Compose rejects: {}",
                stderr_text(&from_compose).trim()
            ));
        }
        (true, false) if stderr_text(&from_berth).contains("not supported") => {
            return Ok(Outcome::Unsupported);
        }
        (true, false) => return Err(describe("berth config", &from_berth)),
        (true, true) => {}
    }
    let expected = parse_json(&from_compose, "compose config")?;
    let actual = parse_json(&from_berth, "berth config")?;
    if expected != actual {
        return Err(format!(
            "config --format json differs\n{}",
            json_diff(&expected, &actual)
        ));
    }
    let compared = compare_hashes(&copy, compose)?;
    Ok(Outcome::Same(format!(
        "config; hashes of {compared} services"
    )))
}

/// Renders a unified diff of two JSON values, pretty-printed, Compose
/// first.
fn json_diff(expected: &Value, actual: &Value) -> String {
    let expected = serde_json::to_string_pretty(expected).unwrap_or_default();
    let actual = serde_json::to_string_pretty(actual).unwrap_or_default();
    similar::TextDiff::from_lines(&expected, &actual)
        .unified_diff()
        .header("compose", "berth")
        .to_string()
}

/// Whether Compose's `config --hash` hashes the same model for this
/// service as berth does. It does not: for `env_file` (Compose keeps the
/// list and leaves the files unread), for `environment` entries without a
/// value (left unresolved), for `label_file`, and for references to other
/// services' containers (`service:` modes and `volumes_from`), which
/// berth resolves to container ids only when it creates the container.
fn hash_comparable(service: &Value) -> bool {
    let non_empty = |key: &str| match &service[key] {
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
        Value::Null => false,
        _ => true,
    };
    let valueless_env = service["environment"]
        .as_object()
        .is_some_and(|env| env.values().any(Value::is_null));
    let service_mode = ["network_mode", "ipc", "pid"].iter().any(|key| {
        service[key]
            .as_str()
            .is_some_and(|v| v.starts_with("service:"))
    });
    !(non_empty("env_file")
        || non_empty("label_file")
        || non_empty("volumes_from")
        || valueless_env
        || service_mode)
}

/// `SERVICE HASH` lines of `config --hash '*'`, by service.
fn hashes(out: &Output, what: &str) -> Result<BTreeMap<String, String>, String> {
    if !out.status.success() {
        return Err(describe(what, out));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(s, h)| (s.to_owned(), h.to_owned()))
        .collect())
}

/// Compares `config --hash '*'` of both for the comparable services;
/// returns how many were compared.
fn compare_hashes(copy: &Copy, compose: &Path) -> Result<usize, String> {
    // Without interpolation Compose also leaves `env_file` and valueless
    // `environment` entries unresolved, so this model tells which services
    // to skip.
    let unresolved = copy.run(compose, &["config", "--no-interpolate", "--format", "json"]);
    if !unresolved.status.success() {
        return Err(describe("compose config --no-interpolate", &unresolved));
    }
    let model = parse_json(&unresolved, "compose config --no-interpolate")?;
    let args = ["config", "--hash", "*"];
    let expected = hashes(&copy.run(compose, &args), "compose config --hash")?;
    let actual = hashes(&copy.run(berth_binary(), &args), "berth config --hash")?;
    let mut compared = 0;
    for (service, hash) in &expected {
        if !hash_comparable(&model["services"][service]) {
            continue;
        }
        match actual.get(service) {
            Some(berth) if berth == hash => compared += 1,
            other => {
                return Err(format!(
                    "config --hash of {service}: compose {hash}, berth {other:?}"
                ));
            }
        }
    }
    Ok(compared)
}

#[test]
fn peer_corpus_matches_compose() {
    let dir = corpus_dir();
    let Some(cases) = list_cases(&dir) else {
        println!(
            "note: the peer corpus is absent ({}); nothing to compare",
            dir.display()
        );
        return;
    };
    let Some(compose) = compose_binary() else {
        return;
    };

    let next = AtomicUsize::new(0);
    let results: Mutex<BTreeMap<&str, Result<Outcome, String>>> = Mutex::new(BTreeMap::new());
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                while let Some(case) = cases.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let outcome = check_case(&compose, &dir.join(case));
                    let mut results = results.lock().unwrap_or_else(|e| e.into_inner());
                    results.insert(case, outcome);
                }
            });
        }
    });

    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    let (mut same, mut unsupported, mut both_fail, mut known) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for (case, outcome) in &results {
        let listed = KNOWN_DIFFERENCES.iter().find(|(name, _)| name == case);
        match (outcome, listed) {
            (Err(_), Some((_, why))) => {
                println!("known {case}: {why}");
                known += 1;
            }
            (Ok(_), Some(_)) => {
                println!("FAIL {case}: now matches Compose; remove it from KNOWN_DIFFERENCES\n");
                failures.push(*case);
            }
            (Ok(Outcome::Same(compared)), None) => {
                println!("ok   {case}: {compared}");
                same += 1;
            }
            (Ok(Outcome::Unsupported), None) => {
                println!("ok   {case}: berth: not supported");
                unsupported += 1;
            }
            (Ok(Outcome::BothFail), None) => {
                println!("ok   {case}: both reject it");
                both_fail += 1;
            }
            (Err(message), None) => {
                println!("FAIL {case}: {message}\n");
                failures.push(*case);
            }
        }
    }
    println!(
        "peer corpus, live: {same} same, {unsupported} not supported, \
         {both_fail} rejected by both, {known} known differences, {} failures",
        failures.len()
    );
    assert!(
        !results.is_empty(),
        "the corpus folder {} holds no cases",
        dir.display()
    );
    assert!(failures.is_empty(), "cases that failed: {failures:?}");
}
