//! Loads every prefix-truncated and byte-mutated variant of the oracle
//! corpus's compose files: the loader must return an error or a project,
//! never panic. Skipped, with a note, when the corpus is absent.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use berth_planner::load::{LoadRequest, load};

fn corpus_dir() -> PathBuf {
    match std::env::var_os("BERTH_ORACLE_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/oracle/corpus"),
    }
}

/// Variants of `text`: prefixes at several lengths, and copies with one
/// character replaced by a YAML-significant one.
fn variants(text: &str) -> Vec<String> {
    let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    let step = (boundaries.len() / 40).max(1);
    let mut out = Vec::new();
    for (n, &at) in boundaries.iter().enumerate().step_by(step) {
        out.push(text[..at].to_owned());
        let replacement = [
            ":", "-", "[", "{", "$", "'", "\"", "&a", "*a", "!reset ", "\n",
        ][n % 11];
        let next = boundaries.get(n + 1).copied().unwrap_or(text.len());
        out.push(format!("{}{}{}", &text[..at], replacement, &text[next..]));
    }
    out
}

#[test]
fn mutated_files_never_panic() {
    let Ok(entries) = fs::read_dir(corpus_dir()) else {
        println!("note: oracle corpus not found; skipping");
        return;
    };
    let mut loads = 0;
    for entry in entries.flatten() {
        let Ok(text) = fs::read_to_string(entry.path().join("compose.yaml")) else {
            continue;
        };
        for variant in variants(&text) {
            let files: BTreeMap<PathBuf, String> = [(PathBuf::from("/p/compose.yaml"), variant)]
                .into_iter()
                .collect();
            let request = LoadRequest {
                working_dir: PathBuf::from("/p"),
                ..LoadRequest::default()
            };
            let _ = load(&request, &files);
            loads += 1;
        }
    }
    println!("{loads} variants loaded without a panic");
}
