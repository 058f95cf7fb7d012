//! Brings every runnable case of the oracle corpus up with one tool and
//! converges it with the other, on the test engine:
//!
//! - after `docker compose up -d`, `berth plan` may only start containers
//!   that exited (as `up` would); it creates, replaces and removes
//!   nothing;
//! - after `berth apply`, `docker compose up -d` replaces no container.
//!
//! Cases whose containers cannot start here, or would publish ports on the
//! machine, are only created: `docker compose create` on both sides, and a
//! berth plan without its start and wait steps. berth then plans to start
//! every container and nothing else.
//!
//! The case's `create-override.yaml` gives services without a command one.
//! Without the corpus the test prints that it is absent and passes; without
//! the test engine it follows the harness rules.

#[path = "support/mod.rs"]
mod support;

#[path = "corpus_util/mod.rs"]
mod corpus_util;

use corpus_util::reach::Reach;
use corpus_util::{Case, Live, Prerequisites, for_each_case, parse_json, with_down};
use serde_json::{Value, json};
use support::{Engine, describe};

fn check_case(engine: &Engine, case: &Case) -> Result<String, String> {
    let live = Live::new(engine, case);
    let reach = match Reach::of(&live, case) {
        Ok(reach) => reach,
        Err(reason) => return Ok(format!("skipped: {reason}")),
    };
    let config = live.compose(&live.create_args(&["config", "--format", "json"]), false);
    if !config.status.success() {
        return Err(describe("compose config", &config));
    }
    let model = parse_json(&config, "compose config")?;
    let reach = reach.for_model(&model);

    let prerequisites = Prerequisites::create(&live, &model);
    let outcome = compose_then_berth(&live, &reach).and_then(|started| {
        let unchanged = berth_then_compose(&live, &reach)?;
        Ok(format!(
            "berth starts {started} containers; compose keeps {unchanged}"
        ))
    });
    prerequisites.remove(&live);
    match reach.note() {
        Some(reason) => outcome.map(|done| format!("{done}; not started: {reason}")),
        None => outcome,
    }
}

/// Brings the case up with Compose and plans it with berth. Returns how
/// many containers berth would start: those that `up` left exited, or
/// every container when the case is only created.
fn compose_then_berth(live: &Live, reach: &Reach) -> Result<usize, String> {
    with_down(live, || {
        reach.compose_bring(live)?;
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
                "after compose {}, berth plans:\n{}",
                reach.compose_command()[0],
                unexpected.join("\n")
            ));
        }
        Ok(changes.iter().filter(|c| is_start(c)).count())
    })
}

/// Brings the case up with berth, then runs the same Compose command
/// again. Returns how many containers Compose kept.
fn berth_then_compose(live: &Live, reach: &Reach) -> Result<usize, String> {
    with_down(live, || {
        reach.berth_apply(live)?;
        let before = container_ids(live)?;
        reach.compose_bring(live)?;
        let after = container_ids(live)?;
        if before != after {
            return Err(format!(
                "compose {} replaced containers berth made\nbefore: {before:#?}\nafter: {after:#?}",
                reach.compose_command()[0],
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
