//! `berth apply`: replay a plan against the engine.

use berth_executor::{ApplyOptions, StderrProgress, apply, connect};
use berth_planner::plan::{PLAN_FORMAT_VERSION, Plan};

use crate::args::ApplyArgs;
use crate::commands::read_json;
use crate::exit;

pub async fn run(args: ApplyArgs) -> anyhow::Result<i32> {
    let plan: Plan = read_json(&args.plan, "plan")?;
    if plan.format_version != PLAN_FORMAT_VERSION {
        anyhow::bail!(
            "{} has plan format version {}, this berth applies version {PLAN_FORMAT_VERSION} (make a new plan with `berth plan`)",
            args.plan.display(),
            plan.format_version
        );
    }
    let docker = connect().await?;
    let options = ApplyOptions {
        parallelism: args.parallelism,
    };
    let report = apply(&docker, &plan, &options, &StderrProgress).await?;
    eprintln!(
        "berth: applied {} steps to project {}",
        report.done.len(),
        plan.project
    );
    Ok(exit::SUCCESS)
}
