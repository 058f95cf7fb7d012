//! `extends`: a service starts from another service, of the same file or
//! of another one, and its own keys are merged over it with the rules of
//! multi-file merging. Relative paths of a service taken from another
//! file have already been resolved against that file's directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use super::document::{DocumentContext, load_for_extends};
use super::error::LoadError;
use super::fields::{At, join, known_keys, string};
use super::lifecycle::DEFAULT_CONTEXT;
use super::merge::merge_map;
use super::volumes::{PathBase, absolute};
use super::yaml::Node;

/// A service being resolved: its file and name, to detect cycles.
type Link = (PathBuf, String);

/// Replaces every service of `content` that has `extends` by the merge of
/// the service it extends and its own keys.
pub(crate) fn resolve_all(
    content: &mut IndexMap<String, Node>,
    file: &Path,
    env: &BTreeMap<String, String>,
    context: &mut DocumentContext<'_>,
) -> Result<(), LoadError> {
    let Some(Node::Map(services)) = content.get("services") else {
        return Ok(());
    };
    let services = services.clone();
    let mut resolved = IndexMap::new();
    for name in services.keys() {
        let mut chain = Vec::new();
        let service = resolve(&services, name, file, env, context, &mut chain)?;
        resolved.insert(name.clone(), service);
    }
    content.insert("services".to_owned(), Node::Map(resolved));
    Ok(())
}

fn resolve(
    services: &IndexMap<String, Node>,
    name: &str,
    file: &Path,
    env: &BTreeMap<String, String>,
    context: &mut DocumentContext<'_>,
    chain: &mut Vec<Link>,
) -> Result<Node, LoadError> {
    let key = join("services", name);
    let Some(node) = services.get(name) else {
        return Err(At::new(file, &key).invalid(name, "the name of a service defined in this file"));
    };
    let Node::Map(map) = node else {
        return Ok(node.clone());
    };
    let Some(extends) = map.get("extends") else {
        return Ok(node.clone());
    };
    let link = (file.to_path_buf(), name.to_owned());
    if chain.contains(&link) {
        let names: Vec<String> = chain
            .iter()
            .chain(std::iter::once(&link))
            .map(|(_, n)| n.clone())
            .collect();
        return Err(At::new(file, &join(&key, "extends")).invalid(
            name,
            format!("no extends cycle (cycle: {})", names.join(" -> ")),
        ));
    }
    chain.push(link);

    let (base_name, base_file) =
        target(extends, At::new(file, &join(&key, "extends")), context.home)?;
    // Names the `extends.service` key that refers to a missing base, rather
    // than the base's own (absent) key.
    let missing_base = |defined_in: String| {
        At::new(file, &join(&key, "extends.service")).invalid(
            &base_name,
            format!("the name of a service defined in {defined_in}"),
        )
    };
    let same_file = base_file.as_ref().is_none_or(|other| other == file);
    if same_file && !services.contains_key(&base_name) {
        return Err(missing_base("this file".to_owned()));
    }
    let base = match base_file {
        None => resolve(services, &base_name, file, env, context, chain)?,
        // Reloading this same file would resolve this service again
        // without end, so the base comes from the services at hand.
        Some(other) if other == file => {
            let mut base = resolve(services, &base_name, file, env, context, chain)?;
            forget_default_context(&mut base);
            base
        }
        Some(other) => {
            let base_dir = other.parent().map(Path::to_path_buf).unwrap_or_default();
            let document = load_for_extends(&other, &base_dir, env, context)?;
            let Some(Node::Map(other_services)) = document.content.get("services") else {
                return Err(At::new(file, &join(&key, "extends")).invalid(
                    other.display().to_string(),
                    format!("a file defining service {base_name:?}"),
                ));
            };
            if !other_services.contains_key(&base_name) {
                return Err(missing_base(other.display().to_string()));
            }
            let other_services = other_services.clone();
            let mut base = resolve(&other_services, &base_name, &other, env, context, chain)?;
            forget_default_context(&mut base);
            base
        }
    };
    chain.pop();

    let mut own = map.clone();
    own.shift_remove("extends");
    let mut merged = match base {
        Node::Map(base) => base,
        _ => IndexMap::new(),
    };
    merge_map(&mut merged, own, &["services", "*"]);
    Ok(Node::Map(merged))
}

/// Drops the `context` that a service without one got by default: Compose
/// builds an extended service without `context` in the project directory,
/// not in the directory of the other file.
fn forget_default_context(base: &mut Node) {
    if let Node::Map(service) = base {
        if let Some(Node::Map(build)) = service.get_mut("build") {
            build.shift_remove(DEFAULT_CONTEXT);
        }
    }
}

/// Reads `extends: NAME` or `extends: {service: NAME, file: PATH}`.
fn target(
    node: &Node,
    at: At<'_>,
    home: Option<&str>,
) -> Result<(String, Option<PathBuf>), LoadError> {
    match node {
        Node::Str(name) => Ok((name.clone(), None)),
        Node::Map(map) => {
            known_keys(map, &["service", "file"], at)?;
            let service_key = join(at.key, "service");
            let service = match map.get("service") {
                Some(value) => string(value, At::new(at.file, &service_key))?,
                None => {
                    return Err(At::new(at.file, &service_key)
                        .invalid("", "the name of the service to extend"));
                }
            };
            let file = match map.get("file") {
                Some(value) => {
                    let path = string(value, At::new(at.file, &join(at.key, "file")))?;
                    let dir = at.file.parent().unwrap_or(Path::new("/"));
                    let base = PathBase {
                        project_dir: dir,
                        home,
                    };
                    Some(PathBuf::from(absolute(&path, &base)))
                }
                None => None,
            };
            Ok((service, file))
        }
        other => Err(at.must_be("a string or a mapping", other)),
    }
}
