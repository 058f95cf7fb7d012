//! Readers for resource settings: sizes, CPU numbers, `ulimits`,
//! `logging`, `blkio_config`, `devices`, device requests (`gpus`) and
//! `deploy.resources` / `deploy.restart_policy`.

use std::collections::BTreeMap;

use super::fields::{
    At, index, integer, join, key_values, known_keys, mapping, non_empty_string, options, string,
    string_list, unsigned,
};
use super::service_fields::duration;
use super::volumes::byte_size;
use super::yaml::Node;
use crate::load::error::LoadError;
use crate::model::{
    BlkioConfig, ByteCount, DeployResources, DeviceMapping, DeviceRequest, GoFloat, Logging,
    Resource, RestartPolicy, ThrottleDevice, Ulimit, WeightDevice,
};

/// Reads a size: a number of bytes, or a string such as `512m` or `1.5g`.
/// Compose keeps negative numbers (`memswap_limit: -1`).
pub(crate) fn bytes(value: &Node, at: At<'_>) -> Result<ByteCount, LoadError> {
    match value {
        Node::Int(i) => Ok(ByteCount(*i)),
        Node::Str(text) => match text.trim().parse::<i64>() {
            Ok(i) => Ok(ByteCount(i)),
            Err(_) => {
                let size = byte_size(text, at)?;
                i64::try_from(size)
                    .map(ByteCount)
                    .map_err(|_| at.invalid(text.clone(), "a size below 8 exabytes"))
            }
        },
        other => Err(at.must_be("a string or a number", other)),
    }
}

/// Reads a CPU number such as `0.5`, `2` or `"1.25"`.
pub(crate) fn float(value: &Node, at: At<'_>) -> Result<GoFloat, LoadError> {
    let number = match value {
        Node::Int(i) => *i as f64,
        Node::Float(f) => *f,
        Node::Str(text) => text
            .trim()
            .parse::<f64>()
            .map_err(|_| at.invalid(text.clone(), "a number such as 0.5 or 2"))?,
        other => return Err(at.must_be("a number or a string", other)),
    };
    if !number.is_finite() {
        return Err(at.invalid(number.to_string(), "a finite number"));
    }
    Ok(GoFloat(number as f32))
}

/// Reads a mapping or `KEY=value` list whose values Compose turns into
/// strings, with a null or missing value as an empty string.
pub(crate) fn string_values(
    value: &Node,
    at: At<'_>,
) -> Result<BTreeMap<String, String>, LoadError> {
    Ok(with_extensions(key_values(value, at)?)
        .into_iter()
        .map(|(k, v)| (k, v.unwrap_or_default()))
        .collect())
}

/// Moves the keys starting with `x-` into one `#extensions` entry that
/// holds Go's rendering of a map (`map[x-a:1 x-b:2]`), as Compose does in
/// string maps. That entry is printed and hashed.
pub(crate) fn with_extensions(
    pairs: Vec<(String, Option<String>)>,
) -> Vec<(String, Option<String>)> {
    let (mut extensions, mut plain): (Vec<_>, Vec<_>) = pairs
        .into_iter()
        .partition(|(key, _)| key.starts_with("x-"));
    if !extensions.is_empty() {
        extensions.sort();
        let body: Vec<String> = extensions
            .iter()
            .map(|(key, value)| format!("{key}:{}", value.as_deref().unwrap_or_default()))
            .collect();
        plain.push((
            "#extensions".to_owned(),
            Some(format!("map[{}]", body.join(" "))),
        ));
    }
    plain
}

/// Reads `storage_opt`, a mapping in which Compose fails on `x-` keys.
pub(crate) fn storage_opt(value: &Node, at: At<'_>) -> Result<BTreeMap<String, String>, LoadError> {
    let map = mapping(value, at)?;
    if let Some(key) = map.keys().find(|key| key.starts_with("x-")) {
        return Err(At::new(at.file, &join(at.key, key)).invalid(
            key.clone(),
            "an option name (`x-` keys are not allowed here)",
        ));
    }
    string_values(value, at)
}

