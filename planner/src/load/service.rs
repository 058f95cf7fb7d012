//! One service: checks its keys against what Compose accepts and berth
//! supports, canonicalizes the shapes that merging depends on, and turns
//! the merged mapping into the model's `Service`.

use std::collections::BTreeMap;

use indexmap::IndexMap;

use super::deploy::deploy;
use super::error::LoadError;
use super::fields::{
    At, boolean, index, integer, join, key_values, known_keys, mapping, non_empty_string,
    string_list, string_or_list, unsigned,
};
use super::lifecycle::{
    DEFAULT_CONTEXT, build, credential_spec, develop, file_references, hooks, models, provider,
    resolve_build_paths, resolve_watch_paths,
};
use super::limits::{
    blkio_config, bytes, devices, float, gpus, logging, storage_opt, string_values, ulimits,
};
use super::ports::{parse_expose, parse_ports};
use super::service_fields::{
    command, container_name, depends_on, duration, healthcheck, labels, networks,
};
use super::service_keys::{NOT_YET, SUPPORTED};
use super::volumes::{PathBase, absolute, is_path, parse_volumes, target_of};
use super::yaml::Node;
use crate::model::{ByteCount, GoFloat, Service};

/// Checks one file's service and rewrites list forms into the mapping
/// forms that merge by key.
pub(crate) fn canonicalize(node: Node, at: At<'_>, base: &PathBase<'_>) -> Result<Node, LoadError> {
    let map = match node {
        Node::Map(map) => map,
        Node::Null => IndexMap::new(),
        other => return Err(at.must_be("a mapping", &other)),
    };
    let mut known: Vec<&str> = SUPPORTED.to_vec();
    known.extend_from_slice(NOT_YET);
    known_keys(&map, &known, at)?;
    let mut out = IndexMap::new();
    for (name, value) in map {
        if name.starts_with("x-") {
            continue;
        }
        let key = join(at.key, &name);
        let field = At::new(at.file, &key);
        if NOT_YET.contains(&name.as_str()) {
            return Err(field.unsupported());
        }
        if matches!(value, Node::Tagged(..)) {
            out.insert(name, value);
            continue;
        }
        let value = match name.as_str() {
            "environment" => {
                let (plain, tagged) = split_tagged(value);
                let mut entries: IndexMap<String, Node> = key_values(&plain, field)?
                    .into_iter()
                    .map(|(k, v)| (k, v.map_or(Node::Null, Node::Str)))
                    .collect();
                entries.extend(tagged);
                Node::Map(entries)
            }
            "labels" | "sysctls" | "annotations" => {
                let (plain, tagged) = split_tagged(value);
                let mut entries: IndexMap<String, Node> = key_values(&plain, field)?
                    .into_iter()
                    .map(|(k, v)| (k, Node::Str(v.unwrap_or_default())))
                    .collect();
                entries.extend(tagged);
                Node::Map(entries)
            }
            "networks" => match value {
                Node::Seq(_) => Node::Map(
                    string_list(&value, field)?
                        .into_iter()
                        .map(|n| (n, Node::Null))
                        .collect(),
                ),
                other => Node::Map(mapping(&other, field)?.clone()),
            },
            "depends_on" => match value {
                Node::Seq(_) => Node::Map(
                    string_list(&value, field)?
                        .into_iter()
                        .map(|n| (n, Node::Null))
                        .collect(),
                ),
                other => Node::Map(mapping(&other, field)?.clone()),
            },
            "dns" | "dns_search" | "dns_opt" | "tmpfs" => Node::Seq(
                string_or_list(&value, field)?
                    .into_iter()
                    .map(Node::Str)
                    .collect(),
            ),
            "env_file" => match value {
                Node::Str(_) => Node::Seq(vec![resolve_env_file(value, base)]),
                Node::Seq(items) => Node::Seq(
                    items
                        .into_iter()
                        .map(|item| resolve_env_file(item, base))
                        .collect(),
                ),
                other => return Err(field.must_be("a string or a list", &other)),
            },
            "extra_hosts" => Node::Seq(
                extra_hosts(&value, field)?
                    .into_iter()
                    .map(Node::Str)
                    .collect(),
            ),
            "volumes" => {
                check_duplicate_targets(&value, field)?;
                resolve_volume_sources(value, base)
            }
            "label_file" => Node::Seq(
                string_or_list(&value, field)?
                    .into_iter()
                    .map(|path| Node::Str(absolute(&path, base)))
                    .collect(),
            ),
            "build" => resolve_build_paths(value, base),
            "develop" => resolve_watch_paths(value, base),
            _ => value,
        };
        out.insert(name, value);
    }
    Ok(Node::Map(out))
}

