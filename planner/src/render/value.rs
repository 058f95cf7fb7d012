//! Turns a field diff into what a renderer prints: masked when sensitive,
//! one line for short values, and a unified line diff (made with `similar`)
//! for values that span lines or do not fit on one.
//!
//! Short values print as compact JSON, so a string `"1"` and a number `1`
//! stay apart. Long values print in a YAML-like block form that a Compose
//! user reads at a glance: a list item per line and multi-line strings as
//! their own lines.

use serde_json::Value;
use similar::{ChangeTag, TextDiff};

use crate::plan::FieldDiff;

/// Maximum length of an inline field line, in bytes, before a block diff is
/// used instead.
const MAX_INLINE_WIDTH: usize = 100;

/// Lines of unchanged context around each change in a block diff.
const CONTEXT_LINES: usize = 3;

/// Whether a field is added, removed or changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FieldChange {
    Added,
    Removed,
    Changed,
}

impl FieldChange {
    /// Returns the marker of the field line: `+`, `-` or `~`.
    pub(crate) fn marker(self) -> &'static str {
        match self {
            FieldChange::Added => "+",
            FieldChange::Removed => "-",
            FieldChange::Changed => "~",
        }
    }
}

/// Printable form of the values of one field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum FieldBody {
    /// Both sides fit on one line. A missing side is `None`.
    Inline {
        before: Option<String>,
        after: Option<String>,
    },
    /// The values are sensitive and hidden.
    Masked,
    /// A unified diff of the block forms of the two sides.
    Block(Vec<Hunk>),
}

/// One hunk of a block diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Hunk {
    /// The `@@ -a,b +c,d @@` header.
    pub(crate) header: String,
    pub(crate) lines: Vec<DiffLine>,
}

/// One line of a hunk, without its line ending.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DiffLine {
    pub(crate) tag: ChangeTag,
    pub(crate) text: String,
}

impl DiffLine {
    /// Returns the unified-diff prefix of the line: space, `-` or `+`.
    pub(crate) fn prefix(&self) -> &'static str {
        match self.tag {
            ChangeTag::Equal => " ",
            ChangeTag::Delete => "-",
            ChangeTag::Insert => "+",
        }
    }
}

/// A field diff ready to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FieldView {
    pub(crate) path: String,
    pub(crate) change: FieldChange,
    pub(crate) body: FieldBody,
}

/// Builds the printable view of a field diff. Sensitive values are masked
/// unless `show_sensitive`, and a masked view carries no hint of the
/// values, not even their length.
pub(crate) fn field_view(diff: &FieldDiff, show_sensitive: bool) -> FieldView {
    let change = match (&diff.before, &diff.after) {
        (None, Some(_)) => FieldChange::Added,
        (Some(_), None) => FieldChange::Removed,
        _ => FieldChange::Changed,
    };
    let body = if diff.sensitive && !show_sensitive {
        FieldBody::Masked
    } else {
        value_body(&diff.path, diff.before.as_ref(), diff.after.as_ref())
    };
    FieldView {
        path: diff.path.clone(),
        change,
        body,
    }
}

/// Chooses between the inline and the block form of two values.
fn value_body(path: &str, before: Option<&Value>, after: Option<&Value>) -> FieldBody {
    let inline_before = before.map(inline);
    let inline_after = after.map(inline);
    let width = path.len()
        + inline_before.as_ref().map_or(0, String::len)
        + inline_after.as_ref().map_or(0, String::len)
        + " ~ : -> ".len();
    let multi_line = [before, after]
        .into_iter()
        .flatten()
        .any(has_multi_line_string);
    if !multi_line && width <= MAX_INLINE_WIDTH {
        return FieldBody::Inline {
            before: inline_before,
            after: inline_after,
        };
    }
    let old_lines = before.map(block_lines).unwrap_or_default();
    let new_lines = after.map(block_lines).unwrap_or_default();
    // Block forms drop quoting, so two different values can look the same
    // there, such as a string `"1"` and a number `1`. The inline form keeps
    // them apart.
    if old_lines == new_lines {
        return FieldBody::Inline {
            before: inline_before,
            after: inline_after,
        };
    }
    FieldBody::Block(line_diff(&old_lines, &new_lines))
}

