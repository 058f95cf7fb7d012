//! Progress reporting while a plan is applied. The executor calls a
//! [`Progress`] as steps start and end. [`StderrProgress`] prints lines in
//! the style of Docker Compose (`Container p-web-1  Created`) to stderr,
//! since stdout is reserved for artefacts.

use berth_planner::plan::{Step, StepAction};

use crate::error::StepError;

/// Receives the progress of an apply. Called from the task that runs the
/// steps, possibly for several steps in flight at once.
pub trait Progress: Send + Sync {
    /// Reports that a step started.
    fn step_started(&self, step: &Step);
    /// Reports that a step finished successfully.
    fn step_finished(&self, step: &Step);
    /// Reports that a step finished without its change, for `reason`, as an
    /// image removal the engine rejects because the image is in use. The
    /// apply goes on. Reported as finished unless overridden.
    fn step_kept(&self, step: &Step, _reason: &str) {
        self.step_finished(step);
    }
    /// Reports that a step failed with `error`.
    fn step_failed(&self, step: &Step, error: &StepError);
}

/// Discards all progress.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn step_started(&self, _step: &Step) {}
    fn step_finished(&self, _step: &Step) {}
    fn step_failed(&self, _step: &Step, _error: &StepError) {}
}

/// Prints one line per event to stderr: the resource kind, its name, two
/// spaces, and the status word.
#[derive(Clone, Copy, Debug, Default)]
pub struct StderrProgress;

impl Progress for StderrProgress {
    fn step_started(&self, step: &Step) {
        let label = StepLabel::of(&step.action);
        eprintln!("{} {}  {}", label.kind, label.name, label.started);
    }

    fn step_finished(&self, step: &Step) {
        let label = StepLabel::of(&step.action);
        eprintln!("{} {}  {}", label.kind, label.name, label.finished);
    }

    fn step_kept(&self, step: &Step, reason: &str) {
        eprintln!("{}", kept_line(step, reason));
    }

    fn step_failed(&self, step: &Step, error: &StepError) {
        let label = StepLabel::of(&step.action);
        eprintln!("{} {}  Error: {error}", label.kind, label.name);
    }
}

/// Returns the progress line of a step that ended without its change:
/// `Image p-app:latest  Kept: still in use (...)`, or `Not pulled` for a
/// pull whose failure the plan allows.
fn kept_line(step: &Step, reason: &str) -> String {
    let label = StepLabel::of(&step.action);
    let status = match step.action {
        StepAction::PullImage { .. } => "Not pulled",
        _ => "Kept",
    };
    format!("{} {}  {status}: {reason}", label.kind, label.name)
}

/// Text of a step in progress output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepLabel {
    /// `Container`, `Network`, `Volume`, `Image` or `Service`.
    pub kind: &'static str,
    /// The resource's name.
    pub name: String,
    /// Status while the step runs: `Creating`, `Starting`, ...
    pub started: String,
    /// Status once it finished: `Created`, `Started`, ...
    pub finished: String,
}

impl StepLabel {
    /// Builds the label of a step action.
    pub fn of(action: &StepAction) -> StepLabel {
        let label = |kind, name: &str, started: &str, finished: &str| StepLabel {
            kind,
            name: name.to_owned(),
            started: started.to_owned(),
            finished: finished.to_owned(),
        };
        match action {
            StepAction::CreateNetwork { name, .. } => label("Network", name, "Creating", "Created"),
            StepAction::RemoveNetwork { name, .. } => label("Network", name, "Removing", "Removed"),
            StepAction::ConnectNetwork {
                container, network, ..
            } => StepLabel {
                kind: "Container",
                name: container.clone(),
                started: format!("Connecting to {network}"),
                finished: format!("Connected to {network}"),
            },
            StepAction::DisconnectNetwork { container, network } => StepLabel {
                kind: "Container",
                name: container.clone(),
                started: format!("Disconnecting from {network}"),
                finished: format!("Disconnected from {network}"),
            },
            StepAction::CreateVolume { name, .. } => label("Volume", name, "Creating", "Created"),
            StepAction::RemoveVolume { name } => label("Volume", name, "Removing", "Removed"),
            StepAction::CreateContainer { name, .. } => {
                label("Container", name, "Creating", "Created")
            }
            StepAction::StartContainer { container, .. } => {
                label("Container", &container.name, "Starting", "Started")
            }
            StepAction::StopContainer { container, .. } => {
                label("Container", &container.name, "Stopping", "Stopped")
            }
            StepAction::RemoveContainer { container, .. } => {
                label("Container", &container.name, "Removing", "Removed")
            }
            StepAction::RenameContainer { container, to } => StepLabel {
                kind: "Container",
                name: container.name.clone(),
                started: format!("Renaming to {to}"),
                finished: format!("Renamed to {to}"),
            },
            StepAction::UnpauseContainer { container } => {
                label("Container", &container.name, "Unpausing", "Unpaused")
            }
            StepAction::CopyContent { container, .. } => label(
                "Container",
                &container.name,
                "Copying content",
                "Copied content",
            ),
            StepAction::RemoveImage { name } => label("Image", name, "Removing", "Removed"),
            StepAction::PullImage { image, .. } => label("Image", image, "Pulling", "Pulled"),
            StepAction::BuildImage { image, .. } => label("Image", image, "Building", "Built"),
            StepAction::Wait {
                service, condition, ..
            } => {
                let finished = match condition {
                    berth_planner::plan::WaitCondition::Healthy => "Healthy",
                    berth_planner::plan::WaitCondition::CompletedSuccessfully => "Completed",
                    berth_planner::plan::WaitCondition::RunningOrHealthy => "Ready",
                };
                label("Service", service, "Waiting", finished)
            }
        }
    }
}

/// Describes the resource a step acts on, for error messages: ``container `p-web-1` ``.
pub(crate) fn subject(action: &StepAction) -> String {
    let label = StepLabel::of(action);
    format!("{} `{}`", label.kind.to_lowercase(), label.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_image_line_says_kept() {
        let step = Step {
            id: "image.remove:p-app:latest".to_owned(),
            after: Vec::new(),
            action: StepAction::RemoveImage {
                name: "p-app:latest".to_owned(),
            },
        };
        let line = kept_line(&step, "still in use by a container");
        assert_eq!(
            line,
            "Image p-app:latest  Kept: still in use by a container"
        );
    }

    #[test]
    fn failed_pull_line_says_not_pulled() {
        let step = Step {
            id: "image.pull:p-app".to_owned(),
            after: Vec::new(),
            action: StepAction::PullImage {
                image: "p-app".to_owned(),
                platform: None,
                ignore_failure: true,
            },
        };
        let line = kept_line(&step, "the plan builds it instead: not found");
        assert_eq!(
            line,
            "Image p-app  Not pulled: the plan builds it instead: not found"
        );
    }
}
