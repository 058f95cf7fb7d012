//! Typed reads of YAML values with Compose-shaped error messages. Each
//! reader takes the file and the dotted key path, so an error names
//! where the value is and what was expected.

use std::path::{Path, PathBuf};

use super::error::LoadError;
use super::yaml::Node;

/// The location of a value: the file and its key path.
#[derive(Clone, Copy)]
pub(crate) struct At<'a> {
    pub(crate) file: &'a Path,
    pub(crate) key: &'a str,
}

impl<'a> At<'a> {
    pub(crate) fn new(file: &'a Path, key: &'a str) -> Self {
        At { file, key }
    }

    /// Builds a schema error: the value has the wrong type.
    pub(crate) fn must_be(&self, expected: &str, node: &Node) -> LoadError {
        LoadError::Schema {
            path: self.file.to_path_buf(),
            key: self.key.to_owned(),
            message: format!("must be {expected} (got {})", node.describe()),
        }
    }

    /// Builds the error for a value of the right type that cannot be used.
    pub(crate) fn invalid(
        &self,
        value: impl Into<String>,
        expected: impl Into<String>,
    ) -> LoadError {
        LoadError::InvalidValue {
            path: self.file.to_path_buf(),
            key: self.key.to_owned(),
            value: value.into(),
            expected: expected.into(),
        }
    }

    /// Builds the error for a field that berth does not handle yet.
    pub(crate) fn unsupported(&self) -> LoadError {
        LoadError::Unsupported {
            path: self.file.to_path_buf(),
            key: self.key.to_owned(),
        }
    }

    pub(crate) fn file_buf(&self) -> PathBuf {
        self.file.to_path_buf()
    }
}

/// Builds `parent.child`.
pub(crate) fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_owned()
    } else {
        format!("{parent}.{child}")
    }
}

/// Builds `parent[index]`.
pub(crate) fn index(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}

/// Reads a string. The schema accepts no other scalar here.
pub(crate) fn string(node: &Node, at: At<'_>) -> Result<String, LoadError> {
    match node {
        Node::Str(s) => Ok(s.clone()),
        other => Err(at.must_be("a string", other)),
    }
}

/// Reads a string that Compose omits when empty.
pub(crate) fn non_empty_string(node: &Node, at: At<'_>) -> Result<Option<String>, LoadError> {
    let s = string(node, at)?;
    Ok((!s.is_empty()).then_some(s))
}

/// Reads a string, or a number written without quotes (ports, `expose`).
pub(crate) fn string_or_number(node: &Node, at: At<'_>) -> Result<String, LoadError> {
    match node {
        Node::Str(_) | Node::Int(_) | Node::Float(_) => node
            .scalar_text()
            .ok_or_else(|| at.must_be("a string or a number", node)),
        other => Err(at.must_be("a string or a number", other)),
    }
}

/// Reads a boolean. Interpolated values arrive as strings such as `true`.
pub(crate) fn boolean(node: &Node, at: At<'_>) -> Result<bool, LoadError> {
    match node {
        Node::Bool(b) => Ok(*b),
        Node::Str(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "on" | "1" => Ok(true),
            "false" | "no" | "n" | "off" | "0" => Ok(false),
            _ => Err(at.must_be("a boolean", node)),
        },
        other => Err(at.must_be("a boolean", other)),
    }
}

/// Reads a non-negative integer. Interpolated values arrive as digit strings.
pub(crate) fn unsigned(node: &Node, at: At<'_>) -> Result<u64, LoadError> {
    match node {
        Node::Int(i) => {
            u64::try_from(*i).map_err(|_| at.invalid(i.to_string(), "a number of 0 or more"))
        }
        Node::Str(s) => s
            .trim()
            .parse::<u64>()
            .map_err(|_| at.must_be("an integer", node)),
        other => Err(at.must_be("an integer", other)),
    }
}

/// Reads a signed integer. Interpolated values arrive as digit strings.
pub(crate) fn integer(node: &Node, at: At<'_>) -> Result<i64, LoadError> {
    match node {
        Node::Int(i) => Ok(*i),
        Node::Str(s) => s
            .trim()
            .parse::<i64>()
            .map_err(|_| at.must_be("an integer", node)),
        other => Err(at.must_be("an integer", other)),
    }
}