/// Computes a unified diff of two lists of lines.
fn line_diff(old_lines: &[String], new_lines: &[String]) -> Vec<Hunk> {
    let old_text = join_lines(old_lines);
    let new_text = join_lines(new_lines);
    let diff = TextDiff::from_lines(old_text.as_str(), new_text.as_str());
    diff.unified_diff()
        .context_radius(CONTEXT_LINES)
        .iter_hunks()
        .map(|hunk| Hunk {
            header: hunk.header().to_string(),
            lines: hunk
                .iter_changes()
                .map(|change| DiffLine {
                    tag: change.tag(),
                    text: change.value().trim_end_matches('\n').to_string(),
                })
                .collect(),
        })
        .collect()
}

/// Joins lines, each ending with a newline, so that no side of a diff
/// lacks a final newline.
fn join_lines(lines: &[String]) -> String {
    lines.iter().map(|line| format!("{line}\n")).collect()
}

/// Returns whether a value contains a string with a line break.
fn has_multi_line_string(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\n'),
        Value::Array(items) => items.iter().any(has_multi_line_string),
        Value::Object(map) => map.values().any(has_multi_line_string),
        _ => false,
    }
}

/// Formats a value on one line as compact JSON with a space after each
/// separator, such as `["sleep", "1"]`.
pub(crate) fn inline(value: &Value) -> String {
    match value {
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(inline).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            let entries: Vec<String> = map
                .iter()
                .map(|(key, value)| format!("{}: {}", quote(key), inline(value)))
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
        Value::String(text) => quote(text),
        scalar => scalar.to_string(),
    }
}

/// Quotes a string as JSON does, escaping quotes, backslashes and control
/// characters.
fn quote(text: &str) -> String {
    Value::String(text.to_string()).to_string()
}

/// Formats a value as lines: a top-level string as its own lines, lists
/// as `- item` lines, objects as `key: value` lines, nested values
/// indented by two spaces.
fn block_lines(value: &Value) -> Vec<String> {
    match value {
        Value::String(text) if is_plain_text(text) => {
            text.split('\n').map(str::to_string).collect()
        }
        Value::Array(_) | Value::Object(_) => nested_lines(value),
        scalar => vec![inline(scalar)],
    }
}

/// Formats the items of a list or the entries of an object as block lines.
fn nested_lines(value: &Value) -> Vec<String> {
    let mut lines = Vec::new();
    match value {
        Value::Array(items) if items.is_empty() => lines.push("[]".to_string()),
        Value::Object(map) if map.is_empty() => lines.push("{}".to_string()),
        Value::Array(items) => {
            for item in items {
                push_entry(&mut lines, "-", item);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                push_entry(&mut lines, &format!("{}:", block_scalar(key)), item);
            }
        }
        scalar => lines.push(inline(scalar)),
    }
    lines
}

/// Pushes one list item or object entry: on the lead's line when it is a
/// one-line scalar, otherwise on the following lines, indented.
fn push_entry(lines: &mut Vec<String>, lead: &str, item: &Value) {
    let indent = |line: &String| {
        if line.is_empty() {
            String::new()
        } else {
            format!("  {line}")
        }
    };
    match item {
        Value::String(text) if text.contains('\n') && is_plain_text(text) => {
            lines.push(format!("{lead} |"));
            lines.extend(text.split('\n').map(|line| indent(&line.to_string())));
        }
        Value::String(text) => lines.push(format!("{lead} {}", block_scalar(text))),
        Value::Array(items) if !items.is_empty() => {
            lines.push(lead.to_string());
            lines.extend(nested_lines(item).iter().map(indent));
        }
        Value::Object(map) if !map.is_empty() => {
            lines.push(lead.to_string());
            lines.extend(nested_lines(item).iter().map(indent));
        }
        other => lines.push(format!("{lead} {}", inline(other))),
    }
}

