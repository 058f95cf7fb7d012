//! The fields a replacement changes, as a person reviews them.
//!
//! The decision to replace rests on the config hash; these diffs explain it
//! by comparing what the engine reports for the old container with the
//! create body of the new one.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::engine_body::ContainerBody;
use crate::labels;
use crate::plan::{FieldDiff, Reason};
use crate::snapshot::{ObservedContainer, ObservedImage};

/// Diffs between an existing container and its replacement's body.
pub(crate) fn replacement_diffs(
    old: &ObservedContainer,
    body: &ContainerBody,
    reasons: &[Reason],
    image: Option<&ObservedImage>,
) -> Vec<FieldDiff> {
    let mut diffs = Vec::new();
    let before = &old.config;
    let mut compare = |path: &str, before: Value, after: Value, sensitive: bool| {
        if before != after {
            diffs.push(FieldDiff {
                path: path.to_string(),
                before: (!before.is_null()).then_some(before),
                after: (!after.is_null()).then_some(after),
                sensitive,
            });
        }
    };
    compare("image", json!(before.image), json!(body.image), false);
    if body.cmd.is_some() {
        compare("command", json!(before.command), json!(body.cmd), false);
    }
    if body.entrypoint.is_some() {
        compare(
            "entrypoint",
            json!(before.entrypoint),
            json!(body.entrypoint),
            false,
        );
    }
    // The new container gets the image's variables too, as the old one did,
    // so only the variables the body sets or overrides can change.
    let mut after_environment =
        image.map_or_else(BTreeMap::new, |image| parse_env(&image.environment));
    after_environment.extend(parse_env(&body.env));
    let keys: std::collections::BTreeSet<&String> = before
        .environment
        .keys()
        .chain(after_environment.keys())
        .collect();
    for key in keys {
        let old_value = before
            .environment
            .get(key)
            .map(|v| json!(v))
            .unwrap_or(Value::Null);
        let new_value = after_environment
            .get(key)
            .map(|v| json!(v))
            .unwrap_or(Value::Null);
        compare(&format!("environment.{key}"), old_value, new_value, true);
    }
    if let Some(user) = &body.user {
        compare("user", json!(before.user), json!(user), false);
    }
    if let Some(dir) = &body.working_dir {
        compare("working_dir", json!(before.working_dir), json!(dir), false);
    }
    if let Some(hostname) = &body.hostname {
        compare("hostname", json!(before.hostname), json!(hostname), false);
    }
    let restart = body
        .host_config
        .restart_policy
        .as_ref()
        .map(|policy| policy.name.clone())
        .unwrap_or_default();
    compare("restart", json!(before.restart), json!(restart), false);
    compare(
        "ports",
        json!(before.ports),
        json!(published_ports(body)),
        false,
    );
    let healthcheck = body.healthcheck.as_ref().map(|check| check.test.clone());
    if healthcheck.is_some() {
        compare(
            "healthcheck.test",
            json!(before.healthcheck),
            json!(healthcheck),
            false,
        );
    }
    if reasons.contains(&Reason::ImageChanged) {
        compare(
            "image_id",
            json!(old.labels.get(labels::IMAGE)),
            json!(image.map(|image| &image.id)),
            false,
        );
    }
    if reasons.contains(&Reason::ContentChanged) {
        diffs.extend(super::content::content_diffs(old, body));
    }
    if reasons.contains(&Reason::ConfigChanged) && diffs.is_empty() {
        // The hash covers fields the engine does not report back; show the
        // hashes so that the reason is still visible.
        let new_hash = body
            .labels
            .get(labels::CONFIG_HASH)
            .cloned()
            .unwrap_or_default();
        diffs.push(FieldDiff {
            path: "config_hash".into(),
            before: Some(json!(old.label(labels::CONFIG_HASH))),
            after: Some(json!(new_hash)),
            sensitive: false,
        });
    }
    diffs
}

fn parse_env(env: &[String]) -> BTreeMap<String, Option<String>> {
    env.iter()
        .map(|entry| match entry.split_once('=') {
            Some((key, value)) => (key.to_string(), Some(value.to_string())),
            None => (entry.clone(), None),
        })
        .collect()
}

/// Published ports in the snapshot's `[ip:]host:container/proto` form.
fn published_ports(body: &ContainerBody) -> Vec<String> {
    let mut ports = Vec::new();
    for (port, bindings) in &body.host_config.port_bindings {
        for binding in bindings {
            let host = if binding.host_ip.is_empty() {
                binding.host_port.clone()
            } else {
                format!("{}:{}", binding.host_ip, binding.host_port)
            };
            ports.push(format!("{host}:{port}"));
        }
    }
    ports.sort();
    ports
}
