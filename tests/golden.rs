//! Golden fixtures: every folder under `fixtures/` is planned from its
//! compose files and snapshot, and the plan (JSON and text) must equal the
//! checked-in expectation byte for byte.
//!
//! Fixture folder layout:
//! - compose files, `.env` and any file they read;
//! - `fixture.json`: project name, environment, profiles and plan options;
//! - `snapshot.json`: the observed state; a label value `@hash:SERVICE` is
//!   replaced by that service's config hash, so fixtures stay valid when
//!   the model of a service changes on purpose;
//! - `plan.json` and `plan.txt`, the expected plan and its rendering, or
//!   `error.txt` when planning must fail.
//!
//! Files are loaded under the virtual root `/fixtures/NAME`, so plans hold
//! the same absolute paths on every machine. Regenerate the expectations
//! with `BERTH_BLESS=1 cargo test --test golden`, then read every diff.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use berth_planner::hash::service_config_hash;
use berth_planner::load::{LoadRequest, load};
use berth_planner::plan::{ImageRemoval, PlanOptions};
use berth_planner::reconcile::{plan, plan_destroy};
use berth_planner::render::{RenderOptions, render_text};
use berth_planner::snapshot::Snapshot;
use serde::Deserialize;

/// `fixture.json`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    /// What the fixture pins, in one line.
    description: String,
    #[serde(default = "default_project")]
    project: String,
    #[serde(default)]
    environment: BTreeMap<String, String>,
    #[serde(default)]
    profiles: Vec<String>,
    #[serde(default)]
    files: Vec<String>,
    #[serde(default)]
    options: FixtureOptions,
}

fn default_project() -> String {
    "p".to_string()
}

/// Plan options with the CLI's defaults.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FixtureOptions {
    #[serde(default)]
    services: Vec<String>,
    #[serde(default)]
    no_deps: bool,
    #[serde(default)]
    force_recreate: bool,
    #[serde(default)]
    no_recreate: bool,
    #[serde(default)]
    always_recreate_deps: bool,
    #[serde(default)]
    renew_anon_volumes: bool,
    #[serde(default)]
    remove_orphans: bool,
    #[serde(default)]
    rerun_completed: bool,
    #[serde(default)]
    scale: BTreeMap<String, u64>,
    #[serde(default)]
    wait: bool,
    #[serde(default)]
    volumes: bool,
    #[serde(default)]
    allow_volume_replace: bool,
    #[serde(default)]
    destroy: bool,
    /// `--rmi` of a teardown plan: `local` or `all`.
    #[serde(default)]
    rmi: Option<ImageRemoval>,
    #[serde(default)]
    pull: Option<String>,
    #[serde(default)]
    build: bool,
    #[serde(default)]
    no_build: bool,
}

const WAIT_TIMEOUT_SECONDS: u64 = 300;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// Reads every file of a fixture folder into a map keyed by its virtual
/// path under `/fixtures/NAME`.
fn virtual_files(dir: &Path, root: &Path) -> BTreeMap<PathBuf, String> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let entries = std::fs::read_dir(&folder).expect("fixture folder is readable");
        for entry in entries {
            let path = entry.expect("fixture entry is readable").path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                let relative = path.strip_prefix(dir).expect("path is inside the fixture");
                files.insert(root.join(relative), text);
            }
        }
    }
    files
}

