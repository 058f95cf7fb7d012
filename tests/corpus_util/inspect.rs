//! Inspection of one live corpus project (`docker inspect` of its
//! containers, networks and volumes), normalized so that two projects made
//! from the same files by different tools compare equal, and a field-level
//! diff of two inspections.
//!
//! Normalizing replaces what differs between any two instances of the same
//! configuration and nothing else:
//!
//! - the project folder and the project name, wherever they appear (names,
//!   labels, mount sources, aliases, environment);
//! - the ids of containers and networks by the name of what they identify,
//!   also their 12-character short form (default hostname, aliases,
//!   `container:` references), and the names of anonymous volumes by the
//!   container and path that mount them;
//! - any other 64-digit hex id (endpoints, sandboxes, storage layers);
//! - timestamps, runtime state, and addresses the engine assigns;
//! - the ids of the images built for the project, by the service they
//!   were built for, because two builds of one Dockerfile can give two ids.
//!
//! The images built for the project are compared too (see
//! `normalize_built_image`).
//!
//! Include it after the harness and `corpus_util`:
//!
//! ```ignore
//! #[path = "corpus_util/inspect.rs"]
//! mod inspect;
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::corpus_util::Live;
use crate::support::{PROJECT_LABEL, describe};

/// The label Compose and berth put on containers and built images, naming
/// the service.
const SERVICE_LABEL: &str = "com.docker.compose.service";

/// The normalized inspections of one project's objects, keyed by
/// normalized name (anonymous volumes by the container and path that mount
/// them).
#[derive(Default)]
pub struct Inspection {
    pub containers: BTreeMap<String, Value>,
    pub networks: BTreeMap<String, Value>,
    pub volumes: BTreeMap<String, Value>,
    /// Images built for the project, by `<image built for SERVICE>`.
    pub images: BTreeMap<String, Value>,
}

/// Container fields that describe a run, not a configuration: they differ
/// between any two containers made from one body.
const CONTAINER_RUNTIME_FIELDS: &[&str] = &[
    "Created",
    // Status, pid, exit code, start and finish times, health probes: a
    // one-shot may have exited in one project and still run in the other.
    "State",
    "RestartCount",
    // The execs of a healthcheck probe in flight at inspection time.
    "ExecIDs",
];

/// Endpoint fields the engine fills in when it connects a container.
/// Configured addresses stay comparable: IP addresses are in `IPAMConfig`,
/// and a `MacAddress` that the model configures for the service is kept
/// (see [`configured_macs`]).
const ENDPOINT_ASSIGNED_FIELDS: &[&str] = &[
    "EndpointID",
    "Gateway",
    "IPAddress",
    "IPPrefixLen",
    "IPv6Gateway",
    "GlobalIPv6Address",
    "GlobalIPv6PrefixLen",
    "MacAddress",
];

/// Inspects every container, network and volume of the live project and
/// normalizes the result. `model` is Compose's `config --format json` of
/// the case, which separates configured subnets from assigned ones.
pub fn inspect_project(live: &Live, model: &Value) -> Result<Inspection, String> {
    // The listings are sorted by name. The order decides which container an
    // anonymous volume that several containers mount is named after, so
    // both projects must agree on it.
    let project = &live.project;
    let containers = inspect_all(live, "container", &project.container_names())?;
    let networks = inspect_all(live, "network", &project.network_names())?;
    let mut volume_names: BTreeSet<String> = project.volume_names().into_iter().collect();
    for container in &containers {
        for mount in container["Mounts"].as_array().into_iter().flatten() {
            if mount["Type"] == "volume" {
                if let Some(name) = mount["Name"].as_str() {
                    volume_names.insert(name.to_owned());
                }
            }
        }
    }
    let volume_names: Vec<String> = volume_names.into_iter().collect();
    let volumes = inspect_all(live, "volume", &volume_names)?;

    let images = inspect_built_images(live, &containers)?;
    let replacements = Replacements::collect(live, &containers, &networks, &images);
    let mut inspection = Inspection::default();
    for raw in containers {
        let configured = configured_macs(&raw, model);
        let container = normalize_container(replacements.apply(raw), &configured);
        inspection
            .containers
            .insert(string_at(&container, "Name"), container);
    }
    for raw in networks {
        let network = normalize_network(replacements.apply(raw), model);
        inspection
            .networks
            .insert(string_at(&network, "Name"), network);
    }
    for raw in volumes {
        let volume = normalize_volume(replacements.apply(raw));
        inspection
            .volumes
            .insert(string_at(&volume, "Name"), volume);
    }
    for raw in images {
        let image = normalize_built_image(replacements.apply(raw));
        inspection.images.insert(string_at(&image, "Id"), image);
    }
    Ok(inspection)
}

