//! Readers for `post_start`/`pre_stop` hooks, `develop`, `build`, the
//! references to secrets and configs, and `credential_spec`, plus the
//! per-file path resolution of `build` and `develop.watch`.

use std::collections::BTreeMap;

use indexmap::IndexMap;

use super::fields::{
    At, boolean, index, join, key_values, known_keys, mapping, non_empty_string, options, string,
    string_list, string_or_list,
};
use super::limits::{bytes, string_values, ulimits, with_extensions};
use super::service::extra_hosts;
use super::service_fields::command;
use super::volumes::{PathBase, absolute};
use super::yaml::Node;
use crate::load::error::LoadError;
use crate::model::{
    Build, CredentialSpec, Develop, FileMode, FileReference, Provider, ServiceHook, ServiceModel,
    WatchTrigger,
};

/// Hidden key of a canonical `build` mapping: the directory of the file
/// that declared it, where Compose builds when no file sets `context`. An
/// `x-` key, so merging keeps it and the reader skips it.
pub(crate) const DEFAULT_CONTEXT: &str = "x-berth-default-context";

/// Turns `build: DIR` into `{context: DIR}` and makes a local context and
/// local additional contexts absolute. URLs and `service:`, `target:` or
/// `docker-image:` references stay as written.
pub(crate) fn resolve_build_paths(value: Node, base: &PathBase<'_>) -> Node {
    let is_local = |text: &str| {
        !text.contains("://")
            && !text.starts_with("git@")
            && !text.starts_with("github.com/")
            && !text.contains(':')
    };
    let mut map = match value {
        Node::Str(context) => IndexMap::from([("context".to_owned(), Node::Str(context))]),
        Node::Map(map) => map,
        other => return other,
    };
    if let Some(Node::Str(context)) = map.get_mut("context") {
        if is_local(context) {
            *context = absolute(context, base);
        }
    }
    map.insert(DEFAULT_CONTEXT.to_owned(), Node::Str(absolute(".", base)));
    // The list forms merge by key across files, like a service's labels.
    for key in ["args", "labels"] {
        if let Some(Node::Seq(items)) = map.get(key) {
            let entries = items
                .iter()
                .filter_map(|item| item.scalar_text())
                .map(|entry| match entry.split_once('=') {
                    Some((name, value)) => (name.to_owned(), Node::Str(value.to_owned())),
                    None => (entry, Node::Null),
                })
                .collect();
            map.insert(key.to_owned(), Node::Map(entries));
        }
    }
    if let Some(Node::Map(contexts)) = map.get_mut("additional_contexts") {
        for context in contexts.values_mut() {
            if let Node::Str(text) = context {
                if is_local(text) {
                    *text = absolute(text, base);
                }
            }
        }
    }
    Node::Map(map)
}

/// Makes the watched paths of `develop.watch` absolute.
pub(crate) fn resolve_watch_paths(mut value: Node, base: &PathBase<'_>) -> Node {
    if let Node::Map(develop) = &mut value {
        if let Some(Node::Seq(rules)) = develop.get_mut("watch") {
            for rule in rules {
                if let Node::Map(rule) = rule {
                    if let Some(Node::Str(path)) = rule.get_mut("path") {
                        *path = absolute(path, base);
                    }
                }
            }
        }
    }
    value
}

/// Reads a list of hooks.
pub(crate) fn hooks(value: &Node, at: At<'_>) -> Result<Vec<ServiceHook>, LoadError> {
    let Node::Seq(items) = value else {
        return Err(at.must_be("a list", value));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| hook(item, At::new(at.file, &index(at.key, i))))
        .collect()
}