/// Replaces `@hash:SERVICE` label values by the service's config hash.
fn resolve_snapshot(text: &str, hashes: &BTreeMap<String, String>) -> Snapshot {
    let mut value: serde_json::Value = serde_json::from_str(text).expect("snapshot.json parses");
    fn walk(value: &mut serde_json::Value, hashes: &BTreeMap<String, String>) {
        match value {
            serde_json::Value::String(text) => {
                if let Some(service) = text.strip_prefix("@hash:") {
                    *text = hashes
                        .get(service)
                        .unwrap_or_else(|| panic!("snapshot names unknown service {service}"))
                        .clone();
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| walk(v, hashes)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| walk(v, hashes)),
            _ => {}
        }
    }
    walk(&mut value, hashes);
    serde_json::from_value(value).expect("snapshot.json is a valid snapshot")
}

/// Plans one fixture; returns (plan JSON, plan text) or the error text.
fn run_fixture(dir: &Path) -> Result<(String, String), String> {
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .expect("utf-8 name");
    let fixture: Fixture = serde_json::from_str(
        &std::fs::read_to_string(dir.join("fixture.json")).expect("fixture.json exists"),
    )
    .expect("fixture.json is valid");
    assert!(
        !fixture.description.is_empty(),
        "{name}: describe the fixture"
    );
    let root = PathBuf::from("/fixtures").join(name);
    let files = virtual_files(dir, &root);
    let request = LoadRequest {
        working_dir: root.clone(),
        project_directory: None,
        files: fixture.files.iter().map(|f| root.join(f)).collect(),
        project_name: Some(fixture.project.clone()),
        env_files: Vec::new(),
        profiles: fixture.profiles.clone(),
        services: fixture.options.services.clone(),
        environment: fixture.environment.clone(),
    };
    let loaded = load(&request, &files).map_err(|e| e.to_string())?;
    let hashes: BTreeMap<String, String> = loaded
        .project
        .services
        .iter()
        .map(|(name, service)| (name.clone(), service_config_hash(service)))
        .collect();
    let snapshot_text =
        std::fs::read_to_string(dir.join("snapshot.json")).expect("snapshot.json exists");
    let snapshot = resolve_snapshot(&snapshot_text, &hashes);
    let o = fixture.options;
    let destroy = o.destroy;
    let options = PlanOptions {
        services: o.services,
        no_deps: o.no_deps,
        force_recreate: o.force_recreate,
        no_recreate: o.no_recreate,
        always_recreate_deps: o.always_recreate_deps,
        renew_anon_volumes: o.renew_anon_volumes,
        remove_orphans: o.remove_orphans,
        rerun_completed: o.rerun_completed,
        scale: o.scale,
        wait_timeout_seconds: WAIT_TIMEOUT_SECONDS,
        wait: o.wait,
        volumes: o.volumes,
        remove_images: o.rmi,
        allow_volume_replace: o.allow_volume_replace,
        pull: o.pull,
        build: o.build,
        no_build: o.no_build,
    };
    // The version is fixed so that releases do not churn every fixture.
    let plan = if destroy {
        plan_destroy(&loaded.project, &snapshot, &options, "0.0.0-fixture")
    } else {
        plan(&loaded.project, &snapshot, &options, "0.0.0-fixture")
    }
    .map_err(|e| e.to_string())?;
    let mut json = serde_json::to_string_pretty(&plan).expect("plan serializes");
    json.push('\n');
    let text = render_text(
        &plan,
        &RenderOptions {
            color: false,
            show_steps: true,
            show_sensitive: false,
        },
    );
    Ok((json, text))
}

/// Compares `actual` with the file, or rewrites it under `BERTH_BLESS=1`.
fn check(path: &Path, actual: &str, failures: &mut Vec<String>) {
    let bless = std::env::var_os("BERTH_BLESS").is_some();
    let expected = std::fs::read_to_string(path).unwrap_or_default();
    if expected == actual {
        return;
    }
    if bless {
        std::fs::write(path, actual).expect("expectation is writable");
        return;
    }
    let diff = similar::TextDiff::from_lines(expected.as_str(), actual)
        .unified_diff()
        .header("expected", "actual")
        .to_string();
    failures.push(format!("{}:\n{diff}", path.display()));
}

#[test]
fn fixtures_match_expectations() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .expect("fixtures/ exists")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.join("fixture.json").is_file())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no fixtures found");
    let mut failures = Vec::new();
    for dir in &dirs {
        match run_fixture(dir) {
            Ok((json, text)) => {
                if dir.join("error.txt").exists() {
                    failures.push(format!(
                        "{}: planning succeeded but error.txt expects a failure",
                        dir.display()
                    ));
                    continue;
                }
                check(&dir.join("plan.json"), &json, &mut failures);
                check(&dir.join("plan.txt"), &text, &mut failures);
            }
            Err(error) => check(&dir.join("error.txt"), &format!("{error}\n"), &mut failures),
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture files differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn plans_are_deterministic() {
    for entry in std::fs::read_dir(fixtures_dir()).expect("fixtures/ exists") {
        let dir = entry.expect("entry").path();
        if !dir.join("fixture.json").is_file() {
            continue;
        }
        let first = run_fixture(&dir);
        let second = run_fixture(&dir);
        assert_eq!(first, second, "{} plans differently twice", dir.display());
    }
}
