//! The progress of a BuildKit build through `POST /build?version=2`. The
//! engine sends it as `moby.buildkit.trace` records: build steps
//! (vertexes) as they start, finish or fail, and the output of `RUN`.

use std::collections::BTreeSet;

use bollard::models::{BuildInfo, BuildInfoAux};
use bollard_stubs::moby::buildkit::v1::StatusResponse;

/// How many lines of build output an error message quotes.
const QUOTED_LINES: usize = 5;

/// The progress that the build of one image reported so far.
pub(crate) struct BuildProgress<'a> {
    image: &'a str,
    /// The last lines of output, quoted when the build fails.
    last_lines: Vec<String>,
    /// Steps whose error was already logged. The engine sends a vertex
    /// again with every change, error included.
    failed_steps: BTreeSet<String>,
}

impl<'a> BuildProgress<'a> {
    pub(crate) fn new(image: &'a str) -> BuildProgress<'a> {
        BuildProgress {
            image,
            last_lines: Vec::new(),
            failed_steps: BTreeSet::new(),
        }
    }

    /// Records one item of the build's response stream.
    pub(crate) fn record(&mut self, info: &BuildInfo) {
        // The classic builder sends its output here, and BuildKit sends none.
        if let Some(line) = &info.stream {
            self.push_line(line);
        }
        if let Some(BuildInfoAux::BuildKit(status)) = &info.aux {
            self.record_status(status);
        }
    }

    /// Returns the last lines of output, joined, for an error message.
    pub(crate) fn last_output(&self) -> Option<String> {
        (!self.last_lines.is_empty()).then(|| self.last_lines.join(" | "))
    }

    fn record_status(&mut self, status: &StatusResponse) {
        for vertex in &status.vertexes {
            if vertex.completed.is_some() && vertex.error.is_empty() {
                tracing::debug!(image = self.image, step = vertex.name, "build step done");
            }
            // A step can fail without failing the build: Docker Compose
            // 2.40.3 shows a `cache_from` source it cannot reach as an
            // error line and goes on building. A failure that ends the
            // build comes as the stream's error.
            if !vertex.error.is_empty() && self.failed_steps.insert(vertex.digest.clone()) {
                tracing::warn!(
                    image = self.image,
                    step = vertex.name,
                    error = vertex.error,
                    "build step failed"
                );
            }
        }
        for log in &status.logs {
            for line in String::from_utf8_lossy(&log.msg).lines() {
                self.push_line(line);
            }
        }
        for warning in &status.warnings {
            tracing::warn!(
                image = self.image,
                warning = %String::from_utf8_lossy(&warning.short),
                "build warning"
            );
        }
    }

    fn push_line(&mut self, line: &str) {
        let line = line.trim_end();
        if line.is_empty() {
            return;
        }
        tracing::debug!(image = self.image, line, "build output");
        self.last_lines.push(line.to_owned());
        if self.last_lines.len() > QUOTED_LINES {
            self.last_lines.remove(0);
        }
    }
}
