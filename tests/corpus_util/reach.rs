//! How far a corpus case is brought up on the test engine: to running
//! containers, only to created ones, or not at all. Both tools get the same
//! reach, so a created-only case still compares what each one creates.

use std::fs;
use std::path::Path;

use serde_json::Value;

use super::{CANNOT_RUN, Case, Live, skip_reason};
use crate::support::describe;

/// Cases of `CANNOT_RUN` whose containers the test engine creates but
/// cannot start. They are brought up as created, never started.
pub const CREATE_ONLY: &[&str] = &["27", "53", "54", "60"];

/// How far a case is brought up.
pub enum Reach {
    /// `up -d`, and a whole berth plan.
    Started,
    /// `create`, and a berth plan without its start and wait steps, for the
    /// reason given.
    Created(String),
}

impl Reach {
    /// Returns how far the case is brought up before its model is known,
    /// or why it is skipped.
    pub fn of(live: &Live, case: &Case) -> Result<Reach, String> {
        match skip_reason(live, case) {
            None => Ok(Reach::Started),
            Some(reason) if CREATE_ONLY.contains(&case.number.as_str()) => {
                debug_assert!(CANNOT_RUN.iter().any(|(n, _)| *n == case.number));
                Ok(Reach::Created(reason))
            }
            Some(reason) => Err(reason),
        }
    }

    /// Lowers the reach to created when the model publishes host ports:
    /// the test engine shares the machine's network namespace, so a started
    /// container would take its published ports on the machine itself.
    pub fn for_model(self, model: &Value) -> Reach {
        match self {
            Reach::Started if publishes_ports(model) => {
                Reach::Created("it publishes host ports".to_owned())
            }
            reach => reach,
        }
    }

    /// Returns the Compose command that brings the case this far.
    pub fn compose_command(&self) -> &'static [&'static str] {
        match self {
            Reach::Started => &["up", "-d", "--pull", "never"],
            Reach::Created(_) => &["create", "--pull", "never"],
        }
    }

    /// Returns why the case is not started, or `None` when it is.
    pub fn note(&self) -> Option<&str> {
        match self {
            Reach::Started => None,
            Reach::Created(reason) => Some(reason),
        }
    }

    /// Plans the case with berth into `plan.json` and applies as much of
    /// the plan as this reach allows.
    pub fn berth_apply(&self, live: &Live) -> Result<(), String> {
        let plan = live.berth(&live.create_args(&["plan", "-o", "plan.json"]), true);
        if !plan.status.success() {
            return Err(describe("berth plan", &plan));
        }
        if let Reach::Created(_) = self {
            remove_start_steps(&live.project.dir().join("plan.json"))?;
        }
        let apply = live.berth(&["apply", "plan.json"], true);
        if !apply.status.success() {
            return Err(describe("berth apply", &apply));
        }
        Ok(())
    }

    /// Runs this reach's Compose command on the case.
    pub fn compose_bring(&self, live: &Live) -> Result<(), String> {
        let command = self.compose_command();
        let out = live.compose(&live.create_args(command), true);
        if !out.status.success() {
            return Err(describe(&format!("compose {}", command.join(" ")), &out));
        }
        Ok(())
    }
}

/// Returns whether any service publishes a port on the host.
pub fn publishes_ports(model: &Value) -> bool {
    let Some(services) = model["services"].as_object() else {
        return false;
    };
    services.values().any(|service| {
        service["ports"]
            .as_array()
            .is_some_and(|ports| ports.iter().any(|p| !p["published"].is_null()))
    })
}

/// Removes the `start_container` and `wait` steps from a plan file, and
/// the references to them, which leaves a plan that only creates.
pub fn remove_start_steps(path: &Path) -> Result<(), String> {
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
