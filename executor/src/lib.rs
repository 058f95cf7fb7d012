//! berth's executor: everything that talks to the Docker engine. It
//! observes a project into a [`Snapshot`](berth_planner::snapshot::Snapshot)
//! and applies a [`Plan`](berth_planner::plan::Plan) by replaying its
//! steps, making no decision the plan did not make.

mod apply;
mod build_context;
mod build_progress;
mod connect;
mod container;
mod container_mac;
mod content;
mod create;
mod error;
mod hook;
mod image;
mod observe;
mod observe_content;
mod progress;
mod steps;
mod wait;

pub use apply::{ApplyOptions, ApplyReport, DEFAULT_PARALLELISM, apply};
pub use connect::{DEFAULT_DOCKER_HOST, connect, connect_to};
pub use container::{CONFIG_HASH_LABEL, PROJECT_LABEL};
pub use content::DiskFiles;
pub use error::{ApplyError, ApplyFailure, ExecutorError, HookFailure, StepError, StepFailure};
pub use observe::{ObserveRequest, observe};
pub use progress::{NoProgress, Progress, StderrProgress, StepLabel};
