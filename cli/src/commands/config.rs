//! `berth config`: the normalized model, as `docker compose config` prints
//! it, or the config hash of services.

use berth_planner::config_json::{render_config_json, render_hashes};

use crate::args::{ConfigArgs, ProjectArgs};
use crate::commands::write_artefact;
use crate::exit;

pub fn run(project_args: &ProjectArgs, args: ConfigArgs) -> anyhow::Result<i32> {
    let loaded = crate::project::load_project(project_args, &[])?;
    let text = match &args.hash {
        Some(selection) => {
            let services: Vec<String> = if selection.trim() == "*" {
                loaded.project.services.keys().cloned().collect()
            } else {
                selection
                    .split(',')
                    .map(|name| name.trim().to_string())
                    .filter(|name| !name.is_empty())
                    .collect()
            };
            for name in &services {
                if !loaded.project.services.contains_key(name) {
                    anyhow::bail!("no such service: `{name}`");
                }
            }
            render_hashes(&loaded.project, &services)
        }
        None => render_config_json(&loaded.project),
    };
    write_artefact(None, &text)?;
    Ok(exit::SUCCESS)
}
