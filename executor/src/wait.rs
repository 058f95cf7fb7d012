//! Wait steps poll a service's containers every 500 ms until the condition
//! holds. They fail as soon as a container is in a state that can never
//! satisfy it, so a dependency that already exited is reported at once
//! instead of waited on forever.

use std::collections::BTreeSet;
use std::time::Duration;

use berth_planner::plan::WaitCondition;
use bollard::Docker;
use bollard::models::{ContainerStateStatusEnum, HealthStatusEnum};
use bollard::query_parameters::InspectContainerOptions;
use tokio::time::Instant;

use crate::error::StepError;

/// How often containers are inspected while waiting, as Docker Compose does.
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Outcome of one poll.
enum Poll {
    Satisfied,
    Pending,
}

/// Waits until `condition` holds for `containers` of `service`. A timeout
/// of 0 waits without limit.
pub(crate) async fn wait(
    docker: &Docker,
    service: &str,
    containers: &[String],
    condition: WaitCondition,
    timeout_seconds: u64,
) -> Result<(), StepError> {
    let deadline =
        (timeout_seconds > 0).then(|| Instant::now() + Duration::from_secs(timeout_seconds));
    let mut running = BTreeSet::new();
    loop {
        let poll = match condition {
            WaitCondition::Healthy => {
                poll_health(docker, containers, WithoutHealthcheck::Fail, &mut running).await?
            }
            WaitCondition::CompletedSuccessfully => {
                poll_completed(docker, service, containers).await?
            }
            WaitCondition::RunningOrHealthy => {
                poll_health(
                    docker,
                    containers,
                    WithoutHealthcheck::RunningIsReady,
                    &mut running,
                )
                .await?
            }
        };
        if let Poll::Satisfied = poll {
            return Ok(());
        }
        // The deadline is checked only after an unsatisfied poll, so a
        // condition met exactly at the deadline still counts as met.
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            return Err(StepError::WaitTimedOut {
                service: service.to_owned(),
                seconds: timeout_seconds,
                goal: match condition {
                    WaitCondition::Healthy => "healthy",
                    WaitCondition::CompletedSuccessfully => "complete",
                    WaitCondition::RunningOrHealthy => "running or healthy",
                },
            });
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Status and health of one container, as the engine reports them now.
struct Observed {
    status: Option<ContainerStateStatusEnum>,
    health: Option<HealthStatusEnum>,
    exit_code: i64,
}

async fn inspect(docker: &Docker, name: &str) -> Result<Observed, StepError> {
    let inspect = docker
        .inspect_container(name, None::<InspectContainerOptions>)
        .await
        .map_err(|error| StepError::engine(format!("inspect container `{name}`"), &error))?;
    let state = inspect.state.unwrap_or_default();
    Ok(Observed {
        status: state.status,
        health: state
            .health
            .and_then(|health| health.status)
            .filter(|status| !matches!(status, HealthStatusEnum::EMPTY | HealthStatusEnum::NONE)),
        exit_code: state.exit_code.unwrap_or(0),
    })
}

/// What a container without a health status means for a health wait.
#[derive(Clone, Copy, PartialEq, Eq)]
enum WithoutHealthcheck {
    /// The wait fails: `service_healthy` needs a healthcheck.
    Fail,
    /// Running is enough, as for `up --wait`, once the container has been
    /// seen running at two polls in a row.
    RunningIsReady,
}

/// Polls until every container is healthy. A container that exited fails
/// the wait (even with code 0, as in Docker Compose 2.40.3), and so does
/// an unhealthy one. `running` contains the containers without a
/// healthcheck that the previous poll saw running.
async fn poll_health(
    docker: &Docker,
    containers: &[String],
    without_healthcheck: WithoutHealthcheck,
    running: &mut BTreeSet<String>,
) -> Result<Poll, StepError> {
    let mut all_ready = true;
    for name in containers {
        let observed = inspect(docker, name).await?;
        if matches!(
            observed.status,
            Some(ContainerStateStatusEnum::EXITED | ContainerStateStatusEnum::DEAD)
        ) {
            return Err(StepError::Exited {
                name: name.clone(),
                code: observed.exit_code,
            });
        }
        match observed.health {
            None if without_healthcheck == WithoutHealthcheck::Fail => {
                return Err(StepError::NoHealthcheck { name: name.clone() });
            }
            // A one-shot can be caught running just before it exits, so a
            // container counts only once two polls 500 ms apart saw it
            // running. A fast exit then fails the wait every time, where
            // Docker Compose 2.40.3 sometimes misses it.
            None if observed.status == Some(ContainerStateStatusEnum::RUNNING) => {
                all_ready &= !running.insert(name.clone());
            }
            None => all_ready = false,
            Some(HealthStatusEnum::HEALTHY) => {}
            Some(HealthStatusEnum::UNHEALTHY) => {
                return Err(StepError::Unhealthy { name: name.clone() });
            }
            Some(_) => all_ready = false,
        }
    }
    Ok(if all_ready {
        Poll::Satisfied
    } else {
        Poll::Pending
    })
}

/// Polls for completion. The first exited container decides, as in Docker
/// Compose 2.40.3, and the other replicas are not checked.
async fn poll_completed(
    docker: &Docker,
    service: &str,
    containers: &[String],
) -> Result<Poll, StepError> {
    for name in containers {
        let observed = inspect(docker, name).await?;
        // A dead container never exits cleanly, so it fails the wait
        // rather than leaving it to hang.
        if matches!(
            observed.status,
            Some(ContainerStateStatusEnum::EXITED | ContainerStateStatusEnum::DEAD)
        ) {
            if observed.exit_code == 0 && observed.status == Some(ContainerStateStatusEnum::EXITED)
            {
                return Ok(Poll::Satisfied);
            }
            return Err(StepError::NotCompleted {
                service: service.to_owned(),
                code: observed.exit_code,
            });
        }
    }
    Ok(Poll::Pending)
}