/// Inspects the images of the project's containers that carry the project
/// label, which Compose and berth put on the images they build.
fn inspect_built_images(live: &Live, containers: &[Value]) -> Result<Vec<Value>, String> {
    let ids: BTreeSet<String> = containers.iter().map(|c| string_at(c, "Image")).collect();
    let ids: Vec<String> = ids.into_iter().filter(|id| !id.is_empty()).collect();
    let images = inspect_all(live, "image", &ids)?;
    let project = live.project.name();
    Ok(images
        .into_iter()
        .filter(|image| image["Config"]["Labels"][PROJECT_LABEL] == project)
        .collect())
}

fn string_at(value: &Value, key: &str) -> String {
    value[key].as_str().unwrap_or_default().to_owned()
}

fn inspect_all(live: &Live, kind: &str, names: &[String]) -> Result<Vec<Value>, String> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = vec!["inspect", "--type", kind];
    args.extend(names.iter().map(String::as_str));
    let out = live.project.docker(&args);
    if !out.status.success() {
        return Err(describe(&format!("docker inspect --type {kind}"), &out));
    }
    match serde_json::from_slice(&out.stdout) {
        Ok(Value::Array(list)) => Ok(list),
        _ => Err(describe(
            &format!("docker inspect --type {kind}: not a JSON array"),
            &out,
        )),
    }
}

/// Text replacements applied to every string and object key, in order:
/// longer, more specific texts first, so that a folder path is replaced
/// before the project name inside it.
struct Replacements {
    pairs: Vec<(String, String)>,
}

impl Replacements {
    fn collect(
        live: &Live,
        containers: &[Value],
        networks: &[Value],
        built_images: &[Value],
    ) -> Replacements {
        let project = live.project.name();
        let unproject = |text: &str| text.replace(project, "<project>");
        let mut pairs = Vec::new();
        let dir = live.project.dir();
        if let Ok(real) = dir.canonicalize() {
            pairs.push((real.display().to_string(), "<project-dir>".to_owned()));
        }
        pairs.push((dir.display().to_string(), "<project-dir>".to_owned()));

        for container in containers {
            let id = string_at(container, "Id");
            let name = unproject(&string_at(container, "Name"));
            if id.len() < 12 {
                continue;
            }
            // Anonymous volumes are named by the engine; they are known by
            // the container and the path that mount them.
            for mount in container["Mounts"].as_array().into_iter().flatten() {
                let volume = mount["Name"].as_str().unwrap_or_default();
                if mount["Type"] == "volume" && is_hex_id(volume) {
                    let destination = mount["Destination"].as_str().unwrap_or_default();
                    let label = format!("<anonymous volume of {name} at {destination}>");
                    pairs.push((volume.to_owned(), label));
                }
            }
            pairs.push((id.clone(), format!("<id of {name}>")));
            pairs.push((id[..12].to_owned(), format!("<short id of {name}>")));
        }
        for network in networks {
            let id = string_at(network, "Id");
            let name = unproject(&string_at(network, "Name"));
            pairs.push((id, format!("<id of network {name}>")));
        }
        for image in built_images {
            let id = string_at(image, "Id");
            let service = image["Config"]["Labels"][SERVICE_LABEL]
                .as_str()
                .unwrap_or_default();
            pairs.push((id, format!("<image built for {service}>")));
        }
        pairs.push((project.to_owned(), "<project>".to_owned()));
        Replacements { pairs }
    }

