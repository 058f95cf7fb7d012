//! `berth apply`: replay a plan against the engine.

use berth_executor::{ApplyOptions, StderrProgress, apply, connect};
use berth_planner::plan::{PLAN_FORMAT_VERSION, Plan};

use crate::args::{ApplyArgs, ProjectArgs};
use crate::commands::read_json;
use crate::exit;

pub async fn run(project_args: &ProjectArgs, args: ApplyArgs) -> anyhow::Result<i32> {
    let plan: Plan = read_json(&args.plan, "plan")?;
    if plan.format_version != PLAN_FORMAT_VERSION {
        anyhow::bail!(
            "{} has plan format version {}, this berth applies version {PLAN_FORMAT_VERSION} (make a new plan with `berth plan`)",
            args.plan.display(),
            plan.format_version
        );
    }
    // The plan carries everything apply needs: compose options are not
    // read again, but a project name that contradicts the plan is an error.
    if let Some(name) = &project_args.project_name
        && name != &plan.project
    {
        anyhow::bail!(
            "{} is a plan for project `{}`, not `{name}` (drop -p, or plan project `{name}` first)",
            args.plan.display(),
            plan.project
        );
    }
    let given = [
        (!project_args.files.is_empty(), "-f"),
        (
            project_args.project_directory.is_some(),
            "--project-directory",
        ),
        (!project_args.env_files.is_empty(), "--env-file"),
        (!project_args.profiles.is_empty(), "--profile"),
    ];
    let ignored: Vec<&str> = given
        .iter()
        .filter(|(set, _)| *set)
        .map(|(_, flag)| *flag)
        .collect();
    if !ignored.is_empty() {
        eprintln!(
            "berth: warning: apply replays the plan file and ignores {}; pass them to `berth plan`",
            ignored.join(", ")
        );
    }
    let docker = connect().await?;
    let options = ApplyOptions {
        parallelism: args.parallelism,
    };
    let report = apply(&docker, &plan, &options, &StderrProgress).await?;
    let count = report.done.len();
    let noun = if count == 1 { "step" } else { "steps" };
    eprintln!("berth: applied {count} {noun} to project {}", plan.project);
    Ok(exit::SUCCESS)
}