/// Reads a list of strings, or one string as a list of one.
pub(crate) fn string_or_list(node: &Node, at: At<'_>) -> Result<Vec<String>, LoadError> {
    match node {
        Node::Str(s) => Ok(vec![s.clone()]),
        Node::Seq(items) => string_items(items, at),
        other => Err(at.must_be("a string or a list of strings", other)),
    }
}

/// Reads a list of strings.
pub(crate) fn string_list(node: &Node, at: At<'_>) -> Result<Vec<String>, LoadError> {
    match node {
        Node::Seq(items) => string_items(items, at),
        other => Err(at.must_be("a list of strings", other)),
    }
}

fn string_items(items: &[Node], at: At<'_>) -> Result<Vec<String>, LoadError> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let key = index(at.key, i);
            match item {
                Node::Str(s) => Ok(s.clone()),
                Node::Int(_) | Node::Float(_) => item
                    .scalar_text()
                    .ok_or_else(|| At::new(at.file, &key).must_be("a string", item)),
                other => Err(At::new(at.file, &key).must_be("a string", other)),
            }
        })
        .collect()
}

/// Reads a mapping.
pub(crate) fn mapping<'n>(
    node: &'n Node,
    at: At<'_>,
) -> Result<&'n indexmap::IndexMap<String, Node>, LoadError> {
    match node {
        Node::Map(map) => Ok(map),
        other => Err(at.must_be("a mapping", other)),
    }
}

/// Rejects keys outside `known`, the way Compose's schema does.
pub(crate) fn known_keys(
    map: &indexmap::IndexMap<String, Node>,
    known: &[&str],
    at: At<'_>,
) -> Result<(), LoadError> {
    let mut unknown: Vec<String> = map
        .keys()
        .filter(|key| !known.contains(&key.as_str()) && !key.starts_with("x-"))
        .map(|key| format!("'{key}'"))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    unknown.sort();
    // A typo is the usual cause, so name the closest allowed key.
    let first = unknown[0].trim_matches('\'');
    let hint = match known.iter().min_by_key(|k| edit_distance(first, k)) {
        Some(close) if edit_distance(first, close) <= 2 => format!("did you mean '{close}'?"),
        _ => "expected a key Compose defines here, or one starting with x-".to_owned(),
    };
    Err(LoadError::Schema {
        path: at.file_buf(),
        key: at.key.to_owned(),
        message: format!(
            "additional properties {} not allowed ({hint})",
            unknown.join(", ")
        ),
    })
}

/// Levenshtein distance between two keys, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// Reads a `KEY=value` list or a mapping as ordered pairs. In the list
/// form a bare `KEY` has no value. In the mapping form scalars become
/// strings the way Compose prints them (`0755` is `"493"`, `1.0` is `"1"`).
pub(crate) fn key_values(
    node: &Node,
    at: At<'_>,
) -> Result<Vec<(String, Option<String>)>, LoadError> {
    match node {
        Node::Seq(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let key = index(at.key, i);
                let text = string_or_number(item, At::new(at.file, &key))?;
                Ok(match text.split_once('=') {
                    Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                    None => (text, None),
                })
            })
            .collect(),
        Node::Map(map) => map
            .iter()
            .map(|(k, v)| match v {
                Node::Null => Ok((k.clone(), None)),
                Node::Str(_) | Node::Int(_) | Node::Float(_) | Node::Bool(_) => {
                    Ok((k.clone(), v.scalar_text()))
                }
                other => Err(At::new(at.file, &join(at.key, k))
                    .must_be("a string, number, boolean or null", other)),
            })
            .collect(),
        other => Err(at.must_be("a mapping", other)),
    }
}

/// The entries of a mapping without its `x-` extensions, which configure
/// nothing and which the schema allows in most objects.
pub(crate) fn options(
    map: &indexmap::IndexMap<String, Node>,
) -> impl Iterator<Item = (&String, &Node)> {
    map.iter().filter(|(key, _)| !key.starts_with("x-"))
}
