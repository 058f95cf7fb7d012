//! Builds the list of engine-level steps with their dependencies.

use std::collections::BTreeSet;

use crate::plan::{Step, StepAction};

/// The steps of a plan in the order they were added, which is also a valid
/// order to run them in one at a time.
#[derive(Default)]
pub(crate) struct StepList {
    steps: Vec<Step>,
    ids: BTreeSet<String>,
    /// Every step of the create phase; no container starts before all of
    /// them are done, as with `docker compose up`.
    create_phase: Vec<String>,
}

impl StepList {
    /// Adds a create-phase step (networks, volumes, containers, renames,
    /// stops and removals) and returns its id.
    pub(crate) fn create_phase(
        &mut self,
        id: String,
        after: Vec<String>,
        action: StepAction,
    ) -> String {
        let id = self.push(id, after, action);
        self.create_phase.push(id.clone());
        id
    }

    /// Adds a start-phase step. A step with no other predecessor waits for
    /// the whole create phase.
    pub(crate) fn start_phase(
        &mut self,
        id: String,
        mut after: Vec<String>,
        action: StepAction,
    ) -> String {
        if after.is_empty() {
            after = self.create_phase.clone();
        }
        self.push(id, after, action)
    }

    fn push(&mut self, id: String, mut after: Vec<String>, action: StepAction) -> String {
        after.sort();
        after.dedup();
        self.ids.insert(id.clone());
        self.steps.push(Step {
            id: id.clone(),
            after,
            action,
        });
        id
    }

    pub(crate) fn contains(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    pub(crate) fn into_steps(self) -> Vec<Step> {
        self.steps
    }
}