fn hook(value: &Node, at: At<'_>) -> Result<ServiceHook, LoadError> {
    let map = mapping(value, at)?;
    known_keys(
        map,
        &[
            "command",
            "user",
            "privileged",
            "working_dir",
            "environment",
        ],
        at,
    )?;
    if !map.contains_key("command") {
        return Err(LoadError::Schema {
            path: at.file_buf(),
            key: at.key.to_owned(),
            message: "missing property 'command'".to_owned(),
        });
    }
    let mut hook = ServiceHook::default();
    for (name, value) in options(map) {
        let key = join(at.key, name);
        let f = At::new(at.file, &key);
        match name.as_str() {
            "command" => hook.command = command(value, f)?,
            "user" => hook.user = non_empty_string(value, f)?,
            "privileged" => hook.privileged = boolean(value, f)?,
            "working_dir" => hook.working_dir = non_empty_string(value, f)?,
            _ => hook.environment = key_values(value, f)?.into_iter().collect(),
        }
    }
    Ok(hook)
}

/// Reads `develop`. Watched paths were made absolute per file.
pub(crate) fn develop(value: &Node, at: At<'_>) -> Result<Develop, LoadError> {
    let map = mapping(value, at)?;
    known_keys(map, &["watch"], at)?;
    let mut develop = Develop::default();
    let Some(watch) = map.get("watch") else {
        return Ok(develop);
    };
    let key = join(at.key, "watch");
    let Node::Seq(items) = watch else {
        return Err(At::new(at.file, &key).must_be("a list", watch));
    };
    for (i, item) in items.iter().enumerate() {
        let key = index(&key, i);
        let f = At::new(at.file, &key);
        let map = mapping(item, f)?;
        known_keys(
            map,
            &[
                "path",
                "action",
                "target",
                "exec",
                "include",
                "ignore",
                "initial_sync",
            ],
            f,
        )?;
        let mut trigger = WatchTrigger::default();
        for required in ["path", "action"] {
            if !map.contains_key(required) {
                return Err(LoadError::Schema {
                    path: f.file_buf(),
                    key: key.clone(),
                    message: format!("missing property '{required}'"),
                });
            }
        }
        for (name, value) in options(map) {
            let key = join(&key, name);
            let f = At::new(at.file, &key);
            match name.as_str() {
                "path" => trigger.path = string(value, f)?,
                "action" => {
                    trigger.action = string(value, f)?;
                    let actions = ["sync", "rebuild", "restart", "sync+restart", "sync+exec"];
                    if !actions.contains(&trigger.action.as_str()) {
                        return Err(f.invalid(
                            trigger.action.clone(),
                            "one of sync, rebuild, restart, sync+restart, sync+exec",
                        ));
                    }
                }
                "target" => trigger.target = non_empty_string(value, f)?,
                "exec" => trigger.exec = hook(value, f)?,
                "include" => trigger.include = string_or_list(value, f)?,
                "ignore" => trigger.ignore = string_or_list(value, f)?,
                _ => trigger.initial_sync = boolean(value, f)?,
            }
        }
        develop.watch.push(trigger);
    }
    Ok(develop)
}

/// Reads a service's `secrets` or `configs` (or a build's `secrets`). With
/// `secret` set, an entry without a target goes to `/run/secrets/<source>`,
/// as a service's secrets do.
pub(crate) fn file_references(
    value: &Node,
    at: At<'_>,
    secret: bool,
) -> Result<Vec<FileReference>, LoadError> {
    let Node::Seq(items) = value else {
        return Err(at.must_be("a list", value));
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let key = index(at.key, i);
        let f = At::new(at.file, &key);
        let mut reference = FileReference::default();
        match item {
            Node::Str(source) => reference.source = source.clone(),
            Node::Map(map) => {
                known_keys(map, &["source", "target", "uid", "gid", "mode"], f)?;
                for (name, value) in options(map) {
                    let key = join(&key, name);
                    let f = At::new(at.file, &key);
                    match name.as_str() {
                        "source" => reference.source = string(value, f)?,
                        "target" => reference.target = non_empty_string(value, f)?,
                        "uid" => reference.uid = non_empty_string(value, f)?,
                        "gid" => reference.gid = non_empty_string(value, f)?,
                        _ => reference.mode = Some(file_mode(value, f)?),
                    }
                }
            }
            other => return Err(f.must_be("a string or a mapping", other)),
        }
        if secret && reference.target.is_none() {
            reference.target = Some(format!("/run/secrets/{}", reference.source));
        }
        out.push(reference);
    }
    Ok(out)
}

