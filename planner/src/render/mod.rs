//! Human renderings of a plan: plain text for a terminal and Markdown for a
//! pull-request comment. Both show the same facts in the same order, so
//! this module contains what they share: the words for actions and reasons,
//! the summary line and the one-line form of a step. Value formatting,
//! masking and diffs live in `value`.
//!
//! Rendering is deterministic: the same plan and options give the same
//! bytes, with no trailing spaces and exactly one final newline.

mod hooks;
mod markdown;
mod notes;
mod text;
mod value;

#[cfg(test)]
mod sample_plans;

use std::collections::BTreeMap;

use crate::plan::{Action, Plan, Reason, ResourceChange, ResourceKind, Step, StepAction, Summary};

pub use markdown::render_markdown;
pub use text::render_text;

/// Label that Docker Compose puts on a container to name its service.
const SERVICE_LABEL: &str = "com.docker.compose.service";

/// Options of a plan rendering.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Color the text rendering with ANSI escapes, for a terminal. The
    /// Markdown rendering ignores it.
    pub color: bool,
    /// List the engine-level steps with their dependencies.
    pub show_steps: bool,
    /// Print the values of sensitive field diffs instead of masking them.
    pub show_sensitive: bool,
}

/// Returns the symbol of an action in the change list.
///
/// `+` creates, `-/+` replaces, `-` removes, `~` changes the state of a
/// container that is kept (start, unpause, restart, stop), and `>` pulls
/// or builds an image.
fn action_symbol(action: Action) -> &'static str {
    match action {
        Action::Pull | Action::Build => ">",
        Action::Create => "+",
        Action::Replace => "-/+",
        Action::Remove => "-",
        Action::Start | Action::Unpause | Action::Restart | Action::Stop => "~",
        Action::NoOp => "=",
    }
}

/// Returns the verb for an action, as used in the legend and the summary.
fn action_verb(action: Action) -> &'static str {
    match action {
        Action::Create => "create",
        Action::Replace => "replace",
        Action::Start => "start",
        Action::Unpause => "unpause",
        Action::Restart => "restart",
        Action::Stop => "stop",
        Action::Remove => "remove",
        Action::NoOp => "keep",
        Action::Pull => "pull",
        Action::Build => "build",
    }
}

/// Returns the changes a reader reviews: every change but the no-ops.
fn visible_changes(plan: &Plan) -> impl Iterator<Item = &ResourceChange> {
    plan.changes
        .iter()
        .filter(|change| change.action != Action::NoOp)
}

/// Builds the legend of the symbols used by the visible changes, such as
/// `Symbols: + create; -/+ replace; ~ start or restart.`
fn legend(plan: &Plan) -> Option<String> {
    let used: Vec<Action> = visible_changes(plan).map(|change| change.action).collect();
    let has = |action: Action| used.contains(&action);
    let mut entries = Vec::new();
    for action in [Action::Create, Action::Replace, Action::Remove] {
        if has(action) {
            entries.push(format!("{} {}", action_symbol(action), action_verb(action)));
        }
    }
    let state_verbs: Vec<&str> = [
        Action::Start,
        Action::Unpause,
        Action::Restart,
        Action::Stop,
    ]
    .into_iter()
    .filter(|action| has(*action))
    .map(action_verb)
    .collect();
    if !state_verbs.is_empty() {
        entries.push(format!("~ {}", join_words(&state_verbs, "or")));
    }
    let image_verbs: Vec<&str> = [Action::Pull, Action::Build]
        .into_iter()
        .filter(|action| has(*action))
        .map(action_verb)
        .collect();
    if !image_verbs.is_empty() {
        entries.push(format!("> {}", join_words(&image_verbs, "or")));
    }
    if entries.is_empty() {
        return None;
    }
    // Semicolons, because the `~` entry may itself list verbs with commas.
    Some(format!("Symbols: {}.", entries.join("; ")))
}

/// Joins words as a sentence does: `a`, `a or b`, `a, b or c`.
fn join_words(words: &[&str], conjunction: &str) -> String {
    match words {
        [] => String::new(),
        [only] => (*only).to_string(),
        [init @ .., last] => format!("{} {conjunction} {last}", init.join(", ")),
    }
}

/// Builds the line that counts the no-op changes, such as
/// `3 containers and 1 network unchanged.`, or `None` when there are none.
fn unchanged_line(plan: &Plan) -> Option<String> {
    let mut counts: BTreeMap<ResourceKind, usize> = BTreeMap::new();
    for change in plan.changes.iter().filter(|c| c.action == Action::NoOp) {
        *counts.entry(change.kind).or_default() += 1;
    }
    if counts.is_empty() {
        return None;
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|(kind, count)| {
            let noun = match kind {
                ResourceKind::Container => "container",
                ResourceKind::Network => "network",
                ResourceKind::Volume => "volume",
                ResourceKind::Image => "image",
            };
            let plural = if *count == 1 { "" } else { "s" };
            format!("{count} {noun}{plural}")
        })
        .collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    Some(format!("{} unchanged.", join_words(&parts, "and")))
}

