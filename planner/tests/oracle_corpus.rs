//! Loads every case of the Docker Compose oracle corpus with berth and
//! compares the result with what Docker Compose 2.40.3 printed: the
//! normalized model (`config --format json`), the config-hash labels of
//! the containers it created, and its errors for invalid input.
//!
//! The corpus lives outside the repository; set `BERTH_ORACLE_CORPUS` to
//! its folder. When it is absent the test prints a note and passes.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use berth_planner::config_json::render_config_json;
use berth_planner::hash::{network_config_hash, service_config_hash, volume_config_hash};
use berth_planner::load::{FileSource, LoadError, LoadRequest, load};
use berth_planner::model::Project;

/// Cases that use fields berth does not support yet, with those fields.
/// Loading them must fail with a "not supported" error.
const UNSUPPORTED: &[(&str, &str)] = &[];

/// For each invalid case, a fragment berth's message must contain: the
/// key path or the offending value.
const ERROR_FRAGMENTS: &[(&str, &str)] = &[
    ("80", "line 4"),
    ("81", "'imagee'"),
    ("83", "services.app.environment.DB_HOST"),
    ("84", "a -> b -> c -> a"),
    ("85", "\"ghost\""),
    ("89", "missing_net"),
    ("90", "missingvol"),
    ("91", "empty compose file"),
    ("93", "neither an image"),
    ("94", "app -> app"),
    ("95", "9000-9002"),
    ("96", "services.app.user"),
    ("97", "services.app.environment"),
    ("98", "'volume_driver'"),
];

struct Disk;

