//! One service: checks its keys against what Compose accepts and berth
//! supports, canonicalizes the shapes that merging depends on, and turns
//! the merged mapping into the model's `Service`.

use std::collections::BTreeMap;

use indexmap::IndexMap;

use super::error::LoadError;
use super::fields::{
    At, boolean, index, join, key_values, known_keys, mapping, non_empty_string, string_list,
    string_or_list, unsigned,
};
use super::ports::{parse_expose, parse_ports};
use super::service_fields::{
    command, container_name, depends_on, deploy, duration, healthcheck, labels, networks,
};
use super::volumes::{PathBase, absolute, is_path, parse_volumes, target_of};
use super::yaml::Node;
use crate::model::Service;

/// Service keys berth reads.
const SUPPORTED: &[&str] = &[
    "attach",
    "cap_add",
    "cap_drop",
    "command",
    "container_name",
    "depends_on",
    "deploy",
    "dns",
    "dns_opt",
    "dns_search",
    "domainname",
    "entrypoint",
    "env_file",
    "environment",
    "expose",
    "extends",
    "extra_hosts",
    "healthcheck",
    "hostname",
    "image",
    "init",
    "ipc",
    "labels",
    "links",
    "mac_address",
    "network_mode",
    "networks",
    "pid",
    "platform",
    "ports",
    "privileged",
    "profiles",
    "pull_policy",
    "read_only",
    "restart",
    "scale",
    "security_opt",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "tmpfs",
    "tty",
    "user",
    "volumes",
    "volumes_from",
    "working_dir",
];

/// Service keys Compose accepts that berth cannot honour yet: loading
/// fails rather than quietly creating a different container.
const NOT_YET: &[&str] = &[
    "annotations",
    "blkio_config",
    "build",
    "cgroup",
    "cgroup_parent",
    "configs",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpu_shares",
    "cpus",
    "cpuset",
    "credential_spec",
    "develop",
    "device_cgroup_rules",
    "devices",
    "external_links",
    "gpus",
    "group_add",
    "isolation",
    "label_file",
    "logging",
    "mem_limit",
    "mem_reservation",
    "mem_swappiness",
    "memswap_limit",
    "models",
    "oom_kill_disable",
    "oom_score_adj",
    "pids_limit",
    "post_start",
    "pre_stop",
    "provider",
    "runtime",
    "secrets",
    "shm_size",
    "storage_opt",
    "sysctls",
    "ulimits",
    "use_api_socket",
    "userns_mode",
    "uts",
];

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
            "labels" => {
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

/// `extra_hosts` as sorted `host=ip` entries, brackets removed.
fn extra_hosts(value: &Node, at: At<'_>) -> Result<Vec<String>, LoadError> {
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
            "attach" => service.attach = Some(boolean(value, f)?),
            "cap_add" => service.cap_add = string_list(value, f)?,
            "cap_drop" => service.cap_drop = string_list(value, f)?,
            "command" => service.command = command(value, f)?,
            "container_name" => service.container_name = Some(container_name(value, f)?),
            "depends_on" => service.depends_on = depends_on(value, f)?,
            "deploy" => service.deploy = Some(deploy(value, f)?),
            "dns" => service.dns = string_or_list(value, f)?,
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
    Ok(service)
}
