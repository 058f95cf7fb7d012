//! Connecting to the engine: the address comes from `DOCKER_HOST` (or the
//! caller), and the API version is negotiated down to what the engine
//! speaks, so that older engines (20.10, API 1.41) accept every call.

use bollard::{API_DEFAULT_VERSION, Docker};

use crate::error::ExecutorError;

/// Engine address used when `DOCKER_HOST` is unset.
pub const DEFAULT_DOCKER_HOST: &str = "unix:///var/run/docker.sock";

/// Seconds a single engine request may take. Generous because a stop
/// request lasts as long as the container's stop timeout.
const REQUEST_TIMEOUT_SECONDS: u64 = 300;

/// Connects to the engine named by `DOCKER_HOST` (`unix://` or `tcp://`),
/// or to [`DEFAULT_DOCKER_HOST`] when it is unset, and negotiates the API
/// version.
pub async fn connect() -> Result<Docker, ExecutorError> {
    let host = std::env::var("DOCKER_HOST")
        .ok()
        .filter(|host| !host.is_empty())
        .unwrap_or_else(|| DEFAULT_DOCKER_HOST.to_owned());
    connect_to(&host).await
}

/// Connects to the engine at `host` (`unix:///path` or `tcp://host:port`)
/// and negotiates the API version.
pub async fn connect_to(host: &str) -> Result<Docker, ExecutorError> {
    let connect_error = |error: bollard::errors::Error| ExecutorError::Connect {
        host: host.to_owned(),
        message: error.to_string(),
    };
    let docker = if host.starts_with("unix://") {
        Docker::connect_with_unix(host, REQUEST_TIMEOUT_SECONDS, API_DEFAULT_VERSION)
            .map_err(connect_error)?
    } else if host.starts_with("tcp://") || host.starts_with("http://") {
        Docker::connect_with_http(host, REQUEST_TIMEOUT_SECONDS, API_DEFAULT_VERSION)
            .map_err(connect_error)?
    } else {
        return Err(ExecutorError::UnsupportedHost {
            host: host.to_owned(),
        });
    };
    let docker = docker.negotiate_version().await.map_err(connect_error)?;
    tracing::debug!(
        host,
        api_version = %docker.client_version(),
        "negotiated the engine API version"
    );
    Ok(docker)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unsupported_scheme_is_rejected() {
        let error = connect_to("ssh://example.invalid").await.unwrap_err();
        assert!(
            matches!(error, ExecutorError::UnsupportedHost { ref host } if host == "ssh://example.invalid"),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn missing_socket_names_the_host() {
        let host = "unix:///nonexistent/berth-test.sock";
        let error = connect_to(host).await.unwrap_err();
        assert!(matches!(error, ExecutorError::Connect { .. }), "{error:?}");
        assert!(error.to_string().contains(host), "{error}");
    }
}
