//! The Compose loader: from compose files, `.env` files and the process
//! environment (all passed in) to a normalized [`Project`], the way
//! `docker compose config` builds it.
//!
//! The steps run in this order:
//! 1. find the files and the project directory, and read `.env`;
//! 2. for each file, parse the YAML, resolve merge keys, substitute
//!    variables, load what it includes and extends, check the keys and
//!    canonicalize list forms;
//! 3. merge the files and convert them to the model, reading `env_file`s;
//! 4. apply profiles, add implicit dependencies and the default network,
//!    and check the project as a whole.

mod contents;
mod deploy;
mod document;
mod dotenv;
mod error;
mod extends;
mod fields;
mod file_objects;
mod files;
mod interpolate;
mod lifecycle;
mod limits;
mod merge;
mod normalize;
mod ports;
mod resources;
mod service;
mod service_fields;
mod service_keys;
mod volumes;
mod yaml;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use indexmap::IndexMap;

pub use contents::environment_value;
pub use error::LoadError;
pub use files::FileSource;

use self::document::DocumentContext;
use self::fields::{At, join};
use self::files::{EnvContext, ResolvedFiles};
use self::volumes::PathBase;
use self::yaml::Node;
use crate::model::{Project, Service};

/// A load request: the equivalent of Compose's command-line options plus
/// the process environment.
#[derive(Clone, Debug, Default)]
pub struct LoadRequest {
    /// The process's current directory, absolute.
    pub working_dir: PathBuf,
    /// `--project-directory`, relative to `working_dir` or absolute.
    pub project_directory: Option<PathBuf>,
    /// `-f` values in order; empty means `COMPOSE_FILE` or the default names.
    pub files: Vec<PathBuf>,
    /// `-p`.
    pub project_name: Option<String>,
    /// `--env-file` values in order; empty means `.env` in the project
    /// directory.
    pub env_files: Vec<PathBuf>,
    /// `--profile` values; empty means `COMPOSE_PROFILES`.
    pub profiles: Vec<String>,
    /// Services named on the command line; naming a service enables its
    /// profiles.
    pub services: Vec<String>,
    /// The process environment.
    pub environment: BTreeMap<String, String>,
}

/// A loaded project and the warnings Compose would print while loading.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The normalized project.
    pub project: Project,
    /// Messages for the user, such as unset variables.
    pub warnings: Vec<String>,
}

/// Loads and normalizes a Compose project.
pub fn load(request: &LoadRequest, source: &dyn FileSource) -> Result<Loaded, LoadError> {
    let ResolvedFiles {
        files,
        project_dir,
        mut env,
        env_file_paths,
    } = files::resolve(request, source)?;
    let files_label = files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    // Compose makes `-p` visible to substitution as COMPOSE_PROJECT_NAME.
    if let Some(name) = &request.project_name {
        env.insert("COMPOSE_PROJECT_NAME".to_owned(), name.clone());
    }
    let mut unset = BTreeSet::new();
    let mut warnings = Vec::new();

    let home = env.get("HOME").cloned();
    let mut context = DocumentContext {
        source,
        home: home.as_deref(),
        unset: &mut unset,
        warnings: &mut warnings,
        include_stack: Vec::new(),
    };
    let mut merged: IndexMap<String, Node> = IndexMap::new();
    let mut service_files: BTreeMap<String, PathBuf> = BTreeMap::new();
    for file in &files {
        let loaded = document::load_document(file, &project_dir, &env, &mut context)?;
        service_files.extend(loaded.service_files);
        merge::merge_map(&mut merged, loaded.content, &[]);
    }
    let last_file = files.last().cloned().unwrap_or_default();

    let name = project_name(request, &env, &merged, &project_dir, &last_file)?;
    let base = PathBase {
        project_dir: &project_dir,
        home: home.as_deref(),
    };

    let mut project = Project {
        name: name.clone(),
        working_dir: project_dir.display().to_string(),
        config_files: files.iter().map(|f| f.display().to_string()).collect(),
        environment_files: request
            .env_files
            .iter()
            .map(|f| f.display().to_string())
            .collect(),
        ..Project::default()
    };
    let context = EnvContext {
        env: &env,
        project_dir: &project_dir,
    };
    project.services =
        convert_services(&merged, &service_files, &last_file, &base, &context, source)?;

    project.extensions = merged
        .iter()
        .filter(|(key, _)| key.starts_with("x-"))
        .map(|(key, value)| (key.clone(), value.to_json()))
        .collect();

    let networks = read_resources(
        &merged,
        "networks",
        &last_file,
        &name,
        &project_dir,
        resources::network,
    )?;
    let volumes = read_resources(
        &merged,
        "volumes",
        &last_file,
        &name,
        &project_dir,
        resources::volume,
    )?;
    let secrets = read_resources(
        &merged,
        "secrets",
        &last_file,
        &name,
        &project_dir,
        resources::file_object,
    )?;
    let configs = read_resources(
        &merged,
        "configs",
        &last_file,
        &name,
        &project_dir,
        resources::file_object,
    )?;

    let active = active_profiles(request, &env);
    normalize::apply_profiles(&mut project, &active, &request.services, &files_label)?;
    for service in project.services.values_mut() {
        normalize::add_implicit_dependencies(service);
    }
    for service in project.disabled_services.values_mut() {
        normalize::add_implicit_dependencies(service);
    }
    normalize::check_services(&mut project, &networks, &volumes, &files_label)?;
    normalize::select_services(&mut project, &request.services);
    normalize::check_dependencies(&project, &files_label)?;
    normalize::keep_used_resources(&mut project, networks, volumes);
    file_objects::keep_used(&mut project, secrets, configs, &files_label)?;
    file_objects::check_models(&project, merged.get("models"), &files_label)?;
    contents::resolve(
        &mut project,
        &env,
        &request.environment,
        &env_file_paths,
        source,
        &mut warnings,
    )?;

    warnings.extend(
        unset
            .into_iter()
            .map(|name| format!("The {name:?} variable is not set. Defaulting to a blank string.")),
    );
    Ok(Loaded { project, warnings })
}

