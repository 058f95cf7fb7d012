//! Discovery of the compose files and the project directory, the
//! environment used for substitution (`.env` or `--env-file`, overridden
//! by the process environment), and the service `env_file`s.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::LoadRequest;
use super::dotenv;
use super::error::LoadError;
use super::fields::{At, boolean, index, join, known_keys, string};
use super::volumes::clean;
use super::yaml::Node;
use crate::model::Service;

/// Reads files for the loader, which does no I/O itself.
pub trait FileSource {
    /// Reads `path` (absolute). Returns `None` when it does not exist.
    fn read(&self, path: &Path) -> std::io::Result<Option<String>>;
}

/// An in-memory file system, for tests and for callers that already hold
/// the contents.
impl FileSource for BTreeMap<PathBuf, String> {
    fn read(&self, path: &Path) -> std::io::Result<Option<String>> {
        Ok(self.get(path).cloned())
    }
}

/// Compose's default file names, in the order they are looked for.
const DEFAULT_FILES: &[&str] = &[
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];
/// The override file matching each default name.
const OVERRIDE_FILES: &[&str] = &[
    "compose.override.yaml",
    "compose.override.yml",
    "docker-compose.override.yaml",
    "docker-compose.override.yml",
];

/// The outcome of locating the project.
pub(crate) struct ResolvedFiles {
    pub(crate) files: Vec<PathBuf>,
    pub(crate) project_dir: PathBuf,
    /// Variables for substitution: `.env` values under process values.
    pub(crate) env: BTreeMap<String, String>,
    /// The env files behind `env`, later ones overriding earlier ones;
    /// some may not exist.
    pub(crate) env_file_paths: Vec<PathBuf>,
}

/// The environment and directory that `env_file` entries resolve against.
pub(crate) struct EnvContext<'a> {
    pub(crate) env: &'a BTreeMap<String, String>,
    pub(crate) project_dir: &'a Path,
}

fn absolute(base: &Path, path: &Path) -> PathBuf {
    clean(&base.join(path))
}

/// Reads a file that must exist.
pub(crate) fn read_required(source: &dyn FileSource, path: &Path) -> Result<String, LoadError> {
    match source.read(path) {
        Ok(Some(text)) => Ok(text),
        Ok(None) => Err(LoadError::FileNotFound {
            path: path.to_path_buf(),
        }),
        Err(error) => Err(LoadError::Read {
            path: path.to_path_buf(),
            source: error,
        }),
    }
}

fn read_optional(source: &dyn FileSource, path: &Path) -> Result<Option<String>, LoadError> {
    source.read(path).map_err(|error| LoadError::Read {
        path: path.to_path_buf(),
        source: error,
    })
}

/// Finds the compose files, the project directory and the environment.
pub(crate) fn resolve(
    request: &LoadRequest,
    source: &dyn FileSource,
) -> Result<ResolvedFiles, LoadError> {
    let cwd = clean(&request.working_dir);
    let explicit_dir = request
        .project_directory
        .as_ref()
        .map(|d| absolute(&cwd, d));
    let mut files: Vec<PathBuf> = request.files.iter().map(|f| absolute(&cwd, f)).collect();

    // Before the files are known, `.env` is read where the project
    // directory will be if nothing moves it: it may set COMPOSE_FILE.
    let first_guess = explicit_dir
        .clone()
        .or_else(|| {
            files
                .first()
                .and_then(|f| f.parent().map(Path::to_path_buf))
        })
        .unwrap_or_else(|| cwd.clone());
    let empty = BTreeMap::new();
    let first_values = env_file_values(request, &cwd, &first_guess, &empty, source)?;
    let mut env = first_values.clone();
    env.extend(request.environment.clone());

    if files.is_empty() {
        if let Some(list) = env.get("COMPOSE_FILE").filter(|l| !l.is_empty()) {
            let separator = env
                .get("COMPOSE_PATH_SEPARATOR")
                .cloned()
                .unwrap_or_else(|| ":".to_owned());
            files = list
                .split(separator.as_str())
                .filter(|f| !f.is_empty())
                .map(|f| absolute(explicit_dir.as_ref().unwrap_or(&cwd), Path::new(f)))
                .collect();
        } else {
            files = default_files(explicit_dir.as_ref().unwrap_or(&cwd), source)?;
        }
    }
    let project_dir = explicit_dir
        .or_else(|| {
            files
                .first()
                .and_then(|f| f.parent().map(Path::to_path_buf))
        })
        .unwrap_or_else(|| cwd.clone());
    // When the project directory turns out to be elsewhere (a parent
    // holding the compose file, or COMPOSE_FILE pointing away), Compose
    // also reads its `.env`, under the one read first.
    if request.env_files.is_empty() && project_dir != first_guess {
        let mut values = env_file_values(request, &cwd, &project_dir, &first_values, source)?;
        values.extend(first_values);
        values.extend(request.environment.clone());
        env = values;
    }
    let mut env_file_paths: Vec<PathBuf> = if request.env_files.is_empty() {
        vec![first_guess.join(".env")]
    } else {
        request
            .env_files
            .iter()
            .map(|p| absolute(&cwd, p))
            .collect()
    };
    if request.env_files.is_empty() && project_dir != first_guess {
        env_file_paths.insert(0, project_dir.join(".env"));
    }
    Ok(ResolvedFiles {
        files,
        project_dir,
        env,
        env_file_paths,
    })
}

