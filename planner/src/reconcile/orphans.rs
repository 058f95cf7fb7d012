//! Orphans: containers of the project that no service of the model claims,
//! and one-off containers that have exited.

use crate::labels;
use crate::plan::{Action, Reason, ResourceChange, ResourceKind, StepAction, Warning};

use super::Planner;
use super::containers::container_ref;

impl Planner<'_> {
    /// Warns about orphans, or removes them first with `--remove-orphans`.
    pub(crate) fn plan_orphans(&mut self) {
        let orphans: Vec<_> = self
            .snapshot
            .containers
            .iter()
            .filter(|container| {
                let one_off = container.label(labels::ONEOFF) == "True";
                if one_off {
                    container.state == "exited" || container.state == "dead"
                } else {
                    !self
                        .selection
                        .known
                        .contains(container.label(labels::SERVICE))
                }
            })
            .collect();
        if orphans.is_empty() {
            return;
        }
        if !self.options.remove_orphans {
            let names: Vec<&str> = orphans.iter().map(|c| c.name.as_str()).collect();
            self.warnings.push(Warning {
                code: "orphans".into(),
                message: format!(
                    "found orphan containers ({}) for this project; if you removed or renamed their service, plan with --remove-orphans to remove them",
                    names.join(", ")
                ),
            });
            return;
        }
        for container in orphans {
            let reason = if container.label(labels::ONEOFF) == "True" {
                Reason::ExitedOneOff
            } else {
                Reason::Orphan
            };
            let reference = container_ref(container);
            let mut after = Vec::new();
            if container.state != "exited" && container.state != "created" {
                after.push(self.stop_once(&reference, None));
            }
            after.extend(self.disconnects_of(&container.name));
            let id = self.steps.create_phase(
                format!("container.remove:{}", container.name),
                after,
                StepAction::RemoveContainer {
                    container: reference,
                    remove_volumes: false,
                },
            );
            self.orphan_steps.push(id);
            self.changes.push(ResourceChange {
                address: format!("orphan.{}", container.name),
                kind: ResourceKind::Container,
                name: container.name.clone(),
                service: Some(container.label(labels::SERVICE).to_string()),
                action: Action::Remove,
                reasons: vec![reason],
                diffs: Vec::new(),
                caused_by: Vec::new(),
            });
        }
    }
}
