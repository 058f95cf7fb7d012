//! Applying a plan: refuse it when the engine changed since it was made,
//! then run its steps as a graph, each as soon as the steps it comes after
//! finished, with a bounded number in flight. The first failure stops new
//! steps from starting. The running ones are let finish, so that the
//! report lists exactly what was done.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use berth_planner::plan::{Plan, Step};
use bollard::Docker;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use crate::content::check_contents;
use crate::error::{ApplyError, ApplyFailure, StepError, StepFailure};
use crate::observe::{ObserveRequest, observe};
use crate::progress::{Progress, subject};
use crate::steps::{StepOutcome, check_body, run_step};

/// Default maximum number of steps in flight at once.
pub const DEFAULT_PARALLELISM: usize = 4;

/// How to apply a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Maximum number of steps in flight at once. 0 counts as 1.
    pub parallelism: usize,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            parallelism: DEFAULT_PARALLELISM,
        }
    }
}

/// Summary of a successful apply.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// Ids of the steps, in the order they finished.
    pub done: Vec<String>,
}

/// Applies `plan`: checks that the engine still matches the state the plan
/// was made against, then replays its steps.
pub async fn apply(
    docker: &Docker,
    plan: &Plan,
    options: &ApplyOptions,
    progress: &dyn Progress,
) -> Result<ApplyReport, ApplyError> {
    let graph = Graph::new(&plan.steps)?;
    let api_version = docker.client_version();
    for step in &plan.steps {
        check_body(&step.action, &api_version).map_err(|error| ApplyError::InvalidPlan {
            message: format!("step `{}`: {error}", step.id),
        })?;
    }

    check_contents(&plan.steps)?;

    let request = ObserveRequest::new(plan.project.clone(), plan.observed.clone());
    let snapshot = observe(docker, &request)
        .await
        .map_err(ApplyError::Observe)?;
    let observed = snapshot.fingerprint();
    if observed != plan.fingerprint {
        tracing::debug!(planned = plan.fingerprint, observed, "the plan is stale");
        return Err(ApplyError::StalePlan {
            planned: plan.fingerprint.clone(),
            observed,
            changes: changed_resources(&plan.observed_resources, &snapshot.resource_digests()),
        });
    }

    run_graph(
        docker,
        &plan.steps,
        graph,
        options.parallelism.max(1),
        progress,
    )
    .await
}

/// Lists the resources whose digests differ between the plan's observed
/// state and `now`, in key order: `container p-web-1 changed`, `network
/// p_back is new`, `volume p_data is gone`. Empty when the plan records no
/// digests, as plans of older berth versions do.
fn changed_resources(
    planned: &BTreeMap<String, String>,
    now: &BTreeMap<String, String>,
) -> Vec<String> {
    if planned.is_empty() {
        return Vec::new();
    }
    let keys: BTreeSet<&String> = planned.keys().chain(now.keys()).collect();
    keys.into_iter()
        .filter_map(|key| match (planned.get(key), now.get(key)) {
            (Some(before), Some(after)) if before != after => Some(format!("{key} changed")),
            (Some(_), None) => Some(format!("{key} is gone")),
            (None, Some(_)) => Some(format!("{key} is new")),
            _ => None,
        })
        .collect()
}

/// The steps' dependencies, checked: ids unique, every `after` known, no
/// cycle.
struct Graph {
    /// For each step, the steps that come after it.
    dependents: Vec<Vec<usize>>,
    /// For each step, how many of its `after` steps have not finished.
    waiting_on: Vec<usize>,
}

impl Graph {
    fn new(steps: &[Step]) -> Result<Graph, ApplyError> {
        let invalid = |message: String| ApplyError::InvalidPlan { message };
        let mut index_of = BTreeMap::new();
        for (index, step) in steps.iter().enumerate() {
            if index_of.insert(step.id.as_str(), index).is_some() {
                return Err(invalid(format!("step id `{}` is used twice", step.id)));
            }
        }
        let mut dependents = vec![Vec::new(); steps.len()];
        let mut waiting_on = vec![0; steps.len()];
        for (index, step) in steps.iter().enumerate() {
            for before in &step.after {
                let Some(&before_index) = index_of.get(before.as_str()) else {
                    return Err(invalid(format!(
                        "step `{}` comes after `{before}`, which is not in the plan",
                        step.id
                    )));
                };
                dependents[before_index].push(index);
                waiting_on[index] += 1;
            }
        }

        // Kahn's algorithm, only to prove that every step can run.
        let mut remaining = waiting_on.clone();
        let mut ready: VecDeque<usize> = (0..steps.len()).filter(|&i| remaining[i] == 0).collect();
        let mut reached = 0;
        while let Some(index) = ready.pop_front() {
            reached += 1;
            for &dependent in &dependents[index] {
                remaining[dependent] -= 1;
                if remaining[dependent] == 0 {
                    ready.push_back(dependent);
                }
            }
        }
        if reached != steps.len() {
            let stuck: Vec<String> = (0..steps.len())
                .filter(|&i| remaining[i] > 0)
                .map(|i| format!("`{}`", steps[i].id))
                .collect();
            return Err(invalid(format!(
                "steps {} can never start because their `after` lists form a cycle",
                stuck.join(", ")
            )));
        }
        Ok(Graph {
            dependents,
            waiting_on,
        })
    }
}