/// Reads `ulimits`: a single number for both limits, or `soft` and `hard`.
pub(crate) fn ulimits(value: &Node, at: At<'_>) -> Result<BTreeMap<String, Ulimit>, LoadError> {
    let mut out = BTreeMap::new();
    for (name, entry) in mapping(value, at)? {
        let key = join(at.key, name);
        let f = At::new(at.file, &key);
        let limit = match entry {
            Node::Map(pair) => {
                known_keys(pair, &["soft", "hard"], f)?;
                if !(pair.contains_key("soft") && pair.contains_key("hard")) {
                    return Err(
                        f.must_be("a number or a mapping with both `soft` and `hard`", entry)
                    );
                }
                let mut limit = Ulimit::default();
                for (option, value) in options(pair) {
                    let key = join(&key, option);
                    let number = integer(value, At::new(at.file, &key))?;
                    if option == "soft" {
                        limit.soft = number;
                    } else {
                        limit.hard = number;
                    }
                }
                limit
            }
            other => Ulimit {
                single: integer(other, f)?,
                ..Ulimit::default()
            },
        };
        out.insert(name.clone(), limit);
    }
    Ok(out)
}

/// Reads `logging`. Option values become strings, as Compose prints them.
pub(crate) fn logging(value: &Node, at: At<'_>) -> Result<Logging, LoadError> {
    let map = mapping(value, at)?;
    known_keys(map, &["driver", "options"], at)?;
    let mut logging = Logging::default();
    for (name, value) in options(map) {
        let key = join(at.key, name);
        let f = At::new(at.file, &key);
        if name == "driver" {
            logging.driver = non_empty_string(value, f)?;
            continue;
        }
        if let Node::Map(options) = value {
            if let Some((option, bad)) = options.iter().find(|(_, v)| matches!(v, Node::Bool(_))) {
                return Err(
                    At::new(at.file, &join(&key, option)).must_be("a null, number or string", bad)
                );
            }
        }
        if !matches!(value, Node::Null) {
            logging.options = string_values(value, f)?;
        }
    }
    Ok(logging)
}

/// Reads `blkio_config`. Rates are sizes and weights plain numbers.
pub(crate) fn blkio_config(value: &Node, at: At<'_>) -> Result<BlkioConfig, LoadError> {
    let map = mapping(value, at)?;
    known_keys(
        map,
        &[
            "weight",
            "weight_device",
            "device_read_bps",
            "device_read_iops",
            "device_write_bps",
            "device_write_iops",
        ],
        at,
    )?;
    // Unlike most objects, the schema allows no `x-` keys here.
    if let Some(key) = map.keys().find(|key| key.starts_with("x-")) {
        return Err(LoadError::Schema {
            path: at.file_buf(),
            key: at.key.to_owned(),
            message: format!("additional properties '{key}' not allowed"),
        });
    }
    let mut config = BlkioConfig::default();
    for (name, value) in options(map) {
        let key = join(at.key, name);
        let f = At::new(at.file, &key);
        match name.as_str() {
            "weight" => config.weight = weight(value, f)?,
            "weight_device" => {
                for (i, entry) in items(value, f)?.iter().enumerate() {
                    let key = index(&key, i);
                    let (path, weight_node) = device_entry(entry, &key, at, "weight")?;
                    let value_key = join(&key, "weight");
                    let weight = match weight_node {
                        Some(node) => weight(node, At::new(at.file, &value_key))?,
                        None => 0,
                    };
                    config.weight_device.push(WeightDevice { path, weight });
                }
            }
            _ => {
                let mut devices = Vec::new();
                for (i, entry) in items(value, f)?.iter().enumerate() {
                    let key = index(&key, i);
                    let (path, rate) = device_entry(entry, &key, at, "rate")?;
                    let value_key = join(&key, "rate");
                    let rate = match rate {
                        Some(node) => bytes(node, At::new(at.file, &value_key))?,
                        None => ByteCount(0),
                    };
                    devices.push(ThrottleDevice { path, rate });
                }
                match name.as_str() {
                    "device_read_bps" => config.device_read_bps = devices,
                    "device_read_iops" => config.device_read_iops = devices,
                    "device_write_bps" => config.device_write_bps = devices,
                    _ => config.device_write_iops = devices,
                }
            }
        }
    }
    Ok(config)
}

