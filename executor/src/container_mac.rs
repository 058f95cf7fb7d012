//! The container-level `MacAddress` of a create body. Engine API versions
//! below 1.44 read a service's MAC address there, and Docker Compose 2.40.3
//! sends it there on those engines. bollard 0.21's `ContainerCreateBody`
//! follows API 1.44 and later, which moved the field to the endpoint, so
//! the model has no place for it. berth sends such a create request with
//! the field added to the JSON that bollard would send, through the same
//! connection, so it works over every transport bollard supports.

use bollard::models::{ContainerCreateBody, ContainerCreateResponse};
use bollard::query_parameters::CreateContainerOptions;
use bollard::{BollardRequest, ClientVersion, Docker};
use bytes::Bytes;
use serde_json::Value;

use crate::error::StepError;

/// Field name of the container-level MAC address in a create body.
pub(crate) const MAC_ADDRESS_FIELD: &str = "MacAddress";

/// First Engine API version that ignores a container-level `MacAddress` in
/// favour of the endpoint's.
const ENDPOINT_MAC_API: (usize, usize) = (1, 44);

/// Checks that the engine reads a container-level MAC address: only API
/// versions below 1.44 do. A plan made against an older engine and applied
/// to a newer one fails here, before any step has run.
pub(crate) fn check_api_version(
    name: &str,
    mac_address: &str,
    version: &ClientVersion,
) -> Result<(), StepError> {
    if (version.major_version, version.minor_version) < ENDPOINT_MAC_API {
        return Ok(());
    }
    Err(StepError::InvalidBody {
        subject: format!("container `{name}`"),
        message: format!(
            "the container-level `MacAddress` `{mac_address}` needs engine api below {}.{}, \
             but the engine speaks {version}; run `berth plan` again against this engine, \
             which puts the MAC address on the endpoint",
            ENDPOINT_MAC_API.0, ENDPOINT_MAC_API.1
        ),
    })
}

/// Creates container `name` from `body`, adding `mac_address` as the
/// body's container-level `MacAddress` when it is set.
pub(crate) async fn create_container(
    docker: &Docker,
    name: &str,
    body: ContainerCreateBody,
    mac_address: Option<&str>,
) -> Result<ContainerCreateResponse, StepError> {
    let options = CreateContainerOptions {
        name: Some(name.to_owned()),
        ..Default::default()
    };
    let engine_error = |error: bollard::errors::Error| {
        StepError::engine(format!("create container `{name}`"), &error)
    };
    let Some(mac_address) = mac_address else {
        return docker
            .create_container(Some(options), body)
            .await
            .map_err(engine_error);
    };
    check_api_version(name, mac_address, &docker.client_version())?;

    let mut value = serde_json::to_value(&body).map_err(|error| StepError::InvalidBody {
        subject: format!("container `{name}`"),
        message: error.to_string(),
    })?;
    if let Some(fields) = value.as_object_mut() {
        fields.insert(
            MAC_ADDRESS_FIELD.to_owned(),
            Value::String(mac_address.to_owned()),
        );
    }
    let encoded = Bytes::from(value.to_string());
    tracing::debug!(
        name,
        mac_address,
        "sending the MAC address as the container-level field of the create body"
    );
    // The modifier runs on every request of this clone, which makes only
    // the create request below. It still checks the request, so that the
    // body can never replace another call's.
    let docker = docker
        .clone()
        .with_request_modifier(move |request| replace_create_body(request, &encoded));
    docker
        .create_container(Some(options), body)
        .await
        .map_err(engine_error)
}

/// Replaces the body of a `POST /containers/create` request by `encoded`,
/// and leaves any other request as it is.
fn replace_create_body(request: BollardRequest, encoded: &Bytes) -> BollardRequest {
    let is_create =
        request.method().as_str() == "POST" && request.uri().path().ends_with("/containers/create");
    if !is_create {
        return request;
    }
    request.map(|_| bollard::body_full(encoded.clone()))
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::sync::mpsc;

    use super::*;

    const MAC: &str = "02:42:ac:11:00:99";

    fn api(minor_version: usize) -> ClientVersion {
        ClientVersion {
            major_version: 1,
            minor_version,
        }
    }

    #[test]
    fn api_below_1_44_accepts_container_mac() {
        assert!(check_api_version("p-web-1", MAC, &api(41)).is_ok());
        assert!(check_api_version("p-web-1", MAC, &api(43)).is_ok());
    }

    #[test]
    fn api_1_44_rejects_container_mac() {
        let error = check_api_version("p-web-1", MAC, &api(44))
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "invalid body for container `p-web-1`: the container-level `MacAddress` \
             `02:42:ac:11:00:99` needs engine api below 1.44, but the engine speaks 1.44; \
             run `berth plan` again against this engine, which puts the MAC address on \
             the endpoint"
        );
    }

    /// Serves one HTTP request on `stream` as an engine replies to a
    /// create, and sends the request's body to `bodies`.
    fn answer_create(stream: impl Read + Write, bodies: &mpsc::Sender<(String, Value)>) {
        let mut reader = BufReader::new(stream);
        let mut request_line = String::new();
        reader.read_line(&mut request_line).unwrap();
        let mut length = 0;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).unwrap();
            if header.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap();
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        bodies
            .send((request_line, serde_json::from_slice(&body).unwrap()))
            .unwrap();
        let reply = r#"{"Id":"1111","Warnings":[]}"#;
        write!(
            reader.get_mut(),
            "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{reply}",
            reply.len()
        )
        .unwrap();
    }

    fn body() -> ContainerCreateBody {
        ContainerCreateBody {
            image: Some("local/busybox:test".to_owned()),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn mac_reaches_the_engine_over_tcp() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let (sender, bodies) = mpsc::channel();
        let server = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            answer_create(stream, &sender);
        });
        let docker = Docker::connect_with_http(&format!("tcp://{address}"), 10, &api(41)).unwrap();

        let created = create_container(&docker, "p-web-1", body(), Some(MAC))
            .await
            .unwrap();
        server.join().unwrap();

        assert_eq!(created.id, "1111");
        let (request_line, sent) = bodies.recv().unwrap();
        assert!(
            request_line.starts_with("POST /containers/create?name=p-web-1&"),
            "{request_line}"
        );
        assert_eq!(sent["MacAddress"], MAC);
        assert_eq!(sent["Image"], "local/busybox:test");
    }

    #[tokio::test]
    async fn mac_reaches_the_engine_over_unix_socket() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("engine.sock");
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let (sender, bodies) = mpsc::channel();
        let server = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            answer_create(stream, &sender);
        });
        let host = format!("unix://{}", path.display());
        let docker = Docker::connect_with_unix(&host, 10, &api(41)).unwrap();

        create_container(&docker, "p-web-1", body(), Some(MAC))
            .await
            .unwrap();
        server.join().unwrap();

        let (_, sent) = bodies.recv().unwrap();
        assert_eq!(sent["MacAddress"], MAC);
    }

    #[tokio::test]
    async fn newer_api_fails_before_sending() {
        // Nothing listens on this address: the check must fail first.
        let docker = Docker::connect_with_http("tcp://127.0.0.1:9", 10, &api(44)).unwrap();
        let error = create_container(&docker, "p-web-1", body(), Some(MAC))
            .await
            .unwrap_err();
        assert!(matches!(error, StepError::InvalidBody { .. }), "{error}");
    }
}