async fn run_graph(
    docker: &Docker,
    steps: &[Step],
    mut graph: Graph,
    parallelism: usize,
    progress: &dyn Progress,
) -> Result<ApplyReport, ApplyError> {
    // Ready steps start in plan order, so that runs are repeatable when
    // parallelism is the limit.
    let mut ready: VecDeque<usize> = (0..steps.len())
        .filter(|&index| graph.waiting_on[index] == 0)
        .collect();
    let mut started = vec![false; steps.len()];
    let mut running = FuturesUnordered::new();
    let mut done = Vec::new();
    let mut failed = Vec::new();

    loop {
        while failed.is_empty() && running.len() < parallelism {
            let Some(index) = ready.pop_front() else {
                break;
            };
            let step = &steps[index];
            started[index] = true;
            tracing::debug!(step = step.id, "starting step");
            progress.step_started(step);
            running.push(async move { (index, run_step(docker, &step.action).await) });
        }
        let Some((index, result)) = running.next().await else {
            break;
        };
        let step = &steps[index];
        match result {
            Ok(outcome) => {
                match outcome {
                    StepOutcome::Done => progress.step_finished(step),
                    StepOutcome::Kept(reason) => progress.step_kept(step, &reason),
                }
                done.push(step.id.clone());
                for &dependent in &graph.dependents[index] {
                    graph.waiting_on[dependent] -= 1;
                    if graph.waiting_on[dependent] == 0 {
                        ready.push_back(dependent);
                    }
                }
            }
            Err(error) => {
                tracing::debug!(step = step.id, %error, "step failed");
                progress.step_failed(step, &error);
                failed.push(failure(step, error));
            }
        }
    }

    if failed.is_empty() {
        return Ok(ApplyReport { done });
    }
    let not_started = steps
        .iter()
        .zip(&started)
        .filter(|(_, started)| !**started)
        .map(|(step, _)| step.id.clone())
        .collect();
    Err(ApplyError::StepsFailed(Box::new(ApplyFailure {
        done,
        failed,
        not_started,
    })))
}

fn failure(step: &Step, error: StepError) -> StepFailure {
    StepFailure {
        step: step.id.clone(),
        subject: subject(&step.action),
        error,
    }
}

#[cfg(test)]
mod tests {
    use berth_planner::plan::StepAction;

    use super::*;

    fn step(id: &str, after: &[&str]) -> Step {
        Step {
            id: id.to_owned(),
            after: after.iter().map(|id| (*id).to_owned()).collect(),
            action: StepAction::RemoveVolume {
                name: id.to_owned(),
            },
        }
    }

    fn graph_error(steps: &[Step]) -> String {
        match Graph::new(steps) {
            Ok(_) => panic!("the graph was accepted"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn graph_counts_unfinished_predecessors() {
        let steps = [step("a", &[]), step("b", &["a"]), step("c", &["a", "b"])];
        let graph = Graph::new(&steps).unwrap();
        assert_eq!(graph.waiting_on, vec![0, 1, 2]);
        assert_eq!(graph.dependents, vec![vec![1, 2], vec![2], vec![]]);
    }

    #[test]
    fn graph_rejects_duplicate_ids() {
        let message = graph_error(&[step("a", &[]), step("a", &[])]);
        assert_eq!(message, "invalid plan: step id `a` is used twice");
    }

    #[test]
    fn graph_rejects_unknown_predecessors() {
        let message = graph_error(&[step("a", &["z"])]);
        assert_eq!(
            message,
            "invalid plan: step `a` comes after `z`, which is not in the plan"
        );
    }

    #[test]
    fn graph_rejects_cycles() {
        let message = graph_error(&[step("a", &["b"]), step("b", &["a"]), step("c", &[])]);
        assert_eq!(
            message,
            "invalid plan: steps `a`, `b` can never start because their `after` lists form a cycle"
        );
    }

    fn digests(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
        entries
            .iter()
            .map(|(key, digest)| ((*key).to_owned(), (*digest).to_owned()))
            .collect()
    }

    #[test]
    fn changed_resources_in_key_order() {
        let planned = digests(&[
            ("container p-web-1", "aaaa"),
            ("network p_default", "bbbb"),
            ("volume p_data", "cccc"),
        ]);
        let now = digests(&[
            ("container p-db-1", "dddd"),
            ("container p-web-1", "eeee"),
            ("network p_default", "bbbb"),
        ]);
        assert_eq!(
            changed_resources(&planned, &now),
            vec![
                "container p-db-1 is new",
                "container p-web-1 changed",
                "volume p_data is gone",
            ]
        );
    }

    #[test]
    fn changed_resources_without_plan_digests() {
        let now = digests(&[("container p-web-1", "aaaa")]);
        assert!(changed_resources(&BTreeMap::new(), &now).is_empty());
    }

    #[test]
    fn stale_message_bounds_the_list() {
        let changes: Vec<String> = (1..=12)
            .map(|n| format!("container p-web-{n:02} changed"))
            .collect();
        let message = ApplyError::StalePlan {
            planned: "sha-a".to_owned(),
            observed: "sha-b".to_owned(),
            changes,
        }
        .to_string();
        assert_eq!(
            message,
            "the engine changed since the plan was made (planned against fingerprint sha-a, \
             observed sha-b): container p-web-01 changed, container p-web-02 changed, \
             container p-web-03 changed, container p-web-04 changed, container p-web-05 changed, \
             container p-web-06 changed, container p-web-07 changed, container p-web-08 changed, \
             container p-web-09 changed, container p-web-10 changed and 2 more; run `berth plan` \
             again"
        );
    }
}
