//! Preparing a container create body. `berth-id(NAME)` tokens are replaced
//! by the id the named container has at that moment, and the config hash is
//! computed over the substituted hash input. The body is then converted to
//! bollard's model, which rejects any field that model would drop, except
//! the container-level `MacAddress`, which is sent beside the model.

use std::collections::BTreeMap;

use berth_planner::engine_body::ContainerBody;
use bollard::Docker;
use bollard::models::ContainerCreateBody;
use bollard::query_parameters::InspectContainerOptions;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::container::CONFIG_HASH_LABEL;
use crate::container_mac::MAC_ADDRESS_FIELD;
use crate::error::StepError;
use crate::image::image_id;

const TOKEN_START: &str = "berth-id(";

/// Label that records the image id a container was created from.
const IMAGE_LABEL: &str = "com.docker.compose.image";

/// Token, in the image label, for the id of an image that a step of the
/// same plan pulls or builds.
const IMAGE_TOKEN_START: &str = "berth-image-id(";

/// A create body in bollard's model, with the container-level MAC address
/// that the model has no field for.
pub(crate) struct PreparedBody {
    pub body: ContainerCreateBody,
    pub mac_address: Option<String>,
}

/// Builds the engine body that creates container `name`: substitutes the
/// id tokens, writes the config-hash label and converts the body.
pub(crate) async fn prepare_body(
    docker: &Docker,
    name: &str,
    body: &ContainerBody,
    hash_input: Option<&Value>,
) -> Result<PreparedBody, StepError> {
    let invalid = |message: String| StepError::InvalidBody {
        subject: format!("container `{name}`"),
        message,
    };
    let mut body = serde_json::to_value(body).map_err(|error| invalid(error.to_string()))?;
    let mut hash_input = hash_input.cloned();

    let mut referenced = Vec::new();
    collect_tokens(&body, &mut referenced);
    if let Some(input) = &hash_input {
        collect_tokens(input, &mut referenced);
    }
    referenced.sort();
    referenced.dedup();
    let mut ids = BTreeMap::new();
    for referenced_name in referenced {
        let id = current_id(docker, &referenced_name).await?;
        tracing::debug!(
            name,
            referenced = referenced_name,
            id,
            "resolved a container id"
        );
        ids.insert(referenced_name, id);
    }
    substitute(&mut body, &ids);
    resolve_image_label(docker, name, &mut body).await?;

    if let Some(input) = &mut hash_input {
        substitute(input, &ids);
        let hash = config_hash(input);
        tracing::debug!(name, hash, "computed the config hash");
        let labels = body
            .as_object_mut()
            .and_then(|object| object.get_mut("Labels"))
            .and_then(Value::as_object_mut)
            .ok_or_else(|| invalid("the body has no `Labels` object".to_owned()))?;
        labels.insert(CONFIG_HASH_LABEL.to_owned(), Value::String(hash));
    }
    let mac_address = body
        .as_object_mut()
        .and_then(|fields| fields.remove(MAC_ADDRESS_FIELD))
        .and_then(|mac| mac.as_str().map(str::to_owned));
    Ok(PreparedBody {
        body: convert_value(&format!("container `{name}`"), body)?,
        mac_address,
    })
}

/// Replaces a `berth-image-id(REF)` image label by the id image REF has
/// now, after the plan's pull or build of it.
async fn resolve_image_label(
    docker: &Docker,
    name: &str,
    body: &mut Value,
) -> Result<(), StepError> {
    let Some(label) = body
        .get_mut("Labels")
        .and_then(|labels| labels.get_mut(IMAGE_LABEL))
    else {
        return Ok(());
    };
    let Some(reference) = label
        .as_str()
        .and_then(|text| text.strip_prefix(IMAGE_TOKEN_START))
        .and_then(|rest| rest.strip_suffix(')'))
        .map(str::to_owned)
    else {
        return Ok(());
    };
    let id = image_id(docker, &reference)
        .await?
        .ok_or_else(|| StepError::NotFound {
            action: format!("create container `{name}`"),
            message: format!("image `{reference}` is not on the engine after its pull or build"),
        })?;
    tracing::debug!(name, image = reference, id, "resolved an image id");
    *label = Value::String(id);
    Ok(())
}

/// Converts an engine body of berth's into bollard's model, failing when a
/// field of the body has no counterpart there (a misspelt field would
/// otherwise be dropped without a word).
pub(crate) fn convert_body<T>(subject: &str, body: &impl serde::Serialize) -> Result<T, StepError>
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    let invalid = |message: String| StepError::InvalidBody {
        subject: subject.to_owned(),
        message,
    };
    let value = serde_json::to_value(body).map_err(|error| invalid(error.to_string()))?;
    convert_value(subject, value)
}

