//! Error types of the executor. Engine failures are classified by the HTTP
//! status the engine returned (404, 409), never by the wording of its
//! message, and every message names the resource and quotes the engine.

use std::fmt;

/// A failure outside a plan's steps: connecting to the engine or
/// observing a project.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExecutorError {
    /// `DOCKER_HOST` uses a scheme berth cannot connect through.
    #[error("unsupported docker host `{host}` (expected unix:// or tcp://)")]
    UnsupportedHost {
        /// The value as given.
        host: String,
    },
    /// The connection could not be set up or the API version negotiated.
    #[error("failed to connect to the docker engine at `{host}`: {message}")]
    Connect {
        /// The address connected to.
        host: String,
        /// Message of the client or the engine.
        message: String,
    },
    /// An engine call failed.
    #[error("failed to {action}: {message}")]
    Engine {
        /// The call, naming its resource: ``inspect container `p-web-1` ``.
        action: String,
        /// HTTP status the engine returned, if the request reached it.
        status: Option<u16>,
        /// The engine's message.
        message: String,
    },
}

impl ExecutorError {
    /// Wraps a failed engine call.
    pub(crate) fn engine(action: impl Into<String>, error: &bollard::errors::Error) -> Self {
        let (status, message) = engine_message(error);
        ExecutorError::Engine {
            action: action.into(),
            status,
            message,
        }
    }
}

/// Failure of one plan step.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StepError {
    /// The engine returned 404 for a resource named by the plan.
    #[error("failed to {action}: {message}")]
    NotFound {
        /// The call, naming its resource.
        action: String,
        /// The engine's message.
        message: String,
    },
    /// The plan refers to a container by id and that container is gone.
    #[error("container `{name}` (id {id}) no longer exists")]
    ContainerGone {
        /// The container's name in the plan.
        name: String,
        /// The id the plan recorded.
        id: String,
    },
    /// The engine returned 409 (name in use, container running, ...).
    #[error("failed to {action}: {message}")]
    Conflict {
        /// The call, naming its resource.
        action: String,
        /// The engine's message.
        message: String,
    },
    /// A network of the name the plan creates exists already.
    #[error("network `{name}` already exists{}", detail(message))]
    NetworkExists {
        /// The network's engine name.
        name: String,
        /// The engine's message, when the engine reported the clash.
        message: String,
    },
    /// Any other failed engine call.
    #[error("failed to {action}: {message}")]
    Engine {
        /// The call, naming its resource.
        action: String,
        /// HTTP status the engine returned, if the request reached it.
        status: Option<u16>,
        /// The engine's message.
        message: String,
    },
    /// The content to copy into a container changed while the plan was
    /// applied.
    #[error("{0}")]
    ContentChanged(String),
    /// A build context or Dockerfile could not be read.
    #[error(
        "failed to pack the build context from `{path}`: {message} (check that it exists and is readable)"
    )]
    BuildContext {
        /// The context folder or Dockerfile.
        path: String,
        /// The I/O error.
        message: String,
    },
    /// A request body of the plan does not fit the Engine API.
    #[error("invalid body for {subject}: {message}")]
    InvalidBody {
        /// The resource the body is for.
        subject: String,
        /// Description of the mismatch.
        message: String,
    },
    /// A container waited on exited, so it can never become healthy.
    #[error("container {name} exited ({code})")]
    Exited {
        /// Container name.
        name: String,
        /// Its exit code.
        code: i64,
    },
    /// A container waited on to become healthy has no health status.
    #[error("container {name} has no healthcheck configured")]
    NoHealthcheck {
        /// Container name.
        name: String,
    },
    /// A container waited on reports `unhealthy`.
    #[error("container {name} is unhealthy")]
    Unhealthy {
        /// Container name.
        name: String,
    },
    /// A one-shot service exited with a non-zero code.
    #[error("service \"{service}\" didn't complete successfully: exit {code}")]
    NotCompleted {
        /// Service name.
        service: String,
        /// The exit code of its first exited container.
        code: i64,
    },
    /// A `post_start` or `pre_stop` hook exited with a non-zero status.
    #[error("{0}")]
    HookFailed(Box<HookFailure>),
    /// A wait step ran out of time.
    #[error("timed out after {seconds}s waiting for {service} to be {goal}")]
    WaitTimedOut {
        /// Service name.
        service: String,
        /// The step's timeout.
        seconds: u64,
        /// `healthy` or `complete`.
        goal: &'static str,
    },
}

/// A hook that exited with a non-zero status.
#[derive(Debug)]
pub struct HookFailure {
    /// The service that declares the hook.
    pub service: String,
    /// The container it ran in.
    pub container: String,
    /// Its key path, such as `post_start[0]`.
    pub hook: String,
    /// Its command, quoted for a shell.
    pub command: String,
    /// Its exit code.
    pub status: i64,
}

