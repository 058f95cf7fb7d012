//! Inputs that made the loader panic or run away, loaded the way the `load`
//! fuzz target in `fuzz/` loads its input: the loader may accept or reject
//! each one, but must return, and quickly. Inputs the fuzzer found are kept
//! as files under `fuzz_regressions/`. Alias bombs and deep nesting are
//! built here, since their point is their size.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use berth_planner::load::{LoadRequest, load};

/// Maximum time one load may take. Rejecting the wide alias bomb below takes
/// about 2 s in an unoptimized build on a 2-core machine, and expanding it
/// in full took about a minute.
const MAX_LOAD_TIME: Duration = Duration::from_secs(10);

/// The files the fuzz target builds from one input split on NUL bytes.
const FILE_NAMES: [&str; 4] = ["/f/compose.yaml", "/f/.env", "/f/b.yaml", "/f/b.env"];

fn files_from_input(data: &[u8]) -> BTreeMap<PathBuf, String> {
    data.splitn(FILE_NAMES.len(), |&byte| byte == 0)
        .zip(FILE_NAMES)
        .map(|(part, name)| {
            (
                PathBuf::from(name),
                String::from_utf8_lossy(part).into_owned(),
            )
        })
        .collect()
}

fn request() -> LoadRequest {
    let environment = [
        ("HOME", "/home/user"),
        ("TAG", "1.2"),
        ("EMPTY", ""),
        ("PORT", "8080"),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value.to_owned()))
    .collect();
    LoadRequest {
        working_dir: PathBuf::from("/f"),
        project_name: Some("fuzz".to_owned()),
        environment,
        ..LoadRequest::default()
    }
}

#[test]
fn saved_inputs_load_without_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let mut paths: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    paths.sort();
    assert!(!paths.is_empty(), "no inputs in {}", dir.display());
    for path in paths {
        let data =
            fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let started = Instant::now();
        let _ = load(&request(), &files_from_input(&data));
        let elapsed = started.elapsed();
        assert!(
            elapsed < MAX_LOAD_TIME,
            "{} took {elapsed:?} to load",
            path.display()
        );
    }
}

/// Builds the "billion laughs" document: each of `levels` anchors is a list
/// of ten aliases of the previous one, so expanding the last one would make
/// 10^levels strings.
fn alias_bomb(levels: usize) -> String {
    let mut text = String::from("x-l0: &l0 \"lol\"\n");
    for level in 1..=levels {
        let previous = format!("*l{}", level - 1);
        let items = [previous.as_str(); 10].join(", ");
        text.push_str(&format!("x-l{level}: &l{level} [{items}]\n"));
    }
    text.push_str(&format!(
        "services:\n  app:\n    image: busybox\n    command: *l{levels}\n"
    ));
    text
}

#[test]
fn alias_bomb_rejected_quickly() {
    let started = Instant::now();
    let files = files_from_input(alias_bomb(9).as_bytes());
    let result = load(&request(), &files);
    let elapsed = started.elapsed();
    let error = match result {
        Ok(_) => panic!("an alias bomb loaded"),
        Err(error) => error.to_string(),
    };
    assert!(elapsed < MAX_LOAD_TIME, "rejecting took {elapsed:?}");
    assert!(
        error.contains("repetition limit") || error.contains("excessive aliasing"),
        "unexpected error: {error}"
    );
}

/// Builds a document whose size grows linearly with `count` but whose
/// expansion grows with its square: one anchored list of `count` strings,
/// aliased `count` times. Each alias costs the YAML parser one jump, so its
/// own repetition limit does not stop this.
fn wide_alias_bomb(count: usize) -> String {
    let items = vec!["lol"; count].join(", ");
    let aliases = vec!["*wide"; count].join(", ");
    format!(
        "x-wide: &wide [{items}]\nx-copies: [{aliases}]\nservices:\n  app:\n    image: busybox\n"
    )
}

#[test]
fn wide_alias_bomb_rejected_quickly() {
    let started = Instant::now();
    let files = files_from_input(wide_alias_bomb(3_000).as_bytes());
    let result = load(&request(), &files);
    let elapsed = started.elapsed();
    let error = match result {
        Ok(_) => panic!("a wide alias bomb loaded"),
        Err(error) => error.to_string(),
    };
    assert!(elapsed < MAX_LOAD_TIME, "rejecting took {elapsed:?}");
    assert!(
        error.contains("excessive aliasing"),
        "unexpected error: {error}"
    );
}
#[test]
fn deeply_nested_defaults_return() {
    let depth = 20_000;
    let value = format!("{}x{}", "${UNSET:-".repeat(depth), "}".repeat(depth));
    let text = format!("services:\n  app:\n    image: busybox\n    command: \"{value}\"\n");
    let started = Instant::now();
    let _ = load(&request(), &files_from_input(text.as_bytes()));
    let elapsed = started.elapsed();
    assert!(elapsed < MAX_LOAD_TIME, "loading took {elapsed:?}");
}

#[test]
fn extends_naming_its_own_file_returns() {
    let text = "services:\n  a:\n    extends: {file: compose.yaml, service: b}\n  b:\n    image: busybox\n";
    let started = Instant::now();
    let result = load(&request(), &files_from_input(text.as_bytes()));
    let elapsed = started.elapsed();
    assert!(elapsed < MAX_LOAD_TIME, "loading took {elapsed:?}");
    if let Err(error) = result {
        panic!("load failed: {error}");
    }
}

/// Loads `input` (files split by `\0\0`) within the time limit and
/// returns the outcome as text: the error, or the loaded services' images.
fn load_in_time(input: &str) -> Result<String, String> {
    let started = Instant::now();
    let result = load(&request(), &files_from_input(input.as_bytes()));
    let elapsed = started.elapsed();
    assert!(elapsed < MAX_LOAD_TIME, "loading took {elapsed:?}");
    match result {
        Ok(loaded) => Ok(format!(
            "{:?}",
            loaded.project.services.keys().collect::<Vec<_>>()
        )),
        Err(error) => Err(error.to_string()),
    }
}

#[test]
fn extends_back_to_earlier_file_loads() {
    // As in Compose: only the extended service of b.yaml is resolved, so a
    // chain that returns to compose.yaml for another service is no cycle.
    let compose =
        "services:\n  a:\n    extends: {file: b.yaml, service: x}\n  c:\n    image: busybox\n";
    let other = "services:\n  x:\n    extends: {file: compose.yaml, service: c}\n";
    let outcome = load_in_time(&format!("{compose}\0\0{other}"));
    assert_eq!(outcome, Ok(r#"["a", "c"]"#.to_owned()));
}

#[test]
fn extends_back_to_including_file_loads() {
    // The file loaded for `extends` is read without its `include`s, as in
    // Compose, so this does not loop.
    let compose = "include: [b.yaml]\nservices:\n  c:\n    image: busybox\n";
    let other = "services:\n  x:\n    extends: {file: compose.yaml, service: c}\n";
    let outcome = load_in_time(&format!("{compose}\0\0{other}"));
    assert_eq!(outcome, Ok(r#"["c", "x"]"#.to_owned()));
}

#[test]
fn extends_cycle_across_files_fails() {
    let compose = "services:\n  a:\n    extends: {file: b.yaml, service: x}\n";
    let other = "services:\n  x:\n    extends: {file: compose.yaml, service: a}\n";
    let outcome = load_in_time(&format!("{compose}\0\0{other}"));
    let error = outcome.expect_err("a cycle of extends across two files loaded");
    assert!(
        error.contains("no extends cycle (cycle: a -> x -> a)"),
        "unexpected error: {error}"
    );
}