/// Looks for a default file in `dir` and then in its parents, and adds
/// the override file next to it when there is one.
fn default_files(dir: &Path, source: &dyn FileSource) -> Result<Vec<PathBuf>, LoadError> {
    let mut current = Some(dir);
    while let Some(candidate_dir) = current {
        for name in DEFAULT_FILES {
            let path = candidate_dir.join(name);
            if read_optional(source, &path)?.is_some() {
                let mut files = vec![path];
                for name in OVERRIDE_FILES {
                    let path = candidate_dir.join(name);
                    if read_optional(source, &path)?.is_some() {
                        files.push(path);
                        break;
                    }
                }
                return Ok(files);
            }
        }
        current = candidate_dir.parent();
    }
    Err(LoadError::NoComposeFile {
        dir: dir.to_path_buf(),
    })
}

/// Reads `.env` in `dir`, or the `--env-file`s when some were given.
/// Values are substituted with the process environment first, then with
/// `earlier` (values already read), then with the file's own lines.
fn env_file_values(
    request: &LoadRequest,
    cwd: &Path,
    dir: &Path,
    earlier: &BTreeMap<String, String>,
    source: &dyn FileSource,
) -> Result<BTreeMap<String, String>, LoadError> {
    let process = &request.environment;
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    let paths: Vec<(PathBuf, bool)> = if request.env_files.is_empty() {
        vec![(dir.join(".env"), false)]
    } else {
        request
            .env_files
            .iter()
            .map(|p| (absolute(cwd, p), true))
            .collect()
    };
    for (path, required) in paths {
        let text = if required {
            Some(read_required(source, &path)?)
        } else {
            read_optional(source, &path)?
        };
        let Some(text) = text else { continue };
        let known = values.clone();
        let lookup = |name: &str| {
            process
                .get(name)
                .or_else(|| known.get(name))
                .or_else(|| earlier.get(name))
                .cloned()
        };
        for (key, value) in dotenv::parse(&text, &path, &lookup)? {
            if let Some(value) = value {
                values.insert(key, value);
            }
        }
    }
    Ok(values)
}

