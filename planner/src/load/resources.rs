//! Top-level `networks`, `volumes`, `secrets` and `configs`: their options, and the names
//! Compose gives them (`<project>_<key>`, or the key itself for an
//! external resource, unless `name:` sets one).

use std::collections::BTreeMap;
use std::path::Path;

use indexmap::IndexMap;

use super::error::LoadError;
use super::fields::{
    At, boolean, join, key_values, known_keys, mapping, non_empty_string, options, string,
};
use super::volumes::{PathBase, absolute};
use super::yaml::Node;
use crate::model::{FileObject, Ipam, IpamPool, Network, Volume};

const NETWORK_KEYS: &[&str] = &[
    "name",
    "driver",
    "driver_opts",
    "ipam",
    "external",
    "internal",
    "attachable",
    "enable_ipv4",
    "enable_ipv6",
    "labels",
];
const VOLUME_KEYS: &[&str] = &["name", "driver", "driver_opts", "external", "labels"];

/// Reads one top-level network.
pub(crate) fn network(
    key: &str,
    node: &Node,
    at: At<'_>,
    project: &str,
    _project_dir: &Path,
) -> Result<Network, LoadError> {
    let empty = IndexMap::new();
    let map = match node {
        Node::Null => &empty,
        other => mapping(other, at)?,
    };
    known_keys(map, NETWORK_KEYS, at)?;
    let mut network = Network::default();
    let mut name = None;
    for (option, value) in map {
        let child = join(at.key, option);
        let f = At::new(at.file, &child);
        match option.as_str() {
            "name" => name = Some(string(value, f)?),
            "driver" => network.driver = non_empty_string(value, f)?,
            "driver_opts" => network.driver_opts = string_map(value, f)?,
            "ipam" => network.ipam = ipam(value, f)?,
            "external" => network.external = external(value, f)?,
            "internal" => network.internal = boolean(value, f)?,
            "attachable" => network.attachable = boolean(value, f)?,
            "enable_ipv4" => network.enable_ipv4 = Some(boolean(value, f)?),
            "enable_ipv6" => network.enable_ipv6 = Some(boolean(value, f)?),
            "labels" => network.labels = string_map(value, f)?,
            _ => return Err(f.unsupported()),
        }
    }
    network.name = resource_name(key, name, network.external, project);
    Ok(network)
}

/// Reads one top-level volume.
pub(crate) fn volume(
    key: &str,
    node: &Node,
    at: At<'_>,
    project: &str,
    project_dir: &Path,
) -> Result<Volume, LoadError> {
    let empty = IndexMap::new();
    let map = match node {
        Node::Null => &empty,
        other => mapping(other, at)?,
    };
    known_keys(map, VOLUME_KEYS, at)?;
    let mut volume = Volume::default();
    let mut name = None;
    for (option, value) in map {
        let child = join(at.key, option);
        let f = At::new(at.file, &child);
        match option.as_str() {
            "name" => name = Some(string(value, f)?),
            "driver" => volume.driver = non_empty_string(value, f)?,
            "driver_opts" => volume.driver_opts = string_map(value, f)?,
            "external" => volume.external = external(value, f)?,
            _ => volume.labels = string_map(value, f)?,
        }
    }
    // The local driver's bind option takes a host path, which Compose
    // resolves like a bind mount source.
    let binds = volume
        .driver_opts
        .get("o")
        .is_some_and(|o| o.split(',').any(|part| part == "bind"));
    if binds {
        if let Some(device) = volume.driver_opts.get_mut("device") {
            let base = PathBase {
                project_dir,
                home: None,
            };
            *device = absolute(device, &base);
        }
    }
    volume.name = resource_name(key, name, volume.external, project);
    Ok(volume)
}

/// Compose names a resource only when `name:` is absent: a name that is
/// empty after interpolation stays empty, and the planner rejects it.
fn resource_name(key: &str, name: Option<String>, external: bool, project: &str) -> String {
    match name {
        Some(name) => name,
        None if external => key.to_owned(),
        None => format!("{project}_{key}"),
    }
}