impl FileSource for Disk {
    fn read(&self, path: &Path) -> std::io::Result<Option<String>> {
        match fs::read_to_string(path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn corpus_dir() -> PathBuf {
    let dir = match std::env::var_os("BERTH_ORACLE_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/oracle/corpus"),
    };
    // Compose printed absolute paths without `..`.
    fs::canonicalize(&dir).unwrap_or(dir)
}

fn request_for(case: &Path, number: &str) -> LoadRequest {
    let mut request = LoadRequest {
        working_dir: case.to_path_buf(),
        project_name: Some(format!("oracle{number}")),
        ..LoadRequest::default()
    };
    if let Ok(args) = fs::read_to_string(case.join("args.txt")) {
        let args: Vec<&str> = args
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let mut iter = args.into_iter();
        while let Some(arg) = iter.next() {
            let value = iter.next().unwrap_or_default();
            match arg {
                "-f" | "--file" => request.files.push(PathBuf::from(value)),
                "--profile" => request.profiles.push(value.to_owned()),
                "--env-file" => request.env_files.push(PathBuf::from(value)),
                "-p" | "--project-name" => request.project_name = Some(value.to_owned()),
                other => panic!("case {number}: unhandled argument {other}"),
            }
        }
    }
    if let Ok(env) = fs::read_to_string(case.join("env.txt")) {
        for line in env.lines() {
            if let Some((key, value)) = line.split_once('=') {
                request.environment.insert(key.to_owned(), value.to_owned());
            }
        }
    }
    request
}

/// `config --format json` output with the case folder in place of the
/// placeholder.
fn expected_json(case: &Path) -> Option<String> {
    let text = fs::read_to_string(case.join("expected.json")).ok()?;
    let text = text.replace("@CASE_DIR@", &case.display().to_string());
    Some(text.trim_end().to_owned())
}

fn check_valid(case: &Path, number: &str) -> Result<(), String> {
    let request = request_for(case, number);
    let loaded = load(&request, &Disk).map_err(|e| format!("load failed: {e}"))?;
    let expected = expected_json(case).ok_or("unreadable expected.json")?;
    let actual = render_config_json(&loaded.project);
    if actual != expected {
        return Err(format!(
            "config differs\n--- expected\n{expected}\n--- berth\n{actual}"
        ));
    }
    check_config_hashes(case, &loaded.project)?;
    check_resource_hashes(case, &loaded.project)?;
    check_created_hashes(case, number, &request)
}

/// Compares with `config --hash`, which hashes the model before the
/// create-time rewrites. Skipped where it hashes something else: services
/// with `env_file` (not read by that command) or `label_file` (which the
/// label hash keeps and that command drops), and cases whose output
/// contains the absolute path of the folder it was generated in.
fn check_config_hashes(case: &Path, project: &Project) -> Result<(), String> {
    let Ok(hashes) = fs::read_to_string(case.join("hashes.txt")) else {
        return Ok(());
    };
    let compose_file = fs::read_to_string(case.join("compose.yaml")).unwrap_or_default();
    let expected = fs::read_to_string(case.join("expected.json")).unwrap_or_default();
    let skip = ["env_file", "label_file"];
    if skip.iter().any(|key| compose_file.contains(key)) || expected.contains("@CASE_DIR@") {
        return Ok(());
    }
    for line in hashes.lines() {
        let Some((name, hash)) = line.split_once(' ') else {
            continue;
        };
        let actual = project.services.get(name).map(service_config_hash);
        if actual.as_deref() != Some(hash) {
            return Err(format!(
                "config --hash of {name}: compose {hash}, berth {actual:?}"
            ));
        }
    }
    Ok(())
}

/// Compares berth's hashes with the labels of the containers Compose
/// created from the case plus `create-override.yaml`, skipping services
/// whose hash depends on the case's absolute path or on container ids.
fn check_created_hashes(case: &Path, number: &str, request: &LoadRequest) -> Result<(), String> {
    let Ok(labels) = fs::read_to_string(case.join("created-hashes.txt")) else {
        return Ok(());
    };
    let created = fs::read_to_string(case.join("created.json")).unwrap_or_default();
    if created.contains("@CASE_DIR@") {
        return Ok(());
    }
    let mut request = request.clone();
    if request.files.is_empty() {
        request.files.push(PathBuf::from("compose.yaml"));
    }
    if case.join("create-override.yaml").exists() {
        request.files.push(PathBuf::from("create-override.yaml"));
    }
    let loaded =
        load(&request, &Disk).map_err(|e| format!("load with create-override failed: {e}"))?;
    for line in labels.lines() {
        let Some((service_name, expected)) = line.split_once(' ') else {
            continue;
        };
        let Some(service) = loaded.project.services.get(service_name) else {
            return Err(format!("service {service_name} missing in case {number}"));
        };
        // A label file's absolute path is hashed, and it was another
        // folder when Compose created the containers.
        let refers_to_containers = !service.volumes_from.is_empty()
            || !service.label_file.is_empty()
            || [&service.network_mode, &service.ipc, &service.pid]
                .iter()
                .any(|v| v.as_deref().is_some_and(|v| v.starts_with("service:")));
        if refers_to_containers {
            continue;
        }
        let actual = service_config_hash(service);
        if actual != expected {
            return Err(format!(
                "hash of {service_name}: compose {expected}, berth {actual}"
            ));
        }
    }
    Ok(())
}

/// Compares the config-hash labels of the networks and volumes Compose
/// created with berth's hashes of the same resources.
fn check_resource_hashes(case: &Path, project: &Project) -> Result<(), String> {
    let kinds = [
        ("created-networks.json", "com.docker.compose.network"),
        ("created-volumes.json", "com.docker.compose.volume"),
    ];
    for (file, key_label) in kinds {
        let Ok(text) = fs::read_to_string(case.join(file)) else {
            continue;
        };
        let created: BTreeMap<String, BTreeMap<String, String>> =
            serde_json::from_str(&text).map_err(|e| format!("{file}: {e}"))?;
        for labels in created.values() {
            let (Some(key), Some(expected)) = (
                labels.get(key_label),
                labels.get("com.docker.compose.config-hash"),
            ) else {
                continue;
            };
            let actual = if key_label.ends_with("network") {
                project.networks.get(key).map(network_config_hash)
            } else {
                project.volumes.get(key).map(volume_config_hash)
            };
            if actual.as_deref() != Some(expected.as_str()) {
                return Err(format!(
                    "{file} {key}: compose {expected}, berth {actual:?}"
                ));
            }
        }
    }
    Ok(())
}

#[test]
fn oracle_corpus() {
    let dir = corpus_dir();
    let Ok(entries) = fs::read_dir(&dir) else {
        println!(
            "note: oracle corpus not found at {}; skipping",
            dir.display()
        );
        return;
    };
    let mut cases: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    let unsupported: BTreeMap<&str, &str> = UNSUPPORTED.iter().copied().collect();
    let fragments: BTreeMap<&str, &str> = ERROR_FRAGMENTS.iter().copied().collect();
    let mut failures = Vec::new();
    for case in &cases {
        let folder = case
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let number = folder.get(..2).unwrap_or_default().to_owned();
        let outcome = if let Some(fields) = unsupported.get(number.as_str()) {
            match load(&request_for(case, &number), &Disk) {
                Err(LoadError::Unsupported { .. }) => Ok(()),
                Err(other) => Err(format!(
                    "expected a \"not supported\" error ({fields}), got: {other}"
                )),
                Ok(_) => Err(format!("loaded although it uses {fields}")),
            }
        } else if case.join("error.txt").exists() {
            let fragment = fragments.get(number.as_str()).copied().unwrap_or("");
            match load(&request_for(case, &number), &Disk) {
                Ok(_) => Err("loaded an invalid project".to_owned()),
                Err(error) if error.to_string().contains(fragment) => Ok(()),
                Err(error) => Err(format!("message lacks {fragment:?}: {error}")),
            }
        } else {
            check_valid(case, &number)
        };
        match outcome {
            Ok(()) => println!("ok   {folder}"),
            Err(message) => {
                println!("FAIL {folder}: {message}");
                failures.push(folder);
            }
        }
    }
    assert!(failures.is_empty(), "failing cases: {failures:?}");
}
