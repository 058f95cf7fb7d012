//! Markdown rendering of a plan, for a pull-request comment. The output is
//! CommonMark with one GitHub Flavored Markdown extension, the table of
//! changes. Every piece of plan text is escaped or put in a code span or
//! fenced block long enough for the backticks it contains.

use super::value::{FieldBody, FieldChange, FieldView, field_view};
use super::{
    DESTROY_NOTE, RenderOptions, action_symbol, action_verb, describe_reasons, final_line,
    final_names, finish, step_line, unchanged_line, visible_changes,
};
use crate::plan::{Plan, ResourceChange};

/// Indentation of hunk lines under their field line, after the diff prefix.
const HUNK_INDENT: &str = "    ";

/// Renders a plan as Markdown for a pull-request comment.
///
/// It contains the same facts as [`super::render_text`]. In order: a
/// heading naming the project, a table of the changes that are not
/// no-ops, the count of unchanged resources, and one `diff` block per
/// resource with field diffs. Then the warnings as a blockquote, the steps
/// when `options.show_steps`, and the summary line in bold.
/// `options.color` is ignored. Sensitive values are masked unless
/// `options.show_sensitive`.
pub fn render_markdown(plan: &Plan, options: &RenderOptions) -> String {
    let mut sections: Vec<String> = Vec::new();

    let kind = if plan.destroy { "Destroy plan" } else { "Plan" };
    sections.push(format!(
        "## {kind} for Compose project {}",
        code_span(&plan.project)
    ));
    if plan.destroy {
        sections.push(DESTROY_NOTE.to_string());
    }

    let changes: Vec<&ResourceChange> = visible_changes(plan).collect();
    if !changes.is_empty() {
        sections.push(change_table(plan, &changes));
    }
    if let Some(line) = unchanged_line(plan) {
        sections.push(line);
    }

    for change in changes.iter().filter(|change| !change.diffs.is_empty()) {
        sections.push(format!(
            "### {} ({})",
            code_span(&change.address),
            code_span(&change.name)
        ));
        let views: Vec<FieldView> = change
            .diffs
            .iter()
            .map(|diff| field_view(diff, options.show_sensitive))
            .collect();
        sections.push(fenced("diff", &diff_lines(&views)));
    }

    for change in &changes {
        let notes = super::notes::change_notes(plan, change, options.show_sensitive);
        if notes.is_empty() {
            continue;
        }
        sections.push(format!(
            "### {} ({})",
            code_span(&change.address),
            code_span(&change.name)
        ));
        let items: Vec<String> = notes
            .iter()
            .map(|note| format!("- {}", escape_text(note)))
            .collect();
        sections.push(items.join("\n"));
    }

    if !plan.warnings.is_empty() {
        let quotes: Vec<String> = plan
            .warnings
            .iter()
            .map(|warning| blockquote_warning(&warning.message))
            .collect();
        sections.push(quotes.join("\n>\n"));
    }

    if options.show_steps && !plan.steps.is_empty() {
        let renames = final_names(plan);
        let lines: Vec<String> = plan
            .steps
            .iter()
            .map(|step| step_line(step, &renames))
            .collect();
        sections.push("### Steps".to_string());
        sections.push(fenced("text", &lines));
    }

    sections.push(format!("**{}**", escape_text(&final_line(plan))));
    finish(&sections.join("\n\n"))
}

/// Builds the table of changes, one row per change.
fn change_table(plan: &Plan, changes: &[&ResourceChange]) -> String {
    let mut rows = vec![
        "| Action | Resource | Name | Why |".to_string(),
        "| --- | --- | --- | --- |".to_string(),
    ];
    for change in changes {
        let cells = [
            format!(
                "{} {}",
                code_span(action_symbol(change.action)),
                action_verb(change.action)
            ),
            code_span(&change.address),
            code_span(&change.name),
            escape_text(&describe_reasons(plan, change).join("; ")),
        ];
        let cells: Vec<String> = cells.iter().map(|cell| table_cell(cell)).collect();
        rows.push(format!("| {} |", cells.join(" | ")));
    }
    rows.join("\n")
}

/// Formats field diffs as the lines of a `diff` block. A changed one-line
/// value becomes a `-` line and a `+` line, so that viewers color them. A
/// block value keeps its unified diff under a `~ path:` line.
fn diff_lines(views: &[FieldView]) -> Vec<String> {
    let mut lines = Vec::new();
    for view in views {
        let path = &view.path;
        match &view.body {
            FieldBody::Masked => match view.change {
                FieldChange::Changed => {
                    lines.push(format!("- {path}: (sensitive value)"));
                    lines.push(format!("+ {path}: (sensitive value, changed)"));
                }
                change => lines.push(format!("{} {path}: (sensitive value)", change.marker())),
            },
            FieldBody::Inline { before, after } => {
                if let Some(before) = before {
                    lines.push(format!("- {path}: {before}"));
                }
                if let Some(after) = after {
                    lines.push(format!("+ {path}: {after}"));
                }
                if before.is_none() && after.is_none() {
                    lines.push(format!("~ {path}: (no value)"));
                }
            }
            FieldBody::Block(hunks) => {
                lines.push(format!("{} {path}:", view.change.marker()));
                for hunk in hunks {
                    lines.push(format!(" {HUNK_INDENT}{}", hunk.header));
                    for line in &hunk.lines {
                        lines.push(format!("{}{HUNK_INDENT}{}", line.prefix(), line.text));
                    }
                }
            }
        }
    }
    lines
}