/// Returns the first line of the rendering, naming the project.
fn header(plan: &Plan) -> String {
    if plan.destroy {
        format!("Destroy plan for Compose project \"{}\"", plan.project)
    } else {
        format!("Plan for Compose project \"{}\"", plan.project)
    }
}

/// Returns the sentence under the header of a destroy plan.
const DESTROY_NOTE: &str = "Applying this plan tears the project down.";

/// Returns the final sentence of a plan without steps.
fn no_changes_line(plan: &Plan) -> &'static str {
    if plan.destroy {
        "No changes. Nothing of the project is left to remove."
    } else {
        "No changes. The project matches the compose files."
    }
}

/// Builds the summary line of a plan with steps.
///
/// The grammar is exactly:
///
/// ```text
/// Plan: C to create, R to replace, D to remove[, S to start][, U to unpause][, T to restart][, P to stop].
/// ```
///
/// The create, replace and remove counts are always present. Each
/// bracketed part is present only when its count is not zero, in that
/// order. Counts are decimal integers without separators.
pub fn summary_line(summary: &Summary) -> String {
    let mut line = format!(
        "Plan: {} to create, {} to replace, {} to remove",
        summary.create, summary.replace, summary.remove
    );
    let optional = [
        (summary.start, "start"),
        (summary.unpause, "unpause"),
        (summary.restart, "restart"),
        (summary.stop, "stop"),
        (summary.pull, "pull"),
        (summary.build, "build"),
    ];
    for (count, verb) in optional {
        if count != 0 {
            line.push_str(&format!(", {count} to {verb}"));
        }
    }
    line.push('.');
    line
}

/// Returns the final line: the summary, or the no-changes sentence when the
/// plan has no steps.
fn final_line(plan: &Plan) -> String {
    if plan.has_changes() {
        summary_line(&plan.summary)
    } else {
        no_changes_line(plan).to_string()
    }
}

/// Describes every reason of a change in words, in the plan's order.
fn describe_reasons(plan: &Plan, change: &ResourceChange) -> Vec<String> {
    let mut reasons: Vec<String> = change
        .reasons
        .iter()
        .map(|reason| describe_reason(plan, change, *reason))
        .collect();
    // A destroy plan removes resources for no reason of their own.
    if reasons.is_empty() && plan.destroy {
        reasons.push("the project is torn down".to_string());
    }
    reasons
}

/// Describes one reason in words.
fn describe_reason(plan: &Plan, change: &ResourceChange, reason: Reason) -> String {
    match reason {
        Reason::Missing if change.kind == ResourceKind::Image => {
            if build_follows_pull(plan, &change.name) {
                "it is not on the engine; it is built if the pull fails".to_string()
            } else {
                "it is not on the engine".to_string()
            }
        }
        Reason::Missing => "it does not exist yet".to_string(),
        Reason::ScaleUp => "the service is scaled up".to_string(),
        Reason::ScaleDown => "the service is scaled down".to_string(),
        Reason::DuplicateNumber => {
            "another container of the service has the same number and is kept".to_string()
        }
        Reason::ConfigChanged => "the config hash changed".to_string(),
        Reason::ContentChanged => "the content of a secret or config it uses changed".to_string(),
        Reason::ImageChanged => match service_image(plan, change) {
            Some(image) => format!("the image behind {image} changed"),
            None => "the image behind its tag changed".to_string(),
        },
        Reason::Forced => match forcing_flag(plan) {
            Some(flag) => format!("recreation requested with {flag}"),
            None => "recreation requested".to_string(),
        },
        Reason::NetworkDisconnected => {
            "it is not attached to every network of its service".to_string()
        }
        Reason::VolumeNotMounted => "a named volume of its service is not mounted".to_string(),
        Reason::UnexpectedName => {
            "its name is not the one the compose files give it (a replacement was interrupted)"
                .to_string()
        }
        Reason::Stopped => "it is not running".to_string(),
        Reason::Paused => "it is paused".to_string(),
        Reason::DependencyReplaced => match change.caused_by.as_slice() {
            [] => "a dependency declared with restart: true is replaced".to_string(),
            [one] => format!("its dependency {one} is replaced (restart: true)"),
            services => format!(
                "its dependencies {} are replaced (restart: true)",
                quoted_list(services)
            ),
        },
        Reason::ReferenceReplaced => match change.caused_by.as_slice() {
            [] => {
                "a service it shares a namespace or volumes with gets a new container".to_string()
            }
            services => format!(
                "it shares a namespace or volumes with {}, which gets a new container",
                quoted_list(services)
            ),
        },
        Reason::VolumeReplaced => match change.caused_by.as_slice() {
            [] => "a volume it mounts is replaced, so it is created fresh".to_string(),
            [one] => format!("volume {one} is replaced, so it is created fresh"),
            volumes => format!(
                "volumes {} are replaced, so it is created fresh",
                quoted_list(volumes)
            ),
        },
        Reason::Orphan => match &change.service {
            Some(service) => format!("orphan: no service {service} in the compose files"),
            None => "orphan: it belongs to no service of the compose files".to_string(),
        },
        Reason::ExitedOneOff => match &change.service {
            Some(service) => format!("orphan: an exited one-off container of service {service}"),
            None => "orphan: an exited one-off container".to_string(),
        },
        Reason::UpToDate => "it is up to date".to_string(),
        Reason::Completed => "one-shot completed successfully".to_string(),
        Reason::PullAlways if plan.options.pull.is_some() => "--pull always was given".to_string(),
        Reason::PullAlways => "pull_policy is always".to_string(),
        Reason::BuildAlways if plan.options.build => "--build was given".to_string(),
        Reason::BuildAlways => "pull_policy is build".to_string(),
        Reason::OtherPlatform => match change.service.as_deref() {
            Some(service) => {
                format!("the local image is of another platform than service {service} asks for")
            }
            None => "the local image is of another platform".to_string(),
        },
        Reason::RefreshDue => {
            "the image was last tagged longer ago than its pull_policy interval".to_string()
        }
    }
}