/// Reads a file mode: a YAML number (`0440` is octal there) or an octal
/// string.
fn file_mode(value: &Node, at: At<'_>) -> Result<FileMode, LoadError> {
    let mode = match value {
        Node::Int(i) => u32::try_from(*i).ok(),
        Node::Str(text) => u32::from_str_radix(text.trim(), 8).ok(),
        other => return Err(at.must_be("a number or an octal string", other)),
    };
    mode.map(FileMode).ok_or_else(|| {
        at.invalid(
            value.scalar_text().unwrap_or_default(),
            "a file mode such as 0440",
        )
    })
}

/// Reads `credential_spec`.
pub(crate) fn credential_spec(value: &Node, at: At<'_>) -> Result<CredentialSpec, LoadError> {
    let map = mapping(value, at)?;
    known_keys(map, &["config", "file", "registry"], at)?;
    let mut spec = CredentialSpec::default();
    for (name, value) in options(map) {
        let key = join(at.key, name);
        let f = At::new(at.file, &key);
        let text = non_empty_string(value, f)?;
        match name.as_str() {
            "config" => spec.config = text,
            "file" => spec.file = text,
            _ => spec.registry = text,
        }
    }
    Ok(spec)
}

const BUILD_KEYS: &[&str] = &[
    "context",
    "dockerfile",
    "dockerfile_inline",
    "entitlements",
    "args",
    "provenance",
    "sbom",
    "ssh",
    "labels",
    "cache_from",
    "cache_to",
    "no_cache",
    "additional_contexts",
    "pull",
    "extra_hosts",
    "isolation",
    "network",
    "target",
    "secrets",
    "shm_size",
    "tags",
    "ulimits",
    "platforms",
    "privileged",
];

/// Reads `build`, already in mapping form with absolute local paths.
/// Compose names `Dockerfile` when neither file nor inline text is given.
pub(crate) fn build(value: &Node, at: At<'_>) -> Result<Build, LoadError> {
    let map = mapping(value, at)?;
    known_keys(map, BUILD_KEYS, at)?;
    let mut build = Build::default();
    for (name, value) in options(map) {
        let key = join(at.key, name);
        let f = At::new(at.file, &key);
        match name.as_str() {
            "context" => build.context = non_empty_string(value, f)?,
            "dockerfile" => build.dockerfile = non_empty_string(value, f)?,
            "dockerfile_inline" => build.dockerfile_inline = non_empty_string(value, f)?,
            "entitlements" => build.entitlements = string_list(value, f)?,
            "args" => build.args = with_extensions(key_values(value, f)?).into_iter().collect(),
            "provenance" => build.provenance = Some(flag_text(value, f)?),
            "sbom" => build.sbom = Some(flag_text(value, f)?),
            "ssh" => build.ssh = ssh(value, f)?,
            "labels" => build.labels = string_values(value, f)?,
            "cache_from" => build.cache_from = string_list(value, f)?,
            "cache_to" => build.cache_to = string_list(value, f)?,
            "no_cache" => build.no_cache = boolean(value, f)?,
            "additional_contexts" => build.additional_contexts = string_values(value, f)?,
            "pull" => build.pull = boolean(value, f)?,
            "extra_hosts" => {
                build.extra_hosts = extra_hosts(value, f)?;
                build.extra_hosts.sort();
            }
            "isolation" => build.isolation = non_empty_string(value, f)?,
            "network" => build.network = non_empty_string(value, f)?,
            "target" => build.target = non_empty_string(value, f)?,
            "secrets" => build.secrets = file_references(value, f, false)?,
            "shm_size" => build.shm_size = Some(bytes(value, f)?),
            "tags" => build.tags = string_list(value, f)?,
            "ulimits" => build.ulimits = ulimits(value, f)?,
            "platforms" => build.platforms = string_list(value, f)?,
            _ => build.privileged = boolean(value, f)?,
        }
    }
    // An explicit `dockerfile` that interpolates to nothing stays unset.
    if !map.contains_key("dockerfile") && build.dockerfile_inline.is_none() {
        build.dockerfile = Some("Dockerfile".to_owned());
    }
    Ok(build)
}

