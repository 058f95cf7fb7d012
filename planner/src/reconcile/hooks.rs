//! The `post_start` and `pre_stop` hooks that container steps carry.
//!
//! Docker Compose 2.40.3 runs `post_start` hooks after every start of its
//! start phase. It runs `pre_stop` hooks before the stop of a scaled-down
//! container, of a dependent with `restart: true`, of a container around a
//! replaced volume and of every service container on `down`. It runs none
//! before it stops the old container of a replacement or an orphan.

use crate::model::ServiceHook;
use crate::plan::{Hook, ServiceHooks};

/// Returns the hooks of `service` as a step carries them, or `None` when
/// it declares none, so that the step leaves them out of the plan.
pub(crate) fn service_hooks(service: &str, hooks: &[ServiceHook]) -> Option<ServiceHooks> {
    if hooks.is_empty() {
        return None;
    }
    let hooks = hooks
        .iter()
        .map(|hook| Hook {
            // A hook without a command would fail when it runs, so the
            // executor rejects the plan before any step runs.
            command: hook.command.clone().unwrap_or_default(),
            user: hook.user.clone(),
            privileged: hook.privileged,
            working_dir: hook.working_dir.clone(),
            environment: hook.environment.clone(),
        })
        .collect();
    Some(ServiceHooks {
        service: service.to_owned(),
        hooks,
    })
}