impl fmt::Display for HookFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} hook of service `{}` exited with status {} in container `{}` (command `{}`)",
            self.hook, self.service, self.status, self.container, self.command
        )
    }
}

fn detail(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

impl StepError {
    /// Classifies a failed engine call by the status the engine returned.
    pub(crate) fn engine(action: impl Into<String>, error: &bollard::errors::Error) -> Self {
        let action = action.into();
        let (status, message) = engine_message(error);
        match status {
            Some(404) => StepError::NotFound { action, message },
            Some(409) => StepError::Conflict { action, message },
            _ => StepError::Engine {
                action,
                status,
                message,
            },
        }
    }
}

/// A failed plan step, with the resource it acted on.
#[derive(Debug)]
pub struct StepFailure {
    /// The step's id in the plan.
    pub step: String,
    /// The resource it acted on: ``container `p-web-1` ``.
    pub subject: String,
    /// The error.
    pub error: StepError,
}

impl fmt::Display for StepFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "step `{}` ({}): {}", self.step, self.subject, self.error)
    }
}

/// The outcome of an apply that stopped on a failure: what was done,
/// what failed, and what never started.
#[derive(Debug)]
pub struct ApplyFailure {
    /// Ids of the steps that finished, in the order they finished.
    pub done: Vec<String>,
    /// The steps that failed. There is more than one when steps running in
    /// parallel failed together.
    pub failed: Vec<StepFailure>,
    /// Ids of the steps that were never started, in plan order.
    pub not_started: Vec<String>,
}

impl fmt::Display for ApplyFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, failure) in self.failed.iter().enumerate() {
            if index > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{failure}")?;
        }
        write!(f, " (done: {}", id_list(&self.done))?;
        write!(f, "; not started: {})", id_list(&self.not_started))
    }
}

fn id_list(ids: &[String]) -> String {
    if ids.is_empty() {
        return "none".to_owned();
    }
    let quoted: Vec<String> = ids.iter().map(|id| format!("`{id}`")).collect();
    quoted.join(", ")
}

/// Failure of `apply`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyError {
    /// The observation before applying failed.
    #[error("failed to observe the engine before applying: {0}")]
    Observe(#[source] ExecutorError),
    /// The engine no longer matches the state the plan was made against.
    #[error(
        "the engine changed since the plan was made (planned against \
         fingerprint {planned}, observed {observed}){}; run `berth plan` again",
        stale_resources(changes)
    )]
    StalePlan {
        /// The fingerprint recorded in the plan.
        planned: String,
        /// The fingerprint of the engine now.
        observed: String,
        /// The resources that differ, sorted by kind and name, such as
        /// `container p-web-1 changed`. Empty for a plan that records no
        /// resource digests.
        changes: Vec<String>,
    },
    /// The content of a secret or config the plan copies is no longer
    /// the content the plan was made with.
    #[error(
        "`{key}` for container `{container}` differs from the plan: {detail}; run `berth plan` again"
    )]
    StaleContent {
        /// The container the content is copied into.
        container: String,
        /// `secrets.NAME` or `configs.NAME`.
        key: String,
        /// What changed.
        detail: String,
    },
    /// The plan's steps do not form a valid graph.
    #[error("invalid plan: {message}")]
    InvalidPlan {
        /// Description of the problem.
        message: String,
    },
    /// A step failed. The steps already running were let finish.
    #[error("{0}")]
    StepsFailed(Box<ApplyFailure>),
}

/// Returns the status and message of a failed engine call. The message is
/// the engine's own when the request reached it, else the client's.
pub(crate) fn engine_message(error: &bollard::errors::Error) -> (Option<u16>, String) {
    match error {
        bollard::errors::Error::DockerResponseServerError {
            status_code,
            message,
        } => (Some(*status_code), message.trim().to_owned()),
        other => (None, other.to_string()),
    }
}

/// Returns the HTTP status of a failed engine call, if the engine returned one.
pub(crate) fn status_of(error: &bollard::errors::Error) -> Option<u16> {
    match error {
        bollard::errors::Error::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

/// Resources listed at most in a stale-plan message; the rest are counted.
const STALE_RESOURCES_SHOWN: usize = 10;

/// Formats the resources that make a plan stale, `: a, b and 3 more`, or
/// nothing when there are none.
fn stale_resources(changes: &[String]) -> String {
    if changes.is_empty() {
        return String::new();
    }
    let shown = changes.len().min(STALE_RESOURCES_SHOWN);
    let mut text = format!(": {}", changes[..shown].join(", "));
    if changes.len() > shown {
        text.push_str(&format!(" and {} more", changes.len() - shown));
    }
    text
}
