//! `berth plan`: compose files + observed state -> plan JSON.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use berth_executor::{ObserveRequest, connect, observe};
use berth_planner::plan::{ImageRemoval, PlanOptions};
use berth_planner::reconcile::{observe_scope_with, plan, plan_destroy};
use berth_planner::snapshot::{SNAPSHOT_FORMAT_VERSION, Snapshot};

use crate::args::{PlanArgs, ProjectArgs, RmiArg};
use crate::commands::{read_json, write_artefact};
use crate::exit;

pub async fn run(project_args: &ProjectArgs, args: PlanArgs) -> anyhow::Result<i32> {
    let options = options(&args)?;
    let loaded = crate::project::load_project(project_args, &args.services)?;
    let project = loaded.project;
    let snapshot: Snapshot = match &args.snapshot {
        Some(path) => {
            let snapshot: Snapshot = read_json(path, "snapshot")?;
            if snapshot.format_version != SNAPSHOT_FORMAT_VERSION {
                bail!(
                    "{} has snapshot format version {}, this berth reads version {SNAPSHOT_FORMAT_VERSION} (take a new one with `berth snapshot`)",
                    path.display(),
                    snapshot.format_version
                );
            }
            snapshot
        }
        None => {
            let docker = connect().await?;
            let scope = observe_scope_with(&project, &options);
            let request = ObserveRequest::new(project.name.clone(), scope);
            observe(&docker, &request).await?
        }
    };
    let plan = if args.destroy {
        plan_destroy(&project, &snapshot, &options, env!("CARGO_PKG_VERSION"))?
    } else {
        plan(&project, &snapshot, &options, env!("CARGO_PKG_VERSION"))?
    };
    for warning in &plan.warnings {
        eprintln!("berth: warning: {}", warning.message);
    }
    let mut json = serde_json::to_string_pretty(&plan).context("failed to serialize the plan")?;
    json.push('\n');
    write_artefact(args.out.as_deref(), &json)?;
    if plan.has_changes() {
        eprintln!(
            "berth: {}",
            berth_planner::render::summary_line(&plan.summary)
        );
    } else {
        eprintln!("berth: no changes; the project matches the compose files");
    }
    if args.detailed_exitcode && plan.has_changes() {
        return Ok(exit::CHANGES);
    }
    Ok(exit::SUCCESS)
}

/// Validates the flags into the planner's options.
fn options(args: &PlanArgs) -> anyhow::Result<PlanOptions> {
    let mut scale = BTreeMap::new();
    for entry in &args.scale {
        let Some((service, count)) = entry.split_once('=') else {
            bail!("invalid --scale value {entry:?} (expected SERVICE=N, such as web=3)");
        };
        let count: u64 = count.parse().with_context(|| {
            format!(
                "invalid --scale value {entry:?}: {count:?} is not a whole number of 0 or more (such as web=3)"
            )
        })?;
        scale.insert(service.to_string(), count);
    }
    Ok(PlanOptions {
        services: args.services.clone(),
        no_deps: args.no_deps,
        force_recreate: args.force_recreate,
        no_recreate: args.no_recreate,
        always_recreate_deps: args.always_recreate_deps,
        renew_anon_volumes: args.renew_anon_volumes,
        remove_orphans: args.remove_orphans,
        rerun_completed: args.rerun_completed,
        scale,
        wait_timeout_seconds: args.wait_timeout,
        wait: args.wait,
        volumes: args.volumes,
        remove_images: args.rmi.map(|rmi| match rmi {
            RmiArg::Local => ImageRemoval::Local,
            RmiArg::All => ImageRemoval::All,
        }),
        allow_volume_replace: args.allow_volume_replace,
        pull: args.pull.clone(),
        build: args.build,
        no_build: args.no_build,
    })
}