/// `provenance` and `sbom` take a boolean or attestation options.
fn flag_text(value: &Node, at: At<'_>) -> Result<String, LoadError> {
    match value {
        Node::Bool(b) => Ok(b.to_string()),
        other => string(other, at),
    }
}

/// Reads `build.ssh`: a list of `default` or `id=path`, or a mapping, kept
/// as `id` or `id=path` strings. An entry with a path is rejected: berth
/// builds nothing yet, and Compose 2.40.3 cannot print one (its `config`
/// fails on it).
fn ssh(value: &Node, at: At<'_>) -> Result<Vec<String>, LoadError> {
    let entries = match value {
        Node::Seq(_) => string_list(value, at)?,
        Node::Map(_) => key_values(value, at)?
            .into_iter()
            .map(|(id, path)| match path {
                Some(path) => format!("{id}={path}"),
                None => id,
            })
            .collect(),
        other => return Err(at.must_be("a list or a mapping", other)),
    };
    if entries.iter().any(|entry| entry.contains('=')) {
        return Err(at.unsupported());
    }
    Ok(entries)
}

/// Reads `provider`. Each option takes one value or a list of values,
/// kept as strings.
pub(crate) fn provider(value: &Node, at: At<'_>) -> Result<Provider, LoadError> {
    let map = mapping(value, at)?;
    known_keys(map, &["type", "options"], at)?;
    let mut provider = Provider::default();
    for (name, value) in options(map) {
        let key = join(at.key, name);
        let f = At::new(at.file, &key);
        if name == "type" {
            provider.kind = non_empty_string(value, f)?;
            continue;
        }
        for (option, values) in mapping(value, f)? {
            let option_key = join(&key, option);
            let option_at = At::new(at.file, &option_key);
            let values = match values {
                Node::Seq(_) => string_list(values, option_at)?,
                other => vec![
                    other
                        .scalar_text()
                        .ok_or_else(|| option_at.must_be("a string, a number or a list", other))?,
                ],
            };
            provider.options.insert(option.clone(), values);
        }
    }
    Ok(provider)
}

/// Reads a service's `models`: a list of model keys, or a mapping of keys
/// to the variables that receive the model's endpoint and name.
pub(crate) fn models(
    value: &Node,
    at: At<'_>,
) -> Result<BTreeMap<String, Option<ServiceModel>>, LoadError> {
    let mut out = BTreeMap::new();
    match value {
        Node::Seq(_) => {
            for name in string_list(value, at)? {
                out.insert(name, None);
            }
        }
        Node::Map(map) => {
            for (name, entry) in map {
                let key = join(at.key, name);
                let f = At::new(at.file, &key);
                let model = match entry {
                    Node::Null => None,
                    other => {
                        let options = mapping(other, f)?;
                        known_keys(options, &["endpoint_var", "model_var"], f)?;
                        let read = |option: &str| match options.get(option) {
                            Some(v) => non_empty_string(v, At::new(at.file, &join(&key, option))),
                            None => Ok(None),
                        };
                        Some(ServiceModel {
                            endpoint_var: read("endpoint_var")?,
                            model_var: read("model_var")?,
                        })
                    }
                };
                out.insert(name.clone(), model);
            }
        }
        other => return Err(at.must_be("a list or a mapping", other)),
    }
    Ok(out)
}
