//! The words for lifecycle hooks in both renderings: a note per hook under
//! the container change that runs it, and a short form in step lines.
//! Hook environment values are masked like other environment values.

use crate::plan::{Hook, Plan, ResourceChange, ResourceKind, ServiceHooks, StepAction};

/// Returns one note per hook that the plan runs in the container of a
/// change: the `pre_stop` hooks of its stop, then the `post_start` hooks
/// of its start.
pub(super) fn hook_notes(
    plan: &Plan,
    change: &ResourceChange,
    show_sensitive: bool,
) -> Vec<String> {
    if change.kind != ResourceKind::Container {
        return Vec::new();
    }
    let mut notes = Vec::new();
    for step in &plan.steps {
        if let StepAction::StopContainer {
            container,
            pre_stop: Some(hooks),
            ..
        } = &step.action
            && container.name == change.name
        {
            notes.extend(notes_of(
                "pre_stop",
                "before the stop",
                hooks,
                show_sensitive,
            ));
        }
    }
    for step in &plan.steps {
        if let StepAction::StartContainer {
            container,
            post_start: Some(hooks),
        } = &step.action
            && container.name == change.name
        {
            notes.extend(notes_of(
                "post_start",
                "after the start",
                hooks,
                show_sensitive,
            ));
        }
    }
    notes
}

/// Formats each hook as `runs post_start[0] after the start: CMD (user root)`.
fn notes_of(key: &str, when: &str, hooks: &ServiceHooks, show_sensitive: bool) -> Vec<String> {
    hooks
        .hooks
        .iter()
        .enumerate()
        .map(|(index, hook)| {
            let mut note = format!("runs {key}[{index}] {when}: {}", command_line(hook));
            let settings = settings(hook, show_sensitive);
            if !settings.is_empty() {
                note.push_str(&format!(" ({})", settings.join("; ")));
            }
            note
        })
        .collect()
}

/// Lists the settings of a hook besides its command.
fn settings(hook: &Hook, show_sensitive: bool) -> Vec<String> {
    let mut parts = Vec::new();
    if let Some(user) = &hook.user {
        parts.push(format!("user {user}"));
    }
    if hook.privileged {
        parts.push("privileged".to_string());
    }
    if let Some(dir) = &hook.working_dir {
        parts.push(format!("working_dir {dir}"));
    }
    if !hook.environment.is_empty() {
        let entries: Vec<String> = hook
            .environment
            .iter()
            .map(|(name, value)| match value {
                None => format!("{name} unset"),
                Some(value) if show_sensitive => format!("{name}={value}"),
                Some(_) => name.clone(),
            })
            .collect();
        parts.push(format!("environment {}", entries.join(", ")));
    }
    parts
}

/// Returns what a step line adds for the hooks of a start or stop step,
/// such as `, then post_start: sh -c 'echo started'`.
pub(super) fn step_hooks(action: &StepAction) -> String {
    let (lead, key, hooks) = match action {
        StepAction::StartContainer {
            post_start: Some(hooks),
            ..
        } => (", then", "post_start", hooks),
        StepAction::StopContainer {
            pre_stop: Some(hooks),
            ..
        } => (", first", "pre_stop", hooks),
        _ => return String::new(),
    };
    let commands: Vec<String> = hooks.hooks.iter().map(command_line).collect();
    format!("{lead} {key}: {}", commands.join("; "))
}

/// Quotes a hook's command as a shell would need it.
fn command_line(hook: &Hook) -> String {
    if hook.command.is_empty() {
        return "(no command)".to_string();
    }
    shell_words::join(&hook.command)
}
