//! Service volumes as `HostConfig.Binds` strings or `HostConfig.Mounts`
//! entries, following Compose's choice between the two APIs.
//!
//! Compose keeps the older `Binds` strings wherever they suffice: for a
//! bind, the engine then creates a missing host path, which the Mount API
//! cannot do. That covers binds without propagation or `recursive` and
//! with `create_host_path` left on, and named project volumes without
//! `nocopy`, `subpath` or labels. Everything else goes through `Mounts`:
//! anonymous volumes, volumes with options, tmpfs, images, inherited
//! volumes, secrets and configs.

use std::collections::BTreeMap;

use crate::engine_body::{
    BindOptionsBody, ImageOptionsBody, MountBody, TmpfsOptionsBody, VolumeOptionsBody,
};
use crate::model::ServiceVolume;

use super::{ContainerSpec, ContainerSpecError};

enum Entry {
    Bind(String),
    Mount(MountBody),
}

/// Returns the `Binds` strings and the `Mounts` entries, each sorted by
/// target.
pub(super) fn binds_and_mounts(
    spec: &ContainerSpec,
) -> Result<(Vec<String>, Vec<MountBody>), ContainerSpecError> {
    // Compose never carries a tmpfs over.
    let inherited: Vec<&MountBody> = spec
        .inherited_mounts
        .iter()
        .filter(|mount| mount.kind != "tmpfs")
        .collect();
    // Service volumes and inherited ones take precedence over secrets and
    // configs at the same target.
    let mut by_target: BTreeMap<String, Entry> = super::secrets::mounts(spec)?
        .into_iter()
        .map(|(target, mount)| (target, Entry::Mount(mount)))
        .collect();
    by_target.extend(
        inherited
            .iter()
            .map(|mount| (mount.target.clone(), Entry::Mount((*mount).clone()))),
    );

    for (index, volume) in spec.service.volumes.iter().enumerate() {
        // An inherited volume replaces every service volume without a
        // source at its target. That is meant for anonymous volumes, but
        // Compose applies it to a tmpfs as well, and so does this loop.
        let replaced =
            volume.source.is_none() && inherited.iter().any(|mount| mount.target == volume.target);
        if replaced {
            continue;
        }
        let entry = entry(spec, index, volume)?;
        by_target.insert(volume.target.clone(), entry);
    }

    let mut binds = Vec::new();
    let mut mounts = Vec::new();
    for entry in by_target.into_values() {
        match entry {
            Entry::Bind(bind) => binds.push(bind),
            Entry::Mount(mount) => mounts.push(mount),
        }
    }
    Ok((binds, mounts))
}

fn entry(
    spec: &ContainerSpec,
    index: usize,
    volume: &ServiceVolume,
) -> Result<Entry, ContainerSpecError> {
    match volume.kind.as_str() {
        "bind" => bind_entry(spec, index, volume),
        "volume" => Ok(volume_entry(spec, volume)),
        "tmpfs" => tmpfs_entry(spec, index, volume),
        "image" => image_entry(spec, index, volume),
        "npipe" | "cluster" => Err(ContainerSpecError::unsupported(
            spec,
            format!("volumes[{index}].type"),
            volume.kind.clone(),
        )),
        other => Err(ContainerSpecError::invalid(
            spec,
            format!("volumes[{index}].type"),
            other,
            "expected `bind`, `volume`, `tmpfs` or `image`",
        )),
    }
}

fn bind_entry(
    spec: &ContainerSpec,
    index: usize,
    volume: &ServiceVolume,
) -> Result<Entry, ContainerSpecError> {
    let field = |name: &str| format!("volumes[{index}].{name}");
    let Some(source) = &volume.source else {
        return Err(ContainerSpecError::invalid(
            spec,
            field("source"),
            "",
            "a bind needs a source",
        ));
    };
    // The loader resolves relative paths against the project directory.
    // Compose would resolve a leftover one against its own working
    // directory, which a pure planner cannot read.
    if !source.starts_with('/') {
        return Err(ContainerSpecError::invalid(
            spec,
            field("source"),
            source,
            "expected an absolute path",
        ));
    }
    if let Some(recursive) = volume.bind.as_ref().and_then(|b| b.recursive.as_ref()) {
        // The body has no `NonRecursive` or `ReadOnly*Recursive` options.
        return Err(ContainerSpecError::unsupported(
            spec,
            field("bind.recursive"),
            recursive,
        ));
    }

    let needs_mount_api = volume
        .bind
        .as_ref()
        .is_some_and(|bind| !bind.create_host_path || bind.propagation.is_some());
    if !needs_mount_api {
        return Ok(Entry::Bind(bind_string(source, volume)));
    }

    // The Mount API has no SELinux relabeling, so Compose drops `selinux`
    // here.
    let bind = volume.bind.as_ref();
    Ok(Entry::Mount(MountBody {
        kind: "bind".to_owned(),
        source: Some(source.clone()),
        target: volume.target.clone(),
        read_only: volume.read_only,
        bind_options: bind.map(|bind| BindOptionsBody {
            propagation: bind.propagation.clone(),
            create_mountpoint: bind.create_host_path.then_some(true),
        }),
        volume_options: None,
        tmpfs_options: None,
        image_options: None,
    }))
}