fn convert_value<T>(subject: &str, value: Value) -> Result<T, StepError>
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    let invalid = |message: String| StepError::InvalidBody {
        subject: subject.to_owned(),
        message,
    };
    tracing::trace!(subject, body = %value, "request body");
    let converted: T =
        serde_json::from_value(value.clone()).map_err(|error| invalid(error.to_string()))?;
    let round_trip =
        serde_json::to_value(&converted).map_err(|error| invalid(error.to_string()))?;
    let mut dropped = Vec::new();
    missing_paths(&value, &round_trip, "", &mut dropped);
    if !dropped.is_empty() {
        return Err(invalid(format!(
            "fields unknown to the engine client: {}",
            dropped.join(", ")
        )));
    }
    Ok(converted)
}

/// SHA-256 (hex) of the Go-style JSON encoding of the hash input, which is
/// how Docker Compose computes `com.docker.compose.config-hash`.
fn config_hash(input: &Value) -> String {
    let encoded = berth_planner::hash::go_json_compact(input);
    hex::encode(Sha256::digest(encoded.as_bytes()))
}

/// Looks up the full id of the container named exactly `name`.
async fn current_id(docker: &Docker, name: &str) -> Result<String, StepError> {
    let action = || format!("inspect container `{name}`");
    let inspect = docker
        .inspect_container(name, None::<InspectContainerOptions>)
        .await
        .map_err(|error| StepError::engine(action(), &error))?;
    // The engine resolves id prefixes too, but a token names a container.
    let found = inspect.name.unwrap_or_default();
    if found.trim_start_matches('/') != name {
        return Err(StepError::NotFound {
            action: action(),
            message: format!("no container is named `{name}`"),
        });
    }
    inspect.id.ok_or_else(|| StepError::NotFound {
        action: action(),
        message: "the engine reported no id".to_owned(),
    })
}

