//! Brings every runnable case of the oracle corpus up with one tool and
//! converges it with the other, on the test engine:
//!
//! - after `docker compose up -d`, `berth plan` may only start containers
//!   that exited (as `up` would); it creates, replaces and removes
//!   nothing;
//! - after `berth apply`, `docker compose up -d` replaces no container.
//!
//! The case's `create-override.yaml` gives services without a command one.
//! Without the corpus the test prints that it is absent and passes; without
//! the test engine it follows the harness rules.

#[path = "support/mod.rs"]
mod support;

#[path = "corpus_util/mod.rs"]
mod corpus_util;

use corpus_util::{
    Case, Live, Prerequisites, for_each_case, parse_json, publishes_ports, skip_reason, with_down,
};
use serde_json::{Value, json};
use support::{Engine, describe};

fn check_case(engine: &Engine, case: &Case) -> Result<String, String> {
    let live = Live::new(engine, case);
    if let Some(reason) = skip_reason(&live, case) {
        return Ok(format!("skipped: {reason}"));
    }
    let config = live.compose(&live.create_args(&["config", "--format", "json"]), false);
    if !config.status.success() {
        return Err(describe("compose config", &config));
    }
    let model = parse_json(&config, "compose config")?;
    if publishes_ports(&model) {
        return Ok("skipped: publishes host ports".to_owned());
    }

    let prerequisites = Prerequisites::create(&live, &model);
    let outcome = compose_then_berth(&live).and_then(|started| {
        let unchanged = berth_then_compose(&live)?;
        Ok(format!(
            "berth starts {started} exited containers; compose keeps {unchanged}"
        ))
    });
    prerequisites.remove(&live);
    outcome
}

/// Compose brings the case up, then berth plans; returns how many exited
/// containers berth would start.
fn compose_then_berth(live: &Live) -> Result<usize, String> {
    with_down(live, || {
        let up = live.compose(&live.create_args(&["up", "-d"]), true);
        if !up.status.success() {
            return Err(describe("compose up -d", &up));
        }
        let plan = live.berth(&live.create_args(&["plan", "--detailed-exitcode"]), true);
        if !matches!(plan.status.code(), Some(0 | 2)) {
            return Err(describe("berth plan", &plan));
        }
        let plan = parse_json(&plan, "berth plan")?;
        let changes = plan["changes"].as_array().cloned().unwrap_or_default();
        let is_start = |c: &Value| c["action"] == "start" && c["kind"] == "container";
        // `pull_policy: build` builds on every `up`, Compose's too.
        let is_build_always =
            |c: &Value| c["action"] == "build" && c["reasons"] == json!(["build_always"]);
        let unexpected: Vec<String> = changes
            .iter()
            .filter(|c| c["action"] != "no_op" && !is_start(c) && !is_build_always(c))
            .map(|c| format!("{} {} {}", c["action"], c["address"], c["reasons"]))
            .collect();
        if !unexpected.is_empty() {
            return Err(format!(
                "after compose up, berth plans:\n{}",
                unexpected.join("\n")
            ));
        }
        Ok(changes.iter().filter(|c| is_start(c)).count())
    })
}

/// berth brings the case up, then Compose runs `up -d`; returns how many
/// containers Compose kept.
fn berth_then_compose(live: &Live) -> Result<usize, String> {
    with_down(live, || {
        let plan = live.berth(&live.create_args(&["plan", "-o", "plan.json"]), true);
        if !plan.status.success() {
            return Err(describe("berth plan", &plan));
        }
        let apply = live.berth(&["apply", "plan.json"], true);
        if !apply.status.success() {
            return Err(describe("berth apply", &apply));
        }
        let before = container_ids(live)?;
        let up = live.compose(&live.create_args(&["up", "-d"]), true);
        if !up.status.success() {
            return Err(describe("compose up -d", &up));
        }
        let after = container_ids(live)?;
        if before != after {
            return Err(format!(
                "compose up replaced containers berth made\nbefore: {before:#?}\nafter: {after:#?}\n{}",
                describe("compose up -d", &up)
            ));
        }
        Ok(before.len())
    })
}

/// `name id` of the project's containers, sorted.
fn container_ids(live: &Live) -> Result<Vec<String>, String> {
    let filter = format!("label={}={}", support::PROJECT_LABEL, live.project.name());
    let args = [
        "ps",
        "-a",
        "--filter",
        &filter,
        "--format",
        "{{.Names}} {{.ID}}",
    ];
    let out = live.project.docker(&args);
    if !out.status.success() {
        return Err(describe("docker ps", &out));
    }
    let mut ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    ids.sort();
    Ok(ids)
}

#[test]
fn corpus_converges_across_tools() {
    for_each_case(check_case);
}
