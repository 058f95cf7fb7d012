//! `HostConfig` fields that come from one service key each.

use std::collections::{BTreeMap, BTreeSet};

use crate::engine_body::{PortBindingBody, RestartPolicyBody};
use crate::model::Service;

use super::{ContainerSpec, ContainerSpecError};

/// Builds the legacy links the way Compose v1 named them. For every
/// current container `C` of a service named in `links` as `svc[:alias]`,
/// it adds `C:alias`, `C:svc-N` and `C:project-svc-N`, where `N` is the
/// number of the container being created, not the number of `C`. Each
/// `external_links` entry `name[:alias]` then adds `name:alias`, the alias
/// defaulting to the name.
pub(super) fn links(spec: &ContainerSpec) -> Vec<String> {
    let mut links = Vec::new();
    for entry in &spec.service.links {
        // Like Compose, an entry with more than one `:` links under the
        // service name.
        let parts: Vec<&str> = entry.split(':').collect();
        let service = parts[0];
        let alias = if parts.len() == 2 { parts[1] } else { service };
        let Some(containers) = spec.link_targets.get(service) else {
            continue;
        };
        let number = spec.number;
        let project = &spec.project.name;
        for container in containers {
            links.push(format!("{container}:{alias}"));
            links.push(format!("{container}:{service}-{number}"));
            links.push(format!("{container}:{project}-{service}-{number}"));
        }
    }
    for entry in &spec.service.external_links {
        let mut parts = entry.split(':');
        let name = parts.next().unwrap_or_default();
        let alias = parts.next().unwrap_or(name);
        links.push(format!("{name}:{alias}"));
    }
    links
}

/// Returns capability names as Docker Compose 2.40.3 sends them:
/// uppercase, with the `CAP_` prefix except on `ALL`, sorted and without
/// duplicates. Engine 20.10 stores the names as it receives them, so
/// `NET_ADMIN` and `CAP_NET_ADMIN` would inspect differently.
pub(super) fn capabilities(names: &[String]) -> Vec<String> {
    let normalized: BTreeSet<String> = names
        .iter()
        .map(|name| {
            let name = name.to_uppercase();
            if name == "ALL" || name.starts_with("CAP_") {
                name
            } else {
                format!("CAP_{name}")
            }
        })
        .collect();
    normalized.into_iter().collect()
}

/// Returns a list of `{HostIp, HostPort}` per `<target>/<protocol>`. An
/// empty `HostPort` lets the engine choose an ephemeral port.
pub(super) fn port_bindings(service: &Service) -> BTreeMap<String, Vec<PortBindingBody>> {
    let mut bindings: BTreeMap<String, Vec<PortBindingBody>> = BTreeMap::new();
    for port in &service.ports {
        let binding = PortBindingBody {
            host_ip: port.host_ip.clone().unwrap_or_default(),
            host_port: port.published.clone().unwrap_or_default(),
        };
        let key = format!("{}/{}", port.target, port.protocol);
        bindings.entry(key).or_default().push(binding);
    }
    bindings
}

/// Maps `restart` as Compose does: `no` and `none` to `no`, `always` and
/// `any` to `always`, `on-failure[:N]` to a maximum retry count of N, and
/// any other name unchanged for the engine to judge. Without `restart` the
/// name is empty, which the engine reads as `no`. A
/// `deploy.restart_policy` replaces `restart`, its `max_attempts` being the
/// retry count; its `delay` and `window` have no engine equivalent.
pub(super) fn restart_policy(service: &Service) -> RestartPolicyBody {
    let deploy_policy = service
        .deploy
        .as_ref()
        .and_then(|deploy| deploy.restart_policy.as_ref());
    if let Some(policy) = deploy_policy {
        let condition = policy.condition.as_deref().unwrap_or_default();
        return RestartPolicyBody {
            name: policy_name(condition).to_owned(),
            maximum_retry_count: policy
                .max_attempts
                .map_or(0, |n| i64::try_from(n).unwrap_or(i64::MAX)),
        };
    }
    let Some(restart) = &service.restart else {
        return RestartPolicyBody::default();
    };
    let mut parts = restart.split(':');
    let condition = parts.next().unwrap_or_default();
    // Compose reads a count that is not a number as 0.
    let maximum_retry_count = parts
        .next()
        .and_then(|count| count.parse().ok())
        .unwrap_or(0);
    RestartPolicyBody {
        name: policy_name(condition).to_owned(),
        maximum_retry_count,
    }
}

fn policy_name(condition: &str) -> &str {
    match condition {
        "no" | "none" => "no",
        "always" | "any" => "always",
        other => other,
    }
}

/// Converts the model's `host=ip` entries to the engine's `host:ip`.
pub(super) fn extra_hosts(spec: &ContainerSpec) -> Result<Vec<String>, ContainerSpecError> {
    spec.service
        .extra_hosts
        .iter()
        .map(|entry| match entry.split_once('=') {
            Some((host, ip)) => Ok(format!("{host}:{ip}")),
            None => Err(ContainerSpecError::invalid(
                spec,
                "extra_hosts",
                entry,
                "expected `host=ip`",
            )),
        })
        .collect()
}

/// Passes `security_opt` entries through unchanged, except the two that
/// Compose rewrites: a seccomp profile file, which Compose inlines from
/// disk, and `systempaths=unconfined`, which needs `MaskedPaths` and
/// `ReadonlyPaths` that the body does not carry.
pub(super) fn security_opt(spec: &ContainerSpec) -> Result<Vec<String>, ContainerSpecError> {
    let mut options = Vec::new();
    for option in &spec.service.security_opt {
        if option == "systempaths=unconfined" {
            return Err(ContainerSpecError::unsupported(
                spec,
                "security_opt",
                option,
            ));
        }
        // `no-new-privileges` is the only option without a value. Docker
        // also accepts the older `name:value` form.
        let parsed = option.split_once('=').or_else(|| option.split_once(':'));
        let (name, value) = match parsed {
            Some(pair) => pair,
            None if option == "no-new-privileges" => (option.as_str(), ""),
            None => {
                return Err(ContainerSpecError::invalid(
                    spec,
                    "security_opt",
                    option,
                    "expected `name=value` or `no-new-privileges`",
                ));
            }
        };
        if name == "seccomp" && value != "unconfined" && value != "builtin" {
            // TODO: inline the profile when the loader reads it, since the
            // planner reads no files.
            return Err(ContainerSpecError::unsupported(
                spec,
                "security_opt",
                option,
            ));
        }
        options.push(option.clone());
    }
    Ok(options)
}

/// Maps `tmpfs` entries `path[:options]` to path → options.
pub(super) fn tmpfs(service: &Service) -> BTreeMap<String, String> {
    service
        .tmpfs
        .iter()
        .map(|entry| match entry.split_once(':') {
            Some((path, options)) => (path.to_owned(), options.to_owned()),
            None => (entry.clone(), String::new()),
        })
        .collect()
}