fn items<'n>(value: &'n Node, at: At<'_>) -> Result<&'n [Node], LoadError> {
    match value {
        Node::Seq(items) => Ok(items),
        other => Err(at.must_be("a list", other)),
    }
}

/// Reads a block I/O weight. The engine checks its range.
fn weight(value: &Node, at: At<'_>) -> Result<i64, LoadError> {
    let weight = integer(value, at)?;
    if !(0..=i64::from(u16::MAX)).contains(&weight) {
        return Err(at.invalid(weight.to_string(), "a weight from 10 to 1000"));
    }
    Ok(weight)
}

/// Reads a `{path, <field>}` entry of `blkio_config`, returning the path
/// and the other value, which Compose lets default to zero.
fn device_entry<'n>(
    entry: &'n Node,
    key: &str,
    at: At<'_>,
    field: &str,
) -> Result<(String, Option<&'n Node>), LoadError> {
    let entry_at = At::new(at.file, key);
    let map = mapping(entry, entry_at)?;
    known_keys(map, &["path", field], entry_at)?;
    let path = match map.get("path") {
        Some(path) => string(path, At::new(at.file, &join(key, "path")))?,
        None => return Err(entry_at.invalid("", "an entry with a `path`")),
    };
    Ok((path, map.get(field)))
}

/// Reads `devices`: `source[:target[:permissions]]` or the long form.
pub(crate) fn devices(value: &Node, at: At<'_>) -> Result<Vec<DeviceMapping>, LoadError> {
    let mut out = Vec::new();
    for (i, entry) in items(value, at)?.iter().enumerate() {
        let key = index(at.key, i);
        let f = At::new(at.file, &key);
        let device = match entry {
            Node::Str(text) => {
                let parts: Vec<&str> = text.split(':').collect();
                let (source, target, permissions) = match parts.as_slice() {
                    [source] => (*source, *source, "rwm"),
                    [source, target] => (*source, *target, "rwm"),
                    [source, target, permissions] => (*source, *target, *permissions),
                    _ => {
                        return Err(f.invalid(text.clone(), "`source[:target[:permissions]]`"));
                    }
                };
                DeviceMapping {
                    source: Some(source.to_owned()),
                    target: Some(target.to_owned()),
                    permissions: Some(permissions.to_owned()),
                }
            }
            Node::Map(map) => {
                known_keys(map, &["source", "target", "permissions"], f)?;
                let read = |name: &str| -> Result<Option<String>, LoadError> {
                    match map.get(name) {
                        Some(v) => non_empty_string(v, At::new(at.file, &join(&key, name))),
                        None => Ok(None),
                    }
                };
                let target = read("target")?;
                if target.is_none() {
                    return Err(LoadError::Schema {
                        path: f.file_buf(),
                        key: key.clone(),
                        message: "is missing a mount target (set `target:` to the path in the \
                                  container)"
                            .to_owned(),
                    });
                }
                DeviceMapping {
                    source: read("source")?,
                    target,
                    permissions: read("permissions")?,
                }
            }
            other => return Err(f.must_be("a string or a mapping", other)),
        };
        out.push(device);
    }
    Ok(out)
}

/// Reads `gpus`: `all`, or a list of device requests.
pub(crate) fn gpus(value: &Node, at: At<'_>) -> Result<Vec<DeviceRequest>, LoadError> {
    match value {
        Node::Str(text) if text == "all" => Ok(vec![DeviceRequest {
            count: -1,
            ..DeviceRequest::default()
        }]),
        Node::Str(text) => Err(at.invalid(text.clone(), "`all` or a list of device requests")),
        _ => device_requests(value, at),
    }
}