/// Reads `external`. The old `external: {name: NAME}` form was rewritten
/// while canonicalizing, so a mapping left here has other keys.
fn external(value: &Node, at: At<'_>) -> Result<bool, LoadError> {
    match value {
        Node::Map(_) => Err(at.unsupported()),
        other => boolean(other, at),
    }
}

/// Reads a `KEY=value` list or a mapping into strings. A bare key gets an
/// empty value.
fn string_map(value: &Node, at: At<'_>) -> Result<BTreeMap<String, String>, LoadError> {
    Ok(key_values(value, at)?
        .into_iter()
        .map(|(k, v)| (k, v.unwrap_or_default()))
        .collect())
}

/// IPAM settings. Compose drops `ipam.options` from its model, so berth
/// accepts and drops them too.
fn ipam(value: &Node, at: At<'_>) -> Result<Ipam, LoadError> {
    let map = mapping(value, at)?;
    known_keys(map, &["driver", "config", "options"], at)?;
    let mut ipam = Ipam::default();
    if let Some(driver) = map.get("driver") {
        ipam.driver = non_empty_string(driver, At::new(at.file, &join(at.key, "driver")))?;
    }
    if let Some(config) = map.get("config") {
        let key = join(at.key, "config");
        let Node::Seq(pools) = config else {
            return Err(At::new(at.file, &key).must_be("a list", config));
        };
        for (i, pool) in pools.iter().enumerate() {
            let key = format!("{key}[{i}]");
            let at = At::new(at.file, &key);
            let pool_map = mapping(pool, at)?;
            known_keys(
                pool_map,
                &["subnet", "gateway", "ip_range", "aux_addresses"],
                at,
            )?;
            let mut parsed = IpamPool::default();
            for (option, value) in pool_map {
                let key = join(&key, option);
                let f = At::new(at.file, &key);
                match option.as_str() {
                    "subnet" => parsed.subnet = Some(string(value, f)?),
                    "gateway" => parsed.gateway = Some(string(value, f)?),
                    "ip_range" => parsed.ip_range = Some(string(value, f)?),
                    _ => parsed.aux_addresses = string_map(value, f)?,
                }
            }
            ipam.config.push(parsed);
        }
    }
    Ok(ipam)
}

const FILE_OBJECT_KEYS: &[&str] = &[
    "name",
    "file",
    "environment",
    "content",
    "external",
    "labels",
    "driver",
    "driver_opts",
    "template_driver",
];

/// Reads one top-level secret or config. Its `file` was made absolute
/// against the directory of the compose file that declares it.
pub(crate) fn file_object(
    key: &str,
    node: &Node,
    at: At<'_>,
    project: &str,
    _project_dir: &Path,
) -> Result<FileObject, LoadError> {
    let map = mapping(node, at)?;
    known_keys(map, FILE_OBJECT_KEYS, at)?;
    let mut object = FileObject::default();
    let mut name = None;
    for (option, value) in options(map) {
        let child = join(at.key, option);
        let f = At::new(at.file, &child);
        match option.as_str() {
            "name" => name = non_empty_string(value, f)?,
            "file" => object.file = non_empty_string(value, f)?,
            "environment" => object.environment = non_empty_string(value, f)?,
            "content" => object.content = Some(string(value, f)?),
            "external" => object.external = external(value, f)?,
            "labels" => object.labels = string_map(value, f)?,
            "driver" => object.driver = non_empty_string(value, f)?,
            "driver_opts" => object.driver_opts = string_map(value, f)?,
            _ => object.template_driver = non_empty_string(value, f)?,
        }
    }
    let sources = [
        object.file.is_some(),
        object.environment.is_some(),
        object.content.is_some(),
        object.external,
    ];
    if sources.iter().filter(|set| **set).count() != 1 && object.driver.is_none() {
        return Err(at.invalid(
            key,
            "exactly one of `file`, `environment`, `content` or `external: true`",
        ));
    }
    object.name = resource_name(key, name, object.external, project);
    Ok(object)
}