fn volume_entry(spec: &ContainerSpec, volume: &ServiceVolume) -> Entry {
    let project_volume = volume
        .source
        .as_ref()
        .and_then(|key| spec.project.volumes.get(key));
    // A source that is not a project volume passes unchanged, as in
    // Compose. The loader rejects undeclared volumes anyway.
    let source = match project_volume {
        Some(project_volume) => Some(project_volume.name.clone()),
        None => volume.source.clone(),
    };
    let has_options = volume.volume.as_ref().is_some_and(|options| {
        options.nocopy || options.subpath.is_some() || !options.labels.is_empty()
    });

    if let (Some(source), Some(_), false) = (&source, project_volume, has_options) {
        return Entry::Bind(bind_string(source, volume));
    }
    Entry::Mount(MountBody {
        kind: "volume".to_owned(),
        source,
        target: volume.target.clone(),
        read_only: volume.read_only,
        bind_options: None,
        volume_options: volume.volume.as_ref().map(|options| VolumeOptionsBody {
            no_copy: options.nocopy,
            labels: options.labels.clone(),
            subpath: options.subpath.clone(),
        }),
        tmpfs_options: None,
        image_options: None,
    })
}

fn tmpfs_entry(
    spec: &ContainerSpec,
    index: usize,
    volume: &ServiceVolume,
) -> Result<Entry, ContainerSpecError> {
    let tmpfs_options = match &volume.tmpfs {
        Some(options) => {
            let size_bytes = match &options.size {
                Some(size) => size.parse::<i64>().map_err(|_| {
                    ContainerSpecError::invalid(
                        spec,
                        format!("volumes[{index}].tmpfs.size"),
                        size,
                        "expected a byte count",
                    )
                })?,
                None => 0,
            };
            // Zero means unset to the engine, which then applies its own
            // defaults.
            Some(TmpfsOptionsBody {
                size_bytes: (size_bytes != 0).then_some(size_bytes),
                mode: options.mode.filter(|mode| *mode != 0).map(i64::from),
            })
        }
        None => None,
    };
    Ok(Entry::Mount(MountBody {
        kind: "tmpfs".to_owned(),
        source: None,
        target: volume.target.clone(),
        read_only: volume.read_only,
        bind_options: None,
        volume_options: None,
        tmpfs_options,
        image_options: None,
    }))
}

/// Mounts a path of an image, which engines before API 1.48 cannot do.
fn image_entry(
    spec: &ContainerSpec,
    index: usize,
    volume: &ServiceVolume,
) -> Result<Entry, ContainerSpecError> {
    if !super::api_at_least(spec.api_version, (1, 48))? {
        return Err(ContainerSpecError::invalid(
            spec,
            format!("volumes[{index}].type"),
            "image",
            format!(
                "needs engine api 1.48 or later, the engine has {}",
                spec.api_version
            ),
        ));
    }
    Ok(Entry::Mount(MountBody {
        kind: "image".to_owned(),
        source: volume.source.clone(),
        target: volume.target.clone(),
        read_only: volume.read_only,
        image_options: volume.image.as_ref().map(|options| ImageOptionsBody {
            subpath: options.subpath.clone(),
        }),
        ..MountBody::default()
    }))
}

/// Formats `source:target:rw|ro`, then `,<selinux>` and `,nocopy` when
/// set, as compose-go prints a volume.
fn bind_string(source: &str, volume: &ServiceVolume) -> String {
    let mut options = vec![if volume.read_only { "ro" } else { "rw" }];
    if let Some(selinux) = volume.bind.as_ref().and_then(|b| b.selinux.as_deref()) {
        options.push(selinux);
    }
    if volume.volume.as_ref().is_some_and(|v| v.nocopy) {
        options.push("nocopy");
    }
    format!("{source}:{}:{}", volume.target, options.join(","))
}
