//! `berth schema`: the JSON Schema of the plan and snapshot formats.

use crate::args::{SchemaArgs, SchemaKind};
use crate::commands::write_artefact;
use crate::exit;

pub fn run(args: SchemaArgs) -> anyhow::Result<i32> {
    let text = match args.kind {
        SchemaKind::Plan => berth_planner::schema::plan_schema(),
        SchemaKind::Snapshot => berth_planner::schema::snapshot_schema(),
    };
    write_artefact(None, &text)?;
    Ok(exit::SUCCESS)
}
