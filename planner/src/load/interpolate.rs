//! Variable substitution in compose files and env files, with Compose's
//! syntax: `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
//! `${VAR:?error}`, `${VAR?error}`, `${VAR:+alternate}`, `${VAR+alternate}`,
//! nesting in the default, error and alternate parts, and `$$` for `$`.

use std::collections::BTreeSet;
use std::path::Path;

use super::error::LoadError;
use super::yaml::Node;

/// A failure to substitute a template.
#[derive(Debug, PartialEq)]
pub(crate) enum SubstError {
    /// `${VAR:?msg}` or `${VAR?msg}` with the variable missing.
    Required { variable: String, message: String },
    /// A `$` that starts nothing valid, an unclosed `${`, or nesting
    /// deeper than [`MAX_NESTING`].
    Format,
}

/// Maximum depth of `${VAR:-...}` nested in a default, error or alternate
/// part. Each level recurses, so the limit keeps a hostile file from
/// overflowing the stack. Real files nest two or three levels.
/// NOTE: Compose accepts any depth, so a deeper template is rejected here
/// but loads in Compose.
const MAX_NESTING: usize = 64;

/// Substitutes variables in `template`. Names of variables that were used
/// without a default and are not set are added to `unset`, since Compose
/// warns about those and uses an empty string.
pub(crate) fn substitute(
    template: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    unset: &mut BTreeSet<String>,
) -> Result<String, SubstError> {
    substitute_nested(template, lookup, unset, 0)
}

