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

use std::process::Output;

use corpus_util::labels::{
    compare_labels, compare_service_hashes, hash_lines, planned_resource_labels, read_labels,
    refers_to_containers,
};
use corpus_util::{
    CREATE_FAILS, Case, Live, Prerequisites, UNSUPPORTED, for_each_case, parse_json,
};
use serde_json::Value;
use support::{Engine, describe, stderr_text};

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
    let created = read_labels(live.project.engine(), live.project.name());
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
    let hashes = live.berth(&live.create_args(&["config", "--hash", "*"]), false);
    let hashes = hash_lines(&hashes, "berth config --hash")?;
    let compared = compare_service_hashes(&created.services, &hashes, |service| {
        !refers_to_containers(&compose_model["services"][service])
    })?;

    if !plan.status.success() && rejects_port_compose_fails_to_bind(live, &plan) {
        // Compose creates both holders and fails when it starts the second;
        // berth rejects the plan first, so there are no network labels.
        return Ok(format!(
            "config; hashes of {compared} services; berth rejects the host port at plan"
        ));
    }
    if !plan.status.success() {
        return Err(describe("berth plan", &plan));
    }
    let plan = parse_json(&plan, "berth plan")?;
    let planned = planned_resource_labels(&plan);
    compare_labels("network", &created.networks, &planned.networks, true)?;
    compare_labels("volume", &created.volumes, &planned.volumes, true)?;
    Ok(format!(
        "config; hashes of {compared} services, {} networks, {} volumes",
        created.networks.len(),
        created.volumes.len()
    ))
}

/// Returns whether berth rejected the plan for a host port published twice
/// where the recorded `docker compose up` failed to bind that port.
fn rejects_port_compose_fails_to_bind(live: &Live, plan: &Output) -> bool {
    let recorded =
        std::fs::read_to_string(live.project.dir().join("up-error.txt")).unwrap_or_default();
    let error = String::from_utf8_lossy(&plan.stderr);
    recorded.contains("port is already allocated") && error.contains("is published by both")
}

#[test]
fn corpus_matches_compose() {
    for_each_case(check_case);
}
