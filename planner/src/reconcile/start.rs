//! The start phase: for each service in dependency order, wait for its
//! `depends_on` conditions, then start (or unpause) what is not running.

use crate::model::{CONDITION_COMPLETED, CONDITION_HEALTHY};
use crate::plan::{ContainerRef, StepAction, WaitCondition, Warning};

use super::hooks::service_hooks;
use super::{PlanError, Planner};
use crate::container_spec::copied_files;

impl Planner<'_> {
    /// Plans the start phase of one service.
    pub(crate) fn plan_start(&mut self, name: &str) -> Result<(), PlanError> {
        let containers = self.converged.get(name).cloned().unwrap_or_default();
        let to_start: Vec<_> = containers
            .iter()
            .filter(|c| c.needs_start || c.needs_unpause || self.restarted.contains_key(&c.name))
            .collect();
        let service = &self.selection.services[name];
        // Without anything to start, waiting still matters when a
        // dependency starts in this plan: the plan succeeds only once that
        // dependency satisfies its condition, as `docker compose up` does.
        let dependency_starts = service
            .depends_on
            .keys()
            .any(|dependency| !self.start_steps_of(dependency).is_empty());
        if to_start.is_empty() && !dependency_starts {
            return Ok(());
        }
        let copied = copied_files(self.project, name, service).map_err(|source| {
            PlanError::ContainerSpec {
                service: name.to_owned(),
                message: source.to_string(),
            }
        })?;
        // An unpause runs no hooks. Docker Compose 2.40.3 never unpauses
        // and fails on a paused container.
        let post_start = service_hooks(name, &service.post_start);
        let mut after: Vec<String> = Vec::new();
        for (dependency, condition) in service.depends_on.clone() {
            // Starting after the dependency's own starts keeps the order of
            // the dependency graph even when no condition is waited for.
            after.extend(self.start_steps_of(&dependency));
            let wait = match condition.condition.as_str() {
                CONDITION_HEALTHY => WaitCondition::Healthy,
                CONDITION_COMPLETED => WaitCondition::CompletedSuccessfully,
                _ => continue,
            };
            if self.selection.scale.get(&dependency) == Some(&0) {
                continue;
            }
            after.push(self.wait_once(&dependency, wait));
        }
        let mut previous: Option<String> = None;
        for container in to_start {
            let reference = ContainerRef {
                name: container.name.clone(),
                id: container.id.clone(),
            };
            let mut step_after = after.clone();
            step_after.extend(previous.clone());
            // Docker Compose copies the content before every start, so a
            // stopped container gets the current content too.
            if !copied.is_empty() && !container.needs_unpause {
                let copy = self.steps.start_phase(
                    format!("container.copy:{}", container.name),
                    step_after,
                    StepAction::CopyContent {
                        container: reference.clone(),
                        files: copied.clone(),
                    },
                );
                step_after = vec![copy];
            }
            let id = if container.needs_unpause {
                self.steps.start_phase(
                    format!("container.unpause:{}", container.name),
                    step_after,
                    StepAction::UnpauseContainer {
                        container: reference,
                    },
                )
            } else {
                self.steps.start_phase(
                    format!("container.start:{}", container.name),
                    step_after,
                    StepAction::StartContainer {
                        container: reference,
                        post_start: post_start.clone(),
                    },
                )
            };
            previous = Some(id);
        }
        Ok(())
    }

    fn start_steps_of(&self, service: &str) -> Vec<String> {
        self.converged
            .get(service)
            .map(|containers| {
                containers
                    .iter()
                    .flat_map(|c| {
                        [
                            format!("container.start:{}", c.name),
                            format!("container.unpause:{}", c.name),
                        ]
                    })
                    .filter(|id| self.steps.contains(id))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Adds the final waits of `--wait`: every selected service that runs
    /// containers must be running or healthy, except a service that others
    /// wait on to complete, which must complete.
    pub(crate) fn plan_final_waits(&mut self, order: &[String]) {
        for name in order {
            if self.selection.scale.get(name) == Some(&0) {
                continue;
            }
            let completes = self.selection.services.values().any(|service| {
                service
                    .depends_on
                    .get(name)
                    .is_some_and(|dependency| dependency.condition == CONDITION_COMPLETED)
            });
            let condition = if completes {
                WaitCondition::CompletedSuccessfully
            } else {
                WaitCondition::RunningOrHealthy
            };
            self.wait_once(name, condition);
        }
    }

    /// Adds one wait step per dependency and condition, shared by every
    /// dependent that needs it, and returns its id.
    fn wait_once(&mut self, dependency: &str, condition: WaitCondition) -> String {
        let kind = match condition {
            WaitCondition::Healthy => "healthy",
            WaitCondition::CompletedSuccessfully => "completed",
            WaitCondition::RunningOrHealthy => "ready",
        };
        let id = format!("wait.{kind}:{dependency}");
        if self.steps.contains(&id) {
            return id;
        }
        let containers: Vec<String> = self
            .converged
            .get(dependency)
            .map(|containers| containers.iter().map(|c| c.name.clone()).collect())
            .unwrap_or_default();
        let after = self.start_steps_of(dependency);
        self.steps.start_phase(
            id,
            after,
            StepAction::Wait {
                service: dependency.to_string(),
                containers,
                condition,
                timeout_seconds: self.options.wait_timeout_seconds,
            },
        )
    }

    /// Warns when a service waits for a dependency to be healthy but the
    /// compose file disables that dependency's healthcheck.
    pub(crate) fn warn_disabled_healthchecks(&mut self) {
        let mut warnings = Vec::new();
        for (name, service) in &self.selection.services {
            for (dependency, condition) in &service.depends_on {
                if condition.condition != CONDITION_HEALTHY {
                    continue;
                }
                let disabled = self
                    .selection
                    .services
                    .get(dependency)
                    .and_then(|d| d.healthcheck.as_ref())
                    .is_some_and(|check| {
                        check.disable
                            || check
                                .test
                                .as_deref()
                                .and_then(|t| t.first())
                                .map(String::as_str)
                                == Some("NONE")
                    });
                if disabled {
                    warnings.push(Warning {
                        code: "healthcheck_disabled".into(),
                        message: format!(
                            "service `{name}` waits for `{dependency}` to be healthy, but the healthcheck of `{dependency}` is disabled; the wait will fail"
                        ),
                    });
                }
            }
        }
        self.warnings.extend(warnings);
    }
}
