//! Readers for the service fields that have a structure of their own:
//! `command`, `labels`, `depends_on`, `healthcheck`, `networks`
//! and durations.

use std::collections::BTreeMap;

use super::error::LoadError;
use super::fields::{
    At, boolean, integer, join, key_values, known_keys, mapping, non_empty_string, string,
    string_list, unsigned,
};
use super::limits::string_values;
use super::yaml::Node;
use crate::model::{
    CONDITION_COMPLETED, CONDITION_HEALTHY, CONDITION_STARTED, DependsOn, GoDuration, Healthcheck,
    ServiceNetwork,
};

/// `command` and `entrypoint`: a list as is, a string split like a shell
/// would, and an empty string as an explicitly empty list.
pub(crate) fn command(value: &Node, at: At<'_>) -> Result<Option<Vec<String>>, LoadError> {
    match value {
        Node::Null => Ok(None),
        Node::Str(text) => shell_words::split(text).map(Some).map_err(|e| {
            at.invalid(
                text.clone(),
                format!("a command line with balanced quotes ({e})"),
            )
        }),
        Node::Seq(_) => string_list(value, at).map(Some),
        other => Err(at.must_be("a string or a list of strings", other)),
    }
}

/// Labels as strings. Compose moves keys starting with `x-` into one
/// `#extensions` entry holding Go's rendering of a map, and that entry is
/// hashed, so berth does the same to compute the same hash.
pub(crate) fn labels(value: &Node, at: At<'_>) -> Result<BTreeMap<String, String>, LoadError> {
    let mut labels = BTreeMap::new();
    let mut extensions = BTreeMap::new();
    for (key, value) in key_values(value, at)? {
        let value = value.unwrap_or_default();
        if key.starts_with("x-") {
            extensions.insert(key, value);
        } else {
            labels.insert(key, value);
        }
    }
    if !extensions.is_empty() {
        let body: Vec<String> = extensions.iter().map(|(k, v)| format!("{k}:{v}")).collect();
        labels.insert("#extensions".to_owned(), format!("map[{}]", body.join(" ")));
    }
    Ok(labels)
}

pub(crate) fn depends_on(
    value: &Node,
    at: At<'_>,
) -> Result<BTreeMap<String, DependsOn>, LoadError> {
    let mut out = BTreeMap::new();
    for (name, entry) in mapping(value, at)? {
        let key = join(at.key, name);
        let at = At::new(at.file, &key);
        let mut dependency = DependsOn {
            condition: CONDITION_STARTED.to_owned(),
            restart: false,
            required: true,
        };
        if let Node::Map(options) = entry {
            known_keys(options, &["condition", "restart", "required"], at)?;
            for (option, value) in options {
                let key = join(&key, option);
                let at = At::new(at.file, &key);
                match option.as_str() {
                    "condition" => {
                        let condition = string(value, at)?;
                        if ![CONDITION_STARTED, CONDITION_HEALTHY, CONDITION_COMPLETED]
                            .contains(&condition.as_str())
                        {
                            return Err(at.invalid(
                                condition,
                                "one of service_started, service_healthy, service_completed_successfully",
                            ));
                        }
                        dependency.condition = condition;
                    }
                    "restart" => dependency.restart = boolean(value, at)?,
                    _ => dependency.required = boolean(value, at)?,
                }
            }
        } else if !matches!(entry, Node::Null) {
            return Err(at.must_be("a mapping", entry));
        }
        out.insert(name.clone(), dependency);
    }
    Ok(out)
}

pub(crate) fn duration(value: &Node, at: At<'_>) -> Result<GoDuration, LoadError> {
    let text = match value {
        Node::Str(s) => s.clone(),
        Node::Int(i) => format!("{i}s"),
        other => return Err(at.must_be("a duration string", other)),
    };
    GoDuration::parse(&text)
        .map_err(|e| at.invalid(text, format!("a duration such as 30s or 1m30s ({e})")))
}

pub(crate) fn healthcheck(value: &Node, at: At<'_>) -> Result<Healthcheck, LoadError> {
    let map = mapping(value, at)?;
    known_keys(
        map,
        &[
            "test",
            "interval",
            "timeout",
            "retries",
            "start_period",
            "start_interval",
            "disable",
        ],
        at,
    )?;
    let mut check = Healthcheck::default();
    for (name, value) in map {
        let key = join(at.key, name);
        let f = At::new(at.file, &key);
        match name.as_str() {
            "test" => {
                check.test = match value {
                    Node::Str(text) => Some(vec!["CMD-SHELL".to_owned(), text.clone()]),
                    Node::Null => None,
                    _ => Some(string_list(value, f)?),
                }
            }
            "interval" => check.interval = Some(duration(value, f)?),
            "timeout" => check.timeout = Some(duration(value, f)?),
            "start_period" => check.start_period = Some(duration(value, f)?),
            "start_interval" => check.start_interval = Some(duration(value, f)?),
            "retries" => check.retries = Some(unsigned(value, f)?),
            _ => check.disable = boolean(value, f)?,
        }
    }
    Ok(check)
}

pub(crate) fn networks(
    value: &Node,
    at: At<'_>,
) -> Result<BTreeMap<String, Option<ServiceNetwork>>, LoadError> {
    let mut out = BTreeMap::new();
    let entries: Vec<(String, Node)> = match value {
        Node::Seq(_) => string_list(value, at)?
            .into_iter()
            .map(|n| (n, Node::Null))
            .collect(),
        Node::Map(map) => map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        other => return Err(at.must_be("a list or a mapping", other)),
    };
    for (name, entry) in entries {
        let key = join(at.key, &name);
        let at = At::new(at.file, &key);
        let options = match &entry {
            Node::Null => None,
            Node::Map(options) => {
                known_keys(
                    options,
                    &[
                        "aliases",
                        "ipv4_address",
                        "ipv6_address",
                        "link_local_ips",
                        "mac_address",
                        "priority",
                        "driver_opts",
                        "gw_priority",
                        "interface_name",
                    ],
                    at,
                )?;
                let mut network = ServiceNetwork::default();
                for (option, value) in options {
                    let key = join(&key, option);
                    let f = At::new(at.file, &key);
                    match option.as_str() {
                        "aliases" => network.aliases = string_list(value, f)?,
                        "ipv4_address" => network.ipv4_address = non_empty_string(value, f)?,
                        "ipv6_address" => network.ipv6_address = non_empty_string(value, f)?,
                        "link_local_ips" => network.link_local_ips = string_list(value, f)?,
                        "mac_address" => network.mac_address = non_empty_string(value, f)?,
                        "priority" => network.priority = integer(value, f)?,
                        "driver_opts" => network.driver_opts = string_values(value, f)?,
                        "gw_priority" => network.gw_priority = integer(value, f)?,
                        "interface_name" => network.interface_name = non_empty_string(value, f)?,
                        _ => return Err(f.unsupported()),
                    }
                }
                Some(network)
            }
            other => return Err(at.must_be("a mapping or null", other)),
        };
        out.insert(name, options);
    }
    Ok(out)
}

/// Reads `container_name`, which must match the pattern of Compose's
/// schema (also what the Docker engine accepts).
pub(crate) fn container_name(value: &Node, at: At<'_>) -> Result<String, LoadError> {
    let name = string(value, at)?;
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if first_ok && rest_ok && name.len() > 1 {
        return Ok(name);
    }
    Err(LoadError::Schema {
        path: at.file_buf(),
        key: at.key.to_owned(),
        message: format!("{name:?} does not match pattern '[a-zA-Z0-9][a-zA-Z0-9_.-]+'"),
    })
}
