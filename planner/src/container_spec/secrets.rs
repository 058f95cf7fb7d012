//! Secrets and configs: read-only bind mounts of their files, or files
//! copied into the container before it starts when they are given by
//! `content:` or `environment:`.

use std::collections::BTreeMap;

use crate::content::{ContentFile, ContentSource, DEFAULT_MODE};
use crate::engine_body::{BindOptionsBody, MountBody};
use crate::model::{FileObject, FileReference};

use super::{ContainerSpec, ContainerSpecError};

/// Returns the mounts of the service's secrets and configs by target.
pub(super) fn mounts(
    spec: &ContainerSpec,
) -> Result<BTreeMap<String, MountBody>, ContainerSpecError> {
    let mut out = BTreeMap::new();
    let kinds = [
        (
            "secrets",
            &spec.service.secrets,
            &spec.project.secrets,
            true,
        ),
        (
            "configs",
            &spec.service.configs,
            &spec.project.configs,
            false,
        ),
    ];
    for (kind, references, declared, secret) in kinds {
        for (index, reference) in references.iter().enumerate() {
            let field = format!("{kind}[{index}]");
            if let Some(mount) = mount(spec, &field, reference, declared, secret)? {
                out.insert(mount.target.clone(), mount);
            }
        }
    }
    Ok(out)
}

/// Returns the bind mount of a file-based secret or config, or `None` for
/// one whose content is copied instead.
fn mount(
    spec: &ContainerSpec,
    field: &str,
    reference: &FileReference,
    declared: &BTreeMap<String, FileObject>,
    secret: bool,
) -> Result<Option<MountBody>, ContainerSpecError> {
    let object = declared_object(spec.service_name, field, reference, declared)?;
    let target = target(reference, secret);
    let Some(file) = &object.file else {
        if object.content.is_some() || object.environment.is_some() {
            return Ok(None);
        }
        return Err(ContainerSpecError::unsupported(
            spec,
            field,
            format!(
                "{}, which is neither a file, an environment variable nor inline content",
                reference.source
            ),
        ));
    };
    Ok(Some(MountBody {
        kind: "bind".to_owned(),
        source: Some(file.clone()),
        target,
        read_only: true,
        // Compose binds secrets without creating a missing host file, so
        // the engine rejects the container. Configs carry no options.
        bind_options: secret.then(BindOptionsBody::default),
        volume_options: None,
        tmpfs_options: None,
        image_options: None,
    }))
}

fn declared_object<'a>(
    service: &str,
    field: &str,
    reference: &FileReference,
    declared: &'a BTreeMap<String, FileObject>,
) -> Result<&'a FileObject, ContainerSpecError> {
    declared
        .get(&reference.source)
        .ok_or_else(|| ContainerSpecError::Invalid {
            service: service.to_owned(),
            field: field.to_owned(),
            value: reference.source.clone(),
            reason: "no such top-level secret or config in the project".to_owned(),
        })
}

/// Returns the path in the container: secrets default to
/// `/run/secrets/<source>` and configs to `/<source>`, and a relative
/// target lives under that directory.
fn target(reference: &FileReference, secret: bool) -> String {
    let directory = if secret { "/run/secrets/" } else { "/" };
    match reference.target.as_deref() {
        None => format!("{directory}{}", reference.source),
        Some(target) if target.starts_with('/') => target.to_owned(),
        Some(target) => format!("{directory}{target}"),
    }
}

/// Returns the path in the container of each secret and config of the
/// service whose content has a digest, by `secrets.NAME` / `configs.NAME`:
/// the files whose digests the content-digests label records.
pub fn digested_targets(
    project: &crate::model::Project,
    service: &crate::model::Service,
) -> BTreeMap<String, String> {
    let kinds = [
        ("secrets", &service.secrets, &project.secrets, true),
        ("configs", &service.configs, &project.configs, false),
    ];
    let mut targets = BTreeMap::new();
    for (kind, references, declared, secret) in kinds {
        for reference in references {
            let digested = declared
                .get(&reference.source)
                .is_some_and(|object| object.digest.is_some());
            if digested {
                targets
                    .entry(format!("{kind}.{}", reference.source))
                    .or_insert_with(|| target(reference, secret));
            }
        }
    }
    targets
}

/// Lists the files copied into a container of the service before each
/// start: its secrets and configs given by `content:` or `environment:`,
/// with the owner and mode of the long syntax (default root and 0444).
pub fn copied_files(
    project: &crate::model::Project,
    service_name: &str,
    service: &crate::model::Service,
) -> Result<Vec<ContentFile>, ContainerSpecError> {
    let invalid = |field: &str, value: &str, reason: String| ContainerSpecError::Invalid {
        service: service_name.to_owned(),
        field: field.to_owned(),
        value: value.to_owned(),
        reason,
    };
    let mut files = Vec::new();
    let kinds = [
        ("secrets", &service.secrets, &project.secrets, true),
        ("configs", &service.configs, &project.configs, false),
    ];
    for (kind, references, declared, secret) in kinds {
        for (index, reference) in references.iter().enumerate() {
            let field = format!("{kind}[{index}]");
            let object = declared_object(service_name, &field, reference, declared)?;
            let key = format!("{kind}.{}", reference.source);
            let source = match (&object.content, &object.environment) {
                // A secret's inline content would sit in the plan in plain
                // text, and `apply` has no other place to read it from.
                (Some(_), _) if secret => {
                    return Err(ContainerSpecError::Invalid {
                        service: service_name.to_owned(),
                        field,
                        value: key,
                        reason: "a secret given by `content:` would sit in the plan in plain \
                                 text (give it by `environment:` or `file:`)"
                            .to_owned(),
                    });
                }
                (Some(content), _) => ContentSource::Inline {
                    content: content.clone(),
                },
                (None, Some(variable)) => ContentSource::Environment {
                    variable: variable.clone(),
                    env_files: object.env_files.clone(),
                },
                (None, None) => continue,
            };
            if service.read_only {
                return Err(invalid(
                    &field,
                    &reference.source,
                    "Docker Compose cannot copy it into a `read_only` container (mount it \
                     from a `file:` instead)"
                        .to_owned(),
                ));
            }
            let Some(digest) = object.digest.clone() else {
                let variable = object.environment.as_deref().unwrap_or_default();
                return Err(invalid(
                    &field,
                    &reference.source,
                    format!(
                        "environment variable {variable} is not set (set it or add it to .env)"
                    ),
                ));
            };
            let id = |value: &Option<String>, name: &str| -> Result<u32, ContainerSpecError> {
                match value.as_deref() {
                    None | Some("") => Ok(0),
                    Some(text) => text.parse().map_err(|_| {
                        invalid(
                            &format!("{field}.{name}"),
                            text,
                            "expected a numeric id".to_owned(),
                        )
                    }),
                }
            };
            files.push(ContentFile {
                key,
                target: target(reference, secret),
                uid: id(&reference.uid, "uid")?,
                gid: id(&reference.gid, "gid")?,
                mode: reference.mode.map_or(DEFAULT_MODE, |mode| mode.0),
                source,
                digest,
            });
        }
    }
    Ok(files)
}
