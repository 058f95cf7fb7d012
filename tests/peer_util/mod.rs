//! Helpers for the tests that run the real Docker Compose and berth on
//! the cases of the peer corpus (compose files written by other projects).
//! They find the cases and run both tools in a copy of one, with the
//! environment the corpus was recorded with.
//!
//! The corpus folder is `BERTH_PEER_CORPUS`, by default
//! `shared/reference/peer-corpus` beside the repository.

// Each test file uses a different part of these helpers.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::corpus_util::{copy_dir, read_inputs};
use crate::support::run;

pub fn corpus_dir() -> PathBuf {
    match std::env::var_os("BERTH_PEER_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/peer-corpus"),
    }
}

/// Lists every case folder (`SOURCE/CASE`, with a `result.txt`), sorted.
pub fn list_cases(dir: &Path) -> Option<Vec<String>> {
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

/// Runs `check` on every case, `workers` at a time; returns the outcomes
/// by case.
pub fn run_cases<'a, T, F>(cases: &[&'a str], workers: usize, check: F) -> BTreeMap<&'a str, T>
where
    T: Send,
    F: Fn(&str) -> T + Sync,
{
    let next = AtomicUsize::new(0);
    let results = Mutex::new(BTreeMap::new());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while let Some(case) = cases.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let outcome = check(case);
                    let mut results = results.lock().unwrap_or_else(|e| e.into_inner());
                    results.insert(*case, outcome);
                }
            });
        }
    });
    results.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// Returns whether Compose loaded the case when the corpus was recorded.
pub fn loads(case: &Path) -> bool {
    fs::read_to_string(case.join("result.txt")).is_ok_and(|r| r.starts_with("ok"))
}

/// One case copied into a folder of its own.
pub struct Copy {
    // Removes the copy on drop. `cwd` is inside it.
    root: tempfile::TempDir,
    cwd: PathBuf,
    args: Vec<String>,
    project: String,
    docker_host: Option<String>,
}

impl Copy {
    /// Copies the case; both tools get `-p PROJECT` and, with
    /// `docker_host`, that engine.
    pub fn new(source: &Path, project: &str, docker_host: Option<&str>) -> Copy {
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
            root,
            cwd,
            project: project.to_owned(),
            docker_host: docker_host.map(str::to_owned),
        }
    }

    /// Returns the folder the case was copied into.
    pub fn dir(&self) -> PathBuf {
        self.root.path().join("case")
    }

    pub fn project(&self) -> &str {
        &self.project
    }

    /// Runs `PROGRAM -p PROJECT ARGS REST` in the case folder, with the
    /// environment the corpus was recorded with: only `PATH` and
    /// `HOME=/root`, plus `DOCKER_HOST` when the copy has an engine.
    pub fn run(&self, program: &Path, rest: &[&str]) -> Output {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", "/root")
            .current_dir(&self.cwd)
            .args(["-p", &self.project])
            .args(&self.args)
            .args(rest);
        if let Some(host) = &self.docker_host {
            cmd.env("DOCKER_HOST", host);
        }
        run(&mut cmd)
    }
}

pub fn berth_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_berth"))
}
