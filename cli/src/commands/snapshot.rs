//! `berth snapshot`: print what the engine runs for the project.

use anyhow::Context;
use berth_executor::{ObserveRequest, connect, observe};
use berth_planner::reconcile::observe_scope;
use berth_planner::snapshot::ObserveScope;

use crate::args::{ProjectArgs, SnapshotArgs};
use crate::commands::write_artefact;
use crate::exit;

pub async fn run(project_args: &ProjectArgs, args: SnapshotArgs) -> anyhow::Result<i32> {
    // With compose files the snapshot also covers the names the model
    // declares; with only `-p NAME` it covers what carries the label.
    let request = match crate::project::load_project(project_args, &[]) {
        Ok(loaded) => {
            ObserveRequest::new(loaded.project.name.clone(), observe_scope(&loaded.project))
        }
        Err(error) => match &project_args.project_name {
            Some(name) if project_args.files.is_empty() => {
                tracing::debug!(%error, "observing by project name only");
                ObserveRequest::new(name.clone(), ObserveScope::default())
            }
            _ => return Err(error),
        },
    };
    let docker = connect().await?;
    let snapshot = observe(&docker, &request).await?;
    let mut json =
        serde_json::to_string_pretty(&snapshot).context("failed to serialize the snapshot")?;
    json.push('\n');
    write_artefact(args.out.as_deref(), &json)?;
    Ok(exit::SUCCESS)
}
