//! Runs the real Docker Compose and berth side by side on every case of the
//! peer corpus (compose files written by other projects), live, in a copy
//! of the case folder, with the same clean environment:
//!
//! - `config --format json` must give equal JSON (compared parsed);
//! - `config --hash '*'` must agree for the services where Compose's
//!   command hashes the same model as berth (see [`hash_comparable`]);
//! - where Compose fails, berth must fail too, naming the file;
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

#[path = "peer_util/mod.rs"]
mod peer_util;

use std::path::{Path, PathBuf};

use corpus_util::labels::{compare_service_hashes, hash_lines};
use corpus_util::parse_json;
use peer_util::{Copy, berth_binary, corpus_dir, list_cases, run_cases};
use serde_json::Value;
use support::{describe, engine_required, stderr_text};

/// The project name both tools get, as when the corpus was recorded.
const PROJECT: &str = "peer";

/// How many cases run at once. Each runs a few short processes.
const WORKERS: usize = 8;

/// Cases where berth knowingly prints something else than Compose, with
/// the reason. Such a case still runs, and a listed case that now
/// matches fails the test, so that the list stays current.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[];

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

/// Outcome of one case that did not fail.
enum Outcome {
    Same(String),
    Unsupported,
    BothFail,
}

fn check_case(compose: &Path, source: &Path) -> Result<Outcome, String> {
    let copy = Copy::new(source, PROJECT, None);
    let config = ["config", "--format", "json"];
    let from_compose = copy.run(compose, &config);
    let from_berth = copy.run(berth_binary(), &config);
    match (from_compose.status.success(), from_berth.status.success()) {
        (false, false) => {
            // An error must name the file it is about.
            let message = stderr_text(&from_berth);
            return match message.contains(&*copy.dir().to_string_lossy()) {
                true => Ok(Outcome::BothFail),
                false => Err(format!(
                    "berth's error names no file of the case: {message}"
                )),
            };
        }
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
    let expected = hash_lines(&copy.run(compose, &args), "compose config --hash")?;
    let actual = hash_lines(&copy.run(berth_binary(), &args), "berth config --hash")?;
    compare_service_hashes(&expected, &actual, |service| {
        hash_comparable(&model["services"][service])
    })
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

    let cases: Vec<&str> = cases.iter().map(String::as_str).collect();
    let results = run_cases(&cases, WORKERS, |case| {
        check_case(&compose, &dir.join(case))
    });
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
