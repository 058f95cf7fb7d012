//! Feeds arbitrary bytes to the Compose loader, which must return a project
//! or an error for every input and never panic.
//!
//! The input is split on NUL bytes into up to four files, so the fuzzer can
//! also reach `.env` parsing, `include`, `extends` and `env_file`:
//! `/f/compose.yaml`, `/f/.env`, `/f/b.yaml` and `/f/b.env`. Invalid UTF-8
//! is replaced, since the loader only ever receives text.

#![no_main]

use std::collections::BTreeMap;
use std::path::PathBuf;

use berth_planner::load::{LoadRequest, load};
use libfuzzer_sys::fuzz_target;

const FILE_NAMES: [&str; 4] = ["/f/compose.yaml", "/f/.env", "/f/b.yaml", "/f/b.env"];

fuzz_target!(|data: &[u8]| {
    let files: BTreeMap<PathBuf, String> = data
        .splitn(FILE_NAMES.len(), |&byte| byte == 0)
        .zip(FILE_NAMES)
        .map(|(part, name)| {
            (
                PathBuf::from(name),
                String::from_utf8_lossy(part).into_owned(),
            )
        })
        .collect();
    let environment: BTreeMap<String, String> = [
        ("HOME", "/home/user"),
        ("TAG", "1.2"),
        ("EMPTY", ""),
        ("PORT", "8080"),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value.to_owned()))
    .collect();
    let request = LoadRequest {
        working_dir: PathBuf::from("/f"),
        project_name: Some("fuzz".to_owned()),
        environment,
        ..LoadRequest::default()
    };
    let _ = load(&request, &files);
});
