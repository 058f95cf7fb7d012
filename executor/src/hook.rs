//! Lifecycle hooks: commands run in a container through the engine's exec
//! API, `post_start` hooks right after a start and `pre_stop` hooks right
//! before a stop, one after the other, as Docker Compose 2.40.3 runs them.
//!
//! Each hook is an exec created with the hook's command, user, privileged
//! flag, working directory and its own environment only. The engine runs
//! it with the container's environment plus that one. The exec starts
//! detached, as `docker compose up -d` starts it, and is inspected every
//! 100 ms until it ends. A non-zero exit code fails the step.

use std::time::Duration;

use berth_planner::plan::{ContainerRef, Hook, ServiceHooks};
use bollard::Docker;
use bollard::exec::{CreateExecOptions, StartExecOptions};

use crate::error::{HookFailure, StepError, engine_message, status_of};
use crate::steps::target;

/// How often a running hook is inspected, as Docker Compose polls it.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// When a hook runs relative to its step's engine call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HookPhase {
    PostStart,
    PreStop,
}

impl HookPhase {
    fn key(self) -> &'static str {
        match self {
            HookPhase::PostStart => "post_start",
            HookPhase::PreStop => "pre_stop",
        }
    }
}

/// Runs the hooks of a step in the container, in order, and stops at the
/// first that fails.
pub(crate) async fn run_hooks(
    docker: &Docker,
    container: &ContainerRef,
    hooks: &ServiceHooks,
    phase: HookPhase,
) -> Result<(), StepError> {
    for (index, hook) in hooks.hooks.iter().enumerate() {
        let run = HookRun {
            service: &hooks.service,
            container,
            name: format!("{}[{index}]", phase.key()),
            hook,
        };
        tracing::info!(
            service = run.service,
            container = container.name,
            hook = run.name,
            command = run.command(),
            "running hook"
        );
        match run.exec(docker).await {
            Ok(()) => {}
            // A container that is already stopped (409) or gone (404)
            // cannot run a `pre_stop` hook, and Docker Compose 2.40.3
            // ignores that error. The stop that follows deals with it.
            Err(HookError::Create(error))
                if phase == HookPhase::PreStop && matches!(status_of(&error), Some(404 | 409)) =>
            {
                tracing::info!(
                    service = run.service,
                    container = container.name,
                    hook = run.name,
                    "skipped the pre_stop hooks: the container does not run"
                );
                return Ok(());
            }
            Err(error) => return Err(run.step_error(error)),
        }
    }
    Ok(())
}

/// One hook run in one container.
struct HookRun<'a> {
    service: &'a str,
    container: &'a ContainerRef,
    /// `post_start[0]`, as the compose file's key path names it.
    name: String,
    hook: &'a Hook,
}

/// Failure of one hook run.
enum HookError {
    /// The engine refused to create the exec.
    Create(bollard::errors::Error),
    /// Inspecting the running exec failed.
    Inspect(bollard::errors::Error),
    /// The command ended with a non-zero exit code.
    Exited(i64),
}

impl HookRun<'_> {
    fn command(&self) -> String {
        shell_words::join(&self.hook.command)
    }

    /// Creates the exec, starts it detached, waits until it ends and
    /// returns an error unless it exited with 0.
    async fn exec(&self, docker: &Docker) -> Result<(), HookError> {
        let environment: Vec<String> = self
            .hook
            .environment
            .iter()
            .map(|(name, value)| match value {
                Some(value) => format!("{name}={value}"),
                // A bare name makes the engine remove the variable.
                None => name.clone(),
            })
            .collect();
        let options = CreateExecOptions {
            cmd: Some(self.hook.command.clone()),
            env: (!environment.is_empty()).then_some(environment),
            user: self.hook.user.clone(),
            privileged: Some(self.hook.privileged),
            working_dir: self.hook.working_dir.clone(),
            ..Default::default()
        };
        let created = docker
            .create_exec(target(self.container), options)
            .await
            .map_err(HookError::Create)?;
        let detached = StartExecOptions {
            detach: true,
            ..Default::default()
        };
        if let Err(error) = docker.start_exec(&created.id, Some(detached)).await {
            // The engine rejects the start of an exec whose user or command
            // it cannot find. Docker Compose 2.40.3 (`up -d`) ignores that
            // error and goes on as if the hook had run. berth skips the
            // hook too, and logs a warning.
            let (_, message) = engine_message(&error);
            tracing::warn!(
                service = self.service,
                container = self.container.name,
                hook = self.name,
                "the hook did not start and is skipped, as Docker Compose skips it: {message}"
            );
            return Ok(());
        }
        let status = self.exit_code(docker, &created.id).await?;
        tracing::debug!(
            container = self.container.name,
            hook = self.name,
            status,
            "hook ended"
        );
        if status == 0 {
            Ok(())
        } else {
            Err(HookError::Exited(status))
        }
    }

    /// Waits until the engine no longer reports the exec as running and
    /// returns its exit code.
    ///
    /// NOTE: Docker Compose 2.40.3 treats a failed inspect as a hook that
    /// succeeded, but berth reports it as a failed step.
    async fn exit_code(&self, docker: &Docker, exec: &str) -> Result<i64, HookError> {
        loop {
            let inspected = docker
                .inspect_exec(exec)
                .await
                .map_err(HookError::Inspect)?;
            if inspected.running != Some(true) {
                return Ok(inspected.exit_code.unwrap_or_default());
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    fn step_error(&self, error: HookError) -> StepError {
        match error {
            HookError::Create(error) | HookError::Inspect(error) => StepError::engine(
                format!(
                    "run {} hook `{}` of service `{}` in container `{}`",
                    self.name,
                    self.command(),
                    self.service,
                    self.container.name
                ),
                &error,
            ),
            HookError::Exited(status) => StepError::HookFailed(Box::new(HookFailure {
                service: self.service.to_owned(),
                container: self.container.name.clone(),
                hook: self.name.clone(),
                command: self.command(),
                status,
            })),
        }
    }
}