/// Adds the values of the service's `env_file`s under its `environment`
/// (later files win over earlier ones, `environment` over all), then
/// resolves names written without a value from the environment.
pub(crate) fn apply_env_files(
    service: &mut Service,
    env_file: Option<&Node>,
    at: At<'_>,
    context: &EnvContext<'_>,
    source: &dyn FileSource,
) -> Result<(), LoadError> {
    let lookup = |name: &str| context.env.get(name).cloned();
    let mut from_files: BTreeMap<String, Option<String>> = BTreeMap::new();
    let key = join(at.key, "env_file");
    let entries: &[Node] = match env_file {
        Some(Node::Seq(items)) => items,
        Some(other) => return Err(At::new(at.file, &key).must_be("a string or a list", other)),
        None => &[],
    };
    for (i, entry) in entries.iter().enumerate() {
        let entry_key = index(&key, i);
        let entry_at = At::new(at.file, &entry_key);
        let mut raw = false;
        let (path, required) = match entry {
            Node::Str(path) => (path.clone(), true),
            Node::Map(map) => {
                known_keys(map, &["path", "required", "format"], entry_at)?;
                if let Some(format) = map.get("format") {
                    let format_key = join(&entry_key, "format");
                    let format_at = At::new(at.file, &format_key);
                    match string(format, format_at)?.as_str() {
                        "raw" => raw = true,
                        // Compose takes plugins for other formats.
                        _ => return Err(format_at.unsupported()),
                    }
                }
                let path_key = join(&entry_key, "path");
                let path = match map.get("path") {
                    Some(node) => string(node, At::new(at.file, &path_key))?,
                    None => {
                        return Err(
                            At::new(at.file, &path_key).invalid("", "the path of the env file")
                        );
                    }
                };
                let required = match map.get("required") {
                    Some(node) => boolean(node, At::new(at.file, &join(&entry_key, "required")))?,
                    None => true,
                };
                (path, required)
            }
            other => return Err(entry_at.must_be("a string or a mapping", other)),
        };
        let resolved = absolute(context.project_dir, Path::new(&path));
        let Some(text) = read_optional(source, &resolved)? else {
            if required {
                return Err(LoadError::EnvFileNotFound {
                    path: at.file_buf(),
                    key: entry_key,
                    missing: resolved,
                });
            }
            continue;
        };
        let values = if raw {
            parse_raw(&text, &resolved, &lookup)?
        } else {
            dotenv::parse(&text, &resolved, &lookup)?
        };
        for (name, value) in values {
            if value.is_some() {
                from_files.insert(name, value);
            }
        }
    }
    let declared = std::mem::take(&mut service.environment);
    from_files.extend(declared);
    for (name, value) in from_files.iter_mut() {
        if value.is_none() {
            *value = context.env.get(name).cloned();
        }
    }
    service.environment = from_files;
    Ok(())
}

/// Adds the labels of the service's `label_file`s (absolute paths by now)
/// under its `labels`: later files win over earlier ones, and labels
/// written in the compose file over all of them.
pub(crate) fn apply_label_files(
    service: &mut Service,
    at: At<'_>,
    context: &EnvContext<'_>,
    source: &dyn FileSource,
) -> Result<(), LoadError> {
    let lookup = |name: &str| context.env.get(name).cloned();
    let mut from_files: BTreeMap<String, String> = BTreeMap::new();
    for (i, path) in service.label_file.iter().enumerate() {
        let resolved = Path::new(path);
        let Some(text) = read_optional(source, resolved)? else {
            return Err(LoadError::EnvFileNotFound {
                path: at.file_buf(),
                key: index(&join(at.key, "label_file"), i),
                missing: resolved.to_path_buf(),
            });
        };
        for (name, value) in dotenv::parse(&text, resolved, &lookup)? {
            from_files.insert(name, value.unwrap_or_default());
        }
    }
    from_files.extend(std::mem::take(&mut service.labels));
    service.labels = from_files;
    Ok(())
}

/// Gives build arguments written without a value the value of the
/// variable of that name, and drops those whose variable is not set.
pub(crate) fn resolve_build_args(service: &mut Service, context: &EnvContext<'_>) {
    let Some(build) = &mut service.build else {
        return;
    };
    build.args = std::mem::take(&mut build.args)
        .into_iter()
        .filter_map(|(name, value)| match value {
            Some(value) => Some((name, Some(value))),
            None => context.env.get(&name).map(|v| (name, Some(v.clone()))),
        })
        .collect();
}

/// Parses an env file of `format: raw`: `KEY=value` lines taken
/// literally, without quotes, escapes, comments after values or
/// substitution. A bare `KEY` takes the variable's value when it is set.
fn parse_raw(
    text: &str,
    path: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(String, Option<String>)>, LoadError> {
    let mut values = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) = match line.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (line, lookup(line)),
        };
        if name.is_empty() || name.chars().any(char::is_whitespace) {
            return Err(LoadError::EnvFileSyntax {
                path: path.to_path_buf(),
                line: number + 1,
                message: format!(
                    "variable {name:?} contains whitespace (raw files take `KEY=value`)"
                ),
            });
        }
        values.push((name.to_owned(), value));
    }
    Ok(values)
}
