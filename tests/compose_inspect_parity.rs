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
//! Cases whose containers cannot start here, or would publish ports on the
//! machine, are compared as created: `docker compose create`, and a berth
//! plan without its start and wait steps.
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
use std::fs;
use std::path::Path;

use corpus_util::{
    Case, Live, Prerequisites, for_each_case, parse_json, publishes_ports, skip_reason, with_down,
};
use inspect::{Inspection, diff_inspections, inspect_project};
use serde_json::Value;
use support::{Engine, describe};

/// Cases of `CANNOT_RUN` whose containers the test engine creates but
/// cannot start. They are compared as created, never started.
const CREATE_ONLY: &[&str] = &["27", "53", "54", "60"];

fn check_case(engine: &Engine, case: &Case) -> Result<String, String> {
    let compose_side = Live::new(engine, case);
    let mut created_only = CREATE_ONLY.contains(&case.number.as_str());
    let mut note = skip_reason(&compose_side, case);
    match &note {
        Some(reason) if !created_only => return Ok(format!("skipped: {reason}")),
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
    // The test engine shares the machine's network namespace, so starting a
    // container would take its published ports on the machine itself.
    if publishes_ports(&model) {
        created_only = true;
        note = Some("it publishes host ports".to_owned());
    }
    let berth_side = Live::new(engine, case);

    let prerequisites = Prerequisites::create(&compose_side, &model);
    let outcome = bring_up_with_compose(&compose_side, &model, created_only).and_then(|compose| {
        let berth = bring_up_with_berth(&berth_side, &model, created_only)?;
        compare(&compose, &berth)
    });
    prerequisites.remove(&compose_side);
    match note {
        Some(reason) => outcome.map(|compared| format!("{compared}; not started: {reason}")),
        None => outcome,
    }
}

/// Runs `up -d` with Compose, or `create` when `created_only`, inspects
/// the project and takes it down.
fn bring_up_with_compose(
    live: &Live,
    model: &Value,
    created_only: bool,
) -> Result<Inspection, String> {
    with_down(live, || {
        let command: &[&str] = match created_only {
            true => &["create", "--pull", "never"],
            false => &["up", "-d", "--pull", "never"],
        };
        let out = live.compose(&live.create_args(command), true);
        if !out.status.success() {
            return Err(describe(&format!("compose {}", command.join(" ")), &out));
        }
        inspect_project(live, model)
    })
}

/// Runs `berth plan` and `berth apply`, inspects the project and takes it
/// down with Compose. When `created_only`, the start and wait steps are
/// removed from the plan before it is applied.
fn bring_up_with_berth(
    live: &Live,
    model: &Value,
    created_only: bool,
) -> Result<Inspection, String> {
    with_down(live, || {
        let plan = live.berth(&live.create_args(&["plan", "-o", "plan.json"]), true);
        if !plan.status.success() {
            return Err(describe("berth plan", &plan));
        }
        if created_only {
            remove_start_steps(&live.project.dir().join("plan.json"))?;
        }
        let apply = live.berth(&["apply", "plan.json"], true);
        if !apply.status.success() {
            return Err(describe("berth apply", &apply));
        }
        inspect_project(live, model)
    })
}

/// Removes the `start_container` and `wait` steps from a plan file, and
/// the references to them, which leaves a plan that only creates.
fn remove_start_steps(path: &Path) -> Result<(), String> {
    let text = fs::read_to_string(path).map_err(|e| format!("read {}: {e}", path.display()))?;
    let mut plan: Value = serde_json::from_str(&text)
        .map_err(|e| format!("{}: invalid JSON: {e}", path.display()))?;
    let Some(steps) = plan["steps"].as_array_mut() else {
        return Err(format!("{}: no `steps` array", path.display()));
    };
    let is_start = |step: &Value| {
        matches!(
            step["action"]["kind"].as_str(),
            Some("start_container" | "wait")
        )
    };
    let removed: Vec<Value> = steps
        .iter()
        .filter(|s| is_start(s))
        .map(|s| s["id"].clone())
        .collect();
    steps.retain(|step| !is_start(step));
    for step in steps.iter_mut() {
        if let Some(Value::Array(after)) = step.get_mut("after") {
            after.retain(|id| !removed.contains(id));
        }
    }
    let text = serde_json::to_string_pretty(&plan).map_err(|e| e.to_string())?;
    fs::write(path, text).map_err(|e| format!("write {}: {e}", path.display()))
}

/// Inspected objects of one kind, by normalized name.
type Objects = BTreeMap<String, Value>;

/// Compares the two inspections; on success returns what was compared.
fn compare(compose: &Inspection, berth: &Inspection) -> Result<String, String> {
    let mut report = Vec::new();
    let kinds: [(&str, &Objects, &Objects); 4] = [
        ("container", &compose.containers, &berth.containers),
        ("network", &compose.networks, &berth.networks),
        ("volume", &compose.volumes, &berth.volumes),
        ("image", &compose.images, &berth.images),
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
        "{} containers, {} networks, {} volumes, {} built images equal",
        compose.containers.len(),
        compose.networks.len(),
        compose.volumes.len(),
        compose.images.len()
    ))
}

#[test]
fn corpus_inspects_like_compose() {
    for_each_case(check_case);
}