/// Formats a one-line string in a block. It stays bare unless it would be
/// ambiguous or invisible there: empty, with edge whitespace, with control
/// characters, or spelling a JSON number or keyword. Then it is quoted.
fn block_scalar(text: &str) -> String {
    let looks_like_scalar = matches!(
        serde_json::from_str::<Value>(text),
        Ok(Value::Number(_) | Value::Bool(_) | Value::Null)
    );
    let needs_quotes = text.is_empty()
        || text.trim() != text
        || text.chars().any(char::is_control)
        || text.starts_with('"')
        || looks_like_scalar;
    if needs_quotes {
        quote(text)
    } else {
        text.to_string()
    }
}

/// Returns whether a string can print as raw lines without losing
/// anything. It must have no control character other than line breaks and
/// tabs, and no line ending in whitespace that a reader could not see.
fn is_plain_text(text: &str) -> bool {
    let clean_chars = text
        .chars()
        .all(|c| c == '\n' || c == '\t' || !c.is_control());
    clean_chars && text.split('\n').all(|line| line.trim_end() == line)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn diff(before: Option<Value>, after: Option<Value>, sensitive: bool) -> FieldDiff {
        FieldDiff {
            path: "environment.KEY".to_string(),
            before,
            after,
            sensitive,
        }
    }

    #[test]
    fn sensitive_pair_of_equal_length_is_masked() {
        let view = field_view(&diff(Some(json!("abc")), Some(json!("xyz")), true), false);
        assert_eq!(view.body, FieldBody::Masked);
        assert_eq!(view.change, FieldChange::Changed);
    }

    #[test]
    fn sensitive_shown_on_request() {
        let view = field_view(&diff(Some(json!("abc")), Some(json!("xyz")), true), true);
        let expected = FieldBody::Inline {
            before: Some("\"abc\"".to_string()),
            after: Some("\"xyz\"".to_string()),
        };
        assert_eq!(view.body, expected);
    }

    #[test]
    fn string_and_number_stay_distinct() {
        let view = field_view(&diff(Some(json!("1")), Some(json!(1)), false), false);
        let expected = FieldBody::Inline {
            before: Some("\"1\"".to_string()),
            after: Some("1".to_string()),
        };
        assert_eq!(view.body, expected);
    }

    #[test]
    fn trailing_newline_change_stays_visible() {
        let view = field_view(
            &diff(Some(json!("a\nb")), Some(json!("a\nb\n")), false),
            false,
        );
        let FieldBody::Block(hunks) = view.body else {
            panic!("expected a block diff, got {:?}", view.body);
        };
        let inserted: Vec<&str> = hunks[0]
            .lines
            .iter()
            .filter(|line| line.tag == ChangeTag::Insert)
            .map(|line| line.text.as_str())
            .collect();
        assert_eq!(inserted, [""]);
    }

    #[test]
    fn trailing_whitespace_string_is_quoted() {
        assert_eq!(block_lines(&json!("a \nb")), ["\"a \\nb\""]);
    }

    #[test]
    fn block_form_of_command() {
        let lines = block_lines(&json!(["sh", "-c", "echo a\n\necho b", "1", ""]));
        let expected = [
            "- sh", "- -c", "- |", "  echo a", "", "  echo b", "- \"1\"", "- \"\"",
        ];
        assert_eq!(lines, expected);
    }

    #[test]
    fn block_form_of_nested_object() {
        let lines = block_lines(&json!({"test": ["CMD", "pg_isready"], "retries": 3, "x": {}}));
        let expected = ["test:", "  - CMD", "  - pg_isready", "retries: 3", "x: {}"];
        assert_eq!(lines, expected);
    }
}