/// Returns whether the plan builds image `reference` after a pull whose
/// failure it ignores.
fn build_follows_pull(plan: &Plan, reference: &str) -> bool {
    plan.steps.iter().any(|step| {
        matches!(&step.action, StepAction::BuildImage { image, build, .. }
            if image == reference && build.only_if_missing)
    })
}

/// Finds the image reference of the change's service in the plan's create
/// steps, since a change does not record it.
fn service_image<'a>(plan: &'a Plan, change: &ResourceChange) -> Option<&'a str> {
    let service = change.service.as_deref()?;
    plan.steps.iter().find_map(|step| match &step.action {
        StepAction::CreateContainer { body, .. }
            if body.labels.get(SERVICE_LABEL).map(String::as_str) == Some(service) =>
        {
            Some(body.image.as_str())
        }
        _ => None,
    })
}

/// Returns the option that forced recreation. `--force-recreate` and
/// `--renew-anon-volumes` apply to every service and win over
/// `--always-recreate-deps`, which applies to dependencies only.
fn forcing_flag(plan: &Plan) -> Option<&'static str> {
    let options = &plan.options;
    if options.force_recreate {
        Some("--force-recreate")
    } else if options.renew_anon_volumes {
        Some("--renew-anon-volumes")
    } else if options.always_recreate_deps {
        Some("--always-recreate-deps")
    } else {
        None
    }
}

/// Maps the temporary name of each container that a step renames to its
/// final name.
fn final_names(plan: &Plan) -> BTreeMap<&str, &str> {
    plan.steps
        .iter()
        .filter_map(|step| match &step.action {
            StepAction::RenameContainer { container, to } => {
                Some((container.name.as_str(), to.as_str()))
            }
            _ => None,
        })
        .collect()
}