/// Reads a list of device requests.
pub(crate) fn device_requests(value: &Node, at: At<'_>) -> Result<Vec<DeviceRequest>, LoadError> {
    let mut out = Vec::new();
    for (i, entry) in items(value, at)?.iter().enumerate() {
        let key = index(at.key, i);
        let f = At::new(at.file, &key);
        let map = mapping(entry, f)?;
        known_keys(
            map,
            &["capabilities", "driver", "count", "device_ids", "options"],
            f,
        )?;
        if map.contains_key("count") && map.contains_key("device_ids") {
            return Err(LoadError::Schema {
                path: f.file_buf(),
                key,
                message: "\"count\" and \"device_ids\" attributes are exclusive".to_owned(),
            });
        }
        // Without `count` or `device_ids` a request takes every device.
        let mut request = DeviceRequest {
            count: if map.contains_key("device_ids") {
                0
            } else {
                -1
            },
            ..DeviceRequest::default()
        };
        for (name, value) in options(map) {
            let key = join(&key, name);
            let f = At::new(at.file, &key);
            match name.as_str() {
                "capabilities" => request.capabilities = string_list(value, f)?,
                "driver" => request.driver = non_empty_string(value, f)?,
                "count" => {
                    request.count = match value {
                        Node::Str(text) if text.eq_ignore_ascii_case("all") => -1,
                        other => integer(other, f)
                            .map_err(|_| f.invalid(describe(other), "`all` or a number"))?,
                    }
                }
                "device_ids" => request.device_ids = string_list(value, f)?,
                _ => request.options = string_values(value, f)?,
            }
        }
        out.push(request);
    }
    Ok(out)
}

fn describe(node: &Node) -> String {
    node.scalar_text().unwrap_or_else(|| node.describe())
}

/// Reads `deploy.resources`.
pub(crate) fn deploy_resources(value: &Node, at: At<'_>) -> Result<DeployResources, LoadError> {
    let map = mapping(value, at)?;
    known_keys(map, &["limits", "reservations"], at)?;
    let mut resources = DeployResources::default();
    for (name, value) in options(map) {
        let key = join(at.key, name);
        let f = At::new(at.file, &key);
        let resource = resource(value, f)?;
        if name == "limits" {
            resources.limits = Some(resource);
        } else {
            resources.reservations = Some(resource);
        }
    }
    Ok(resources)
}

fn resource(value: &Node, at: At<'_>) -> Result<Resource, LoadError> {
    let map = mapping(value, at)?;
    known_keys(map, &["cpus", "memory", "pids", "devices"], at)?;
    let mut resource = Resource::default();
    for (name, value) in options(map) {
        let key = join(at.key, name);
        let f = At::new(at.file, &key);
        match name.as_str() {
            "cpus" => resource.cpus = float(value, f)?,
            // The schema takes a string only here, unlike `mem_limit`.
            "memory" => match value {
                Node::Str(_) => resource.memory = Some(bytes(value, f)?).filter(|b| b.0 != 0),
                other => return Err(f.must_be("a string", other)),
            },
            "pids" => resource.pids = integer(value, f)?,
            "devices" => resource.devices = device_requests(value, f)?,
            _ => return Err(f.unsupported()),
        }
    }
    Ok(resource)
}

/// Reads `deploy.restart_policy`.
pub(crate) fn restart_policy(value: &Node, at: At<'_>) -> Result<RestartPolicy, LoadError> {
    let map = mapping(value, at)?;
    known_keys(map, &["condition", "delay", "max_attempts", "window"], at)?;
    let mut policy = RestartPolicy::default();
    for (name, value) in options(map) {
        let key = join(at.key, name);
        let f = At::new(at.file, &key);
        match name.as_str() {
            "condition" => policy.condition = non_empty_string(value, f)?,
            "delay" => policy.delay = Some(duration(value, f)?),
            "max_attempts" => policy.max_attempts = Some(unsigned(value, f)?),
            _ => policy.window = Some(duration(value, f)?),
        }
    }
    Ok(policy)
}
