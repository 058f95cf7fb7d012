//! The checked-in JSON Schemas under `schemas/` must match the types.
//! Regenerate them with `BERTH_BLESS=1 cargo test -p berth-planner --test
//! schemas_current` and review the diff: a changed schema is a changed
//! public file format.

use std::path::PathBuf;

use berth_planner::schema::{plan_schema, snapshot_schema};

fn check(file: &str, generated: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../schemas")
        .join(file);
    if std::env::var_os("BERTH_BLESS").is_some() {
        std::fs::write(&path, generated).expect("schema file is writable");
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "{} is out of date; regenerate it with BERTH_BLESS=1 and review the diff",
        path.display()
    );
}

#[test]
fn plan_schema_is_current() {
    check("plan.schema.json", &plan_schema());
}

#[test]
fn snapshot_schema_is_current() {
    check("snapshot.schema.json", &snapshot_schema());
}
