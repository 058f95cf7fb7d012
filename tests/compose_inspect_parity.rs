//! Brings every runnable case of the oracle corpus up twice on the test
//! engine, once with `docker compose up -d` (project A) and once with
//! `berth plan` + `berth apply` (project B), and compares the
//! `docker inspect` of each pair of containers, networks and volumes.
//!
//! The two inspections must be equal once what is inherently per instance
//! is normalized (see `normalize_*`): ids, names, timestamps, the project
//! name and folder, runtime state, and addresses the engine assigns. Every
//! other field is compared strictly, and a difference is reported per
//! object and field path.
//!
//! The projects run one after the other within a case, because cases with
//! `container_name` or fixed network and volume names cannot exist twice at
//! once. Without the corpus the test prints that it is absent and passes;
//! without the test engine it follows the harness rules.

#[path = "support/mod.rs"]
mod support;

#[path = "corpus_util/mod.rs"]
mod corpus_util;

#[path = "corpus_util/inspect.rs"]
mod inspect;

use std::collections::BTreeMap;

use corpus_util::{
    Case, Live, Prerequisites, for_each_case, parse_json, publishes_ports, skip_reason, with_down,
};
use inspect::{Inspection, diff_inspections, inspect_project};
use serde_json::Value;
use support::{Engine, describe};

/// Cases of `CANNOT_RUN` whose containers the test engine creates but
/// cannot start. Both tools create every container and then fail at a
/// start, which leaves enough to compare.
const CREATE_ONLY: &[&str] = &["27", "53", "54", "60"];

fn check_case(engine: &Engine, case: &Case) -> Result<String, String> {
    let compose_side = Live::new(engine, case);
    let create_only = CREATE_ONLY.contains(&case.number.as_str());
    let skip = skip_reason(&compose_side, case);
    match &skip {
        Some(reason) if !create_only => return Ok(format!("skipped: {reason}")),
        _ => {}
    }
    let config = compose_side.compose(
        &compose_side.create_args(&["config", "--format", "json"]),
        false,
    );
    if !config.status.success() {
        return Err(describe("compose config", &config));
    }
    let model = parse_json(&config, "compose config")?;
    // The test engine shares the machine's network namespace, so a
    // published port would be taken on the machine itself.
    if publishes_ports(&model) {
        return Ok("skipped: publishes host ports".to_owned());
    }
    let berth_side = Live::new(engine, case);

    let prerequisites = Prerequisites::create(&compose_side, &model);
    let outcome = bring_up_with_compose(&compose_side, &model, create_only).and_then(|compose| {
        let berth = bring_up_with_berth(&berth_side, &model, create_only)?;
        compare(&compose, &berth)
    });
    prerequisites.remove(&compose_side);
    match skip {
        Some(reason) => outcome.map(|compared| format!("{compared}; not started: {reason}")),
        None => outcome,
    }
}

/// Runs `up -d` with Compose, inspects the project and takes it down.
/// When the containers cannot start, `up` fails after creating them all.
fn bring_up_with_compose(
    live: &Live,
    model: &Value,
    create_only: bool,
) -> Result<Inspection, String> {
    with_down(live, || {
        let up = live.compose(&live.create_args(&["up", "-d", "--pull", "never"]), true);
        if !up.status.success() && !create_only {
            return Err(describe("compose up -d", &up));
        }
        let inspection = inspect_project(live, model)?;
        if inspection.containers.is_empty() {
            return Err(describe("compose up -d created no container", &up));
        }
        Ok(inspection)
    })
}

/// Runs `berth plan` and `berth apply`, inspects the project and takes it
/// down with Compose. When the containers cannot start, the apply fails at
/// the first start. A container berth did not create by then is reported
/// as missing.
fn bring_up_with_berth(
    live: &Live,
    model: &Value,
    create_only: bool,
) -> Result<Inspection, String> {
    with_down(live, || {
        let plan = live.berth(&live.create_args(&["plan", "-o", "plan.json"]), true);
        if !plan.status.success() {
            return Err(describe("berth plan", &plan));
        }
        let apply = live.berth(&["apply", "plan.json"], true);
        if !apply.status.success() && !create_only {
            return Err(describe("berth apply", &apply));
        }
        inspect_project(live, model)
    })
}

/// Inspected objects of one kind, by normalized name.
type Objects = BTreeMap<String, Value>;

/// Compares the two inspections; on success returns what was compared.
fn compare(compose: &Inspection, berth: &Inspection) -> Result<String, String> {
    let mut report = Vec::new();
    let kinds: [(&str, &Objects, &Objects); 3] = [
        ("container", &compose.containers, &berth.containers),
        ("network", &compose.networks, &berth.networks),
        ("volume", &compose.volumes, &berth.volumes),
    ];
    for (kind, left, right) in kinds {
        for key in left.keys().filter(|k| !right.contains_key(*k)) {
            report.push(format!("{kind} {key}: only Compose made it"));
        }
        for key in right.keys().filter(|k| !left.contains_key(*k)) {
            report.push(format!("{kind} {key}: only berth made it"));
        }
        for (key, expected) in left {
            if let Some(actual) = right.get(key) {
                for line in diff_inspections(expected, actual) {
                    report.push(format!("{kind} {key}: {line}"));
                }
            }
        }
    }
    if !report.is_empty() {
        return Err(format!(
            "docker inspect differs (Compose, then berth):\n  {}",
            report.join("\n  ")
        ));
    }
    Ok(format!(
        "{} containers, {} networks, {} volumes equal",
        compose.containers.len(),
        compose.networks.len(),
        compose.volumes.len()
    ))
}

#[test]
fn corpus_inspects_like_compose() {
    for_each_case(check_case);
}
