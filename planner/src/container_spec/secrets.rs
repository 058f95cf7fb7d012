//! Secrets and configs as read-only bind mounts of their files.
//!
//! Compose copies a secret or config given by `content:` or `environment:`
//! into the container before each start. The plan has no step for that
//! yet, so such a reference is rejected here rather than left out.

use std::collections::BTreeMap;

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
            let mount = mount(spec, &field, reference, declared, secret)?;
            out.insert(mount.target.clone(), mount);
        }
    }
    Ok(out)
}

fn mount(
    spec: &ContainerSpec,
    field: &str,
    reference: &FileReference,
    declared: &BTreeMap<String, FileObject>,
    secret: bool,
) -> Result<MountBody, ContainerSpecError> {
    let directory = if secret { "/run/secrets/" } else { "/" };
    let source = &reference.source;
    let Some(object) = declared.get(source) else {
        return Err(ContainerSpecError::invalid(
            spec,
            field,
            source,
            "no such top-level secret or config in the project",
        ));
    };
    // A relative target lives under the default directory.
    let target = match reference.target.as_deref() {
        None => format!("{directory}{source}"),
        Some(target) if target.starts_with('/') => target.to_owned(),
        Some(target) => format!("{directory}{target}"),
    };
    let Some(file) = &object.file else {
        // TODO: copy `content:` and `environment:` values into the
        // container before it starts, as Compose does.
        return Err(ContainerSpecError::unsupported(
            spec,
            field,
            format!("{source}, whose content Compose copies into the container before it starts"),
        ));
    };
    Ok(MountBody {
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
    })
}