/// Formats a warning as blockquote lines.
fn blockquote_warning(message: &str) -> String {
    let lines: Vec<String> = message
        .lines()
        .map(|line| escape_line_start(&escape_text(line.trim_start())))
        .collect();
    format!("> **Warning:** {}", lines.join("\n> "))
}

/// Wraps lines in a fenced code block whose fence is longer than any run
/// of backticks in them, so no line can close it early.
fn fenced(info: &str, lines: &[String]) -> String {
    let longest = lines
        .iter()
        .map(|line| longest_backtick_run(line))
        .max()
        .unwrap_or(0);
    let fence = "`".repeat((longest + 1).max(3));
    format!("{fence}{info}\n{}\n{fence}", lines.join("\n"))
}

/// Formats text as a code span, with a delimiter longer than any run of
/// backticks in it and a space of padding where CommonMark strips one.
fn code_span(text: &str) -> String {
    let text = text.replace(['\n', '\r'], " ");
    let delimiter = "`".repeat(longest_backtick_run(&text) + 1);
    let needs_padding = text.starts_with('`')
        || text.ends_with('`')
        || (text.starts_with(' ') && text.ends_with(' ') && !text.trim().is_empty());
    if needs_padding {
        format!("{delimiter} {text} {delimiter}")
    } else {
        format!("{delimiter}{text}{delimiter}")
    }
}

/// Returns the length of the longest run of backticks in text.
fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// Escapes the characters that CommonMark or GFM would read as inline
/// markup (emphasis, code, links, HTML, entities, strikethrough).
fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '&' | '~'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Escapes a line start that CommonMark would read as a block marker: a
/// heading, list item, quote, thematic break or setext underline.
fn escape_line_start(line: &str) -> String {
    if line.starts_with(['#', '-', '+', '*', '=', '>']) {
        return format!("\\{line}");
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && line[digits..].starts_with(['.', ')']) {
        return format!("{}\\{}", &line[..digits], &line[digits..]);
    }
    line.to_string()
}

/// Makes inline Markdown safe in a GFM table cell: a pipe is escaped, even
/// inside a code span, and the cell stays on one line.
fn table_cell(markdown: &str) -> String {
    markdown.replace(['\n', '\r'], " ").replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Action, FieldDiff, Warning};
    use crate::render::sample_plans;

    #[test]
    fn replacement_markdown() {
        let options = RenderOptions {
            show_steps: true,
            ..RenderOptions::default()
        };
        insta::assert_snapshot!(render_markdown(&sample_plans::replacement(), &options));
    }

    #[test]
    fn replacement_markdown_never_prints_secret() {
        let markdown = render_markdown(&sample_plans::replacement(), &RenderOptions::default());
        assert!(!markdown.contains(sample_plans::OLD_SECRET));
        assert!(!markdown.contains(sample_plans::NEW_SECRET));
    }

    #[test]
    fn lifecycle_hooks_markdown() {
        let options = RenderOptions {
            show_steps: true,
            ..RenderOptions::default()
        };
        let markdown = render_markdown(&sample_plans::lifecycle_hooks(), &options);
        assert!(!markdown.contains(sample_plans::HOOK_SECRET), "{markdown}");
        insta::assert_snapshot!(markdown);
    }

    #[test]
    fn empty_plan_markdown() {
        let markdown = render_markdown(&sample_plans::empty(), &RenderOptions::default());
        insta::assert_snapshot!(markdown);
    }

    #[test]
    fn orphans_and_destroy_markdown() {
        let options = RenderOptions::default();
        let orphans = render_markdown(&sample_plans::orphan_removal(), &options);
        let destroy = render_markdown(&sample_plans::destroy(), &options);
        insta::assert_snapshot!(format!("{orphans}\n---\n\n{destroy}"));
    }

    #[test]
    fn markup_in_plan_text_is_escaped() {
        let mut plan = sample_plans::replacement();
        plan.changes[1].address = "service.a|b[1]".to_string();
        plan.changes[1].diffs = vec![FieldDiff {
            path: "labels.note".to_string(),
            before: Some(serde_json::json!("```\nx | y\n```")),
            after: Some(serde_json::json!("````\nx | z\n````")),
            sensitive: false,
        }];
        plan.warnings = vec![Warning {
            code: "test".to_string(),
            message: "use `a|b` and <b>*this*</b>\n1. not a list\n# not a heading".to_string(),
        }];
        insta::assert_snapshot!(render_markdown(&plan, &RenderOptions::default()));
    }

    #[test]
    fn code_span_pads_backticks() {
        assert_eq!(code_span("a`b"), "``a`b``");
        assert_eq!(code_span("`a"), "`` `a ``");
        assert_eq!(code_span("plain"), "`plain`");
    }

    #[test]
    fn table_row_per_visible_change() {
        let plan = sample_plans::dependent_restarts();
        let markdown = render_markdown(&plan, &RenderOptions::default());
        let rows = markdown
            .lines()
            .filter(|line| line.starts_with("| `"))
            .count();
        let visible = plan
            .changes
            .iter()
            .filter(|change| change.action != Action::NoOp)
            .count();
        assert_eq!(rows, visible);
    }

    #[test]
    fn markdown_output_is_tidy() {
        let options = RenderOptions {
            show_steps: true,
            ..RenderOptions::default()
        };
        for plan in sample_plans::all() {
            let markdown = render_markdown(&plan, &options);
            assert!(markdown.ends_with('\n'), "{markdown}");
            assert!(!markdown.ends_with("\n\n"), "{markdown}");
            for line in markdown.lines() {
                assert_eq!(line, line.trim_end(), "trailing space in {line:?}");
            }
            assert_eq!(markdown, render_markdown(&plan, &options));
        }
    }
}