/// Makes an `env_file` path absolute against the file's directory.
fn resolve_env_file(entry: Node, base: &PathBase<'_>) -> Node {
    match entry {
        Node::Str(path) => Node::Str(absolute(&path, base)),
        Node::Map(mut map) => {
            if let Some(Node::Str(path)) = map.get_mut("path") {
                *path = absolute(path, base);
            }
            Node::Map(map)
        }
        other => other,
    }
}

/// Makes relative bind sources absolute against the file's directory.
fn resolve_volume_sources(value: Node, base: &PathBase<'_>) -> Node {
    let Node::Seq(items) = value else {
        return value;
    };
    let resolve_one = |item: Node| match item {
        Node::Str(text) => {
            let mut parts: Vec<String> = text.split(':').map(str::to_owned).collect();
            let is_bind = parts.len() >= 2 && parts.first().is_some_and(|s| is_path(s));
            if let (true, Some(source)) = (is_bind, parts.first_mut()) {
                *source = absolute(source, base);
                return Node::Str(parts.join(":"));
            }
            Node::Str(text)
        }
        Node::Map(mut map) => {
            let is_bind = matches!(map.get("type"), Some(Node::Str(kind)) if kind == "bind");
            if let (true, Some(Node::Str(source))) = (is_bind, map.get_mut("source")) {
                *source = absolute(source, base);
            }
            Node::Map(map)
        }
        other => other,
    };
    Node::Seq(items.into_iter().map(resolve_one).collect())
}

/// Separates `!reset`/`!override` entries of a mapping, which must reach
/// the merge untouched, from the plain ones.
fn split_tagged(value: Node) -> (Node, Vec<(String, Node)>) {
    let Node::Map(map) = value else {
        return (value, Vec::new());
    };
    let (tagged, plain): (Vec<_>, Vec<_>) = map
        .into_iter()
        .partition(|(_, v)| matches!(v, Node::Tagged(..)));
    (Node::Map(plain.into_iter().collect()), tagged)
}

