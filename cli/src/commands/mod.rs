//! One module per subcommand; each returns the process exit code.

pub mod apply;
pub mod config;
pub mod plan;
pub mod schema;
pub mod show;
pub mod snapshot;

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use berth_executor::ApplyError;

use crate::exit;

/// Maps an error to its exit code; every error not listed is `ERROR`.
pub fn exit_code_of(error: &anyhow::Error) -> i32 {
    match error.downcast_ref::<ApplyError>() {
        Some(ApplyError::StalePlan { .. } | ApplyError::StaleContent { .. }) => exit::STALE_PLAN,
        _ => exit::ERROR,
    }
}

/// Writes an artefact to a file, or to stdout when no file is given.
pub fn write_artefact(out: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match out {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("failed to write {}", path.display())),
        None => {
            let mut stdout = std::io::stdout().lock();
            match stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Ok(()) => Ok(()),
                // A reader that stopped early (`| head`) is not an error.
                Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                Err(error) => Err(error).context("failed to write to stdout"),
            }
        }
    }
}

/// Reads and parses a JSON file written by berth, naming the file on error.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> anyhow::Result<T> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read {what} {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a valid berth {what} (write one with `berth {what}`)",
            path.display()
        )
    })
}