fn collect_tokens(value: &Value, names: &mut Vec<String>) {
    match value {
        Value::String(text) => {
            let mut rest = text.as_str();
            while let Some(start) = rest.find(TOKEN_START) {
                let after = &rest[start + TOKEN_START.len()..];
                let Some(end) = after.find(')') else { break };
                names.push(after[..end].to_owned());
                rest = &after[end + 1..];
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_tokens(item, names)),
        Value::Object(entries) => entries
            .values()
            .for_each(|item| collect_tokens(item, names)),
        _ => {}
    }
}

fn substitute(value: &mut Value, ids: &BTreeMap<String, String>) {
    match value {
        Value::String(text) if text.contains(TOKEN_START) => {
            for (name, id) in ids {
                *text = text.replace(&format!("{TOKEN_START}{name})"), id);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| substitute(item, ids)),
        Value::Object(entries) => entries.values_mut().for_each(|item| substitute(item, ids)),
        _ => {}
    }
}

/// Paths present in `sent` but absent from `kept`.
fn missing_paths(sent: &Value, kept: &Value, path: &str, missing: &mut Vec<String>) {
    match (sent, kept) {
        (Value::Object(sent), Value::Object(kept)) => {
            for (key, value) in sent {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match kept.get(key) {
                    Some(kept_value) => missing_paths(value, kept_value, &child, missing),
                    None => missing.push(format!("`{child}`")),
                }
            }
        }
        (Value::Array(sent), Value::Array(kept)) if sent.len() == kept.len() => {
            for (index, (value, kept_value)) in sent.iter().zip(kept).enumerate() {
                missing_paths(value, kept_value, &format!("{path}[{index}]"), missing);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tokens_are_found_and_replaced_inside_strings() {
        let mut value = json!({
            "HostConfig": {"NetworkMode": "container:berth-id(p-db-1)"},
            "VolumesFrom": ["berth-id(p-a-1):ro", "berth-id(p-db-1)"],
        });
        let mut names = Vec::new();
        collect_tokens(&value, &mut names);
        assert_eq!(names, vec!["p-db-1", "p-a-1", "p-db-1"]);

        let ids = BTreeMap::from([
            ("p-db-1".to_owned(), "1111".to_owned()),
            ("p-a-1".to_owned(), "2222".to_owned()),
        ]);
        substitute(&mut value, &ids);
        assert_eq!(
            value,
            json!({
                "HostConfig": {"NetworkMode": "container:1111"},
                "VolumesFrom": ["2222:ro", "1111"],
            })
        );
    }

    #[test]
    fn every_container_body_field_reaches_the_engine_model() {
        let body: ContainerBody = serde_json::from_str(
            r#"{
            "Hostname": "h", "Domainname": "d", "User": "u",
            "AttachStdout": true, "AttachStderr": true, "Tty": true, "OpenStdin": true,
            "ExposedPorts": {"80/tcp": {}}, "Env": ["A=1", "B"], "Cmd": ["sleep", "60"],
            "Healthcheck": {"Test": ["CMD", "true"], "Interval": 1, "Timeout": 2,
                            "StartPeriod": 3, "StartInterval": 4, "Retries": 5},
            "Image": "local/busybox:test", "WorkingDir": "/w", "Entrypoint": ["e"],
            "Labels": {"com.docker.compose.project": "p"},
            "StopSignal": "SIGINT", "StopTimeout": 3,
            "HostConfig": {
                "Binds": ["p_data:/data:rw"], "NetworkMode": "p_default",
                "PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]},
                "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3},
                "VolumesFrom": ["x"], "CapAdd": ["NET_ADMIN"], "CapDrop": ["ALL"],
                "Dns": ["192.0.2.1"], "DnsOptions": ["ndots:1"], "DnsSearch": ["x"],
                "ExtraHosts": ["a:192.0.2.2"], "IpcMode": "shareable", "Links": ["a:b"],
                "PidMode": "host", "Privileged": true, "ReadonlyRootfs": true,
                "SecurityOpt": ["no-new-privileges"], "Tmpfs": {"/run": "size=1m"},
                "Init": true,
                "Mounts": [
                    {"Type": "bind", "Source": "/s", "Target": "/t", "ReadOnly": true,
                     "BindOptions": {"Propagation": "rprivate", "CreateMountpoint": true}},
                    {"Type": "volume", "Source": "v", "Target": "/v",
                     "VolumeOptions": {"NoCopy": true, "Subpath": "x"}},
                    {"Type": "tmpfs", "Target": "/tm", "TmpfsOptions": {"SizeBytes": 1, "Mode": 2}}
                ]
            },
            "NetworkingConfig": {"EndpointsConfig": {"p_default": {
                "Aliases": ["p-web-1", "web"], "Links": ["a:b"], "MacAddress": "02:42:ac:11:00:02",
                "IPAMConfig": {"IPv4Address": "10.0.0.5", "IPv6Address": "fd00::5",
                               "LinkLocalIPs": ["169.254.0.5"]}
            }}}
        }"#,
        )
        .unwrap();
        let converted: ContainerCreateBody = convert_body("container `p-web-1`", &body).unwrap();
        assert_eq!(converted.image.as_deref(), Some("local/busybox:test"));
        assert_eq!(converted.exposed_ports, Some(vec!["80/tcp".to_owned()]));
    }

    /// bollard's model follows API 1.44+, where the container-level
    /// `MacAddress` moved to the endpoint, so the field is rejected rather
    /// than dropped.
    #[test]
    fn unknown_body_field_is_rejected() {
        let body = ContainerBody {
            image: "local/busybox:test".to_owned(),
            mac_address: Some("02:42:ac:11:00:02".to_owned()),
            ..ContainerBody::default()
        };
        let error = convert_body::<ContainerCreateBody>("container `p-web-1`", &body).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid body for container `p-web-1`: fields unknown to the engine client: \
             `MacAddress`"
        );
    }

    #[test]
    fn network_volume_and_endpoint_bodies_convert() {
        use berth_planner::engine_body::{EndpointBody, NetworkBody, VolumeBody};
        let network: NetworkBody = serde_json::from_value(json!({
            "Name": "p_front", "Driver": "bridge", "Internal": true, "Attachable": true,
            "EnableIPv6": false, "Options": {"o": "v"}, "Labels": {"l": "v"},
            "IPAM": {"Driver": "default", "Config": [{"Subnet": "10.1.0.0/16",
                     "IPRange": "10.1.1.0/24", "Gateway": "10.1.0.1"}]}
        }))
        .unwrap();
        convert_body::<bollard::models::NetworkCreateRequest>("network", &network).unwrap();
        let volume: VolumeBody = serde_json::from_value(json!({
            "Name": "p_data", "Driver": "local", "DriverOpts": {"a": "b"}, "Labels": {"l": "v"}
        }))
        .unwrap();
        convert_body::<bollard::models::VolumeCreateRequest>("volume", &volume).unwrap();
        let endpoint: EndpointBody = serde_json::from_value(json!({
            "Aliases": ["x"], "Links": ["a:b"], "IPAMConfig": {"IPv4Address": "10.1.0.9"}
        }))
        .unwrap();
        convert_body::<bollard::models::EndpointSettings>("endpoint", &endpoint).unwrap();
    }

    #[test]
    fn missing_paths_names_dropped_fields() {
        let sent = json!({"A": {"B": 1, "C": [{"D": 1}]}});
        let kept = json!({"A": {"C": [{}]}});
        let mut missing = Vec::new();
        missing_paths(&sent, &kept, "", &mut missing);
        assert_eq!(missing, vec!["`A.B`", "`A.C[0].D`"]);
    }
}