/// Two entries for one container path in one file are a mistake: Compose
/// keeps the last silently, berth names both.
fn check_duplicate_targets(value: &Node, at: At<'_>) -> Result<(), LoadError> {
    let Node::Seq(items) = value else {
        return Err(at.must_be("a list", value));
    };
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        if let Some(target) = target_of(item) {
            if let Some(first) = seen.insert(target.clone(), i) {
                return Err(at.invalid(
                    target,
                    format!(
                        "one mount per container path; entries {} and {} both mount it",
                        index(at.key, first),
                        index(at.key, i)
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// `extra_hosts` as `host=ip` entries, brackets removed.
pub(crate) fn extra_hosts(value: &Node, at: At<'_>) -> Result<Vec<String>, LoadError> {
    let strip = |ip: &str| ip.trim_start_matches('[').trim_end_matches(']').to_owned();
    let mut hosts = Vec::new();
    match value {
        Node::Seq(_) => {
            for (i, entry) in string_list(value, at)?.into_iter().enumerate() {
                let split = entry.split_once('=').or_else(|| entry.split_once(':'));
                let Some((host, ip)) = split else {
                    return Err(At::new(at.file, &index(at.key, i))
                        .invalid(entry, "`host=ip` or `host:ip`"));
                };
                hosts.push(format!("{host}={}", strip(ip)));
            }
        }
        Node::Map(map) => {
            for (host, ips) in map {
                for ip in string_or_list(ips, At::new(at.file, &join(at.key, host)))? {
                    hosts.push(format!("{host}={}", strip(&ip)));
                }
            }
        }
        other => return Err(at.must_be("a list or a mapping", other)),
    }
    Ok(hosts)
}

/// Reads a size that Compose omits when it is zero.
fn nonzero_bytes(value: &Node, at: At<'_>) -> Result<Option<ByteCount>, LoadError> {
    Ok(Some(bytes(value, at)?).filter(|b| b.0 != 0))
}

/// Reads `cgroup`, which the schema limits to `host` and `private`.
fn cgroup(value: &Node, at: At<'_>) -> Result<Option<String>, LoadError> {
    let mode = non_empty_string(value, at)?;
    match mode.as_deref() {
        None | Some("host") | Some("private") => Ok(mode),
        Some(other) => Err(at.invalid(other, "`host` or `private`")),
    }
}

/// Reads `cpu_percent`, a whole percentage.
fn cpu_percent(value: &Node, at: At<'_>) -> Result<GoFloat, LoadError> {
    let percent = integer(value, at)?;
    if !(0..=100).contains(&percent) {
        return Err(at.invalid(percent.to_string(), "a percentage from 0 to 100"));
    }
    Ok(GoFloat(percent as f32))
}

/// Reads a list whose items the schema requires to be distinct.
fn unique_list(value: &Node, at: At<'_>) -> Result<Vec<String>, LoadError> {
    let items = string_list(value, at)?;
    for (i, item) in items.iter().enumerate() {
        if let Some(first) = items[..i].iter().position(|earlier| earlier == item) {
            return Err(LoadError::Schema {
                path: at.file_buf(),
                key: at.key.to_owned(),
                message: format!(
                    "items at {first} and {i} are equal (remove the repeated {item:?})"
                ),
            });
        }
    }
    Ok(items)
}

/// Reads `oom_score_adj`, which the schema bounds.
fn oom_score_adj(value: &Node, at: At<'_>) -> Result<i64, LoadError> {
    let score = integer(value, at)?;
    if !(-1000..=1000).contains(&score) {
        return Err(at.invalid(score.to_string(), "a number from -1000 to 1000"));
    }
    Ok(score)
}

/// Turns a merged service mapping into the model. `environment` is read
/// as written; the loader adds `env_file` values afterwards.
pub(crate) fn convert(
    map: &IndexMap<String, Node>,
    at: At<'_>,
    base: &PathBase<'_>,
) -> Result<Service, LoadError> {
    let mut service = Service::default();
    for (name, value) in map {
        let key = join(at.key, name);
        let f = At::new(at.file, &key);
        match name.as_str() {
            "annotations" => service.annotations = string_values(value, f)?,
            "attach" => service.attach = Some(boolean(value, f)?),
            "blkio_config" => service.blkio_config = Some(blkio_config(value, f)?),
            "build" => {
                let mut parsed = build(value, f)?;
                if parsed.context.is_none() {
                    let fallback = match value {
                        Node::Map(map) => map.get(DEFAULT_CONTEXT),
                        _ => None,
                    };
                    parsed.context = match fallback {
                        Some(Node::Str(dir)) => Some(dir.clone()),
                        _ => Some(absolute(".", base)),
                    };
                }
                service.build = Some(parsed);
            }
            "cgroup" => service.cgroup = cgroup(value, f)?,
            "cgroup_parent" => service.cgroup_parent = non_empty_string(value, f)?,
            "configs" => service.configs = file_references(value, f, false)?,
            "cpu_count" => service.cpu_count = integer(value, f)?,
            "cpu_percent" => service.cpu_percent = cpu_percent(value, f)?,
            "cpu_period" => service.cpu_period = integer(value, f)?,
            "cpu_quota" => service.cpu_quota = integer(value, f)?,
            "cpu_rt_period" => service.cpu_rt_period = integer(value, f)?,
            "cpu_rt_runtime" => service.cpu_rt_runtime = integer(value, f)?,
            "cpu_shares" => service.cpu_shares = integer(value, f)?,
            "cpus" => service.cpus = float(value, f)?,
            "cpuset" => service.cpuset = non_empty_string(value, f)?,
            "credential_spec" => service.credential_spec = Some(credential_spec(value, f)?),
            "develop" => service.develop = Some(develop(value, f)?),
            "device_cgroup_rules" => service.device_cgroup_rules = string_list(value, f)?,
            "devices" => service.devices = devices(value, f)?,
            "external_links" => service.external_links = string_list(value, f)?,
            "gpus" => service.gpus = gpus(value, f)?,
            "group_add" => service.group_add = unique_list(value, f)?,
            "isolation" => service.isolation = non_empty_string(value, f)?,
            "label_file" => service.label_file = string_list(value, f)?,
            "logging" => service.logging = Some(logging(value, f)?),
            "mem_limit" => service.mem_limit = nonzero_bytes(value, f)?,
            "mem_reservation" => service.mem_reservation = nonzero_bytes(value, f)?,
            "mem_swappiness" => service.mem_swappiness = nonzero_bytes(value, f)?,
            "memswap_limit" => service.memswap_limit = nonzero_bytes(value, f)?,
            "oom_kill_disable" => service.oom_kill_disable = boolean(value, f)?,
            "oom_score_adj" => service.oom_score_adj = oom_score_adj(value, f)?,
            "pids_limit" => service.pids_limit = integer(value, f)?,
            "post_start" => service.post_start = hooks(value, f)?,
            "pre_stop" => service.pre_stop = hooks(value, f)?,
            "runtime" => service.runtime = non_empty_string(value, f)?,
            "provider" => service.provider = Some(provider(value, f)?),
            "models" => service.models = models(value, f)?,
            "secrets" => service.secrets = file_references(value, f, true)?,
            "shm_size" => service.shm_size = nonzero_bytes(value, f)?,
            "storage_opt" => service.storage_opt = storage_opt(value, f)?,
            "sysctls" => service.sysctls = string_values(value, f)?,
            "ulimits" => service.ulimits = ulimits(value, f)?,
            "use_api_socket" => service.use_api_socket = boolean(value, f)?,
            "userns_mode" => service.userns_mode = non_empty_string(value, f)?,
            "uts" => service.uts = non_empty_string(value, f)?,
            "cap_add" => service.cap_add = string_list(value, f)?,
            "cap_drop" => service.cap_drop = string_list(value, f)?,
            "command" => service.command = command(value, f)?,
            "container_name" => service.container_name = Some(container_name(value, f)?),
            "depends_on" => service.depends_on = depends_on(value, f)?,
            "deploy" => service.deploy = Some(deploy(value, f)?),
            "dns" => service.dns = Some(string_or_list(value, f)?),
            "dns_opt" => service.dns_opt = string_or_list(value, f)?,
            "dns_search" => service.dns_search = string_or_list(value, f)?,
            "domainname" => service.domainname = non_empty_string(value, f)?,
            "entrypoint" => service.entrypoint = command(value, f)?,
            "environment" => {
                service.environment = key_values(value, f)?.into_iter().collect();
            }
            "expose" => service.expose = parse_expose(value, f)?,
            "extra_hosts" => {
                let mut hosts = extra_hosts(value, f)?;
                hosts.sort();
                service.extra_hosts = hosts;
            }
            "healthcheck" => service.healthcheck = Some(healthcheck(value, f)?),
            "hostname" => service.hostname = non_empty_string(value, f)?,
            "image" => service.image = non_empty_string(value, f)?,
            "init" => service.init = Some(boolean(value, f)?),
            "ipc" => service.ipc = non_empty_string(value, f)?,
            "labels" => service.labels = labels(value, f)?,
            "links" => service.links = string_list(value, f)?,
            "mac_address" => service.mac_address = non_empty_string(value, f)?,
            "network_mode" => service.network_mode = non_empty_string(value, f)?,
            "networks" => service.networks = networks(value, f)?,
            "pid" => service.pid = non_empty_string(value, f)?,
            "platform" => service.platform = non_empty_string(value, f)?,
            "ports" => service.ports = parse_ports(value, f)?,
            "privileged" => service.privileged = boolean(value, f)?,
            "profiles" => service.profiles = string_list(value, f)?,
            "pull_policy" => service.pull_policy = non_empty_string(value, f)?,
            "read_only" => service.read_only = boolean(value, f)?,
            "restart" => service.restart = non_empty_string(value, f)?,
            "scale" => service.scale = Some(unsigned(value, f)?),
            "security_opt" => service.security_opt = string_list(value, f)?,
            "stdin_open" => service.stdin_open = boolean(value, f)?,
            "stop_grace_period" => service.stop_grace_period = Some(duration(value, f)?),
            "stop_signal" => service.stop_signal = non_empty_string(value, f)?,
            "tmpfs" => service.tmpfs = string_or_list(value, f)?,
            "tty" => service.tty = boolean(value, f)?,
            "user" => service.user = non_empty_string(value, f)?,
            "volumes" => service.volumes = parse_volumes(value, f, base)?,
            "volumes_from" => service.volumes_from = string_list(value, f)?,
            "working_dir" => service.working_dir = non_empty_string(value, f)?,
            // The loader reads `env_file`, because it has the file source.
            "env_file" => {}
            _ => return Err(f.unsupported()),
        }
    }
    check_build_platform(&service, at)?;
    check_resource_overlap(&service, at)?;
    Ok(service)
}

/// Rejects a setting given both at service level and under
/// `deploy.resources` with two different values.
fn check_resource_overlap(service: &Service, at: At<'_>) -> Result<(), LoadError> {
    let Some(deploy) = &service.deploy else {
        return Ok(());
    };
    let limits = deploy.resources.limits.clone().unwrap_or_default();
    let reservations = deploy.resources.reservations.clone().unwrap_or_default();
    let pairs = [
        (
            "cpus",
            "limits.cpus",
            !service.cpus.is_zero() && !limits.cpus.is_zero() && service.cpus != limits.cpus,
        ),
        (
            "mem_limit",
            "limits.memory",
            service.mem_limit.is_some()
                && limits.memory.is_some()
                && service.mem_limit != limits.memory,
        ),
        (
            "pids_limit",
            "limits.pids",
            service.pids_limit != 0 && limits.pids != 0 && service.pids_limit != limits.pids,
        ),
        (
            "mem_reservation",
            "reservations.memory",
            service.mem_reservation.is_some()
                && reservations.memory.is_some()
                && service.mem_reservation != reservations.memory,
        ),
    ];
    match pairs.iter().find(|(_, _, conflict)| *conflict) {
        Some((field, deploy_field, _)) => Err(LoadError::Schema {
            path: at.file_buf(),
            key: at.key.to_owned(),
            message: format!(
                "can't set distinct values on '{field}' and 'deploy.resources.{deploy_field}' \
                 (set one of them, or the same value in both)"
            ),
        }),
        None => Ok(()),
    }
}

/// Rejects a service platform that the build does not produce, as Compose
/// does.
fn check_build_platform(service: &Service, at: At<'_>) -> Result<(), LoadError> {
    let (Some(platform), Some(build)) = (&service.platform, &service.build) else {
        return Ok(());
    };
    if build.platforms.is_empty() || build.platforms.contains(platform) {
        return Ok(());
    }
    Err(at.invalid(
        platform.clone(),
        format!(
            "one of `build.platforms` ({}), since service.build.platforms MUST include \
             service.platform",
            build.platforms.join(", ")
        ),
    ))
}