    fn apply(&self, value: Value) -> Value {
        match value {
            Value::String(text) => Value::String(self.apply_text(text)),
            Value::Array(items) => Value::Array(items.into_iter().map(|v| self.apply(v)).collect()),
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| (self.apply_text(k), self.apply(v)))
                    .collect(),
            ),
            other => other,
        }
    }

    fn apply_text(&self, mut text: String) -> String {
        for (from, to) in &self.pairs {
            if text.contains(from.as_str()) {
                text = text.replace(from.as_str(), to);
            }
        }
        replace_hex_ids(&text)
    }
}

fn is_hex_id(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// Replaces each run of exactly 64 lowercase hex digits with `<hex>`: the
/// ids left after the known ones are replaced (endpoints, sandboxes,
/// storage layers), which no configuration sets. Image digests keep their
/// `sha256:` prefix and stay, because both projects use the same image.
fn replace_hex_ids(text: &str) -> String {
    let is_hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let after_digest = out.ends_with("sha256:");
        if run.len() == 64 && !after_digest {
            out.push_str("<hex>");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if is_hex(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Lists the MAC addresses the model configures for the service of a
/// container: its `mac_address` and those of its networks. An endpoint
/// with one of them keeps its `MacAddress` in the comparison, so that a
/// tool that loses a configured address shows a difference, while the
/// addresses the engine assigns stay out of it.
fn configured_macs(container: &Value, model: &Value) -> BTreeSet<String> {
    let service_name = container["Config"]["Labels"]["com.docker.compose.service"]
        .as_str()
        .unwrap_or_default();
    let service = &model["services"][service_name];
    let mut macs = BTreeSet::new();
    if let Some(mac) = service["mac_address"].as_str() {
        macs.insert(mac.to_ascii_lowercase());
    }
    for network in service["networks"].as_object().into_iter().flatten() {
        if let Some(mac) = network.1["mac_address"].as_str() {
            macs.insert(mac.to_ascii_lowercase());
        }
    }
    macs
}

/// Removes the assigned fields of one endpoint, keeping a `MacAddress`
/// listed in `configured`.
fn remove_assigned_fields(endpoint: &mut Map<String, Value>, configured: &BTreeSet<String>) {
    let keep_mac = endpoint
        .get("MacAddress")
        .and_then(Value::as_str)
        .is_some_and(|mac| configured.contains(&mac.to_ascii_lowercase()));
    for field in ENDPOINT_ASSIGNED_FIELDS {
        if !(keep_mac && *field == "MacAddress") {
            endpoint.remove(*field);
        }
    }
}

fn normalize_container(mut container: Value, configured_macs: &BTreeSet<String>) -> Value {
    let Some(fields) = container.as_object_mut() else {
        return container;
    };
    for field in CONTAINER_RUNTIME_FIELDS {
        fields.remove(*field);
    }
    // The engine lists mounts in the order of its own map.
    sort_array(fields.get_mut("Mounts"), "Destination");
    // Docker Compose 2.40.3 builds these lists and the `depends_on` label
    // by iterating Go maps, so their order changes from one run to the
    // next. berth sorts them, and only their content is comparable.
    if let Some(config) = fields.get_mut("Config") {
        sort_array(config.get_mut("Env"), "");
        // berth's own labels (the content digests of secrets and configs)
        // are what it adds on purpose; Compose's labels stay compared.
        if let Some(Value::Object(labels)) = config.get_mut("Labels") {
            labels.retain(|key, _| !key.starts_with("berth."));
        }
        if let Some(Value::String(depends_on)) = config
            .get_mut("Labels")
            .and_then(|labels| labels.get_mut("com.docker.compose.depends_on"))
        {
            let mut entries: Vec<&str> = depends_on.split(',').collect();
            entries.sort_unstable();
            *depends_on = entries.join(",");
        }
    }
    if let Some(host_config) = fields.get_mut("HostConfig") {
        sort_array(host_config.get_mut("Binds"), "");
        sort_array(host_config.get_mut("ExtraHosts"), "");
        sort_array(host_config.get_mut("Mounts"), "Target");
    }
    if let Some(Value::Object(settings)) = fields.get_mut("NetworkSettings") {
        // The sandbox is the network namespace of this run.
        settings.remove("SandboxID");
        settings.remove("SandboxKey");
        // The legacy top-level copy of the default bridge endpoint.
        remove_assigned_fields(settings, configured_macs);
        if let Some(Value::Object(endpoints)) = settings.get_mut("Networks") {
            for endpoint in endpoints.values_mut() {
                if let Some(endpoint) = endpoint.as_object_mut() {
                    remove_assigned_fields(endpoint, configured_macs);
                }
            }
        }
    }
    container
}

/// Sorts an array of strings, or of objects by the string at `key`.
fn sort_array(array: Option<&mut Value>, key: &str) {
    let Some(Value::Array(items)) = array else {
        return;
    };
    let sort_key = |item: &Value| {
        let text = if key.is_empty() { item } else { &item[key] };
        text.as_str().unwrap_or_default().to_owned()
    };
    items.sort_by_key(sort_key);
}

fn normalize_network(mut network: Value, model: &Value) -> Value {
    let key = network["Labels"]["com.docker.compose.network"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let configured = model["networks"][&key]["ipam"]["config"]
        .as_array()
        .is_some_and(|c| !c.is_empty());
    let Some(fields) = network.as_object_mut() else {
        return network;
    };
    fields.remove("Created");
    // The engine picks a free subnet from its pools for a network without
    // an `ipam.config`; which one depends on what else exists.
    if !configured {
        if let Some(Value::Array(pools)) = fields.get_mut("IPAM").and_then(|i| i.get_mut("Config"))
        {
            for pool in pools.iter_mut().filter_map(Value::as_object_mut) {
                pool.remove("Subnet");
                pool.remove("Gateway");
            }
        }
    }
    // The engine lists only running containers here, so a one-shot that has
    // already exited in one project and not in the other would differ. Each
    // container's own `NetworkSettings.Networks` compares its attachments.
    fields.remove("Containers");
    network
}

/// Drops from an image built for the project what differs between any two
/// builds of one Dockerfile: the creation and tag times, and the storage
/// paths of its layers. `Replacements` has already replaced the id.
fn normalize_built_image(mut image: Value) -> Value {
    if let Some(fields) = image.as_object_mut() {
        for field in ["Created", "Metadata", "GraphDriver"] {
            fields.remove(field);
        }
    }
    image
}

fn normalize_volume(mut volume: Value) -> Value {
    if let Some(fields) = volume.as_object_mut() {
        fields.remove("CreatedAt");
    }
    volume
}

/// Lists the differences between two normalized inspections, one line per
/// field path: `Config.Env[2]: "A=1" != "A=2"`, Compose's value first.
pub fn diff_inspections(expected: &Value, actual: &Value) -> Vec<String> {
    let mut lines = Vec::new();
    diff_at("", expected, actual, &mut lines);
    lines
}

fn diff_at(path: &str, expected: &Value, actual: &Value, lines: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(left), Value::Object(right)) => diff_objects(path, left, right, lines),
        (Value::Array(left), Value::Array(right)) if left.len() == right.len() => {
            for (i, (l, r)) in left.iter().zip(right).enumerate() {
                diff_at(&format!("{path}[{i}]"), l, r, lines);
            }
        }
        _ if expected != actual => {
            let to_json = |v: &Value| serde_json::to_string(v).unwrap_or_default();
            lines.push(format!(
                "{path}: {} != {}",
                to_json(expected),
                to_json(actual)
            ));
        }
        _ => {}
    }
}

fn diff_objects(
    path: &str,
    left: &Map<String, Value>,
    right: &Map<String, Value>,
    lines: &mut Vec<String>,
) {
    let keys: BTreeSet<&String> = left.keys().chain(right.keys()).collect();
    for key in keys {
        let child = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        match (left.get(key), right.get(key)) {
            (Some(l), Some(r)) => diff_at(&child, l, r, lines),
            (Some(l), None) => lines.push(format!("{child}: {l} != (absent)")),
            (None, Some(r)) => lines.push(format!("{child}: (absent) != {r}")),
            (None, None) => {}
        }
    }
}
