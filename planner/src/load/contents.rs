//! Digests of the content behind each used secret and config, so that the
//! planner notices when a file, an environment variable or an inline
//! `content:` changes. Docker Compose hashes none of them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::dotenv;
use super::error::LoadError;
use super::files::FileSource;
use crate::content::digest;
use crate::model::Project;

/// Fills `digest` and `env_files` of every secret and config of `project`.
/// A file that cannot be read as text gets no digest and a warning:
/// changes to it then go unnoticed, as they do in Docker Compose.
pub(crate) fn resolve(
    project: &mut Project,
    env: &BTreeMap<String, String>,
    process: &BTreeMap<String, String>,
    env_file_paths: &[PathBuf],
    source: &dyn FileSource,
    warnings: &mut Vec<String>,
) -> Result<(), LoadError> {
    let objects = project.secrets.iter_mut().chain(project.configs.iter_mut());
    for (key, object) in objects {
        if let Some(file) = &object.file {
            match source.read(Path::new(file)) {
                Ok(Some(text)) => object.digest = Some(digest(text.as_bytes())),
                Ok(None) => {}
                Err(error) => warnings.push(format!(
                    "failed to read {file} of `{key}` ({error}), so a change to its content \
                     will not replace the containers that use it"
                )),
            }
        } else if let Some(variable) = &object.environment {
            let Some(value) = env.get(variable) else {
                continue;
            };
            object.digest = Some(digest(value.as_bytes()));
            // Recorded even when the process sets the variable, so that an
            // apply run without it still finds the value the files give.
            object.env_files = defining_files(variable, env_file_paths, process, source)?;
        } else if let Some(content) = &object.content {
            object.digest = Some(digest(content.as_bytes()));
        }
    }
    Ok(())
}

/// Returns the env files among `paths` that set `variable`.
fn defining_files(
    variable: &str,
    paths: &[PathBuf],
    process: &BTreeMap<String, String>,
    source: &dyn FileSource,
) -> Result<Vec<String>, LoadError> {
    let mut found = Vec::new();
    for path in paths {
        let Some(entries) = read_entries(path, process, source)? else {
            continue;
        };
        if entries
            .iter()
            .any(|(key, value)| key == variable && value.is_some())
        {
            found.push(path.display().to_string());
        }
    }
    Ok(found)
}

/// Reads the value of a secret or config given by `environment:` the way
/// the loader resolved it: the process environment first, then
/// `env_files` in order, the last one that sets the variable winning.
/// Values in the files are substituted from the process environment and
/// the lines before them. Returns `None` when nothing sets the variable.
pub fn environment_value(
    variable: &str,
    process: &BTreeMap<String, String>,
    env_files: &[String],
    source: &dyn FileSource,
) -> Result<Option<String>, LoadError> {
    if let Some(value) = process.get(variable) {
        return Ok(Some(value.clone()));
    }
    let mut value = None;
    for file in env_files {
        let Some(entries) = read_entries(Path::new(file), process, source)? else {
            continue;
        };
        for (key, entry) in entries {
            if key == variable && entry.is_some() {
                value = entry;
            }
        }
    }
    Ok(value)
}

/// Parses one env file, substituting from the process environment;
/// `None` when it does not exist.
fn read_entries(
    path: &Path,
    process: &BTreeMap<String, String>,
    source: &dyn FileSource,
) -> Result<Option<Vec<dotenv::EnvEntry>>, LoadError> {
    let text = source.read(path).map_err(|error| LoadError::Read {
        path: path.to_path_buf(),
        source: error,
    })?;
    let Some(text) = text else {
        return Ok(None);
    };
    let lookup = |name: &str| process.get(name).cloned();
    dotenv::parse(&text, path, &lookup).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> BTreeMap<PathBuf, String> {
        [
            (
                PathBuf::from("/p/a.env"),
                "TOKEN=first\nOTHER=x\n".to_owned(),
            ),
            (
                PathBuf::from("/p/b.env"),
                "TOKEN=${PREFIX}-second\n".to_owned(),
            ),
        ]
        .into()
    }

    fn value(process: &[(&str, &str)], env_files: &[&str]) -> Option<String> {
        let process: BTreeMap<String, String> = process
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let env_files: Vec<String> = env_files.iter().map(|f| (*f).to_owned()).collect();
        match environment_value("TOKEN", &process, &env_files, &files()) {
            Ok(value) => value,
            Err(error) => panic!("{error}"),
        }
    }

    #[test]
    fn environment_value_precedence() {
        assert_eq!(
            value(&[("TOKEN", "shell")], &["/p/a.env"]).as_deref(),
            Some("shell")
        );
        assert_eq!(value(&[], &["/p/a.env"]).as_deref(), Some("first"));
        assert_eq!(
            value(&[("PREFIX", "p")], &["/p/a.env", "/p/b.env"]).as_deref(),
            Some("p-second")
        );
        assert_eq!(value(&[], &["/p/missing.env"]), None);
        assert_eq!(value(&[], &[]), None);
    }
}
