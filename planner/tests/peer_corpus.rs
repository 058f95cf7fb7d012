//! Loads every case of the peer corpus: compose files written by other
//! projects, with what Docker Compose 2.40.3 printed for them. Each case
//! must give the same model and warnings, or fail with a "not supported"
//! error, or fail where Compose fails.
//!
//! Set `BERTH_PEER_CORPUS` to the corpus folder. When it is absent the
//! test prints a note and passes.

use std::fs;
use std::path::{Path, PathBuf};

use berth_planner::config_json::render_config_json;
use berth_planner::load::{FileSource, LoadError, LoadRequest, load};

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
    let dir = match std::env::var_os("BERTH_PEER_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/peer-corpus"),
    };
    fs::canonicalize(&dir).unwrap_or(dir)
}

fn request_for(case: &Path) -> LoadRequest {
    let cwd = match fs::read_to_string(case.join("cwd.txt")) {
        Ok(sub) => case.join(sub.trim()),
        Err(_) => case.to_path_buf(),
    };
    let mut request = LoadRequest {
        working_dir: cwd,
        project_name: Some("peer".to_owned()),
        ..LoadRequest::default()
    };
    request.environment.insert("HOME".into(), "/root".into());
    request
        .environment
        .insert("PATH".into(), "/usr/bin:/bin".into());
    if let Ok(args) = fs::read_to_string(case.join("args.txt")) {
        let args: Vec<&str> = args.lines().filter(|l| !l.is_empty()).collect();
        let mut iter = args.into_iter();
        while let Some(arg) = iter.next() {
            let value = iter.next().unwrap_or_default();
            match arg {
                "-f" | "--file" => request.files.push(PathBuf::from(value)),
                "--profile" => request.profiles.push(value.to_owned()),
                "--env-file" => request.env_files.push(PathBuf::from(value)),
                "--project-directory" => request.project_directory = Some(PathBuf::from(value)),
                other => panic!("{}: unhandled argument {other}", case.display()),
            }
        }
    }
    request
}

/// Cases where berth knowingly prints something else than Compose.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[(
    "compose-e2e/pkg__e2e__testdata__TestUpSwitchVolumes",
    "an external volume whose `name:` is empty after substitution: Compose prints no name, \
     berth uses the key, since the model's volume name is not optional",
)];

/// Outcome of one case, for the summary.
enum Outcome {
    Same,
    Unsupported,
    FailedLikeCompose,
    Problem(String),
}

fn check(case: &Path) -> Outcome {
    let result = fs::read_to_string(case.join("result.txt")).unwrap_or_default();
    let compose_ok = result.starts_with("ok");
    match (load(&request_for(case), &Disk), compose_ok) {
        (Err(LoadError::Unsupported { .. }), true) => Outcome::Unsupported,
        (Err(error), true) => Outcome::Problem(format!("berth failed: {error}")),
        (Err(_), false) => Outcome::FailedLikeCompose,
        (Ok(_), false) => Outcome::Problem(format!(
            "berth loaded what Compose rejects: {}",
            result.lines().nth(3).unwrap_or_default()
        )),
        (Ok(loaded), true) => {
            let expected = fs::read_to_string(case.join("expected.json")).unwrap_or_default();
            let expected = expected.replace("@CASE_DIR@", &case.display().to_string());
            let expected: serde_json::Value = serde_json::from_str(&expected).unwrap_or_default();
            let actual: serde_json::Value =
                serde_json::from_str(&render_config_json(&loaded.project)).unwrap_or_default();
            let mut compose_warnings = compose_warnings(&result, case);
            compose_warnings.sort();
            compose_warnings.dedup();
            let mut berth_warnings = loaded.warnings.clone();
            berth_warnings.sort();
            if actual == expected && compose_warnings != berth_warnings {
                Outcome::Problem(format!(
                    "warnings differ: compose {compose_warnings:?}, berth {berth_warnings:?}"
                ))
            } else if actual == expected {
                Outcome::Same
            } else {
                Outcome::Problem(format!(
                    "model differs\n--- expected\n{expected}\n--- berth\n{actual}"
                ))
            }
        }
    }
}

/// Extracts the warning messages Compose printed in the logrus format
/// `time="..." level=warning msg="..."`.
fn compose_warnings(result: &str, case: &Path) -> Vec<String> {
    result
        .lines()
        .filter_map(|line| line.split_once("level=warning msg=\""))
        .map(|(_, message)| {
            message
                .strip_suffix('"')
                .unwrap_or(message)
                .replace("\\\"", "\"")
                .replace("@CASE_DIR@", &case.display().to_string())
        })
        .collect()
}

#[test]
fn peer_corpus() {
    let dir = corpus_dir();
    let Ok(sources) = fs::read_dir(&dir) else {
        println!("note: peer corpus not found at {}; skipping", dir.display());
        return;
    };
    let mut cases: Vec<PathBuf> = sources
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .flat_map(|source| fs::read_dir(source).into_iter().flatten())
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("result.txt").exists())
        .collect();
    cases.sort();
    let (mut same, mut unsupported, mut failed, mut problems) = (0, 0, 0, Vec::new());
    for case in &cases {
        let known = KNOWN_DIFFERENCES
            .iter()
            .any(|(name, _)| case.ends_with(name));
        match check(case) {
            Outcome::Problem(_) if known => {}
            Outcome::Same => same += 1,
            Outcome::Unsupported => unsupported += 1,
            Outcome::FailedLikeCompose => failed += 1,
            Outcome::Problem(message) => {
                println!("PROBLEM {}: {message}", case.display());
                problems.push(case.display().to_string());
            }
        }
    }
    println!(
        "peer corpus: {same} same, {unsupported} not supported, {failed} rejected like Compose, {} problems",
        problems.len()
    );
    assert!(problems.is_empty(), "{} problem cases", problems.len());
}
