//! berth's planner: a pure library that loads Compose files into a
//! normalized model and turns that model plus a snapshot of what Docker
//! runs into a reviewable, deterministic plan.
//!
//! Nothing here performs I/O, reads the clock or the process environment:
//! callers pass file contents and environment variables in, so the same
//! inputs always give the same bytes out.

pub mod config_json;
pub mod container_spec;
pub mod content;
pub mod engine_body;
mod fingerprint;
pub mod hash;
pub mod labels;
pub mod load;
pub mod model;
pub mod plan;
pub mod reconcile;
pub mod render;
pub mod schema;
pub mod snapshot;
