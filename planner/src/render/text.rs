//! Plain-text rendering of a plan, for a terminal or a log, optionally
//! colored with ANSI escapes.

use similar::ChangeTag;

use super::value::{FieldBody, FieldChange, FieldView, field_view};
use super::{
    DESTROY_NOTE, RenderOptions, action_symbol, action_verb, describe_reasons, final_line,
    final_names, finish, header, legend, step_line, unchanged_line, visible_changes,
};
use crate::plan::{Action, Plan, ResourceChange};

/// Indentation of the lines under a change (reasons and field diffs).
const DETAIL_INDENT: &str = "      ";

/// Indentation of the lines of a block diff under its field line.
const HUNK_INDENT: &str = "          ";

/// ANSI styles used when color is on.
#[derive(Clone, Copy)]
enum Style {
    Bold,
    Green,
    Red,
    Yellow,
    Cyan,
}

/// Wraps text in an ANSI style when color is on.
fn paint(text: &str, style: Style, options: &RenderOptions) -> String {
    if !options.color || text.is_empty() {
        return text.to_string();
    }
    let code = match style {
        Style::Bold => "1",
        Style::Green => "32",
        Style::Red => "31",
        Style::Yellow => "33",
        Style::Cyan => "36",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// Renders a plan as plain text.
///
/// The text has, in order, a header naming the project and a legend of the
/// symbols. Then one entry per change that is not a no-op, with symbol,
/// address, engine name, action, reasons and field diffs. Then a count of
/// unchanged resources, the warnings, the steps when `options.show_steps`,
/// and the summary line (see [`super::summary_line`]). Sensitive values
/// are masked unless `options.show_sensitive`.
pub fn render_text(plan: &Plan, options: &RenderOptions) -> String {
    let mut sections: Vec<String> = Vec::new();

    let mut head = paint(&header(plan), Style::Bold, options);
    if plan.destroy {
        head.push('\n');
        head.push_str(DESTROY_NOTE);
    }
    sections.push(head);

    if let Some(legend) = legend(plan) {
        sections.push(legend);
    }
    for change in visible_changes(plan) {
        sections.push(change_entry(plan, change, options));
    }
    if let Some(line) = unchanged_line(plan) {
        sections.push(line);
    }

    if !plan.warnings.is_empty() {
        let warnings: Vec<String> = plan
            .warnings
            .iter()
            .map(|warning| warning_entry(&warning.message, options))
            .collect();
        sections.push(warnings.join("\n"));
    }

    if options.show_steps && !plan.steps.is_empty() {
        let renames = final_names(plan);
        let mut steps = String::from("Steps:");
        for step in &plan.steps {
            steps.push_str("\n  ");
            steps.push_str(&step_line(step, &renames));
        }
        sections.push(steps);
    }

    sections.push(paint(&final_line(plan), Style::Bold, options));
    finish(&sections.join("\n\n"))
}

/// Formats a warning, indenting its continuation lines under the text.
fn warning_entry(message: &str, options: &RenderOptions) -> String {
    let prefix = "Warning:";
    let continuation = " ".repeat(prefix.len() + 1);
    let body = message
        .lines()
        .collect::<Vec<_>>()
        .join(&format!("\n{continuation}"));
    format!("{} {body}", paint(prefix, Style::Yellow, options))
}

/// Formats one change with its reasons and field diffs.
fn change_entry(plan: &Plan, change: &ResourceChange, options: &RenderOptions) -> String {
    let symbol = action_symbol(change.action);
    let style = match change.action {
        Action::Create => Style::Green,
        Action::Remove => Style::Red,
        _ => Style::Yellow,
    };
    let mut entry = format!(
        "{}{} {} ({}): {}",
        " ".repeat(3 - symbol.len()),
        paint(symbol, style, options),
        change.address,
        change.name,
        action_verb(change.action)
    );
    let reasons = describe_reasons(plan, change);
    if !reasons.is_empty() {
        entry.push_str(&format!("\n{DETAIL_INDENT}why: {}", reasons.join("; ")));
    }
    for note in super::notes::change_notes(plan, change, options.show_sensitive) {
        entry.push_str(&format!("\n{DETAIL_INDENT}{note}"));
    }
    for diff in &change.diffs {
        let view = field_view(diff, options.show_sensitive);
        for line in field_lines(&view, options) {
            entry.push('\n');
            entry.push_str(&line);
        }
    }
    entry
}

/// Formats a field diff as `~ path: "a" -> "b"`, `+ path: value` or
/// `- path: value`, followed by hunk lines for a block diff.
fn field_lines(view: &FieldView, options: &RenderOptions) -> Vec<String> {
    let marker_style = match view.change {
        FieldChange::Added => Style::Green,
        FieldChange::Removed => Style::Red,
        FieldChange::Changed => Style::Yellow,
    };
    let marker = paint(view.change.marker(), marker_style, options);
    let lead = format!("{DETAIL_INDENT}{marker} {}:", view.path);
    match &view.body {
        FieldBody::Masked => {
            let text = match view.change {
                FieldChange::Changed => "(sensitive value changed)",
                FieldChange::Added | FieldChange::Removed => "(sensitive value)",
            };
            vec![format!("{lead} {text}")]
        }
        FieldBody::Inline { before, after } => {
            let text = match (before, after) {
                (Some(before), Some(after)) => format!("{before} -> {after}"),
                (Some(value), None) | (None, Some(value)) => value.clone(),
                (None, None) => "(no value)".to_string(),
            };
            vec![format!("{lead} {text}")]
        }
        FieldBody::Block(hunks) => {
            let mut lines = vec![lead];
            for hunk in hunks {
                lines.push(format!(
                    "{HUNK_INDENT}{}",
                    paint(&hunk.header, Style::Cyan, options)
                ));
                for line in &hunk.lines {
                    let text = format!("{}{}", line.prefix(), line.text);
                    let text = match line.tag {
                        ChangeTag::Equal => text,
                        ChangeTag::Delete => paint(&text, Style::Red, options),
                        ChangeTag::Insert => paint(&text, Style::Green, options),
                    };
                    lines.push(format!("{HUNK_INDENT}{text}"));
                }
            }
            lines
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::sample_plans;

    fn plain() -> RenderOptions {
        RenderOptions::default()
    }

    #[test]
    fn empty_plan() {
        insta::assert_snapshot!(render_text(&sample_plans::empty(), &plain()));
    }

    #[test]
    fn creates_network_and_containers() {
        let options = RenderOptions {
            show_steps: true,
            ..plain()
        };
        insta::assert_snapshot!(render_text(&sample_plans::creates(), &options));
    }

    #[test]
    fn replacement_with_diffs() {
        let options = RenderOptions {
            show_steps: true,
            ..plain()
        };
        insta::assert_snapshot!(render_text(&sample_plans::replacement(), &options));
    }

    #[test]
    fn replacement_never_prints_secret() {
        let text = render_text(&sample_plans::replacement(), &plain());
        assert!(!text.contains(sample_plans::OLD_SECRET));
        assert!(!text.contains(sample_plans::NEW_SECRET));
        assert!(text.contains("~ environment.DB_PASSWORD: (sensitive value changed)"));
    }

    #[test]
    fn replacement_shows_secret_on_request() {
        let options = RenderOptions {
            show_sensitive: true,
            ..plain()
        };
        let text = render_text(&sample_plans::replacement(), &options);
        let expected = format!(
            "~ environment.DB_PASSWORD: \"{}\" -> \"{}\"",
            sample_plans::OLD_SECRET,
            sample_plans::NEW_SECRET
        );
        assert!(text.contains(&expected), "{text}");
    }

    #[test]
    fn orphan_removal_with_warnings() {
        insta::assert_snapshot!(render_text(&sample_plans::orphan_removal(), &plain()));
    }

    #[test]
    fn restarts_of_dependents() {
        let options = RenderOptions {
            show_steps: true,
            ..plain()
        };
        insta::assert_snapshot!(render_text(&sample_plans::dependent_restarts(), &options));
    }

    #[test]
    fn destroy_plan() {
        insta::assert_snapshot!(render_text(&sample_plans::destroy(), &plain()));
    }

    #[test]
    fn lifecycle_hooks() {
        let options = RenderOptions {
            show_steps: true,
            ..plain()
        };
        insta::assert_snapshot!(render_text(&sample_plans::lifecycle_hooks(), &options));
    }

    #[test]
    fn hook_environment_masked() {
        let plan = sample_plans::lifecycle_hooks();
        let masked = render_text(&plan, &plain());
        assert!(!masked.contains(sample_plans::HOOK_SECRET), "{masked}");
        assert!(
            masked.contains("environment DEBUG unset, TOKEN)"),
            "{masked}"
        );
        let options = RenderOptions {
            show_sensitive: true,
            ..plain()
        };
        let shown = render_text(&plan, &options);
        let expected = format!("TOKEN={}", sample_plans::HOOK_SECRET);
        assert!(shown.contains(&expected), "{shown}");
    }

    #[test]
    fn colored_replacement() {
        let options = RenderOptions {
            color: true,
            ..plain()
        };
        // Escape characters are shown as `\e` to keep the snapshot readable.
        let text = render_text(&sample_plans::replacement(), &options).replace('\x1b', "\\e");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn output_is_tidy() {
        let options = RenderOptions {
            show_steps: true,
            ..plain()
        };
        for plan in sample_plans::all() {
            let text = render_text(&plan, &options);
            assert!(text.ends_with('\n'), "{text}");
            assert!(!text.ends_with("\n\n"), "{text}");
            for line in text.lines() {
                assert_eq!(line, line.trim_end(), "trailing space in {line:?}");
            }
            assert_eq!(text, render_text(&plan, &options));
        }
    }
}
