//! Errors of the Compose loader.
//!
//! Messages follow Docker Compose's wording where it has one, so Compose
//! users recognize them. Each names the file (or the compose files of the
//! project), the key path or the service, and the offending value.

use std::path::PathBuf;

/// An error that stops a Compose project from loading.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// No `-f` was given and no default compose file exists.
    #[error(
        "no configuration file provided: not found (looked for compose.yaml, compose.yml, \
         docker-compose.yaml or docker-compose.yml in {} and its parents)",
        dir.display()
    )]
    NoComposeFile {
        /// The directory the search started from.
        dir: PathBuf,
    },
    /// A file named on the command line or by `COMPOSE_FILE` is missing.
    #[error("failed to read {}: no such file", path.display())]
    FileNotFound {
        /// The absolute path.
        path: PathBuf,
    },
    /// Reading a file failed.
    #[error("failed to read {}: {source}", path.display())]
    Read {
        /// The absolute path.
        path: PathBuf,
        /// The underlying failure.
        source: std::io::Error,
    },
    /// The file is not valid YAML.
    #[error("failed to parse {}: yaml: {message}", path.display())]
    Yaml {
        /// The absolute path.
        path: PathBuf,
        /// The parser's message, with the line and column.
        message: String,
    },
    /// The file contains no YAML document.
    #[error(
        "empty compose file {} (expected a mapping with top-level keys such as services:)",
        path.display()
    )]
    EmptyFile {
        /// The absolute path.
        path: PathBuf,
    },
    /// The file does not match the Compose schema: unknown key, wrong type.
    #[error("validating {}: {key} {message}", path.display())]
    Schema {
        /// The absolute path.
        path: PathBuf,
        /// Dotted key path, such as `services.app.user`.
        key: String,
        /// The problem and the expected type.
        message: String,
    },
    /// A field Compose accepts but berth cannot honour yet.
    #[error("{}: {key}: field not supported by berth yet", path.display())]
    Unsupported {
        /// The absolute path.
        path: PathBuf,
        /// Dotted key path, such as `services.web.build`.
        key: String,
    },
    /// An invalid project name given outside the compose files, by the `-p`
    /// flag or the `COMPOSE_PROJECT_NAME` variable.
    #[error("invalid project name {value:?} given by {origin}: {expected}")]
    InvalidProjectName {
        /// The source of the name: ``the `-p` flag``.
        origin: String,
        /// The name as given.
        value: String,
        /// The accepted form.
        expected: String,
    },
    /// A value has the right type but cannot be used.
    #[error("{}: {key}: invalid value {value:?}: {expected}", path.display())]
    InvalidValue {
        /// The absolute path.
        path: PathBuf,
        /// Dotted key path, such as `services.web.ports[0]`.
        key: String,
        /// The value as written.
        value: String,
        /// The accepted form.
        expected: String,
    },
    /// A `${VAR:?message}` or `${VAR?message}` variable is missing.
    #[error("error while interpolating {key} in {}: required variable {variable} is missing a value{}", path.display(), if message.is_empty() { String::new() } else { format!(": {message}") })]
    RequiredVariable {
        /// The absolute path.
        path: PathBuf,
        /// Dotted key path of the value being interpolated.
        key: String,
        /// The variable's name.
        variable: String,
        /// The message written after `?`.
        message: String,
    },
    /// A `$` that starts no valid substitution.
    #[error(
        "invalid interpolation format for {key} in {}: {value:?} (expected $NAME or ${{NAME}} \
         with a closing brace; you may need to escape any $ with another $)",
        path.display()
    )]
    InterpolationFormat {
        /// The absolute path.
        path: PathBuf,
        /// Dotted key path of the value.
        key: String,
        /// The value as written.
        value: String,
    },
    /// A `.env` or `env_file` line cannot be parsed.
    #[error("failed to read env file {}: line {line}: {message}", path.display())]
    EnvFileSyntax {
        /// The absolute path.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The syntax problem.
        message: String,
    },
    /// A required `env_file` does not exist.
    #[error("env file {} not found (required by {key} in {})", missing.display(), path.display())]
    EnvFileNotFound {
        /// The compose file that names it.
        path: PathBuf,
        /// Dotted key path, such as `services.web.env_file[0]`.
        key: String,
        /// The absolute path of the missing file.
        missing: PathBuf,
    },
    /// A file that an `include` entry names does not exist.
    #[error("included file {} not found (required by {key} in {}; fix the path or create the file)", missing.display(), path.display())]
    IncludedFileNotFound {
        /// The compose file that includes it.
        path: PathBuf,
        /// Dotted key path, such as `include[0].path`.
        key: String,
        /// The absolute path of the missing file.
        missing: PathBuf,
    },
    /// An error about the project as a whole, after merging every file.
    #[error("{message}: invalid compose project (files: {files})")]
    Project {
        /// The compose files, comma-separated.
        files: String,
        /// The problem, naming the service and the value.
        message: String,
    },
    /// `depends_on` and the implicit dependencies form a cycle.
    #[error(
        "dependency cycle detected: {} (services.{} depends on {} through depends_on, links or \
         a service: reference, and so on around the cycle; remove one of these dependencies) \
         (files: {files})",
        cycle.join(" -> "),
        cycle.first().map_or("", String::as_str),
        cycle.get(1).map_or("", String::as_str)
    )]
    DependencyCycle {
        /// The compose files, comma-separated.
        files: String,
        /// The services of the cycle, the first repeated at the end.
        cycle: Vec<String>,
    },
}
