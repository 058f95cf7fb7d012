//! Exit codes of `berth`, one per kind of outcome.

/// Success; for `plan --detailed-exitcode`, success with no changes.
pub const SUCCESS: i32 = 0;
/// Any error: bad input, a failed engine call, a failed wait.
pub const ERROR: i32 = 1;
/// `plan --detailed-exitcode` only: the plan has changes.
pub const CHANGES: i32 = 2;
/// `apply` rejected the plan because the engine changed since it was made.
pub const STALE_PLAN: i32 = 3;