/// Formats one step as `[id] kind target (after: a, b)`.
///
/// Containers are named by their final names. Only the create and rename
/// steps show the temporary name a replacement is created under, because
/// they are the only steps that act on that name.
fn step_line(step: &Step, renames: &BTreeMap<&str, &str>) -> String {
    let name = |raw: &str| -> String { renames.get(raw).copied().unwrap_or(raw).to_string() };
    let (kind, target) = match &step.action {
        StepAction::CreateNetwork { name, .. } => ("create_network", name.clone()),
        StepAction::RemoveNetwork { name, .. } => ("remove_network", name.clone()),
        StepAction::ConnectNetwork {
            container, network, ..
        } => (
            "connect_network",
            format!("{} to {network}", name(container)),
        ),
        StepAction::DisconnectNetwork { container, network } => (
            "disconnect_network",
            format!("{} from {network}", name(container)),
        ),
        StepAction::CreateVolume { name, .. } => ("create_volume", name.clone()),
        StepAction::RemoveVolume { name } => ("remove_volume", name.clone()),
        StepAction::PullImage {
            image,
            ignore_failure,
            ..
        } => {
            let mut target = image.clone();
            if *ignore_failure {
                target.push_str(", ignoring a failure");
            }
            ("pull_image", target)
        }
        StepAction::BuildImage { image, build, .. } => {
            let mut target = format!("{image} from {}", build.context);
            if build.only_if_missing {
                target.push_str(", unless the pull brought it");
            }
            ("build_image", target)
        }
        StepAction::CreateContainer { name, .. } => ("create_container", name.clone()),
        StepAction::StartContainer { container, .. } => (
            "start_container",
            name(&container.name) + &hooks::step_hooks(&step.action),
        ),
        StepAction::StopContainer { container, .. } => (
            "stop_container",
            name(&container.name) + &hooks::step_hooks(&step.action),
        ),
        StepAction::RemoveContainer {
            container,
            remove_volumes,
        } => {
            let mut target = name(&container.name);
            if *remove_volumes {
                target.push_str(" with its anonymous volumes");
            }
            ("remove_container", target)
        }
        StepAction::RenameContainer { container, to } => {
            ("rename_container", format!("{} to {to}", container.name))
        }
        StepAction::UnpauseContainer { container } => ("unpause_container", name(&container.name)),
        StepAction::CopyContent { container, files } => {
            // Paths and keys only: the content stays out of every rendering.
            let files: Vec<String> = files
                .iter()
                .map(|file| format!("{} ({})", file.target, file.key))
                .collect();
            (
                "copy_content",
                format!("{}: {}", name(&container.name), files.join(", ")),
            )
        }
        StepAction::RemoveImage { name } => ("remove_image", name.clone()),
        StepAction::Wait {
            service,
            containers,
            condition,
            timeout_seconds,
        } => {
            let condition = match condition {
                crate::plan::WaitCondition::Healthy => "healthy",
                crate::plan::WaitCondition::CompletedSuccessfully => "completed successfully",
                crate::plan::WaitCondition::RunningOrHealthy => "running or healthy",
            };
            let names: Vec<String> = containers.iter().map(|c| name(c)).collect();
            // A timeout of 0 means no limit, as with `--wait-timeout 0`.
            let limit = match timeout_seconds {
                0 => "without a time limit".to_owned(),
                seconds => format!("within {seconds}s"),
            };
            (
                "wait",
                format!("{service} until {condition} {limit}: {}", names.join(", ")),
            )
        }
    };
    let mut line = format!("[{}] {kind} {target}", step.id);
    if !step.after.is_empty() {
        line.push_str(&format!(" (after: {})", step.after.join(", ")));
    }
    line
}

/// Trims trailing whitespace from every line and ends the text with exactly
/// one newline.
fn finish(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 1);
    for line in text.trim_end().lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if out.is_empty() {
        out.push('\n');
    }
    out
}

/// Joins service names as `a`, `a and b`, `a, b and c`.
fn quoted_list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [only] => only.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_without_limit_says_so() {
        let step = Step {
            id: "wait.healthy:db".to_owned(),
            after: Vec::new(),
            action: StepAction::Wait {
                service: "db".to_owned(),
                containers: Vec::new(),
                condition: crate::plan::WaitCondition::Healthy,
                timeout_seconds: 0,
            },
        };
        let line = step_line(&step, &BTreeMap::new());
        assert!(
            line.contains("wait db until healthy without a time limit"),
            "{line}"
        );
    }

    #[test]
    fn forced_reason_names_the_flag() {
        let mut plan = sample_plans::replacement();
        let change = plan.changes[1].clone();
        assert_eq!(
            describe_reason(&plan, &change, Reason::Forced),
            "recreation requested"
        );
        plan.options.always_recreate_deps = true;
        assert_eq!(
            describe_reason(&plan, &change, Reason::Forced),
            "recreation requested with --always-recreate-deps"
        );
        plan.options.force_recreate = true;
        assert_eq!(
            describe_reason(&plan, &change, Reason::Forced),
            "recreation requested with --force-recreate"
        );
    }

    #[test]
    fn image_reason_without_create_step() {
        let mut plan = sample_plans::replacement();
        plan.steps.clear();
        let change = plan.changes[1].clone();
        assert_eq!(
            describe_reason(&plan, &change, Reason::ImageChanged),
            "the image behind its tag changed"
        );
    }

    #[test]
    fn summary_line_appends_nonzero_counts() {
        let summary = Summary {
            replace: 1,
            stop: 2,
            ..Summary::default()
        };
        assert_eq!(
            summary_line(&summary),
            "Plan: 0 to create, 1 to replace, 0 to remove, 2 to stop."
        );
    }

    #[test]
    fn unchanged_line_counts_by_kind() {
        let plan = sample_plans::empty();
        assert_eq!(
            unchanged_line(&plan).as_deref(),
            Some("3 containers and 1 network unchanged.")
        );
        assert_eq!(unchanged_line(&sample_plans::creates()), None);
    }
}
