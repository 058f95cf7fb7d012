//! Top-level `secrets`, `configs` and `models` after profiles are
//! applied: every reference must name one, and the secrets and configs no
//! enabled service uses are dropped, as Compose drops them.

use std::collections::BTreeMap;

use super::error::LoadError;
use super::yaml::Node;
use crate::model::{FileObject, Project};

/// Checks the references of the enabled services and keeps the secrets
/// and configs they use.
pub(crate) fn keep_used(
    project: &mut Project,
    mut secrets: BTreeMap<String, FileObject>,
    mut configs: BTreeMap<String, FileObject>,
    files: &str,
) -> Result<(), LoadError> {
    for (name, service) in &project.services {
        let build_secrets = service.build.iter().flat_map(|b| b.secrets.iter());
        for reference in service.secrets.iter().chain(build_secrets) {
            take(
                &mut secrets,
                &mut project.secrets,
                name,
                "secret",
                &reference.source,
                files,
            )?;
        }
        for reference in &service.configs {
            take(
                &mut configs,
                &mut project.configs,
                name,
                "config",
                &reference.source,
                files,
            )?;
        }
    }
    Ok(())
}

fn take(
    declared: &mut BTreeMap<String, FileObject>,
    used: &mut BTreeMap<String, FileObject>,
    service: &str,
    kind: &str,
    source: &str,
    files: &str,
) -> Result<(), LoadError> {
    if used.contains_key(source) {
        return Ok(());
    }
    match declared.remove(source) {
        Some(object) => {
            used.insert(source.to_owned(), object);
            Ok(())
        }
        None => Err(LoadError::Project {
            files: files.to_owned(),
            message: format!(
                "service {service:?} refers to undefined {kind} {source} (declare it under \
                 top-level `{kind}s:`)"
            ),
        }),
    }
}

/// Checks that every model an enabled service uses is declared under the
/// top-level `models`, which berth does not keep otherwise.
pub(crate) fn check_models(
    project: &Project,
    declared: Option<&Node>,
    files: &str,
) -> Result<(), LoadError> {
    let keys: Vec<&String> = match declared {
        Some(Node::Map(models)) => models.keys().collect(),
        _ => Vec::new(),
    };
    for (name, service) in &project.services {
        if let Some(model) = service.models.keys().find(|model| !keys.contains(model)) {
            return Err(LoadError::Project {
                files: files.to_owned(),
                message: format!(
                    "service {name:?} refers to undefined model {model} (declare it under \
                     top-level `models:`)"
                ),
            });
        }
    }
    Ok(())
}
