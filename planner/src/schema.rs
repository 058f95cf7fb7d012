//! JSON Schemas of the public file formats, generated from the types.
//! The checked-in copies under `schemas/` are tested to be current.

use crate::plan::Plan;
use crate::snapshot::Snapshot;

/// JSON Schema of the plan format, pretty-printed, ending with a newline.
pub fn plan_schema() -> String {
    pretty(&schemars::schema_for!(Plan))
}

/// JSON Schema of the snapshot format, pretty-printed, ending with a
/// newline.
pub fn snapshot_schema() -> String {
    pretty(&schemars::schema_for!(Snapshot))
}

fn pretty(schema: &schemars::Schema) -> String {
    let mut text = serde_json::to_string_pretty(schema).unwrap_or_default();
    text.push('\n');
    text
}
