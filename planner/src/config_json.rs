//! Renderings of berth's model in the formats of
//! `docker compose config --format json` and `config --hash`, so berth's
//! view of a project can be compared with Docker Compose's.

use serde_json::Value;

use crate::hash::{go_json_indented, service_config_hash};
use crate::model::Project;

/// Renders the project as `docker compose config --format json` does:
/// Go's JSON escaping, two-space indentation, and every `$` doubled so the
/// output can be loaded again without substitution. No trailing newline.
pub fn render_config_json(project: &Project) -> String {
    let mut value = serde_json::to_value(project).unwrap_or(Value::Null);
    // Extensions come last: Compose prints top-level keys in name order and
    // every other top-level key sorts before `x-`.
    if let Value::Object(map) = &mut value {
        strip_unprinted(map);
        for (key, extension) in &project.extensions {
            map.insert(key.clone(), extension.clone());
        }
    }
    go_json_indented(&escape_dollars(value), "  ")
}

/// Removes what the model keeps but `config` does not print: the label
/// files of a service, already merged into its labels, and the content of
/// secrets.
fn strip_unprinted(map: &mut serde_json::Map<String, Value>) {
    if let Some(Value::Object(services)) = map.get_mut("services") {
        for service in services.values_mut() {
            if let Value::Object(service) = service {
                service.shift_remove("label_file");
            }
        }
    }
    if let Some(Value::Object(secrets)) = map.get_mut("secrets") {
        for secret in secrets.values_mut() {
            if let Value::Object(secret) = secret {
                secret.shift_remove("content");
            }
        }
    }
}

fn escape_dollars(value: Value) -> Value {
    match value {
        Value::String(s) => Value::String(s.replace('$', "$$")),
        Value::Array(items) => Value::Array(items.into_iter().map(escape_dollars).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k.replace('$', "$$"), escape_dollars(v)))
                .collect(),
        ),
        other => other,
    }
}

/// Renders `service hash` lines, sorted by service, for the named
/// services (all when `services` is empty or contains `*`), like
/// `config --hash`.
///
/// The hashes are those of the container label. They differ from what
/// `config --hash` prints for services with `env_file`, because that
/// command hashes a model where env files are not read.
pub fn render_hashes(project: &Project, services: &[String]) -> String {
    let all = services.is_empty() || services.iter().any(|s| s == "*");
    let mut out = String::new();
    for (name, service) in &project.services {
        if all || services.contains(name) {
            out.push_str(&format!("{name} {}\n", service_config_hash(service)));
        }
    }
    out
}
