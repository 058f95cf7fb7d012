//! Invalid-input goldens: each folder under `fixtures/invalid/` contains a
//! project that must fail to load (`compose.yaml` and any file it names)
//! and `error.txt`, the exact message berth must print, one kind of error
//! per folder.
//!
//! Files are loaded under the virtual root `/fixtures/invalid/NAME`, so
//! messages hold no machine paths. Regenerate the expectations with
//!
//! ```text
//! BERTH_BLESS=1 cargo test -p berth-planner --test invalid_inputs
//! ```
//!
//! and read every rewritten message: it must name the file, the key path
//! and the value, and say what is expected.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use berth_planner::load::{LoadRequest, load};

fn invalid_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/invalid")
}

/// Reads every file of a folder into a map keyed by its path under `root`.
fn virtual_files(dir: &Path, root: &Path) -> BTreeMap<PathBuf, String> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let entries = std::fs::read_dir(&folder).expect("fixture folder is readable");
        for entry in entries {
            let path = entry.expect("fixture entry is readable").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.file_name().is_some_and(|n| n != "error.txt") {
                let text = std::fs::read_to_string(&path).expect("fixture file is text");
                let relative = path.strip_prefix(dir).expect("path is inside the fixture");
                files.insert(root.join(relative), text);
            }
        }
    }
    files
}

/// Loads one folder and returns the error text, or `None` if it loads.
fn load_error(dir: &Path) -> Option<String> {
    let name = dir.file_name().expect("folder has a name");
    let root = Path::new("/fixtures/invalid").join(name);
    let files = virtual_files(dir, &root);
    let request = LoadRequest {
        working_dir: root,
        project_name: Some("invalid".to_owned()),
        ..LoadRequest::default()
    };
    load(&request, &files).err().map(|e| format!("{e}\n"))
}

#[test]
fn invalid_inputs() {
    let bless = std::env::var_os("BERTH_BLESS").is_some();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(invalid_dir())
        .expect("fixtures/invalid exists")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "fixtures/invalid holds no folders");
    let mut failures = Vec::new();
    for dir in &dirs {
        let expected_path = dir.join("error.txt");
        let Some(actual) = load_error(dir) else {
            failures.push(format!("{}: loads, but must fail", dir.display()));
            continue;
        };
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if actual == expected {
            continue;
        }
        if bless {
            std::fs::write(&expected_path, &actual).expect("error.txt is writable");
        } else {
            failures.push(format!(
                "{}:\n  expected: {}  actual:   {}",
                dir.display(),
                expected,
                actual
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} invalid inputs give another error (BERTH_BLESS=1 rewrites error.txt):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
