//! The config-hash labels that Docker Compose writes on the containers,
//! networks and volumes it creates, and the ones berth computes for the
//! same objects, by logical name.

use std::collections::BTreeMap;
use std::process::Output;

use serde_json::Value;

use crate::support::{Engine, PROJECT_LABEL, describe};

pub const HASH_LABEL: &str = "com.docker.compose.config-hash";

/// Config-hash labels by logical name: service, network key, volume key.
#[derive(Default)]
pub struct HashLabels {
    pub services: BTreeMap<String, String>,
    pub networks: BTreeMap<String, String>,
    pub volumes: BTreeMap<String, String>,
}

/// Reads the labels of everything the engine holds for `project`.
pub fn read_labels(engine: &Engine, project: &str) -> Result<HashLabels, String> {
    Ok(HashLabels {
        services: list_labels(engine, project, &["ps", "-a"], "com.docker.compose.service")?,
        networks: list_labels(
            engine,
            project,
            &["network", "ls"],
            "com.docker.compose.network",
        )?,
        volumes: list_labels(
            engine,
            project,
            &["volume", "ls"],
            "com.docker.compose.volume",
        )?,
    })
}

/// Lists `KEY_LABEL hash` for the project's objects of one kind; replicas
/// of a service must agree.
fn list_labels(
    engine: &Engine,
    project: &str,
    listing: &[&str],
    key_label: &str,
) -> Result<BTreeMap<String, String>, String> {
    let filter = format!("label={PROJECT_LABEL}={project}");
    let format = format!("{{{{.Label \"{key_label}\"}}}} {{{{.Label \"{HASH_LABEL}\"}}}}");
    let mut args: Vec<&str> = listing.to_vec();
    args.extend(["--filter", &filter, "--format", &format]);
    let out = engine.docker(&args);
    if !out.status.success() {
        return Err(describe(&format!("docker {}", args.join(" ")), &out));
    }
    let mut labels = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some((key, hash)) = line.split_once(' ') else {
            continue;
        };
        let previous = labels.insert(key.to_owned(), hash.to_owned());
        if previous.is_some_and(|p| p != hash) {
            return Err(format!("replicas of {key} carry different hashes"));
        }
    }
    Ok(labels)
}

/// Parses the `SERVICE HASH` lines of `config --hash '*'`.
pub fn hash_lines(out: &Output, what: &str) -> Result<BTreeMap<String, String>, String> {
    if !out.status.success() {
        return Err(describe(what, out));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(s, h)| (s.to_owned(), h.to_owned()))
        .collect())
}

/// Returns whether Compose computes the service's hash with the ids of
/// other containers (`volumes_from`, `service:` in `network_mode`, `ipc` or
/// `pid`). berth resolves those ids when it creates the container, so
/// `config --hash` cannot show them.
pub fn refers_to_containers(service: &Value) -> bool {
    let volumes_from = service["volumes_from"]
        .as_array()
        .is_some_and(|v| !v.is_empty());
    let service_mode = ["network_mode", "ipc", "pid"].iter().any(|key| {
        service[key]
            .as_str()
            .is_some_and(|v| v.starts_with("service:"))
    });
    volumes_from || service_mode
}

/// Compares Compose's hashes (labels or `config --hash`) with berth's
/// `config --hash` values, for the services `compared` accepts; returns how
/// many services were compared.
pub fn compare_service_hashes(
    compose: &BTreeMap<String, String>,
    berth: &BTreeMap<String, String>,
    compared: impl Fn(&str) -> bool,
) -> Result<usize, String> {
    let mut count = 0;
    for (service, label) in compose {
        if !compared(service) {
            continue;
        }
        match berth.get(service) {
            Some(hash) if hash == label => count += 1,
            other => {
                return Err(format!(
                    "config hash of {service}: compose {label}, berth {other:?}"
                ));
            }
        }
    }
    Ok(count)
}

/// Config-hash labels in the create steps of a plan, by logical name.
pub fn planned_resource_labels(plan: &Value) -> HashLabels {
    let mut labels = HashLabels::default();
    let steps = plan["steps"].as_array().map_or(&[][..], Vec::as_slice);
    for step in steps {
        let action = &step["action"];
        let body_labels = &action["body"]["Labels"];
        let (map, key_label) = match action["kind"].as_str() {
            Some("create_network") => (&mut labels.networks, "com.docker.compose.network"),
            Some("create_volume") => (&mut labels.volumes, "com.docker.compose.volume"),
            _ => continue,
        };
        if let (Some(key), Some(hash)) = (
            body_labels[key_label].as_str(),
            body_labels[HASH_LABEL].as_str(),
        ) {
            map.insert(key.to_owned(), hash.to_owned());
        }
    }
    labels
}

/// Every object Compose labelled must carry berth's planned hash. With
/// `all`, berth must also plan nothing that Compose did not create.
pub fn compare_labels(
    kind: &str,
    created: &BTreeMap<String, String>,
    planned: &BTreeMap<String, String>,
    all: bool,
) -> Result<(), String> {
    let agrees = created
        .iter()
        .all(|(key, hash)| planned.get(key) == Some(hash));
    if agrees && (!all || created.len() == planned.len()) {
        return Ok(());
    }
    Err(format!(
        "{kind} config hashes differ\ncompose created: {created:#?}\nberth plans:     {planned:#?}"
    ))
}
