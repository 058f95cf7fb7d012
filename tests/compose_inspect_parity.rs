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

use corpus_util::reach::Reach;
use corpus_util::{Case, Live, Prerequisites, for_each_case, parse_json, with_down};
use inspect::{Inspection, diff_inspections, inspect_project};
use serde_json::Value;
use support::{Engine, describe};

fn check_case(engine: &Engine, case: &Case) -> Result<String, String> {
    let compose_side = Live::new(engine, case);
    let reach = match Reach::of(&compose_side, case) {
        Ok(reach) => reach,
        Err(reason) => return Ok(format!("skipped: {reason}")),
    };
    let config = compose_side.compose(
        &compose_side.create_args(&["config", "--format", "json"]),
        false,
    );
    if !config.status.success() {
        return Err(describe("compose config", &config));
    }
    let model = parse_json(&config, "compose config")?;
    let reach = reach.for_model(&model);
    let berth_side = Live::new(engine, case);

    let prerequisites = Prerequisites::create(&compose_side, &model);
    let outcome = with_down(&compose_side, || {
        reach.compose_bring(&compose_side)?;
        inspect_project(&compose_side, &model)
    })
    .and_then(|compose| {
        let berth = with_down(&berth_side, || {
            reach.berth_apply(&berth_side)?;
            inspect_project(&berth_side, &model)
        })?;
        compare(&compose, &berth)
    });
    prerequisites.remove(&compose_side);
    match reach.note() {
        Some(reason) => outcome.map(|compared| format!("{compared}; not started: {reason}")),
        None => outcome,
    }
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
