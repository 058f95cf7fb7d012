//! Runs the real Docker Compose and berth side by side on every case of the
//! oracle corpus, live, in a copy of the case folder:
//!
//! - `config --format json` must give equal JSON (compared parsed);
//! - the `com.docker.compose.config-hash` labels of the containers that
//!   `docker compose create --pull never` makes (with the case's
//!   `create-override.yaml` as an extra `-f` file) must equal
//!   `berth config --hash '*'` for the same files;
//! - the config-hash labels of the networks and volumes Compose creates
//!   must equal the labels in the create steps of `berth plan`;
//! - for invalid input both must fail;
//! - for cases using fields berth does not support yet, berth must fail
//!   with a "not supported" error naming the field.
//!
//! Without the corpus the test prints that it is absent and passes. It
//! needs the test engine (for `create`) and `BERTH_COMPOSE`, and follows
//! the harness rules when they are missing.

#[path = "support/mod.rs"]
mod support;

#[path = "corpus_util/mod.rs"]
mod corpus_util;

use std::collections::BTreeMap;

use corpus_util::{
    CREATE_FAILS, Case, Live, Prerequisites, UNSUPPORTED, for_each_case, parse_json,
};
use serde_json::Value;
use support::{Engine, describe, stderr_text};

const HASH_LABEL: &str = "com.docker.compose.config-hash";

/// Checks one case; on success returns what was compared.
fn check_case(engine: &Engine, case: &Case) -> Result<String, String> {
    let live = Live::new(engine, case);
    if let Some((_, reason)) = CREATE_FAILS.iter().find(|(n, _)| *n == case.number) {
        live.project.write("create-error.txt", reason);
    }
    let unsupported = UNSUPPORTED.iter().find(|(n, _)| *n == case.number);
    if let Some((_, fields)) = unsupported {
        check_unsupported(&live, fields)
    } else if live.has("error.txt") {
        check_invalid(&live)
    } else {
        let compose_model = check_config(&live)?;
        check_hashes(&live, &compose_model)
    }
}

/// Both must reject an invalid project.
fn check_invalid(live: &Live) -> Result<String, String> {
    let args = live.with_args(&["config", "--format", "json"]);
    let compose = live.compose(&args, false);
    if compose.status.success() {
        return Err(describe("compose accepted an invalid case", &compose));
    }
    let berth = live.berth(&args, false);
    if berth.status.success() {
        return Err(describe("berth accepted an invalid case", &berth));
    }
    Ok("both reject it".to_owned())
}

/// Compose accepts the case; berth rejects it with a "not supported" error
/// naming one of the fields. berth may reject it when loading (then
/// `config` fails), or load the model and reject it when planning the
/// containers (then `config` must match Compose's and `plan` fails).
fn check_unsupported(live: &Live, fields: &[&str]) -> Result<String, String> {
    let args = live.with_args(&["config", "--format", "json"]);
    let compose = live.compose(&args, false);
    if !compose.status.success() {
        return Err(describe("compose config", &compose));
    }
    let config = live.berth(&args, false);
    if !config.status.success() {
        check_not_supported(&config, fields)?;
        return Ok(format!(
            "berth config: not supported: {}",
            fields.join(", ")
        ));
    }
    check_config(live)?;
    let plan = live.berth(&live.create_args(&["plan"]), true);
    if plan.status.success() {
        return Err(format!(
            "berth now plans this case: remove it from UNSUPPORTED in tests/corpus_util/mod.rs ({})",
            fields.join(", ")
        ));
    }
    check_not_supported(&plan, fields)?;
    Ok(format!(
        "config; berth plan: not supported: {}",
        fields.join(", ")
    ))
}

/// Checks that the error output of a failed berth command contains "not
/// supported" and names one of `fields`.
fn check_not_supported(out: &std::process::Output, fields: &[&str]) -> Result<(), String> {
    let stderr = stderr_text(out);
    if !stderr.contains("not supported") {
        return Err(describe("berth error without \"not supported\"", out));
    }
    if !fields.iter().any(|field| stderr.contains(field)) {
        return Err(describe(
            &format!("berth error names none of {fields:?}"),
            out,
        ));
    }
    Ok(())
}

/// Compares `config --format json` of both; returns Compose's model.
fn check_config(live: &Live) -> Result<Value, String> {
    let args = live.with_args(&["config", "--format", "json"]);
    let compose = live.compose(&args, false);
    if !compose.status.success() {
        return Err(describe("compose config", &compose));
    }
    let berth = live.berth(&args, false);
    if !berth.status.success() {
        return Err(describe("berth config", &berth));
    }
    let expected = parse_json(&compose, "compose config")?;
    let actual = parse_json(&berth, "berth config")?;
    if expected != actual {
        return Err(format!(
            "config --format json differs\n{}",
            json_diff(&expected, &actual)
        ));
    }
    Ok(expected)
}

/// Renders a unified diff of two JSON values, pretty-printed, Compose
/// first.
fn json_diff(expected: &Value, actual: &Value) -> String {
    let expected = serde_json::to_string_pretty(expected).unwrap_or_default();
    let actual = serde_json::to_string_pretty(actual).unwrap_or_default();
    similar::TextDiff::from_lines(&expected, &actual)
        .unified_diff()
        .header("compose", "berth")
        .to_string()
}

