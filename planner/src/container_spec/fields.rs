//! Rejects model fields that the create body cannot carry yet.
//!
//! The check reads the service's own serialization, in which unset fields
//! are absent. A field added to the model later is therefore rejected
//! until this module maps it, instead of being dropped without a word.

use serde_json::Value;

use super::{ContainerSpec, ContainerSpecError};

/// Service keys that are either mapped to the body or never reach the
/// engine: `profiles`, `attach`, `build`, `develop`, `container_name`,
/// `depends_on` outside its label, `label_file` (already in `labels`),
/// `scale`, `pull_policy`, and `credential_spec`, for which Docker Compose
/// sends nothing either (the plan warns). `post_start` and `pre_stop` run
/// after creation and do not change the body. Left out, so rejected:
/// `use_api_socket` (it mounts the engine's socket), `provider` (a plugin
/// runs instead of a container) and `models` (Docker Model Runner sets
/// their variables).
const SERVICE_KEYS: &[&str] = &[
    "profiles",
    "credential_spec",
    "annotations",
    "attach",
    "build",
    "develop",
    "blkio_config",
    "cap_add",
    "cap_drop",
    "cgroup_parent",
    "cgroup",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpus",
    "cpuset",
    "cpu_shares",
    "command",
    "configs",
    "container_name",
    "depends_on",
    "deploy",
    "device_cgroup_rules",
    "devices",
    "dns",
    "dns_opt",
    "dns_search",
    "domainname",
    "entrypoint",
    "environment",
    "expose",
    "external_links",
    "extra_hosts",
    "group_add",
    "gpus",
    "hostname",
    "healthcheck",
    "image",
    "init",
    "ipc",
    "isolation",
    "labels",
    "label_file",
    "links",
    "logging",
    "mem_limit",
    "mem_reservation",
    "memswap_limit",
    "mem_swappiness",
    "mac_address",
    "network_mode",
    "networks",
    "oom_kill_disable",
    "oom_score_adj",
    "pid",
    "pids_limit",
    "platform",
    "ports",
    "privileged",
    "pull_policy",
    "read_only",
    "restart",
    "runtime",
    "scale",
    "secrets",
    "security_opt",
    "shm_size",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "storage_opt",
    "sysctls",
    "tmpfs",
    "tty",
    "ulimits",
    "user",
    "userns_mode",
    "uts",
    "volumes",
    "volumes_from",
    "working_dir",
    "post_start",
    "pre_stop",
];

/// `deploy` keys. `resources` and `restart_policy` are mapped, `replicas`
/// sets the number of containers, and the swarm settings have no effect
/// on a single engine, as in Compose.
const DEPLOY_KEYS: &[&str] = &[
    "mode",
    "replicas",
    "labels",
    "update_config",
    "rollback_config",
    "resources",
    "restart_policy",
    "placement",
    "endpoint_mode",
];
const DEPENDS_ON_KEYS: &[&str] = &["condition", "restart", "required"];
const HEALTHCHECK_KEYS: &[&str] = &[
    "test",
    "timeout",
    "interval",
    "retries",
    "start_period",
    "start_interval",
    "disable",
];
/// `name`, `mode` and `app_protocol` are accepted but never reach the
/// engine, as in Compose.
const PORT_KEYS: &[&str] = &[
    "name",
    "mode",
    "host_ip",
    "target",
    "published",
    "protocol",
    "app_protocol",
];
/// `consistency` is a Docker Desktop setting that Linux engines ignore.
const VOLUME_KEYS: &[&str] = &[
    "type",
    "source",
    "target",
    "read_only",
    "consistency",
    "bind",
    "volume",
    "tmpfs",
    "image",
];
const BIND_KEYS: &[&str] = &["selinux", "propagation", "create_host_path", "recursive"];
const VOLUME_OPTION_KEYS: &[&str] = &["labels", "nocopy", "subpath"];
const IMAGE_OPTION_KEYS: &[&str] = &["subpath"];
const TMPFS_KEYS: &[&str] = &["size", "mode"];
const NETWORK_KEYS: &[&str] = &[
    "aliases",
    "driver_opts",
    "gw_priority",
    "interface_name",
    "ipv4_address",
    "ipv6_address",
    "link_local_ips",
    "mac_address",
    "priority",
];