/// Substitutes `template`, which sits `depth` levels of `${...}` deep.
fn substitute_nested(
    template: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    unset: &mut BTreeSet<String>,
    depth: usize,
) -> Result<String, SubstError> {
    if depth > MAX_NESTING {
        return Err(SubstError::Format);
    }
    if !template.contains('$') {
        return Ok(template.to_owned());
    }
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body_and_tail) = after.strip_prefix('{') {
            let close = matching_brace(body_and_tail).ok_or(SubstError::Format)?;
            let body = &body_and_tail[..close];
            out.push_str(&braced(body, lookup, unset, depth)?);
            rest = &body_and_tail[close + 1..];
        } else {
            let len = name_length(after);
            if len == 0 {
                // Compose keeps a `$` that starts no substitution, as in
                // `$(date)` inside an inline Dockerfile.
                out.push('$');
                rest = after;
                continue;
            }
            let name = &after[..len];
            match lookup(name) {
                Some(value) => out.push_str(&value),
                None => {
                    unset.insert(name.to_owned());
                }
            }
            rest = &after[len..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Byte length of the variable name at the start of `text`.
fn name_length(text: &str) -> usize {
    let mut len = 0;
    for (i, c) in text.char_indices() {
        let ok = c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit());
        if !ok {
            break;
        }
        len = i + c.len_utf8();
    }
    len
}

/// Index of the `}` closing a `${` whose body starts `text`, counting
/// nested braces so `${A:-${B}}` closes at the outer brace.
fn matching_brace(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// Evaluates the inside of `${...}` found `depth` levels deep.
fn braced(
    body: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    unset: &mut BTreeSet<String>,
    depth: usize,
) -> Result<String, SubstError> {
    let len = name_length(body);
    if len == 0 {
        return Err(SubstError::Format);
    }
    let name = &body[..len];
    let op = &body[len..];
    let value = lookup(name);
    // An operator with a colon treats an empty value like an unset one.
    let (colon, op) = match op.strip_prefix(':') {
        Some(rest) => (true, rest),
        None => (false, op),
    };
    let present = match &value {
        Some(v) => !(colon && v.is_empty()),
        None => false,
    };
    let Some(kind) = op.chars().next() else {
        if colon {
            return Err(SubstError::Format);
        }
        return Ok(match value {
            Some(v) => v,
            None => {
                unset.insert(name.to_owned());
                String::new()
            }
        });
    };
    let argument = &op[kind.len_utf8()..];
    match kind {
        '-' if present => Ok(value.unwrap_or_default()),
        '-' => substitute_nested(argument, lookup, unset, depth + 1),
        '+' if present => substitute_nested(argument, lookup, unset, depth + 1),
        '+' => Ok(String::new()),
        '?' if present => Ok(value.unwrap_or_default()),
        '?' => Err(SubstError::Required {
            variable: name.to_owned(),
            message: substitute_nested(argument, lookup, unset, depth + 1)?,
        }),
        _ => Err(SubstError::Format),
    }
}

/// Substitutes every string of a value found at `key` of a compose file.
/// `file` is the absolute file path for errors. Names of unset variables
/// are collected in `unset`.
pub(crate) fn interpolate_tree(
    node: &mut Node,
    file: &Path,
    key: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    unset: &mut BTreeSet<String>,
) -> Result<(), LoadError> {
    walk(node, &mut key.to_owned(), file, lookup, unset)
}

fn walk(
    node: &mut Node,
    key: &mut String,
    file: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
    unset: &mut BTreeSet<String>,
) -> Result<(), LoadError> {
    match node {
        Node::Str(text) => {
            *text = substitute(text, lookup, unset).map_err(|e| match e {
                SubstError::Required { variable, message } => LoadError::RequiredVariable {
                    path: file.to_path_buf(),
                    key: key.clone(),
                    variable,
                    message,
                },
                SubstError::Format => LoadError::InterpolationFormat {
                    path: file.to_path_buf(),
                    key: key.clone(),
                    value: text.clone(),
                },
            })?;
        }
        Node::Seq(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let len = key.len();
                key.push_str(&format!("[{i}]"));
                walk(item, key, file, lookup, unset)?;
                key.truncate(len);
            }
        }
        Node::Map(map) => {
            for (name, value) in map.iter_mut() {
                let len = key.len();
                if !key.is_empty() {
                    key.push('.');
                }
                key.push_str(name);
                walk(value, key, file, lookup, unset)?;
                key.truncate(len);
            }
        }
        Node::Tagged(_, inner) => walk(inner, key, file, lookup, unset)?,
        Node::Null | Node::Bool(_) | Node::Int(_) | Node::Float(_) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(template: &str) -> (Result<String, SubstError>, BTreeSet<String>) {
        let lookup = |name: &str| match name {
            "NAME" => Some("demo".to_owned()),
            "EMPTY" => Some(String::new()),
            _ => None,
        };
        let mut unset = BTreeSet::new();
        (substitute(template, &lookup, &mut unset), unset)
    }

    #[test]
    fn substitution_table() {
        let table = [
            ("${NAME}", "demo"),
            ("$NAME", "demo"),
            ("x$NAME-y", "xdemo-y"),
            ("${UNSET:-fallback}", "fallback"),
            ("${UNSET-fallback}", "fallback"),
            ("${EMPTY:-fallback}", "fallback"),
            ("${EMPTY-fallback}", ""),
            ("${NAME:+alt}", "alt"),
            ("${EMPTY:+alt}", ""),
            ("${EMPTY+alt}", "alt"),
            ("${UNSET+alt}", ""),
            ("${UNSET:-${NAME}-nested}", "demo-nested"),
            ("${UNSET:-${UNSET2:-x}-y}", "x-y"),
            ("$$NAME and $${NAME}", "$NAME and ${NAME}"),
            ("${NAME:?msg}", "demo"),
            ("${EMPTY?msg}", ""),
            ("${UNSET:-}", ""),
            ("no dollar", "no dollar"),
            ("$(date) $5 a $ b$", "$(date) $5 a $ b$"),
        ];
        for (template, expected) in table {
            let (result, unset) = run(template);
            assert_eq!(result, Ok(expected.to_owned()), "template {template}");
            assert!(unset.is_empty(), "template {template} warned {unset:?}");
        }
    }

    #[test]
    fn unset_variables_are_reported() {
        let (result, unset) = run("a${UNSET}b$OTHER");
        assert_eq!(result, Ok("ab".to_owned()));
        assert_eq!(unset.into_iter().collect::<Vec<_>>(), ["OTHER", "UNSET"]);
    }

    #[test]
    fn required_variables_fail() {
        let (result, _) = run("${UNSET:?must be set}");
        assert_eq!(
            result,
            Err(SubstError::Required {
                variable: "UNSET".into(),
                message: "must be set".into()
            })
        );
        let (result, _) = run("${EMPTY:?empty}");
        assert!(matches!(result, Err(SubstError::Required { .. })));
    }

    #[test]
    fn nesting_limit() {
        let nested = |depth: usize| format!("{}x{}", "${UNSET:-".repeat(depth), "}".repeat(depth));
        assert_eq!(run(&nested(MAX_NESTING)).0, Ok("x".to_owned()));
        assert_eq!(run(&nested(MAX_NESTING + 1)).0, Err(SubstError::Format));
    }

    #[test]
    fn malformed_templates_fail() {
        for template in ["${UNCLOSED", "${}", "${5}", "${NAME:}", "${NAME!x}"] {
            assert_eq!(
                run(template).0,
                Err(SubstError::Format),
                "template {template}"
            );
        }
    }
}