/// Converts every merged service to the model and reads its `env_file`s.
fn convert_services(
    merged: &IndexMap<String, Node>,
    service_files: &BTreeMap<String, PathBuf>,
    last_file: &Path,
    base: &PathBase<'_>,
    context: &EnvContext<'_>,
    source: &dyn FileSource,
) -> Result<BTreeMap<String, Service>, LoadError> {
    let mut services = BTreeMap::new();
    let Some(Node::Map(nodes)) = merged.get("services") else {
        return Ok(services);
    };
    for (name, node) in nodes {
        let file = service_files.get(name).map_or(last_file, PathBuf::as_path);
        let key = join("services", name);
        let at = At::new(file, &key);
        let empty = IndexMap::new();
        let map = match node {
            Node::Map(map) => map,
            _ => &empty,
        };
        let mut service = service::convert(map, at, base)?;
        service.compose_file = Some(file.display().to_string());
        files::apply_env_files(&mut service, map.get("env_file"), at, context, source)?;
        files::apply_label_files(&mut service, at, context, source)?;
        files::resolve_build_args(&mut service, context);
        services.insert(name.clone(), service);
    }
    Ok(services)
}

/// `--profile` values, else the comma-separated `COMPOSE_PROFILES`.
fn active_profiles(request: &LoadRequest, env: &BTreeMap<String, String>) -> BTreeSet<String> {
    if !request.profiles.is_empty() {
        return request.profiles.iter().cloned().collect();
    }
    let Some(list) = env.get("COMPOSE_PROFILES") else {
        return BTreeSet::new();
    };
    list.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

type ResourceReader<T> = fn(&str, &Node, At<'_>, &str, &Path) -> Result<T, LoadError>;

fn read_resources<T>(
    merged: &IndexMap<String, Node>,
    section: &str,
    file: &Path,
    project: &str,
    project_dir: &Path,
    read: ResourceReader<T>,
) -> Result<BTreeMap<String, T>, LoadError> {
    let mut out = BTreeMap::new();
    if let Some(Node::Map(entries)) = merged.get(section) {
        for (key, node) in entries {
            let path = join(section, key);
            let at = At::new(file, &path);
            out.insert(key.clone(), read(key, node, at, project, project_dir)?);
        }
    }
    Ok(out)
}

/// `-p`, else `COMPOSE_PROJECT_NAME`, else top-level `name:`, else the
/// project directory's name. Names given explicitly must already be valid;
/// the directory name is normalized.
/// The source of an explicit project name.
#[derive(Clone, Copy)]
enum NameOrigin {
    Flag,
    Environment,
    File,
}

fn project_name(
    request: &LoadRequest,
    env: &BTreeMap<String, String>,
    merged: &IndexMap<String, Node>,
    project_dir: &Path,
    file: &Path,
) -> Result<String, LoadError> {
    let explicit = request
        .project_name
        .clone()
        .map(|n| (n, NameOrigin::Flag))
        .or_else(|| {
            env.get("COMPOSE_PROJECT_NAME")
                .filter(|n| !n.is_empty())
                .map(|n| (n.clone(), NameOrigin::Environment))
        });
    let explicit = match explicit {
        Some(found) => Some(found),
        None => match merged.get("name") {
            Some(node) => fields::non_empty_string(node, At::new(file, "name"))?
                .map(|n| (n, NameOrigin::File)),
            None => None,
        },
    };
    let name = match explicit {
        Some((name, origin)) => {
            if normalize::normalize_project_name(&name) != name || name.is_empty() {
                let expected = "a project name made of lowercase letters, digits, `-` and `_`, \
                                starting with a letter or digit"
                    .to_owned();
                // Only a `name:` key comes from a compose file; the
                // other sources are named instead of the file.
                let origin = match origin {
                    NameOrigin::File => {
                        return Err(LoadError::InvalidValue {
                            path: file.to_path_buf(),
                            key: "name".to_owned(),
                            value: name,
                            expected,
                        });
                    }
                    NameOrigin::Flag => "the `-p` flag",
                    NameOrigin::Environment => "the COMPOSE_PROJECT_NAME variable",
                };
                return Err(LoadError::InvalidProjectName {
                    origin: origin.to_owned(),
                    value: name,
                    expected,
                });
            }
            name
        }
        None => {
            let base = project_dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            normalize::normalize_project_name(&base)
        }
    };
    if name.is_empty() {
        return Err(LoadError::InvalidValue {
            path: file.to_path_buf(),
            key: "name".to_owned(),
            value: project_dir.display().to_string(),
            expected: "a project name: the directory name has no usable character, pass -p"
                .to_owned(),
        });
    }
    Ok(name)
}

#[cfg(test)]
mod field_tests;
#[cfg(test)]
mod tests;