/// Fails on the first key of the service, or of one of its nested
/// objects, that this module does not know how to map.
pub(super) fn reject_unmapped(spec: &ContainerSpec) -> Result<(), ContainerSpecError> {
    let service = serde_json::to_value(spec.service)
        .expect("the model serializes to JSON because all its map keys are strings");
    check_keys(spec, "", &service, SERVICE_KEYS)?;

    let deploy = &service["deploy"];
    check_keys(spec, "deploy", deploy, DEPLOY_KEYS)?;
    check_keys(
        spec,
        "deploy.resources",
        &deploy["resources"],
        &["limits", "reservations"],
    )?;
    check_keys(
        spec,
        "healthcheck",
        &service["healthcheck"],
        HEALTHCHECK_KEYS,
    )?;
    for (name, dependency) in entries(&service["depends_on"]) {
        check_keys(
            spec,
            &format!("depends_on.{name}"),
            dependency,
            DEPENDS_ON_KEYS,
        )?;
    }
    for (name, network) in entries(&service["networks"]) {
        check_keys(spec, &format!("networks.{name}"), network, NETWORK_KEYS)?;
    }
    for (index, port) in items(&service["ports"]) {
        check_keys(spec, &format!("ports[{index}]"), port, PORT_KEYS)?;
    }
    for (index, volume) in items(&service["volumes"]) {
        let path = format!("volumes[{index}]");
        check_keys(spec, &path, volume, VOLUME_KEYS)?;
        check_keys(spec, &format!("{path}.bind"), &volume["bind"], BIND_KEYS)?;
        check_keys(
            spec,
            &format!("{path}.volume"),
            &volume["volume"],
            VOLUME_OPTION_KEYS,
        )?;
        check_keys(spec, &format!("{path}.tmpfs"), &volume["tmpfs"], TMPFS_KEYS)?;
        check_keys(
            spec,
            &format!("{path}.image"),
            &volume["image"],
            IMAGE_OPTION_KEYS,
        )?;
    }
    Ok(())
}

/// Fails when `value` is an object with a key outside `known`. Any other
/// value, including an absent one, passes.
fn check_keys(
    spec: &ContainerSpec,
    path: &str,
    value: &Value,
    known: &[&str],
) -> Result<(), ContainerSpecError> {
    let Value::Object(object) = value else {
        return Ok(());
    };
    match object
        .iter()
        .find(|(key, _)| !known.contains(&key.as_str()))
    {
        Some((key, value)) => {
            let field = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            Err(ContainerSpecError::unsupported(
                spec,
                field,
                value.to_string(),
            ))
        }
        None => Ok(()),
    }
}

fn entries(value: &Value) -> impl Iterator<Item = (&String, &Value)> {
    value.as_object().into_iter().flatten()
}

fn items(value: &Value) -> impl Iterator<Item = (usize, &Value)> {
    value.as_array().into_iter().flatten().enumerate()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::check_keys;
    use crate::container_spec::{ContainerSpec, ContainerSpecError};
    use crate::model::{Project, Service};

    #[test]
    fn unknown_key_names_its_path() {
        let (project, service) = (Project::default(), Service::default());
        let links = Default::default();
        let spec = ContainerSpec {
            project: &project,
            service_name: "web",
            service: &service,
            number: 1,
            name: "p-web-1",
            config_hash: "",
            image_id: None,
            api_version: "1.41",
            inherited_mounts: &[],
            replace: None,
            link_targets: &links,
        };
        let value = json!({"aliases": [], "driver_opts": {"mtu": "1400"}});

        let error = check_keys(&spec, "networks.front", &value, &["aliases"]).unwrap_err();
        assert_eq!(
            error,
            ContainerSpecError::Unsupported {
                service: "web".to_owned(),
                field: "networks.front.driver_opts".to_owned(),
                value: r#"{"mtu":"1400"}"#.to_owned(),
            }
        );
    }

    #[test]
    fn absent_or_known_keys_pass() {
        let (project, service) = (Project::default(), Service::default());
        let links = Default::default();
        let spec = ContainerSpec {
            project: &project,
            service_name: "web",
            service: &service,
            number: 1,
            name: "p-web-1",
            config_hash: "",
            image_id: None,
            api_version: "1.41",
            inherited_mounts: &[],
            replace: None,
            link_targets: &links,
        };
        assert!(check_keys(&spec, "deploy", &json!(null), &[]).is_ok());
        assert!(check_keys(&spec, "deploy.resources", &json!({}), &[]).is_ok());
        assert!(check_keys(&spec, "", &json!({"image": "x"}), &["image"]).is_ok());
    }
}
