//! The `com.docker.compose.config-hash` label values, computed the way
//! Docker Compose 2.40.3 computes them so that containers, networks and
//! volumes it created plan as unchanged.
//!
//! A hash is the SHA-256 of the compact JSON that Go's `encoding/json`
//! would write for the object. This module therefore contains an encoder
//! that writes bytes identical to Go's: `<`, `>`, `&`, U+2028 and U+2029
//! escaped, other control characters as lower-case `\u00xx`, everything
//! else as raw UTF-8, numbers as given.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::model::{Network, Service, Volume};

/// Keys that Compose clears before hashing a service: changing them never
/// recreates a container.
const UNHASHED_SERVICE_KEYS: &[&str] = &["build", "pull_policy", "scale", "depends_on", "profiles"];

/// Writes `value` as compact JSON, byte for byte as Go's `json.Marshal`.
pub fn go_json_compact(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value, None, 0);
    out
}

/// Writes `value` like Go's `json.MarshalIndent(value, "", indent)`.
pub fn go_json_indented(value: &Value, indent: &str) -> String {
    let mut out = String::new();
    write_value(&mut out, value, Some(indent), 0);
    out
}

fn newline(out: &mut String, indent: Option<&str>, depth: usize) {
    if let Some(indent) = indent {
        out.push('\n');
        for _ in 0..depth {
            out.push_str(indent);
        }
    }
}

fn write_value(out: &mut String, value: &Value, indent: Option<&str>, depth: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, depth + 1);
                write_value(out, item, indent, depth + 1);
            }
            newline(out, indent, depth);
            out.push(']');
        }
        Value::Object(map) => {
            if map.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, depth + 1);
                write_string(out, key);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write_value(out, item, indent, depth + 1);
            }
            newline(out, indent, depth);
            out.push('}');
        }
    }
}

/// Writes a JSON string with Go's escaping rules.
fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Builds the hash input of a service: the service as `config` prints it,
/// without the keys Compose clears.
pub fn service_hash_input(service: &Service) -> Value {
    let mut value = serde_json::to_value(service).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        for key in UNHASHED_SERVICE_KEYS {
            map.shift_remove(*key);
        }
        if let Some(Value::Object(deploy)) = map.get_mut("deploy") {
            deploy.shift_remove("replicas");
        }
    }
    value
}

/// Computes the config hash of a service's containers.
///
/// The service must already carry the rewrites Compose makes when it
/// creates containers: `service:NAME` in `network_mode`, `ipc` and `pid`
/// replaced by `container:<full id>`, and `volumes_from` entries naming a
/// service replaced by that container's full id (the access mode is
/// dropped). Without them the hash matches `config --hash`, not the label.
pub fn service_config_hash(service: &Service) -> String {
    sha256_hex(&go_json_compact(&service_hash_input(service)))
}

/// Computes the config hash Compose puts on a network it creates.
pub fn network_config_hash(network: &Network) -> String {
    let value = serde_json::to_value(network).unwrap_or(Value::Null);
    sha256_hex(&go_json_compact(&value))
}

/// Computes the config hash Compose puts on a volume it creates: the
/// volume as printed, with `"driver":"local"` after `"name"` when no driver is set.
pub fn volume_config_hash(volume: &Volume) -> String {
    let value = serde_json::to_value(volume).unwrap_or(Value::Null);
    let value = match value {
        Value::Object(map) if !map.contains_key("driver") => {
            let mut with_driver = Map::new();
            for (key, item) in map {
                let is_name = key == "name";
                with_driver.insert(key, item);
                if is_name {
                    with_driver.insert("driver".to_owned(), Value::String("local".to_owned()));
                }
            }
            Value::Object(with_driver)
        }
        other => other,
    };
    sha256_hex(&go_json_compact(&value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_like_go() {
        let value = Value::String("<b>&\u{2028}\u{2029}\u{7}\u{1f}\t\n\"\\é🚀".to_owned());
        assert_eq!(
            go_json_compact(&value),
            r#""\u003cb\u003e\u0026\u2028\u2029\u0007\u001f\t\n\"\\é🚀""#
        );
    }

    #[test]
    fn indentation_matches_marshal_indent() {
        let value = serde_json::json!({"a": [], "b": {}, "c": [1, {"d": null}]});
        assert_eq!(
            go_json_indented(&value, "  "),
            "{\n  \"a\": [],\n  \"b\": {},\n  \"c\": [\n    1,\n    {\n      \"d\": null\n    }\n  ]\n}"
        );
    }

    #[test]
    fn minimal_service_hash_matches_compose() {
        // `config --format json` of `image: local/busybox:test` plus
        // `command: [sleep, 3600]`; the label Compose wrote.
        let service = Service {
            image: Some("local/busybox:test".into()),
            command: Some(vec!["sleep".into(), "3600".into()]),
            networks: [("default".to_owned(), None)].into_iter().collect(),
            ..Service::default()
        };
        assert_eq!(
            service_config_hash(&service),
            "149162c07c493e020b3f8ac3c76e92045e7bde70b5b35314e1e8a3681935e87b"
        );
    }

    #[test]
    fn network_hash_matches_compose() {
        // The label Compose put on `back: {internal: true}` of project
        // `oracle72`.
        let network = Network {
            name: "oracle72_back".into(),
            internal: true,
            ..Network::default()
        };
        assert_eq!(
            network_config_hash(&network),
            "3a7a59a86c3fceeddde41d61604b89f5546389ef24e20f4aa91537c37be7e9c3"
        );
    }

    #[test]
    fn network_labels_come_before_ip_flags() {
        // The order `config --format json` of Compose 2.40.3 printed.
        let network = Network {
            name: "x_n".into(),
            attachable: true,
            labels: [("a".to_owned(), "b".to_owned())].into(),
            enable_ipv4: Some(true),
            enable_ipv6: Some(true),
            ..Network::default()
        };
        assert_eq!(
            network_config_hash(&network),
            sha256_hex(
                r#"{"name":"x_n","ipam":{},"attachable":true,"labels":{"a":"b"},"enable_ipv4":true,"enable_ipv6":true}"#
            )
        );
    }

    #[test]
    fn volume_hash_matches_compose() {
        // The label Compose put on `appdata:` of project `oracle71`.
        let volume = Volume {
            name: "oracle71_appdata".into(),
            ..Volume::default()
        };
        assert_eq!(
            volume_config_hash(&volume),
            "991cafc9d31c0419ba9de1c6708ad3764c790680b47d2d48f4f3e9465996bada"
        );
    }

    #[test]
    fn volume_hash_inserts_local_driver() {
        let volume = Volume {
            name: "oracle71_appdata".into(),
            ..Volume::default()
        };
        assert_eq!(
            volume_config_hash(&volume),
            sha256_hex(r#"{"name":"oracle71_appdata","driver":"local"}"#)
        );
    }
}