/// Compares the config-hash labels of what `docker compose create` makes
/// with berth's hashes of the same services, networks and volumes.
fn check_hashes(live: &Live, compose_model: &Value) -> Result<String, String> {
    let expect_create_error = live.has("create-error.txt");
    let prerequisites = Prerequisites::create(live, compose_model);

    // Planned before the project exists, so every network and volume has a
    // create step carrying its labels.
    let plan = live.berth(&live.create_args(&["plan"]), true);
    let create = live.compose(&live.create_args(&["create", "--pull", "never"]), true);
    let created = read_labels(live);
    // Removes the containers, and the images Compose built for them,
    // right away, so an interrupted run leaves little behind. The
    // project's drop removes what remains.
    let down = live.compose(
        &live.create_args(&["down", "-v", "--rmi", "local", "-t", "0"]),
        true,
    );
    prerequisites.remove(live);

    if expect_create_error {
        // Compose fails at create on this engine (a feature it lacks or a
        // conflict it rejects), so there are no labels to compare.
        return match create.status.success() {
            true => Err(describe("compose create succeeded", &create)),
            false => Ok("config; compose create fails as recorded".to_owned()),
        };
    }
    if !create.status.success() {
        return Err(describe("compose create", &create));
    }
    if !down.status.success() {
        return Err(describe("compose down -v", &down));
    }

    let created = created?;
    let compared = compare_service_hashes(live, compose_model, &created.services)?;

    if !plan.status.success() {
        return Err(describe("berth plan", &plan));
    }
    let plan = parse_json(&plan, "berth plan")?;
    let planned = planned_resource_labels(&plan);
    compare_labels("network", &created.networks, &planned.networks)?;
    compare_labels("volume", &created.volumes, &planned.volumes)?;
    Ok(format!(
        "config; hashes of {compared} services, {} networks, {} volumes",
        created.networks.len(),
        created.volumes.len()
    ))
}

/// Config-hash labels by logical name: service, network key, volume key.
#[derive(Default)]
struct HashLabels {
    services: BTreeMap<String, String>,
    networks: BTreeMap<String, String>,
    volumes: BTreeMap<String, String>,
}

fn read_labels(live: &Live) -> Result<HashLabels, String> {
    let services = list_labels(live, &["ps", "-a"], "com.docker.compose.service")?;
    let networks = list_labels(live, &["network", "ls"], "com.docker.compose.network")?;
    let volumes = list_labels(live, &["volume", "ls"], "com.docker.compose.volume")?;
    Ok(HashLabels {
        services,
        networks,
        volumes,
    })
}

/// Lists `KEY_LABEL hash` for the project's objects of one kind; replicas
/// of a service must agree.
fn list_labels(
    live: &Live,
    listing: &[&str],
    key_label: &str,
) -> Result<BTreeMap<String, String>, String> {
    let filter = format!("label={}={}", support::PROJECT_LABEL, live.project.name());
    let format = format!("{{{{.Label \"{key_label}\"}}}} {{{{.Label \"{HASH_LABEL}\"}}}}");
    let mut args: Vec<&str> = listing.to_vec();
    args.extend(["--filter", &filter, "--format", &format]);
    let out = live.project.docker(&args);
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

/// Returns whether Compose computes the service's hash with the ids of other containers
/// (`volumes_from`, `service:` in `network_mode`, `ipc` or `pid`). berth
/// resolves those ids when it creates the container, so `config --hash`
/// cannot show them.
fn refers_to_containers(service: &Value) -> bool {
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

/// Compares the labels with `berth config --hash`; returns how many
/// services were compared.
fn compare_service_hashes(
    live: &Live,
    compose_model: &Value,
    created: &BTreeMap<String, String>,
) -> Result<usize, String> {
    let out = live.berth(&live.create_args(&["config", "--hash", "*"]), false);
    if !out.status.success() {
        return Err(describe("berth config --hash", &out));
    }
    let berth: BTreeMap<String, String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(s, h)| (s.to_owned(), h.to_owned()))
        .collect();
    let mut compared = 0;
    for (service, label) in created {
        if refers_to_containers(&compose_model["services"][service]) {
            continue;
        }
        match berth.get(service) {
            Some(hash) if hash == label => compared += 1,
            other => {
                return Err(format!(
                    "config hash of {service}: label {label}, berth {other:?}"
                ));
            }
        }
    }
    Ok(compared)
}

/// Config-hash labels in the create steps of a plan, by logical name.
fn planned_resource_labels(plan: &Value) -> HashLabels {
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

fn compare_labels(
    kind: &str,
    created: &BTreeMap<String, String>,
    planned: &BTreeMap<String, String>,
) -> Result<(), String> {
    if created == planned {
        return Ok(());
    }
    Err(format!(
        "{kind} config hashes differ\ncompose created: {created:#?}\nberth plans:     {planned:#?}"
    ))
}

#[test]
fn corpus_matches_compose() {
    for_each_case(check_case);
}
