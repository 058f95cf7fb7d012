//! Loading the compose files from disk into the planner's model.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use berth_executor::DiskFiles;
use berth_planner::load::{LoadRequest, Loaded, load};

use crate::args::ProjectArgs;

/// Builds the load request from the options and the process environment.
pub fn request(args: &ProjectArgs, services: &[String]) -> anyhow::Result<LoadRequest> {
    let working_dir = std::env::current_dir().context("failed to read the current directory")?;
    let absolute = |path: &PathBuf| -> PathBuf {
        if path.is_absolute() {
            path.clone()
        } else {
            working_dir.join(path)
        }
    };
    let environment: BTreeMap<String, String> = std::env::vars_os()
        .filter_map(|(key, value)| Some((key.into_string().ok()?, value.into_string().ok()?)))
        .collect();
    Ok(LoadRequest {
        files: args.files.iter().map(absolute).collect(),
        project_directory: args.project_directory.as_ref().map(absolute),
        project_name: args.project_name.clone(),
        env_files: args.env_files.iter().map(absolute).collect(),
        profiles: args.profiles.clone(),
        services: services.to_vec(),
        environment,
        working_dir,
    })
}

/// Loads the project and prints the loader's warnings to stderr.
pub fn load_project(args: &ProjectArgs, services: &[String]) -> anyhow::Result<Loaded> {
    let request = request(args, services)?;
    let loaded = load(&request, &DiskFiles)?;
    for warning in &loaded.warnings {
        eprintln!("berth: warning: {warning}");
    }
    Ok(loaded)
}
